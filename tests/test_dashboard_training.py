"""Home pages and training: the agent's going-live state and what is due, the lead's list to act on
(leave to decide, agents not live), the trainer's agents with 入职日期 and going-live badge."""

from __future__ import annotations

from datetime import date, timedelta

from kdcs.extensions import db
from kdcs.models import LeaveStatus
from kdcs.models.training import TrainingAssignment
from tests import factories
from tests.leave_data import make_leave
from tests.training_cert_data import certify, make_course


def _html(client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_agent_home_without_required_courses_says_so_and_no_alert(client, auth, users):
    auth.login(users["agent"])
    html = _html(client)
    assert 'data-testid="home-training"' in html and "目前没有上岗必修课程" in html
    assert 'data-testid="home-not-live-alert"' not in html
    assert 'href="/training/"' in html  # 我的培训 from the box


def test_agent_not_live_sees_alert_what_is_missing_and_the_next_step(client, auth, users):
    course = make_course("品牌规则与条款")
    db.session.add(TrainingAssignment(user_id=users["agent"].id, course_id=course.id,
                                      due_on=date.today() - timedelta(days=1)))
    db.session.commit()
    auth.login(users["agent"])
    html = _html(client)
    assert 'data-testid="home-not-live-alert"' in html and "你还没有上岗" in html
    assert "由组长决定是否改派" not in html  # holds nothing
    factories.make_outlet(agent=users["agent"], name="良渚网点")
    assert "你现有的网点和工单由组长决定是否改派" in _html(client)
    box = html[html.index('data-testid="home-training"'):]
    assert "尚未上岗" in box and "上岗前还缺" in box and "《品牌规则与条款》" in box
    assert f'href="/training/courses/{course.id}"' in box and "已逾期" in box
    assert 'data-testid="home-training-next"' in box and "下一步：品牌规则与条款" in box
    # something overdue: the box comes before the ticket panels
    assert html.index('data-testid="home-training"') < html.index("我的未结案工单")


def test_certified_agent_sees_live_since_and_nothing_due(client, auth, users):
    course = make_course("品牌规则与条款")
    certify(users["agent"], course, users["trainer"])
    auth.login(users["agent"])
    html = _html(client)
    assert 'data-testid="home-not-live-alert"' not in html
    box = html[html.index('data-testid="home-training"'):]
    assert 'data-testid="home-live"' in box and "已上岗" in box and "起" in box
    assert "培训没有待完成的事项" in box
    assert html.index("我的未结案工单") < html.index('data-testid="home-training"')  # nothing pressing: below


def test_lead_home_lists_agents_not_live_with_their_work_and_leave_to_decide(client, auth, users):
    make_course("品牌规则与条款")
    outlet = factories.make_outlet(agent=users["agent"], name="良渚网点")
    substitute = factories.make_user("agent", username="agent_sub", team=users["team"])
    make_leave(substitute, [], users["agent"], date.today() + timedelta(days=5), date.today() + timedelta(days=6),
               status=LeaveStatus.SUBSTITUTE_ACCEPTED, approver=users["lead"])
    auth.login(users["lead"])
    html = _html(client)
    box = html[html.index('data-testid="lead-attention"'):html.index("今日各客服工作量")]
    assert "1 条请假待你审批" in box and 'href="/leave/"' in box
    assert "未上岗的客服（2）" in box and f'href="/training/people/{users["agent"].id}"' in box
    assert "《品牌规则与条款》" in box and "/team#cert-actions-h" in box  # the agent holds an outlet
    assert "/training/matrix?team=" in box
    row = box[box.index('data-agent="agent_a"'):]
    row = row[:row.index("</tr>")]
    assert ">1<" in row  # one outlet held
    assert outlet.name not in box
    table = html[html.index("今日各客服工作量"):]
    assert "上岗状态" in table and "未上岗" in table


def test_lead_home_with_nothing_to_act_on(client, auth, users):
    auth.login(users["lead"])
    html = _html(client)
    assert "没有待处理事项" in html


def test_trainer_home_shows_start_date_and_going_live(client, auth, users):
    course = make_course("品牌规则与条款")
    users["agent"].start_date = date(2026, 11, 29)
    db.session.commit()
    auth.login(users["trainer"])
    html = _html(client)
    assert "入职日期" in html and "2026-11-29" in html and "未上岗" in html
    assert f'href="/training/people/{users["agent"].id}"' in html and 'href="/training/matrix"' in html
    certify(users["agent"], course, users["trainer"])
    assert "已上岗" in _html(client)


def test_team_page_highlights_my_team_not_home(client, auth, users):
    auth.login(users["lead"])
    html = _html(client, "/team")
    nav = html.split("<nav>", 1)[1].split("</nav>", 1)[0]
    active = [line for line in nav.splitlines() if 'class="active"' in line]
    assert len(active) == 1 and "我的团队" in active[0]


def test_lead_home_marks_the_agent_on_leave_now(client, auth, users):
    today = date.today()
    auth.login(users["lead"])
    assert 'data-testid="on-leave"' not in _html(client)
    make_leave(users["agent"], [], None, today - timedelta(days=1), today + timedelta(days=1),
               status=LeaveStatus.APPROVED, approver=users["lead"])
    html = _html(client)
    row = html[html.index('data-agent="agent_a"', html.index("今日各客服工作量")):]
    assert 'data-testid="on-leave"' in row[:row.index("</tr>")] and "休假中" in row[:row.index("</tr>")]


def test_team_page_marks_the_member_on_leave_now(client, auth, users):
    """My team shows who is away now, as the lead's home does; a leave that has not started is not marked."""
    today = date.today()
    make_leave(users["agent"], [], None, today + timedelta(days=3), today + timedelta(days=4),
               status=LeaveStatus.APPROVED, approver=users["lead"])
    auth.login(users["lead"])

    def agent_row():
        html = _html(client, "/team")
        row = html[html.index("<td>agent_a</td>"):]
        return row[:row.index("</tr>")]

    assert 'data-testid="on-leave"' not in agent_row()
    make_leave(users["agent"], [], None, today - timedelta(days=1), today + timedelta(days=1),
               status=LeaveStatus.APPROVED, approver=users["lead"])
    assert 'data-testid="on-leave"' in agent_row() and "休假中" in agent_row()


def test_course_waiting_for_the_trainers_signoff_is_not_the_agents_next_step(client, auth, users):
    from tests.training_cert_data import take_quiz

    waiting = make_course("品牌规则与条款")  # no lessons: read; quiz passed below; the practical item is the trainer's
    other = make_course("沟通技巧与共情话术")
    take_quiz(users["agent"], waiting, True)
    auth.login(users["agent"])
    box = _html(client)
    box = box[box.index('data-testid="home-training"'):]
    table = box[box.index("training-todos"):]
    row = table[table.index("品牌规则与条款"):]
    assert "待培训师签核" in row[:row.index("</tr>")]
    assert "下一步：沟通技巧与共情话术" in box and f'href="/training/courses/{other.id}"' in box
