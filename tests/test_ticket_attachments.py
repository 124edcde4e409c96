"""Evidence attachments (举证材料): content checks (a renamed .exe/.html/.svg/.txt is refused in
Chinese), EXIF GPS stripped, the file stored outside static under its content hash and served
with nosniff / sandbox / Content-Disposition; download for every role and another team's ticket
(404); removal keeps the file; purge by admins only; the size and count limits; the checklist."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from kdcs import storage
from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.ticket import EvidenceItem, TicketAttachment
from kdcs.service_errors import NotFound, ValidationError
from kdcs.tickets.attachments import checklist
from kdcs.tickets.attachments import service as svc
from tests import factories

# --------------------------------------------------------------------------- sample files


def png_bytes(color=(200, 30, 30), size=(64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG whose EXIF carries a GPS position (Hangzhou) and a camera model."""
    image = Image.new("RGB", (80, 60), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0110] = "TestCam 9"  # Model
    gps = {1: "N", 2: (30.0, 15.0, 0.0), 3: "E", 4: (120.0, 10.0, 0.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "the sample must carry GPS"
    return data


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def xlsx_bytes() -> bytes:
    from kdcs.spreadsheets import Workbook

    book = Workbook()
    book.sheet("表", [("运单号", 20)]).append(["75121488724296"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


BAD_FILES = {
    "renamed.exe.jpg": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,
    "page.png": b"<!DOCTYPE html><html><script>alert(1)</script></html>",
    "drawing.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "notes.pdf": "这是一段文字，不是 PDF".encode(),
    "book.xlsx": b"PK\x03\x04" + b"\x00" * 40,  # a broken zip is not a workbook
}


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


# --------------------------------------------------------------------------- storage


def test_storage_accepts_by_content_and_names_by_hash(app):
    stored = storage.save_upload(upload(PDF, "证明.pdf"))
    assert stored.content_type == "application/pdf" and stored.stored_name.endswith(".pdf")
    path = storage.path_of(stored.stored_name)
    assert path.read_bytes() == PDF and len(stored.stored_name) == 64 + 4
    static = Path(app.static_folder).resolve()
    assert static not in path.resolve().parents  # outside the static folder
    again = storage.save_upload(upload(PDF, "copy.pdf"))
    assert again.stored_name == stored.stored_name  # one file for the same content
    book = storage.save_upload(upload(xlsx_bytes(), "report.bin"))
    assert book.kind == "xlsx" and book.stored_name.endswith(".xlsx")
    webp = io.BytesIO()
    Image.new("RGB", (10, 10)).save(webp, "WEBP")
    assert storage.save_upload(upload(webp.getvalue(), "x.webp")).content_type == "image/webp"


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_storage_refuses_what_the_content_is_not(app, name):
    with pytest.raises(ValidationError) as refused:
        storage.save_upload(upload(BAD_FILES[name], name))
    message = refused.value.errors["file"]
    assert name in message and "只能上传" in message, message


def test_storage_refuses_plain_text_empty_and_too_large(app):
    with pytest.raises(ValidationError) as refused:
        storage.save_upload(upload("运单号 75121488724296".encode(), "notes.txt"))
    assert "只能上传" in refused.value.errors["file"]
    with pytest.raises(ValidationError) as refused:
        storage.save_upload(upload(b"", "empty.png"))
    assert "空" in refused.value.errors["file"]
    with pytest.raises(ValidationError) as refused:
        storage.save_upload(upload(PDF + b"0" * 2000, "big.pdf"), max_bytes=1000)
    assert "MB" in refused.value.errors["file"] and "big.pdf" in refused.value.errors["file"]
    with pytest.raises(ValidationError):  # a damaged image body behind a PNG signature
        storage.save_upload(upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "broken.png"))


def test_storage_strips_exif_gps_from_images(app):
    data = jpeg_with_gps()
    stored = storage.save_upload(upload(data, "现场.jpg"))
    assert stored.kind == "jpeg" and (stored.width, stored.height) == (80, 60)
    kept = storage.path_of(stored.stored_name).read_bytes()
    with Image.open(io.BytesIO(kept)) as image:
        exif = image.getexif()
        assert not exif.get_ifd(0x8825) and 0x8825 not in exif and 0x0110 not in exif
        assert "exif" not in image.info
    assert b"TestCam" not in kept


def test_storage_path_refuses_names_that_are_not_ours(app):
    for bad in ("../../etc/passwd", "a" * 64 + ".html", "x.jpg", "A" * 64 + ".jpg"):
        with pytest.raises(ValueError):
            storage.path_of(bad)


# --------------------------------------------------------------------------- service


def test_upload_several_files_refused_ones_listed_and_audited(ticket_world):
    w = ticket_world
    result = svc.upload(w.agent, w.mine.id, [upload(png_bytes(), "a.png"), upload(BAD_FILES["page.png"], "page.png"),
                                             upload(PDF, "b.pdf")])
    assert [a.original_name for a in result.saved] == ["a.png", "b.pdf"]
    assert len(result.errors) == 1 and "page.png" in result.errors[0]
    saved = result.saved[0]
    assert (saved.width, saved.height, saved.uploaded_by_id) == (64, 48, w.agent.id)
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.entity_id == w.mine.id)).all()
    assert actions.count("ticket.attachment_add") == 2


def test_upload_with_the_same_key_is_stored_once(ticket_world):
    w = ticket_world
    for _ in range(2):
        svc.upload(w.agent, w.mine.id, [upload(png_bytes(), "a.png")], key="k1")
    assert len(svc.attachments(w.mine)) == 1


def test_count_limit_per_ticket(app, ticket_world):
    w = ticket_world
    app.config["KDCS_ATTACHMENTS_PER_TICKET"] = 2
    try:
        result = svc.upload(w.agent, w.mine.id, [upload(png_bytes((i, 0, 0)), f"{i}.png") for i in range(3)])
    finally:
        app.config.pop("KDCS_ATTACHMENTS_PER_TICKET")
    assert len(result.saved) == 2 and "最多 2" in result.errors[0]


def test_size_limit_is_configurable(app, ticket_world):
    w = ticket_world
    app.config["KDCS_ATTACHMENT_MAX_MB"] = 0.001  # about 1 KB
    try:
        result = svc.upload(w.agent, w.mine.id, [upload(PDF + b"0" * 2000, "big.pdf")])
    finally:
        app.config.pop("KDCS_ATTACHMENT_MAX_MB")
    assert not result.saved and "big.pdf" in result.errors[0]


def test_scope_upload_outside_is_not_found_and_trainer_may_not(ticket_world):
    w = ticket_world
    with pytest.raises(NotFound):
        svc.upload(w.agent, w.far.id, [upload(PDF, "x.pdf")])
    with pytest.raises(NotFound):
        svc.upload(w.agent, w.team_ticket.id, [upload(PDF, "x.pdf")])
    from kdcs.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        svc.upload(w.trainer, w.mine.id, [upload(PDF, "x.pdf")])
    assert db.session.scalar(select(TicketAttachment.id)) is None


def test_remove_keeps_the_file_and_records_who_and_why(ticket_world):
    w = ticket_world
    [attachment] = svc.upload(w.agent, w.mine.id, [upload(PDF, "x.pdf")]).saved
    with pytest.raises(ValidationError):
        svc.remove(w.agent, w.mine.id, attachment.id, "  ")
    svc.remove(w.agent, w.mine.id, attachment.id, "传错了工单")
    db.session.refresh(attachment)
    assert attachment.removed_at and attachment.removed_by_id == w.agent.id and attachment.remove_reason == "传错了工单"
    assert storage.exists(attachment.stored_name)
    assert svc.attachments(w.mine) == [] and svc.attachments(w.mine, removed=True) == [attachment]
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "ticket.attachment_remove"))
    assert log.actor_id == w.agent.id and "传错了工单" in log.summary


