"""Question banks in Excel (.xlsx): the import template, reading an upload, the export.

The column headers are the file format (the export is also a valid import file, so
export → edit → import round-trips); they are fixed Chinese strings. Uploads are
checked by content (an .xlsx is a zip with ``[Content_Types].xml`` and ``xl/`` parts),
never by their name. Every file written goes through ``kdcs.spreadsheets`` (text is
text, never a formula). No database access here.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from openpyxl import load_workbook

from ...models.training import QuestionKind
from ...pending_uploads import PendingUploads
from ...spreadsheets import Workbook
from ...storage import sniff
from .service import MAX_OPTIONS, TRUE_FALSE_TEXTS, QuestionDraft, check_question, parse_tags

LETTERS = "ABCDEF"[:MAX_OPTIONS]
OPTION_HEADERS = [f"选项{letter}" for letter in LETTERS]
# (key, header, width) in the order of the template and the export.
COLUMNS: list[tuple[str, str, int]] = [
    ("kind", "题型", 8), ("text", "题目", 48),
    *[(f"option{i}", header, 22) for i, header in enumerate(OPTION_HEADERS)],
    ("answer", "正确答案", 10), ("explanation", "解析", 40), ("tags", "标签", 16),
]
EXPORT_EXTRA = [("active", "状态", 8)]  # the export only; the import ignores it
KIND_WORDS = {
    QuestionKind.SINGLE: ("单选", "单选题", "single"),
    QuestionKind.MULTIPLE: ("多选", "多选题", "multiple"),
    QuestionKind.TRUE_FALSE: ("判断", "判断题", "true_false", "true/false"),
}
KIND_BY_WORD = {word: kind for kind, words in KIND_WORDS.items() for word in words}
KIND_NAMES = {kind: words[0] for kind, words in KIND_WORDS.items()}
TRUE_WORDS = {"正确", "对", "是", "√", "✓", "T", "TRUE", "Y"}
FALSE_WORDS = {"错误", "错", "否", "×", "✗", "F", "FALSE", "N"}
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_ROWS = 500
HEADER_SEARCH_ROWS = 10
UPLOAD_PREFIX = "quiz-import-"


class ImportFileError(Exception):
    """The file as a whole cannot be used; the message is for the trainer (Chinese)."""


# --------------------------------------------------------------------------- writing


def question_row(question) -> list:
    """One question as the export's cells (options by position, answer as letters)."""
    keys = [o["key"] for o in question.options]
    texts = [o["text"] for o in question.options] + [""] * (MAX_OPTIONS - len(question.options))
    answer = "".join(LETTERS[keys.index(k)] for k in keys if k in set(question.correct or []))
    return [KIND_NAMES.get(question.kind, question.kind), question.text, *texts[:MAX_OPTIONS], answer,
            question.explanation or "", "，".join(question.tags or []),
            "启用" if question.is_active else "停用"]


def write_bank(questions) -> bytes:
    """The bank as .xlsx (one row per question, inactive ones marked 停用)."""
    book = Workbook()
    sheet = book.sheet("题库", [(header, width) for _k, header, width in COLUMNS + EXPORT_EXTRA], freeze="C2")
    for question in questions:
        sheet.append(question_row(question))
    _help_sheet(book)
    return book.to_bytes()


def write_template() -> bytes:
    """The import template: the header row, three example rows and a 说明 sheet."""
    book = Workbook()
    sheet = book.sheet("题库", [(header, width) for _k, header, width in COLUMNS], freeze="C2")
    sheet.append(["单选", "中通问题件在品牌系统中首次回复的时限是多少？", "2 小时内", "12 小时内", "24 小时内", "48 小时内",
                  "", "", "C", "以品牌当期考核规则为准，本题按课程示例规则。", "时效，问题件"])
    sheet.append(["多选", "客户来电投诉包裹破损，下列哪些做法正确？", "先安抚情绪并致歉", "核实运单号和破损情况",
                  "直接告诉客户找快递员", "请网点上传外包装照片", "", "", "ABD", "先共情、再核实、后举证。", "破损，共情"])
    sheet.append(["判断", "已签收的包裹不能再发起破损理赔。", "正确", "错误", "", "", "", "", "错误",
                  "签收后在规定时限内仍可按品牌规则申请理赔。", "理赔"])
    _help_sheet(book)
    return book.to_bytes()


