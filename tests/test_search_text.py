"""kdcs.search: folding, words, character-pair tokens, highlights and snippets (pure Python)."""

from markupsafe import Markup

from kdcs.search import fold, highlight, matches, query_words, snippet, tokens, words
from kdcs.search.text import word_tokens


def test_fold_keeps_length_and_maps_full_width_and_case():
    text = "ＪＴ２０９９快递Ａb　破损"
    assert fold(text) == "jt2099快递ab 破损"
    assert len(fold(text)) == len(text)
    assert fold("İ") == "İ"  # lower() would make two characters: kept as is


def test_words_split_on_punctuation_symbols_and_blanks():
    assert words("您好{客户称呼}，运单JT2099306666983已签收。¥200.00 / 30%") == [
        "您好", "客户称呼", "运单jt2099306666983已签收", "200", "00", "30"]
    assert words("") == [] and words("，。、！") == []


def test_tokens_are_overlapping_pairs_and_the_last_character():
    assert word_tokens("破损件") == ["破损", "损件", "件"]
    assert word_tokens("破") == ["破"]
    assert tokens("破损件 JT12") == ["破损", "损件", "件", "jt", "t1", "12", "2"]
    # every character of the text starts exactly one token
    text = "拒收件，改地址"
    assert [t[0] for t in tokens(text)] == [c for c in text if c not in "，"]


def test_query_words_fold_dedupe_and_drop_contained_words():
    assert query_words("  破损  理赔 破损 ") == ["破损", "理赔"]
    assert query_words("破损 破损件") == ["破损件"]
    assert query_words("ＪＴ 单号") == ["jt", "单号"]
    assert query_words("，。") == []
    assert len(query_words(" ".join(f"词{i}{i}" for i in range(20)))) == 8


def test_matches_is_substring_of_every_word_case_insensitive():
    assert matches("快件已破损，请拍照", "破损")
    assert matches("快件已破损，请拍照", "拍照 破损")
    assert not matches("快件已破损，请拍照", "破损 理赔")
    assert matches("运单 JT2099306666983", "jt2099")
    assert matches("运单 JT2099306666983", "666983")
    assert not matches("破，损", "破损")  # words never span punctuation
    assert not matches("anything", "，")


def test_highlight_marks_every_word_and_escapes_everything_else():
    out = highlight("<b>破损</b>件 & 破损理赔", ["破损", "理赔"])
    assert isinstance(out, Markup)
    assert out == ("&lt;b&gt;<mark>破损</mark>&lt;/b&gt;件 &amp; <mark>破损理赔</mark>")


def test_highlight_on_original_text_keeps_its_case_and_width():
    assert highlight("单号ＪＴ2099", ["jt20"]) == "单号<mark>ＪＴ20</mark>99"


def test_highlight_merges_overlapping_matches():
    assert highlight("催件催件", ["件催", "催件"]) == "<mark>催件催件</mark>"


def test_highlight_cannot_be_tricked_by_a_query_that_looks_like_html():
    out = highlight('<script>alert(1)</script>', query_words("script"))
    assert "<script>" not in out and out.count("<mark>") == 2


def test_snippet_is_a_window_around_the_first_match():
    text = "开头" * 60 + "这里写着破损件的处理方法" + "结尾" * 60
    out = snippet(text, ["破损"], width=40, before=10)
    assert out.startswith("…") and out.endswith("…")
    assert "<mark>破损</mark>" in out
    plain = str(out).replace("<mark>", "").replace("</mark>", "").strip("…")
    assert len(plain) == 40 and "这里写着破损件" in plain


def test_snippet_without_match_is_the_start_and_near_end_shows_more_before():
    assert snippet("短文本。\n第二行", ["破损"]) == "短文本。 第二行"
    text = "甲" * 100 + "破损"
    out = snippet(text, ["破损"], width=30)
    assert out.endswith("<mark>破损</mark>") and str(out).count("甲") == 28


def test_snippet_never_cuts_a_match_and_escapes():
    text = "<i>" + "长" * 10 + "破损理赔流程" + "&"
    out = snippet(text, ["破损理赔流程"], width=8, before=2)
    assert "<mark>破损理赔流程</mark>" in out and "<i>" not in out


def test_snippet_never_splits_a_placeholder():
    text = "您好{客户称呼}，" + "说明" * 20 + "快件破损{运单号}已登记"
    out = str(snippet(text, ["破损"], width=20, before=4))
    assert "{运单号}" in out and out.count("{") == out.count("}")
    out = str(snippet("{客户称呼}您好" + "甲" * 30, ["您好"], width=10, before=3))
    assert out.startswith("{客户称呼}") or out.startswith("…{客户称呼}")