def test_purge_by_admins_only_and_only_after_removal(ticket_world):
    from kdcs.permissions import PermissionDenied

    w = ticket_world
    [attachment] = svc.upload(w.agent, w.mine.id, [upload(png_bytes((1, 2, 3)), "x.png")]).saved
    with pytest.raises(ValidationError):
        svc.purge(w.admin, w.mine.id, attachment.id)  # not removed yet
    svc.remove(w.agent, w.mine.id, attachment.id, "重复")
    for actor in (w.agent, w.lead):
        with pytest.raises(PermissionDenied):
            svc.purge(actor, w.mine.id, attachment.id)
    name = attachment.stored_name
    svc.purge(w.admin, w.mine.id, attachment.id)
    assert not storage.exists(name)
    db.session.refresh(attachment)
    assert attachment.purged_at is not None and attachment.remove_reason == "重复"  # the row and its why stay
    with pytest.raises(NotFound):
        svc.get_attachment(w.admin, w.mine.id, attachment.id)


def test_purge_keeps_a_file_another_attachment_shares(ticket_world):
    w = ticket_world
    [first] = svc.upload(w.agent, w.mine.id, [upload(PDF, "a.pdf")]).saved
    [second] = svc.upload(w.agent, w.mine.id, [upload(PDF, "b.pdf")]).saved
    assert first.stored_name == second.stored_name
    svc.remove(w.agent, w.mine.id, first.id, "重复")
    svc.purge(w.admin, w.mine.id, first.id)
    assert storage.exists(second.stored_name)


