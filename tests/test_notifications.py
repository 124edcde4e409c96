import pytest

from kdcs.extensions import db
from kdcs.models import Notification
from kdcs.notifications import service
from tests import factories


def test_notify_and_unread_count(users):
    agent = users["agent"]
    service.notify(agent, "approval_requested", "请审批休假", link="/leave/1")
    service.notify(agent.id, "sop_to_read", "新 SOP 待阅读")
    db.session.commit()
    assert service.unread_count(agent) == 2
    assert service.unread_count(users["lead"]) == 0


def test_notify_refuses_external_links(users):
    with pytest.raises(ValueError):
        service.notify(users["agent"], "x", "t", link="https://evil.example/")
    with pytest.raises(ValueError):
        service.notify(users["agent"], "x", "t", link="//evil.example/")


def test_bell_shows_count_and_is_an_htmx_fragment(client, auth, users):
    factories.make_notification(users["agent"])
    factories.make_notification(users["agent"])
    auth.login(users["agent"])
    page = client.get("/").get_data(as_text=True)
    assert 'data-testid="bell-count">2<' in page
    bell = client.htmx("get", "/notifications/bell")
    body = bell.get_data(as_text=True)
    assert bell.status_code == 200 and "<html" not in body and ">2<" in body
    assert 'hx-trigger="every 30s' in body


def test_open_marks_read_and_follows_link_only_for_owner(client, auth, users):
    mine = factories.make_notification(users["agent"], link="/outlets/mine")
    other = factories.make_notification(users["lead"])
    auth.login(users["agent"])
    response = client.post(f"/notifications/{mine.id}/open")
    assert response.status_code == 303 and response.headers["Location"] == "/outlets/mine"
    assert db.session.get(Notification, mine.id).read_at is not None
    assert client.post(f"/notifications/{other.id}/open").status_code == 404
    assert db.session.get(Notification, other.id).read_at is None


def test_list_and_read_all(client, auth, users):
    for i in range(3):
        factories.make_notification(users["agent"], title=f"通知{i}")
    auth.login(users["agent"])
    html = client.get("/notifications/").get_data(as_text=True)
    assert "通知0" in html and "通知2" in html
    fragment = client.htmx("get", "/notifications/?unread=1").get_data(as_text=True)
    assert "<html" not in fragment and "通知1" in fragment
    assert client.post("/notifications/read-all").status_code == 303
    assert service.unread_count(users["agent"]) == 0
    assert "暂无通知" in client.htmx("get", "/notifications/?unread=1").get_data(as_text=True)
