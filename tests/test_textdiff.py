"""Side-by-side comparison (kdcs/textdiff.py): changes within lines, word-level for Chinese."""

from __future__ import annotations

from kdcs.settings import get_setting
from kdcs.textdiff import around_changes, inline_diff, side_by_side


def test_a_changed_two_character_word_is_one_change():
    assert inline_diff("包裹破损了", "包裹丢失了") == [("equal", "包裹"), ("delete", "破损"), ("insert", "丢失"),
                                                   ("equal", "了")]
    # Sharing a character must not split the word into 破|损|坏.
    assert inline_diff("包裹破损了", "包裹损坏了") == [("equal", "包裹"), ("delete", "破损"), ("insert", "损坏"),
                                                   ("equal", "了")]


def test_numbers_and_ascii_words_change_whole():
    assert inline_diff("赔付不超过200元，30分钟内核实", "赔付不超过300元，20分钟内核实") == [
        ("equal", "赔付不超过"), ("delete", "200"), ("insert", "300"), ("equal", "元，"), ("delete", "30"),
        ("insert", "20"), ("equal", "分钟内核实")]
    assert inline_diff("respond within 5 minutes", "reply within 5 minutes")[:2] == [
        ("delete", "respond"), ("insert", "reply")]


def test_rows_pair_changed_lines_and_keep_additions_and_removals_apart():
    rows = side_by_side("开场\n核实\n道歉", "开场\n核实物流\n道歉\n结束")
    assert [r.kind for r in rows] == ["equal", "changed", "equal", "added"]
    assert rows[1].left == [("equal", "核实")] and rows[1].right == [("equal", "核实"), ("insert", "物流")]
    assert rows[3].right == [("insert", "结束")] and rows[3].left_no is None and rows[3].right_no == 4
    assert [r.kind for r in side_by_side("a\nb", "a")] == ["equal", "removed"]


def test_long_texts_keep_their_common_lines():
    old = "\n".join(f"第{i}行，内容相同" for i in range(400))
    new = old.replace("第200行，内容相同", "第200行，内容不同")
    rows = side_by_side(old, new)
    assert [r.kind for r in rows].count("changed") == 1 and len(rows) == 400


def test_around_changes_keeps_one_line_of_context():
    rows = side_by_side("1\n2\n3\n4\n5\n6\n7", "1\n2\n3\nX\n5\n6\n7")
    shown = around_changes(rows)
    assert [r.right_no if r else None for r in shown] == [None, 3, 4, 5, None]


def test_settings_default_until_stored():
    assert get_setting("sop.review_required") is True


def test_context_reaches_over_blank_lines():
    rows = side_by_side("开场\n\n道歉\n\n核实\n\n结束", "开场\n\n道歉\n\n核实物流\n\n结束")
    shown = around_changes(rows)
    assert [r.right_no if r else None for r in shown] == [None, 3, 4, 5, 6, 7]