# --------------------------------------------------------------------------- checklist


def _damage_world(w):
    damaged = factories.make_reason("arbitration", "破损")
    checklist.seed_evidence_items()
    ticket = factories.make_ticket(w.own, category="arbitration", reason=damaged, waybill_no="75121488729999")
    return damaged, ticket


def test_checklist_seed_and_missing_items(ticket_world):
    w = ticket_world
    damaged, ticket = _damage_world(w)
    names = [i.name for i in checklist.items_for(damaged.id)]
    assert names == ["外包装照片", "内件照片", "称重照片"]
    assert checklist.seed_evidence_items() == 0  # idempotent
    assert [i.name for i in checklist.missing_items(ticket)] == names
    outer = checklist.items_for(damaged.id)[0]
    svc.upload(w.agent, ticket.id, [upload(png_bytes(), "外包装.png")], evidence_item_id=outer.id)
    assert [i.name for i in checklist.missing_items(ticket)] == ["内件照片", "称重照片"]
    from kdcs.models import Ticket

    missing = db.session.scalars(select(Ticket.id).where(checklist.missing_evidence_clause())).all()
    assert ticket.id in missing and w.mine.id not in missing  # 地址不详 has no checklist
    with pytest.raises(ValidationError):  # an item of another reason
        svc.upload(w.agent, w.mine.id, [upload(PDF, "x.pdf")], evidence_item_id=outer.id)


def test_checklist_admin_edit(ticket_world):
    from kdcs.permissions import PermissionDenied
    from kdcs.service_errors import StaleEdit

    w = ticket_world
    damaged, _ticket = _damage_world(w)
    item = checklist.create_item(w.admin, damaged.id, "快递面单照片")
    assert checklist.items_for(damaged.id)[-1].name == "快递面单照片"
    with pytest.raises(ValidationError):
        checklist.create_item(w.admin, damaged.id, "快递面单照片")
    with pytest.raises(PermissionDenied):
        checklist.create_item(w.lead, damaged.id, "别的")
    with pytest.raises(StaleEdit):
        checklist.update_item(w.admin, item, version=item.version + 5, name="面单照片")
    checklist.update_item(w.admin, item, version=item.version, name="面单照片")
    checklist.set_item_active(w.admin, item, False)
    assert "面单照片" not in [i.name for i in checklist.items_for(damaged.id)]
    assert db.session.get(EvidenceItem, item.id).name == "面单照片"


# --------------------------------------------------------------------------- routes


def _attach(w, ticket=None, data=None, name="现场.png"):
    ticket = ticket or w.mine
    return svc.upload(w.agent if ticket is w.mine else w.admin, ticket.id,
                      [upload(data or png_bytes(), name)]).saved[0]


@pytest.mark.parametrize("role,mine,team,far", [
    ("agent", 200, 404, 404), ("lead", 200, 200, 404), ("admin", 200, 200, 200), ("trainer", 403, 403, 403),
])
def test_download_authorization_for_every_role(client, auth, ticket_world, role, mine, team, far):
    w = ticket_world
    files = {"mine": _attach(w), "team": _attach(w, w.team_ticket, PDF, "x.pdf"),
             "far": _attach(w, w.far, png_bytes((0, 9, 0)), "far.png")}
    tickets = {"mine": w.mine, "team": w.team_ticket, "far": w.far}
    auth.login(w[role])
    for key, expected in (("mine", mine), ("team", team), ("far", far)):
        url = f"/tickets/{tickets[key].id}/attachments/{files[key].id}"
        assert client.get(url).status_code == expected, (role, key)
        assert client.get(url + "?download=1").status_code == expected, (role, key)
    # an attachment id under another ticket's URL is not found
    assert client.get(f"/tickets/{w.mine.id}/attachments/{files['far'].id}").status_code in (403, 404)
    auth.logout()
    assert client.get(f"/tickets/{w.mine.id}/attachments/{files['mine'].id}").status_code == 302


