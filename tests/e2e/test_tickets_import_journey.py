"""An admin imports the sample brand export through the import pages in a real browser:
upload → column mapping → preview (errors by kind and per row in Chinese, duplicates counted) →
value mapping (the brand's 咨询 is no 工单 reason: the suggested reason is applied, the rows are
checked again) → rejected-rows download → commit → counts.

The import runs as Huey tasks. The e2e app runs them in Huey's immediate mode
(``KDCS_TASKS_IMMEDIATE`` in tests/e2e/conftest.py), so each step finishes inside
its request; the waits below would also cover a real consumer (the job page
polls its progress every second and then shows the result).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sto_inbound_complaints.xls"
# What the sample holds (tests/data/make_samples.py): 60 rows, 6 wrong on purpose, one repeated.
ROWS, ERRORS, REPEATED = 60, 6, 1
VALID = ROWS - ERRORS - REPEATED
MAPPED = 1  # the 咨询 row, once its value is mapped
# Per-row messages the preview shows (Chinese, as the unit tests of the import check them).
ROW_ERRORS = ("未知网点“STO999999”", "该类别下没有原因“咨询”", "“2025-13-45 25:00”不是有效的日期时间",
              "缺少运单号", "“可能”不是“是”或“否”")
JOB_TIMEOUT = 30_000  # ms: a 60-row import takes well under a second; a consumer polls every 1 s


def _sample_waybills() -> list[str]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(SAMPLE.read_bytes()), read_only=True)  # an .xlsx under a .xls name
    ws = wb["进港投诉明细"]
    waybills = [str(row[1]) for row in ws.iter_rows(min_row=4, values_only=True) if row[1]]
    wb.close()
    return waybills


def _import_state(e2e_app):
    """(STO brand id, tickets created by imports so far, sample waybills already in the DB)."""
    from kdcs.extensions import db
    from kdcs.models import Brand, Ticket, TicketSource

    with e2e_app.app_context():
        brand_id = db.session.scalar(select(Brand.id).where(Brand.code == "STO"))
        imported = db.session.scalar(select(func.count()).select_from(Ticket)
                                     .where(Ticket.source == TicketSource.IMPORT))
        present = db.session.scalars(select(Ticket.waybill_no)
                                     .where(Ticket.waybill_no.in_(_sample_waybills()))).all()
        return brand_id, imported, present


def _count(page, name: str):
    return page.locator(f"[data-import-counts] [data-count={name}]")


def test_admin_imports_the_sample_export_through_preview_to_commit(login_as, e2e_app, zh):
    from kdcs.extensions import db
    from kdcs.models import ImportJob, ImportStatus

    brand_id, imported_before, present = _import_state(e2e_app)
    assert brand_id is not None, "the demo company has no 申通 (STO) brand"
    assert not present, ("another test already imported the sample file into the e2e database, "
                         f"so its rows are duplicates now: {present[:3]}…")

    page = login_as("admin")
    page.goto("/tickets/import")

    # 1. Upload (a real multipart form post), for the brand 申通.
    page.select_option("#brand_id", str(brand_id))
    page.set_input_files("#file", str(SAMPLE))
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Upload and map columns"), exact=True).click()
    expect(page).to_have_url(re.compile(r"/tickets/import/\d+$"))
    job_id = int(re.search(r"/tickets/import/(\d+)$", page.url).group(1))

    # 2. Column mapping: the two-row header under a title row is read, columns are suggested.
    mapping = page.locator("#import-mapping")
    expect(mapping).to_be_visible()
    expect(page.locator("#header_row")).to_have_value("2")
    expect(page.locator("#col_waybill_no")).to_have_value("运单编号")
    expect(page.locator("#file-sample")).to_contain_text("STO021101")
    assert page.locator("#file-sample tbody tr").count() >= 1
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Check all rows"), exact=True).last.click()  # the same button heads the card

    # 3. Preview (after the validation task): counts, errors in Chinese, duplicates; nothing written yet.
    expect(page.locator("[data-import-counts]")).to_be_visible(timeout=JOB_TIMEOUT)
    expect(_count(page, "errors")).to_have_text(str(ERRORS))
    expect(_count(page, "duplicates")).to_have_text(str(REPEATED))
    expect(_count(page, "valid")).to_have_text(str(VALID))
    errors_table = page.locator("#import-errors")
    expect(errors_table.locator("tbody tr")).to_have_count(ERRORS)
    for message in ROW_ERRORS:
        expect(errors_table).to_contain_text(message)
    expect(page.locator("#import-valid tbody tr").first).to_be_visible()
    # Errors by kind, with counts, above the row list; the actions above both.
    groups = page.locator("#error-groups")
    expect(groups.locator("tbody tr")).to_have_count(ERRORS)
    expect(groups.locator("[data-error-kind=reason_unknown]")).to_contain_text(zh("Reason not in the category"))
    expect(page.locator("[data-import-actions]")).to_be_in_viewport()
    with e2e_app.app_context():
        job = db.session.get(ImportJob, job_id)
        assert job.status == ImportStatus.VALIDATED
        assert (job.processed_rows, job.valid_rows, job.duplicate_rows, job.error_rows) == (
            ROWS, VALID, REPEATED, ERRORS)
    assert _import_state(e2e_app)[1] == imported_before, "the preview wrote tickets"

    # 4. The value table: 咨询 is not a 工单 reason; a reason is proposed (to look at), the rest match.
    consult = page.locator("#value-table tr[data-value='咨询']")
    expect(consult).to_contain_text("1")
    expect(consult.locator("select")).not_to_have_value("")
    expect(page.locator("[data-values-to-check]")).to_be_visible()
    expect(page.locator("#value-table tr[data-value='催件'] select")).not_to_have_value("")
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Apply and check the rows again"), exact=True).click()
    expect(_count(page, "valid")).to_have_text(str(VALID + MAPPED), timeout=JOB_TIMEOUT)
    expect(_count(page, "errors")).to_have_text(str(ERRORS - MAPPED))
    expect(page.locator("#error-groups [data-error-kind=reason_unknown]")).to_have_count(0)

    # 5. The rejected rows as .xlsx: the file's columns plus the error column.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=zh("Download the %(n)s rejected rows (.xlsx)") % {"n": ERRORS - MAPPED}).click()
    from openpyxl import load_workbook

    with open(download_info.value.path(), "rb") as handle:  # the download has no .xlsx name on disk
        rejected = load_workbook(io.BytesIO(handle.read()), read_only=True).worksheets[0]
    rejected_rows = list(rejected.iter_rows(values_only=True))
    assert rejected_rows[0][1] == "运单编号" and rejected_rows[0][-1] == "导入错误"
    assert len(rejected_rows) == 1 + ERRORS - MAPPED

    # 6. Commit (the commit task), then the final counts.
    imported = VALID + MAPPED
    with page.expect_navigation():
        page.get_by_role("button", name=zh("Import %(n)s tickets") % {"n": imported}, exact=True).click()
    done = page.locator("[data-import-done]")
    expect(done).to_be_visible(timeout=JOB_TIMEOUT)
    expect(done).to_have_text(zh("Import finished: %(n)s tickets imported, %(d)s duplicates skipped, "
                                 "%(e)s rows with errors left out.") % {"n": imported, "d": REPEATED,
                                                                         "e": ERRORS - MAPPED})
    expect(_count(page, "valid")).to_have_text(str(imported))
    expect(_count(page, "duplicates")).to_have_text(str(REPEATED))
    expect(_count(page, "errors")).to_have_text(str(ERRORS - MAPPED))
    expect(page.locator("#import-errors tbody tr")).to_have_count(ERRORS - MAPPED)
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"

    with e2e_app.app_context():
        from kdcs.models import ImportValueMap

        job = db.session.get(ImportJob, job_id)
        assert job.status == ImportStatus.DONE and job.inserted_rows == imported
        assert db.session.scalar(select(ImportValueMap.target).where(
            ImportValueMap.brand_id == brand_id, ImportValueMap.source_text == "咨询")).startswith("reason:")
    assert _import_state(e2e_app)[1] == imported_before + imported

    # The list of imports shows the finished job with its counts.
    page.goto("/tickets/import")
    row = page.locator("#import-jobs tbody tr", has=page.locator(f"a[href$='/tickets/import/{job_id}']"))
    expect(row).to_contain_text(str(VALID + MAPPED))