def _help_sheet(book: Workbook) -> None:
    help_sheet = book.sheet("说明", [("列", 14), ("填写要求", 90)])
    for line in (
        ["题型", "必填。单选、多选 或 判断。"],
        ["题目", "必填。题目文字。"],
        ["选项A–选项F", "单选、多选至少填 2 个选项，最多 6 个，按顺序从选项A填起，选项文字不能重复。"
                      "判断题可以不填选项（默认为“正确”“错误”）。考试时选项顺序会随机打乱。"],
        ["正确答案", "必填。填选项字母：单选如 B；多选如 ACD（至少两个，可写 A,C,D）；"
                    "判断题填 正确 或 错误（也可填 对/错、A/B）。"],
        ["解析", "选填。按课程的回看设置，交卷后显示给学员。"],
        ["标签", "选填。多个标签用逗号或顿号分隔，例如：破损，时效。可按标签抽题。"],
        ["状态", "仅导出文件有此列，导入时忽略（导入的题目都为启用）。"],
        [],
        ["导入规则", "先预览：每一行的问题都会列出来；只要有一行有错误，就一题也不导入。"
                    "没有错误时确认导入，所有题目一起写入题库（追加，不会覆盖已有题目）。"],
        ["注意", f"第一个工作表的表头必须包含“题型”“题目”“正确答案”；一次最多 {MAX_ROWS} 题。"],
    ):
        help_sheet.append(line)


# --------------------------------------------------------------------------- reading


def cell_text(value) -> str:
    """A cell as the text a person typed (1.0 → '1'; None → '')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "正确" if value else "错误"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class ImportRow:
    line: int  # the row number in Excel
    text: str
    kind_name: str
    draft: QuestionDraft | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportPlan:
    rows: list[ImportRow]

    @property
    def error_rows(self) -> list[ImportRow]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.error_rows

    @property
    def drafts(self) -> list[QuestionDraft]:
        return [r.draft for r in self.rows if r.draft is not None]


def _parse_answer(kind: str, answer: str, options: list[str]) -> list[int]:
    """Positions of the correct options; ValueError with a Chinese message."""
    word = answer.strip().upper()
    if not word:
        raise ValueError(_("The correct answer is empty."))
    if kind == QuestionKind.TRUE_FALSE:
        for words, text, fallback in ((TRUE_WORDS, TRUE_FALSE_TEXTS[0], 0), (FALSE_WORDS, TRUE_FALSE_TEXTS[1], 1)):
            if word in words or answer.strip() in words:
                return [options.index(text) if text in options else fallback]
    letters = re.sub(r"[\s,，、;；/]+", "", word)
    if not letters or any(letter not in LETTERS for letter in letters):
        raise ValueError(_("The correct answer must be option letters such as B or ACD."))
    positions = sorted({LETTERS.index(letter) for letter in letters})
    if positions[-1] >= len(options):
        raise ValueError(_("The correct answer %(a)s names an option that is empty.", a=letters))
    return positions


def _row_to_draft(values: dict) -> tuple[QuestionDraft | None, list[str]]:
    errors: list[str] = []
    kind = KIND_BY_WORD.get(cell_text(values.get("kind")).lower())
    if kind is None:
        errors.append(_("题型 must be 单选, 多选 or 判断."))
        return None, errors
    texts = [cell_text(values.get(f"option{i}")) for i in range(MAX_OPTIONS)]
    while texts and not texts[-1]:
        texts.pop()
    if "" in texts:
        errors.append(_("Fill the options in order from 选项A, without gaps."))
        return None, errors
    if kind == QuestionKind.TRUE_FALSE and not texts:
        texts = list(TRUE_FALSE_TEXTS)
    try:
        correct = _parse_answer(kind, cell_text(values.get("answer")), texts)
    except ValueError as exc:
        errors.append(str(exc))
        correct = []
    draft = QuestionDraft(kind=kind, text=cell_text(values.get("text")), options=texts, correct=correct,
                          explanation=cell_text(values.get("explanation")),
                          tags=parse_tags(cell_text(values.get("tags"))))
    checked = check_question(draft)
    if errors:
        checked.pop("correct", None)
    errors += list(checked.values())
    return (None if errors else draft), errors


def check_upload(data: bytes) -> None:
    """ImportFileError (Chinese) unless ``data`` is an .xlsx by its content."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if data[:4] == OLE_MAGIC:
        raise ImportFileError(_("This is an old .xls file. Open it in Excel, save it as .xlsx and upload it again."))
    if sniff(data) != "xlsx":
        raise ImportFileError(_("This is not an Excel .xlsx file. Start from the template on this page."))