def test_served_file_headers(client, auth, ticket_world):
    w = ticket_world
    image = _attach(w)
    pdf = _attach(w, data=PDF, name="证明.pdf")
    book = _attach(w, data=xlsx_bytes(), name="明细.xlsx")
    auth.login(w.agent)
    response = client.get(f"/tickets/{w.mine.id}/attachments/{image.id}")
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].startswith("sandbox")
    assert response.headers["Content-Disposition"].startswith("inline")
    response = client.get(f"/tickets/{w.mine.id}/attachments/{pdf.id}?download=1")
    assert response.headers["Content-Disposition"].startswith("attachment") and response.data == PDF
    response = client.get(f"/tickets/{w.mine.id}/attachments/{book.id}")
    assert response.headers["Content-Disposition"].startswith("attachment")  # never rendered inline
    thumb = client.get(f"/tickets/{w.mine.id}/attachments/{image.id}/thumb")
    assert thumb.status_code == 200 and thumb.headers["Content-Type"] == "image/jpeg"
    assert client.get(f"/tickets/{w.mine.id}/attachments/{pdf.id}/thumb").status_code == 404


def test_upload_route_htmx_and_no_js(client, auth, ticket_world):
    w = ticket_world
    auth.login(w.agent)
    url = f"/tickets/{w.mine.id}/attachments"
    response = client.htmx("post", url, content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(png_bytes()), "截图.png"), (io.BytesIO(PDF), "证明.pdf")]})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "截图.png" in body and "证明.pdf" in body and "/thumb" in body
    assert "evidence-changed" in json.loads(response.headers["HX-Trigger"])
    response = client.htmx("post", url, content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(BAD_FILES["drawing.svg"]), "drawing.svg")]})
    assert response.status_code == 422 and "drawing.svg" in response.get_data(as_text=True)
    response = client.htmx("post", url, content_type="multipart/form-data", data={})
    assert response.status_code == 422 and "先选择" in response.get_data(as_text=True)
    response = client.post(url, content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(PDF + b" "), "无脚本.pdf")]})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/tickets/{w.mine.id}#evidence")
    assert len(svc.attachments(w.mine)) == 3
    page = client.get(f"/tickets/{w.mine.id}").get_data(as_text=True)
    assert 'id="evidence"' in page and "无脚本.pdf" in page and 'id="evidence-upload"' in page


def test_remove_and_purge_routes(client, auth, ticket_world):
    w = ticket_world
    attachment = _attach(w)
    base = f"/tickets/{w.mine.id}/attachments/{attachment.id}"
    auth.login(w.agent)
    assert client.htmx("post", base + "/remove", data={"reason": ""}).status_code == 422
    response = client.htmx("post", base + "/remove", data={"reason": "拍错了"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "拍错了" in body and "Purge" not in body and "彻底删除" not in body
    assert client.post(base + "/purge").status_code == 403
    auth.logout()
    auth.login(w.lead)
    assert client.post(base + "/purge").status_code == 403
    auth.logout()
    auth.login(w.admin)
    page = client.get(f"/tickets/{w.mine.id}").get_data(as_text=True)
    assert base + "/purge" in page
    assert client.post(base + "/purge").status_code == 303
    assert not storage.exists(attachment.stored_name)
    assert client.get(base).status_code == 404


def test_ticket_page_shows_the_checklist_and_what_is_missing(client, auth, ticket_world):
    w = ticket_world
    damaged, ticket = _damage_world(w)
    auth.login(w.agent)
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "外包装照片" in page and "还缺：外包装照片、内件照片、称重照片" in page
    outer = checklist.items_for(damaged.id)[0]
    response = client.htmx("post", f"/tickets/{ticket.id}/attachments", content_type="multipart/form-data",
                           data={"evidence_item_id": str(outer.id), "files": [(io.BytesIO(png_bytes()), "a.png")]})
    assert "还缺：内件照片、称重照片" in response.get_data(as_text=True)
    # the upload form is not offered to trainers (who cannot open tickets at all)
    assert client.get(f"/tickets/{w.mine.id}").get_data(as_text=True).count("还缺") == 0


def test_csrf_is_required_for_upload(client, auth, ticket_world, csrf_on):
    w = ticket_world
    auth.login(w.agent)
    response = client.post(f"/tickets/{w.mine.id}/attachments", content_type="multipart/form-data",
                           data={"files": [(io.BytesIO(PDF), "x.pdf")]})
    assert response.status_code == 400 and svc.attachments(w.mine) == []


def test_zip_sniff_needs_a_workbook(app):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<x/>")
        archive.writestr("[Content_Types].xml", "<x/>")
    with pytest.raises(ValidationError):
        storage.save_upload(upload(out.getvalue(), "doc.xlsx"))
