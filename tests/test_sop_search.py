"""SOP search service: the index follows the current published version; the property test."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime

import pytest

from kdcs.extensions import db
from kdcs.models.sop import SopScenario, SopVersion, VersionStatus
from kdcs.permissions import PermissionDenied
from kdcs.search import fold, matches, query_words
from kdcs.sop import search as sop_search
from tests import factories
from tests.sop_corpus import add_scenarios, raw_text


def make_scenario(title="破损理赔", *, kind="claim", tags=("破损",), script="您好，快件破损请拍照。",
                  steps=(("核实外包装", 30),), authority="赔偿200元以内自行决定。", escalation="",
                  published=True, when=None):
    scenario = SopScenario(title=title, kind=kind, tags=list(tags), categories=[])
    db.session.add(scenario)
    version = SopVersion(scenario=scenario, title=title, script=script, authority=authority,
                         escalation=escalation, steps=[{"text": t, "limit_minutes": m} for t, m in steps],
                         status=VersionStatus.PUBLISHED if published else VersionStatus.DRAFT,
                         number=1 if published else None,
                         published_at=(when or datetime(2026, 3, 1, tzinfo=UTC)) if published else None)
    db.session.add(version)
    db.session.flush()
    if published:
        scenario.current_version = version
    db.session.flush()
    sop_search.reindex_scenario(scenario)
    db.session.commit()
    return scenario


def publish_new_version(scenario, **fields):
    old = scenario.current_version
    version = SopVersion(scenario=scenario, title=fields.pop("title", old.title), script=fields.pop("script", old.script),
                         authority=old.authority, escalation=old.escalation, steps=old.steps,
                         status=VersionStatus.PUBLISHED, number=old.number + 1,
                         published_at=datetime(2026, 4, 1, tzinfo=UTC))
    db.session.add(version)
    db.session.flush()
    scenario.current_version = version
    sop_search.reindex_scenario(scenario)
    db.session.commit()
    return version


def found(user, query, **kw):
    return [row.scenario_id for row in sop_search.search(user, query, limit=1000, **kw)]


@pytest.fixture
def agent():
    return factories.make_user("agent")


def test_finds_two_character_words_in_title_and_body(agent):
    a = make_scenario("破损理赔", script="外包装破损时先拍照。")
    b = make_scenario("催件话术", tags=("催件",), script="客户催件时说明派送进度，快件没有破损。")
    c = make_scenario("拒收处理", tags=("拒收",), script="客户拒收后登记问题件。")
    assert found(agent, "破损") == [a.id, b.id]  # title match first
    assert found(agent, "催件") == [b.id]
    assert found(agent, "拒收") == [c.id]
    assert found(agent, "问题件") == [c.id]
    assert found(agent, "理赔流程") == []


def test_only_the_current_published_version_is_searched(agent):
    scenario = make_scenario("遗失理赔", script="旧规定：按运费两倍赔偿。")
    assert found(agent, "两倍") == [scenario.id]
    publish_new_version(scenario, script="新规定：未保价按运费三倍赔偿。")
    assert found(agent, "两倍") == []
    assert found(agent, "三倍") == [scenario.id]
    # a newer draft is not searched either
    db.session.add(SopVersion(scenario=scenario, title="遗失理赔", script="草稿：四倍", status=VersionStatus.DRAFT))
    db.session.commit()
    sop_search.reindex_scenario(scenario)
    assert found(agent, "四倍") == []


def test_archived_and_unpublished_scenarios_are_not_found(agent):
    archived = make_scenario("改地址", script="客户要求改地址。")
    make_scenario("改地址草稿", script="客户要求改地址。", published=False)
    assert found(agent, "改地址") == [archived.id]
    archived.is_archived = True
    sop_search.reindex_scenario(archived)
    db.session.commit()
    assert found(agent, "改地址") == []
    assert found(agent, "") == []


def test_deleting_a_scenario_deletes_its_row(agent):
    scenario = make_scenario("拦截件")
    assert sop_search.INDEX.doc_ids() == {scenario.id}
    db.session.delete(scenario)
    db.session.commit()
    assert sop_search.INDEX.doc_ids() == set()
    assert found(agent, "拦截") == []


def test_indexes_tags_steps_authority_and_escalation(agent):
    scenario = make_scenario("网点沟通", tags=("仲裁举证",), script="联系网点。", steps=[("上传称重照片", 60)],
                             authority="可承诺24小时内回电。", escalation="媒体曝光立即升级主管。")
    for query in ("仲裁举证", "称重照片", "回电", "升级主管", "24"):
        assert found(agent, query) == [scenario.id], query
    [row] = sop_search.search(agent, "仲裁")
    assert "仲裁" not in row.snippet  # tags are searched, not shown in the snippet (the list shows them)


def test_markdown_is_indexed_as_the_reader_sees_it(agent):
    scenario = make_scenario("保价咨询", script="## 要点\n\n- **保价**快件按声明价值赔偿\n- 见[规定](http://example.com/rules)")
    assert found(agent, "保价快件") == [scenario.id]  # ** does not split the words
    assert found(agent, "example") == []  # link targets are not text


def test_one_character_multi_word_and_ascii_queries(agent):
    a = make_scenario("极兔 JT 催件", script="运单 JT2099306666983 已到网点。")
    b = make_scenario("中通改地址", script="运单 75121488724296，客户要求改派。")
    assert found(agent, "兔") == [a.id]
    assert found(agent, "jt") == [a.id]
    assert found(agent, "ＪＴ") == [a.id]
    assert found(agent, "306666") == [a.id]
    assert found(agent, "T2099") == [a.id]
    assert found(agent, "7512148") == [b.id]
    assert found(agent, "运单 改派") == [b.id]
    assert found(agent, "运单，网点") == [a.id]
    assert found(agent, "改 2") == [b.id]


def test_kind_and_tag_filters(agent):
    a = make_scenario("破损理赔", kind="claim", tags=("破损", "理赔"))
    b = make_scenario("破损投诉", kind="complaint", tags=("破损", "投诉"), script="快件破损。")
    assert found(agent, "破损", kind="claim") == [a.id]
    assert found(agent, "破损", tag="投诉") == [b.id]
    assert set(found(agent, "", tag="破损")) == {a.id, b.id}
    assert found(agent, "", tag="破") == []  # a tag is matched whole
    kinds, tags = sop_search.facets(agent)
    assert kinds == {"claim": 1, "complaint": 1}
    assert tags == [("破损", 2), ("投诉", 1), ("理赔", 1)]
    assert sop_search.facets(agent, kind="claim")[1] == [("理赔", 1), ("破损", 1)]
    # with a query: only the matching scenarios count
    assert sop_search.facets(agent, query="投诉") == ({"complaint": 1}, [("投诉", 1), ("破损", 1)])
    assert sop_search.facets(agent, query="投诉", tag="理赔") == ({}, [("投诉", 1), ("破损", 1)])


def test_ranking_title_words_first_then_shorter_titles_then_newer(agent):
    body_only = make_scenario("客户沟通", script="遇到延误先致歉。", when=datetime(2026, 5, 1, tzinfo=UTC))
    long_title = make_scenario("延误致歉与补偿说明", script="说明原因。")
    short_title = make_scenario("延误致歉", script="说明原因。")
    one_word = make_scenario("延误处理", script="致歉。")
    assert found(agent, "延误") == [short_title.id, one_word.id, long_title.id, body_only.id]
    assert found(agent, "延误 致歉") == [short_title.id, long_title.id, one_word.id, body_only.id]


def test_rows_are_highlighted_and_escaped(agent):
    make_scenario("破损<b>理赔</b>", script="<script>alert(1)</script> 快件破损请拍照。")
    [row] = sop_search.search(agent, "破损")
    assert row.title == "<mark>破损</mark>&lt;b&gt;理赔&lt;/b&gt;"
    assert "<script>" not in row.snippet and "<mark>破损</mark>" in row.snippet
    assert row.in_title


def test_search_page_counts_and_pages(agent):
    ids = [make_scenario(f"催件{i}", script="催件话术").id for i in range(5)]
    page = sop_search.search_page(agent, "催件", page=2, per_page=2)
    assert page.total == 5 and page.pages == 3 and page.has_prev and page.has_next
    assert [r.scenario_id for r in page.rows] == ids[2:4]
    assert sop_search.search_page(agent, "催件", page=9, per_page=2).total == 5
    assert sop_search.search_page(agent, "", page=1, per_page=2).total == 5


def test_search_needs_the_view_permission():
    from kdcs.models import User

    with pytest.raises(PermissionDenied):
        sop_search.search(User(role="nobody", username="x", display_name="x"), "破损")


def test_reindex_all_rebuilds_the_index(agent):
    a = make_scenario("破损理赔")
    sop_search.INDEX.clear()
    db.session.commit()
    assert found(agent, "破损") == []
    assert sop_search.reindex_all() == 1
    db.session.commit()
    assert found(agent, "破损") == [a.id]


def test_long_documents_are_found_exactly(agent):
    """Long documents with many repeats (PostgreSQL: past a tsvector's position limits) are
    found exactly; the body is indexed up to MAX_BODY_CHARS on both databases."""
    from kdcs.search.index import MAX_BODY_CHARS

    filler = "客户反映快件延误，" * 400  # 客户 400 times, 3600 characters
    script = filler + "尾部：外包装破损需称重照片。" + "其他说明文字" * 1800 + "最后一句话在这里"
    assert 14_000 < len(script) < MAX_BODY_CHARS - 100
    long = make_scenario("长文档", script=script)
    short = make_scenario("短文档", script="客户户口")
    assert found(agent, "客户反映") == [long.id]
    assert found(agent, "称重照片") == [long.id]
    assert found(agent, "最后一句话") == [long.id]
    assert found(agent, "户户") == [short.id]
    assert found(agent, "客户") == [long.id, short.id]
    assert found(agent, "延误 户口") == []
    assert found(agent, "说明文字其他") == [long.id]
    assert found(agent, "反映快件破损") == []
    beyond = make_scenario("超长文档", script="开头" + "很长" * MAX_BODY_CHARS + "结尾的话")
    assert found(agent, "开头") == [beyond.id]
    assert found(agent, "结尾的话") == []


# --------------------------------------------------------------------------- the property test

def _sample_queries(rng: random.Random, texts: list[str], n: int) -> list[str]:
    queries: list[str] = []
    while len(queries) < n:
        text = rng.choice(texts)
        length = rng.randint(2, 6)
        start = rng.randrange(max(1, len(text) - length))
        query = text[start:start + length]
        if query_words(query):
            queries.append(query)
    return queries


@pytest.mark.slow
def test_found_equals_contains_on_a_generated_corpus(agent):
    """For many random substrings of a generated corpus (a few hundred scenarios, some with an
    older version, some archived or never published), the scenarios found are exactly those
    whose current published text contains the query (every word of a multi-word query)."""
    corpus = add_scenarios(db, 300, seed=20, versions=2, archived_every=25, draft_only_every=30)
    current = {sid: fold(raw_text(data)) for sid, data, _ in corpus if data is not None}
    every_text = [raw_text(t) for _, _, texts in corpus for t in texts]
    rng = random.Random(7)
    queries = _sample_queries(rng, every_text, 400)
    queries += [rng.choice(t) for t in rng.sample(every_text, 30)]  # one character
    queries += [f"{a} {b}" for a, b in zip(_sample_queries(rng, every_text, 60),
                                           _sample_queries(rng, every_text, 60), strict=True)]
    waybills = sorted({w for t in every_text for w in re.findall(r"(?:JT|YT|SF)[0-9]{12,13}|[0-9]{14}", t)})
    assert len(waybills) > 30
    queries += [w[i:i + rng.randint(2, 8)] for w in rng.sample(waybills, 30) for i in [rng.randrange(len(w) - 2)]]
    queries += ["JT", "jt", "ZTO", "sf", "EMS", "Deppon", "破损", "催件", "拒收", "快递员", "破损理赔", "不存在的词语",
                "客户称呼", "{运单号}", "三倍 保价", "24小时", "5", "2小时内"]
    mismatches = []
    for query in queries:
        expected = {sid for sid, text in current.items() if all(w in text for w in query_words(query))}
        got = [hit.doc_id for hit in sop_search.INDEX.search(query, limit=1000).hits]
        assert len(got) == len(set(got))
        if set(got) != expected:
            mismatches.append((query, sorted(set(got) - expected)[:5], sorted(expected - set(got))[:5]))
    assert not mismatches, f"{len(mismatches)} of {len(queries)} queries differ: {mismatches[:10]}"
    # the reference meaning is kdcs.search.matches
    some = next(iter(current))
    assert matches(raw_text(next(d for s, d, _ in corpus if s == some)), queries[0]) == (
        some in found(agent, queries[0]))


def test_title_matches_come_first_on_the_corpus(agent):
    add_scenarios(db, 120, seed=21)
    for query in ("破损", "催件", "理赔", "投诉", "改地址", "JT"):
        rows = sop_search.search(agent, query, limit=1000)
        flags = [row.in_title for row in rows]
        assert flags == sorted(flags, reverse=True), query


def test_document_is_the_text_a_reader_sees():
    scenario = SopScenario(title="破损理赔", kind="claim", tags=["破损", "理赔"], categories=[])
    version = SopVersion(title="破损理赔（新）", script="## 要点\n\n1. **先**安抚\n2. 再核实 [轨迹](http://x.example)\n\n- 称重",
                         steps=[{"text": "响应客户", "limit_minutes": 5}, {"text": " "}],
                         authority="赔偿 *200* 元以内", escalation="")
    assert sop_search.document(scenario, version) == (
        "破损理赔（新）", "要点\n先安抚\n再核实 轨迹\n称重\n响应客户\n赔偿 200 元以内")


def test_the_sop_service_keeps_the_index_current(agent):
    """Through sop-core's service: a draft is not found; approving publishes and indexes it;
    a new version replaces the old text; a tag changed while editing is found; archiving hides it."""
    from kdcs.sop import service

    writer = factories.make_user("trainer")
    reviewer = factories.make_user("trainer")
    scenario = service.create_scenario(writer, title="拦截件处理", kind="internal", tags=["拦截"], categories=[],
                                       reason_ids=[], script="客户要求拦截快件时，先核实寄件人身份。",
                                       steps=[{"text": "在品牌系统中拦截", "limit_minutes": 20}], change_note="首版")
    assert found(agent, "拦截") == []  # a draft only
    draft = service.open_draft(scenario)
    service.submit_for_review(writer, draft, version_no=draft.version)
    service.approve(reviewer, draft, version_no=draft.version)
    assert found(agent, "核实寄件人") == [scenario.id]
    assert found(agent, "品牌系统") == [scenario.id]

    second = service.start_draft(writer, scenario)
    service.save_draft(writer, second, version_no=second.version, script="拦截需要收取拦截费。", tags=["拦截", "转寄"],
                       change_note="加收费说明")
    assert found(agent, "转寄") == [scenario.id]  # the scenario's tags changed: re-indexed at once
    assert found(agent, "拦截费") == []  # still a draft
    second = service.open_draft(scenario)
    service.submit_for_review(writer, second, version_no=second.version)
    service.approve(reviewer, second, version_no=second.version)
    assert found(agent, "拦截费") == [scenario.id]
    assert found(agent, "核实寄件人") == []

    service.archive(reviewer, scenario, version_no=scenario.version)
    assert found(agent, "拦截") == []
    service.archive(reviewer, scenario, False, version_no=scenario.version)
    assert found(agent, "拦截") == [scenario.id]
