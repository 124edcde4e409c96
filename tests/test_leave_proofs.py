"""Leave proofs (病假条): the requester uploads JPEG/PNG/WebP/PDF on the request's page (before or
after the fact), other types are refused in Chinese; the upload marks the proof received, is
audited and tells the approver; those who may see the request open the file (kdcs.storage
headers), anyone else gets a 404."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from kdcs.extensions import db
from kdcs.leave import proofs, service
from kdcs.models import AuditLog, LeaveStatus, Notification
from kdcs.service_errors import NotFound, ValidationError
from tests import factories
from tests.test_leave_service import accepted, make_leave_world, request
from tests.test_ticket_attachments import PDF, png_bytes

S = LeaveStatus


@pytest.fixture
def leave_world():
    """See tests/test_leave_service.py."""
    return make_leave_world()


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_upload_marks_the_proof_received_audits_and_notifies(leave_world):
    w = leave_world
    sick = accepted(w, type_code="sick")
    assert sick.proof_status == "pending"
    proof = proofs.upload(w.agent3, sick, _file(PDF, "病假条.pdf"))
    db.session.commit()
    assert sick.proof_status == "received"
    assert proof.content_type == "application/pdf" and proof.original_name == "病假条.pdf" and proof.size == len(PDF)
    assert [p.id for p in proofs.proofs(sick)] == [proof.id]
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "leave.proof_upload"))
    assert audit is not None and audit.entity_id == sick.id
    note = db.session.scalar(select(Notification).where(Notification.user_id == sick.approver_id)
                             .order_by(Notification.id.desc()))
    assert note.link == f"/leave/{sick.id}"
    assert sick.history[-1].note.endswith("病假条.pdf")


def test_upload_after_the_fact_and_refusals(leave_world):
    w = leave_world
    sick = accepted(w, type_code="sick")
    service.decide(w.lead, sick, approve=True, note="", version=sick.version)
    db.session.commit()
    assert sick.status == S.APPROVED and sick.proof_status == "pending"
    with pytest.raises(ValidationError) as exc:  # a renamed text file
        proofs.upload(w.agent3, sick, _file(b"hello", "假条.pdf"))
    assert "JPEG、PNG、WebP、PDF" in exc.value.errors["file"]
    db.session.rollback()
    with pytest.raises(NotFound):  # someone who cannot see the request
        proofs.upload(w.far, sick, _file(png_bytes(), "x.png"))
    with pytest.raises(ValidationError):  # the lead sees it but does not upload for the requester
        proofs.upload(w.lead, sick, _file(png_bytes(), "x.png"))
    db.session.rollback()
    proofs.upload(w.agent3, sick, _file(png_bytes(), "假条.png"))
    db.session.commit()
    assert sick.proof_status == "received"
    annual = request(w, start=sick.start_date.replace(year=sick.start_date.year + 1))
    with pytest.raises(ValidationError):  # 年假 needs no proof
        proofs.upload(w.agent3, annual, _file(png_bytes(), "x.png"))


def test_upload_route_download_by_the_lead_and_404_for_others(client, auth, leave_world):
    w = leave_world
    sick = accepted(w, type_code="sick")
    auth.login(w.agent3)
    page = client.get(f"/leave/{sick.id}").get_data(as_text=True)
    assert 'id="proof-file"' in page
    url = f"/leave/{sick.id}/proofs"
    response = client.post(url, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"<svg onload=alert(1)>"), "假条.svg")})
    assert response.status_code == 303
    page = client.get(f"/leave/{sick.id}").get_data(as_text=True)
    assert "只能上传" in page and "假条.svg" in page
    assert db.session.get(type(sick), sick.id).proof_status == "pending"
    response = client.post(url, content_type="multipart/form-data", data={"file": (io.BytesIO(PDF), "病假条.pdf")})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/leave/{sick.id}#leave-proof")
    db.session.expire_all()
    leave = db.session.get(type(sick), sick.id)
    assert leave.proof_status == "received"
    [proof] = proofs.proofs(leave)
    file_url = f"/leave/{sick.id}/proofs/{proof.id}"
    assert file_url in client.get(f"/leave/{sick.id}").get_data(as_text=True)
    auth.logout()
    auth.login(w.lead)
    response = client.get(file_url + "?download=1")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert client.get(file_url).headers["Content-Disposition"].startswith("inline")
    response = client.post(url, content_type="multipart/form-data", data={"file": (io.BytesIO(PDF), "x.pdf")})
    assert response.status_code == 303 and len(proofs.proofs(leave)) == 1  # the lead sees it but does not upload
    other = factories.make_user("agent", username="agent7", team=w.agent3.team, display_name="客服七")
    for user in (w.far, other, w.lead2):
        auth.logout()
        auth.login(user)
        assert client.get(file_url).status_code == 404
        assert client.post(url, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(PDF), "x.pdf")}).status_code == 404
    auth.logout()
    auth.login(w.agent3)
    assert client.get(f"/leave/{sick.id}/proofs/999999").status_code == 404
