"""Outlets in Excel (.xlsx): write the export/template, read an upload, keep it between steps.

The column headers are the file format (the export is the import template, so
export → edit → import round-trips); they are fixed Chinese strings, not UI
text, and the reader also accepts a few common aliases.
No database access here: planning and applying an import live in service.py.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import load_workbook

from ..pending_uploads import PendingUploads
from ..spreadsheets import Workbook

# (key, header, width). The order is the order of the export and of the template.
COLUMNS: list[tuple[str, str, int]] = [
    ("code", "网点编码", 14),
    ("name", "网点名称", 26),
    ("brand", "品牌", 8),
    ("region", "地区", 24),
    ("contact_name", "联系人", 10),
    ("contact_phone", "联系电话", 15),
    ("rate", "单票费率(元/票)", 15),
    ("overtime_rate", "加班费率(元/小时)", 15),
    ("agent", "主责客服工号", 13),
    ("agent_name", "主责客服姓名", 13),
    ("active", "状态", 8),
    ("notes", "备注", 36),
]
HEADERS = {key: header for key, header, _w in COLUMNS}
REQUIRED_KEYS = ("code", "name", "brand", "rate")

# Accepted header spellings (compared after removing spaces and unifying brackets).
ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("网点编码", "网点代码", "网点编号", "编码", "code"),
    "name": ("网点名称", "网点", "名称", "name"),
    "brand": ("品牌", "品牌编码", "品牌名称", "brand"),
    "region": ("地区", "区域", "所在地区", "region"),
    "contact_name": ("联系人", "负责人", "contact_name", "contact"),
    "contact_phone": ("联系电话", "电话", "联系人电话", "contact_phone", "phone"),
    "rate": ("单票费率(元/票)", "单票费率", "费率", "费率(元/票)", "rate", "rate_per_parcel"),
    "overtime_rate": ("加班费率(元/小时)", "加班费率", "加班费(元/小时)", "overtime_rate"),
    "agent": ("主责客服工号", "客服工号", "agent", "primary_agent"),
    "agent_name": ("主责客服姓名", "主责客服", "agent_name"),
    "active": ("状态", "是否启用", "启用", "active"),
    "notes": ("备注", "说明", "notes"),
}
ACTIVE_WORDS = {"启用", "是", "1", "true", "yes", "y", "active", "正常", "在用"}
INACTIVE_WORDS = {"停用", "否", "0", "false", "no", "n", "inactive", "禁用"}

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
UPLOAD_PREFIX = "outlet-import-"
HEADER_SEARCH_ROWS = 10


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message is for the user."""


def _key(header) -> str:
    text = str(header or "").strip().lower()
    text = text.replace("（", "(").replace("）", ")").replace("／", "/")
    return re.sub(r"\s+", "", text)


_ALIAS_TO_KEY = {_key(alias): key for key, aliases in ALIASES.items() for alias in aliases}


# --------------------------------------------------------------------------- writing


def active_word(active: bool) -> str:
    return "启用" if active else "停用"


def outlet_to_row(outlet) -> dict:
    agent = outlet.primary_agent
    return {
        "code": outlet.code,
        "name": outlet.name,
        "brand": outlet.brand.name if outlet.brand else "",
        "region": outlet.region or "",
        "contact_name": outlet.contact_name or "",
        "contact_phone": outlet.contact_phone or "",
        "rate": Decimal(outlet.rate_per_parcel),
        "overtime_rate": Decimal(outlet.overtime_rate) if outlet.overtime_rate is not None else "",
        "agent": agent.username if agent else "",
        "agent_name": agent.display_name if agent else "",
        "active": active_word(outlet.is_active),
        "notes": outlet.notes or "",
    }


def write_workbook(rows, brands=None) -> bytes:
    """An .xlsx with one sheet of outlets (header + ``rows`` as dicts), streamed in write-only mode.

    With ``brands`` (a list of (code, name)) a second sheet explains how to fill
    the file: that is the import template.
    """
    book = Workbook()  # names, contacts and notes are user text: written as text, never formulas
    sheet = book.sheet("网点", [(header, width) for _key, header, width in COLUMNS], freeze="A2")
    formats = {"rate": "0.0000", "overtime_rate": "0.00"}
    rate_column = {index: formats[key] for index, (key, _h, _w) in enumerate(COLUMNS) if key in formats}
    for row in rows:
        values = []
        for key, _header, _w in COLUMNS:
            value = row.get(key, "")
            values.append(Decimal(value) if key in formats and value not in ("", None) else value)
        sheet.append(values, rate_column)
    if brands is not None:
        header, *lines = _template_help(brands)
        help_sheet = book.sheet("填写说明", list(zip(header, (18, 70), strict=True)))
        for line in lines:
            help_sheet.append(line)
    return book.to_bytes()


