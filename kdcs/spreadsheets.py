"""The one Excel writer: every .xlsx the app sends (exports, import templates) is written here.

An openpyxl write-only workbook (rows are streamed, memory does not grow with
the rows). Text is always written as text: openpyxl on its own turns a string
that begins with ``=`` into a formula (and ``#N/A`` into an error value), so a
customer name such as ``=HYPERLINK("http://evil.example","点我")`` would become a
live link in the agent's Excel. Here every string cell is an inline string
(data type ``s``), and text that begins with ``= + - @``, tab or carriage return
also gets Excel's quote prefix, so editing the cell in Excel (F2, Enter) keeps it
text. Characters XML cannot carry (control characters a user pasted) are dropped
instead of failing the whole export. Numbers, booleans and dates stay numbers,
booleans and dates.

    book = Workbook()
    sheet = book.sheet("工单", [("工单编号", 10), ("客户姓名", 12)], freeze="C2")
    sheet.append([1, customer_name])
    book.save(path_or_file)        # or book.to_bytes()
"""

from __future__ import annotations

import io
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

# Text starting with one of these is what a spreadsheet could read as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE6F2")
MAX_CELL_TEXT = 32767  # Excel's limit per cell


def local_time(value: datetime | None) -> datetime | None:
    """An aware instant as Beijing wall time without a zone (Excel has none; ``cell`` refuses zones)."""
    from .filters import SHANGHAI

    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value else None


def clean_text(value: str) -> str:
    """The text without the characters XML cannot carry, cut at Excel's cell limit."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_TEXT]


def text_cell(ws, value: str) -> WriteOnlyCell:
    """A cell holding ``value`` as text, never a formula (nor an error value)."""
    text = clean_text(value)
    cell = WriteOnlyCell(ws, value=text)
    cell.data_type = "s"  # after the value: openpyxl guessed 'f' for '=…' and 'e' for '#N/A'
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def cell(ws, value: Any, number_format: str | None = None):
    """A safe cell for any value: text as text, numbers and dates as themselves."""
    if value is None:
        return None
    if isinstance(value, str):
        return text_cell(ws, value)
    if isinstance(value, bool | int | float | Decimal | datetime | date | time):
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise TypeError("Excel has no time zones: convert to local wall time first")
        result = WriteOnlyCell(ws, value=value)
        if number_format is None and isinstance(value, datetime | date):
            number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
        if number_format is not None:
            result.number_format = number_format
        return result
    return text_cell(ws, str(value))


class Sheet:
    """One worksheet of a write-only workbook; ``append`` writes one row of safe cells."""

    def __init__(self, ws) -> None:
        self.ws = ws

    def append(self, values, number_formats: dict[int, str] | None = None) -> None:
        """One row; ``number_formats`` maps a 0-based column to its Excel number format."""
        formats = number_formats or {}
        self.ws.append([cell(self.ws, value, formats.get(index)) for index, value in enumerate(values)])

    def header(self, titles) -> None:
        """A bold, shaded header row."""
        cells = []
        for title in titles:
            header_cell = text_cell(self.ws, str(title))
            header_cell.font, header_cell.fill = HEADER_FONT, HEADER_FILL
            cells.append(header_cell)
        self.ws.append(cells)


class Workbook:
    """A streamed .xlsx: sheets are written row by row and cannot be read back."""

    def __init__(self) -> None:
        self.book = _OpenpyxlWorkbook(write_only=True)

    def sheet(self, title: str, columns: list[tuple[str, int]] | None = None, freeze: str | None = None) -> Sheet:
        """A new sheet; with ``columns`` (header, width) its widths and a header row.

        Widths and frozen panes must be set before the first row (write-only mode).
        """
        sheet = Sheet(self.book.create_sheet(title))
        if freeze:
            sheet.ws.freeze_panes = freeze
        if columns:
            for index, (_title, width) in enumerate(columns, start=1):
                sheet.ws.column_dimensions[get_column_letter(index)].width = width
            sheet.header(title for title, _width in columns)
        return sheet

    def save(self, target) -> None:
        """Write the file to a path or a binary file object (once: write-only workbooks close)."""
        self.book.save(target)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.save(buffer)
        return buffer.getvalue()


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, filename: str):
    """A workbook's bytes as a download named ``filename`` (never cached: the figures change)."""
    from flask import send_file

    response = send_file(io.BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename)
    response.headers["Cache-Control"] = "no-store"
    return response