def read_plan(data: bytes, max_rows: int = MAX_ROWS) -> ImportPlan:
    """Read and check every question row of an .xlsx; ImportFileError when the file is unusable."""
    check_upload(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # BadZipFile, InvalidFileException, KeyError on a zip that is not a workbook ...
        raise ImportFileError(_("The file could not be opened as an Excel workbook. It may be damaged.")) from None
    try:
        return _read(book, max_rows)
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(_("The file could not be opened as an Excel workbook. It may be damaged.")) from None
    finally:
        book.close()


def _read(book, max_rows: int) -> ImportPlan:
    header_names = {header: key for key, header, _w in COLUMNS}
    for ws in book.worksheets:
        rows = ws.iter_rows(values_only=True)
        mapping: dict[int, str] = {}
        line = 0
        for line, row in enumerate(rows, start=1):
            if line > HEADER_SEARCH_ROWS:
                break
            mapping = {i: header_names[cell_text(v).replace(" ", "")] for i, v in enumerate(row or ())
                       if cell_text(v).replace(" ", "") in header_names}
            if {"kind", "text", "answer"} <= set(mapping.values()):
                break
            mapping = {}
        if not mapping:
            continue
        plan = ImportPlan([])
        for number, row in enumerate(rows, start=line + 1):
            values = {key: (row[i] if row and i < len(row) else None) for i, key in mapping.items()}
            if all(cell_text(v) == "" for v in values.values()):
                continue
            if len(plan.rows) >= max_rows:
                raise ImportFileError(_("The file has more than %(n)d questions. Split it into smaller files.",
                                        n=max_rows))
            draft, errors = _row_to_draft(values)
            plan.rows.append(ImportRow(number, cell_text(values.get("text"))[:120],
                                       cell_text(values.get("kind")), draft, errors))
        if not plan.rows:
            raise ImportFileError(_("The file has a header row but no questions."))
        _mark_repeats(plan)
        return plan
    raise ImportFileError(_("No header row with the columns 题型, 题目 and 正确答案 was found. Start from the template."))


def _mark_repeats(plan: ImportPlan) -> None:
    seen: dict[str, int] = {}
    for row in plan.rows:
        key = re.sub(r"\s+", "", row.text)
        if key and key in seen:
            row.errors.append(_("The same question as row %(n)d.", n=seen[key]))
            row.draft = None
        elif key:
            seen[key] = row.line


# --------------------------------------------------------------------------- keeping the upload between preview and confirm


_PENDING = PendingUploads(UPLOAD_PREFIX)
store_upload = _PENDING.store  # (folder, data) -> token
upload_path = _PENDING.path  # (folder, token) -> Path | None
discard_upload = _PENDING.discard  # (folder, token)