def _template_help(brands) -> list[list[str]]:
    lines = [
        ["列", "填写要求"],
        ["网点编码", "必填。品牌系统里的网点编码，2–32 位字母、数字、- 或 _。已存在的编码会更新该网点，新编码会新建网点。"],
        ["网点名称", "必填。"],
        ["品牌", "必填。品牌名称或品牌编码，见下表。"],
        ["单票费率(元/票)", "必填。每票服务费，大于 0 且不超过 1，最多 4 位小数，例如 0.025。"],
        ["加班费率(元/小时)", "选填。与网点约定的加班费，每小时金额，最多 2 位小数，例如 40；留空表示未约定（已批准的加班不计费）。"
                          "没有这一列时，不改变网点已有的加班费率。"],
        ["联系电话", "手机号（11 位）或座机，例如 0571-88886666。"],
        ["主责客服工号", "客服的登录工号（如 agent1）；只能是在职的客服。留空表示不指定。"],
        ["主责客服姓名", "仅供查看，导入时忽略。"],
        ["状态", "启用 或 停用；留空时新网点为启用，已有网点保持不变。"],
        [],
        ["品牌编码", "品牌名称"],
    ]
    lines.extend([code, name] for code, name in brands)
    return lines


# --------------------------------------------------------------------------- reading


def cell_text(value) -> str:
    """A cell as the text a person typed: 571101.0 -> '571101', dates as ISO, None -> ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def parse_active(text: str) -> bool | None:
    """'启用'/'是' -> True, '停用'/'否' -> False, '' -> None; raises ValueError otherwise."""
    word = text.strip().lower()
    if not word:
        return None
    if word in ACTIVE_WORDS:
        return True
    if word in INACTIVE_WORDS:
        return False
    raise ValueError(word)


@dataclass
class RawRow:
    line: int  # row number in Excel (1-based), for the messages
    values: dict  # key -> cell value as read (rate may be a number)


@dataclass
class SheetData:
    columns: set[str]
    rows: list[RawRow]


def read_outlet_rows(data: bytes, max_rows: int) -> SheetData:
    """Read outlet rows from .xlsx bytes; ImportFileError with a Chinese message if the file is unusable."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data[:4] == OLE_MAGIC:
        raise ImportFileError(_("This is an old .xls file. Open it in Excel, save it as .xlsx and upload it again."))
    if data[:4] != ZIP_MAGIC:
        raise ImportFileError(_("This is not an Excel .xlsx file. Upload the file exported from this page."))
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # zipfile.BadZipFile, InvalidFileException, KeyError on a non-workbook zip ...
        raise ImportFileError(_("The file could not be opened as an Excel workbook. It may be damaged or not an .xlsx file.")) from None
    try:
        return _read_first_outlet_sheet(wb, max_rows)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(_("The file could not be opened as an Excel workbook. It may be damaged or not an .xlsx file.")) from None
    finally:
        wb.close()


def _read_first_outlet_sheet(wb, max_rows: int) -> SheetData:
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header_map = None
        line = 0
        for line, row in enumerate(rows, start=1):
            if line > HEADER_SEARCH_ROWS:
                break
            mapping = {}
            for index, value in enumerate(row or ()):
                key = _ALIAS_TO_KEY.get(_key(value))
                if key and key not in mapping.values():
                    mapping[index] = key
            if "code" in mapping.values() and "name" in mapping.values():
                header_map = mapping
                break
        if header_map is None:
            continue
        missing = [HEADERS[k] for k in REQUIRED_KEYS if k not in header_map.values()]
        if missing:
            raise ImportFileError(_("The header row lacks these columns: %(cols)s.", cols="、".join(missing)))
        found: list[RawRow] = []
        for number, row in enumerate(rows, start=line + 1):
            values = {key: (row[index] if row and index < len(row) else None) for index, key in header_map.items()}
            if all(cell_text(v) == "" for v in values.values()):
                continue
            if len(found) >= max_rows:
                raise ImportFileError(_("The file has more than %(n)d outlet rows. Split it into smaller files.", n=max_rows))
            found.append(RawRow(number, values))
        if not found:
            raise ImportFileError(_("The file has a header row but no outlet rows."))
        return SheetData(set(header_map.values()), found)
    raise ImportFileError(_("No header row with the columns %(a)s and %(b)s was found. Start from the template.",
                            a=HEADERS["code"], b=HEADERS["name"]))


# --------------------------------------------------------------------------- keeping the upload


_PENDING = PendingUploads(UPLOAD_PREFIX)
store_upload = _PENDING.store  # (folder, data) -> token
upload_path = _PENDING.path  # (folder, token) -> Path | None
discard_upload = _PENDING.discard  # (folder, token)
