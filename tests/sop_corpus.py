"""Generated SOP scenarios in realistic Chinese (../shared/DOMAIN.md vocabulary).

Used by the search property test and by bench/sop.py. ``scenario_texts(rng, n)``
returns plain dicts (title, kind, tags, script, steps, authority, escalation);
``add_scenarios`` writes them as published scenarios with the models directly.
The Markdown it writes never glues a marker to a word (``- `` bullets, ``## ``
headings, ``**…**`` next to punctuation), so the raw text and the indexed plain
text contain the same words.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

BRANDS = [("中通", "ZTO"), ("圆通", "YTO"), ("韵达", "Yunda"), ("申通", "STO"), ("极兔", "JT"),
          ("顺丰", "SF"), ("京东", "JD"), ("邮政", "EMS"), ("德邦", "Deppon")]
KINDS = ["consultation", "complaint", "claim", "suggestion", "internal"]
TOPICS = ["催件", "查件", "投诉安抚", "破损理赔", "遗失理赔", "拒收", "改地址", "延误致歉", "虚假签收投诉",
          "拦截件", "保价咨询", "偏远地区派送", "仲裁举证", "网点沟通", "快递员沟通", "升级主管", "面单破损",
          "内件短少", "疑似违禁品", "错分件", "超区派送", "节假日派送", "到付拒付", "重量异常", "少件", "错件"]
REASONS = ["地址不详", "查无此人", "联系不上收件人", "电话错误", "无人接听", "拒收", "破损", "超区", "超派",
           "改派", "改地址", "延误", "外包装破损", "内件短少", "疑似违禁品", "错分", "分拣差错", "有发未到件",
           "节假日无人收货", "客户要求延迟派送", "拒付到付款", "面单破损", "重量异常", "虚假揽收", "少件", "错件"]
TAGS = ["破损", "理赔", "催件", "查件", "投诉", "拒收", "改地址", "延误", "遗失", "保价", "仲裁", "网点",
        "快递员", "升级", "拦截", "偏远", "签收", "安抚", "时效", "赔偿"]
OPENINGS = ["您好{客户称呼}，我是{客服}，很高兴为您服务。", "{客户称呼}您好，感谢您的耐心等待。",
            "您好，这里是{品牌}客服，请问有什么可以帮您？"]
EMPATHY = ["非常理解您着急的心情，给您带来不便真的很抱歉。", "包裹没有按时送到，换作是我也会着急。",
           "您反映的情况我已经详细记录下来了。", "请您放心，这件事我会一直跟进到底。"]
EXPLAIN = ["经查询，您的快件{运单号}目前在{网点}，派送员会尽快联系您。",
           "由于天气原因，部分线路出现延误，快件预计在{时限}前送达。",
           "我们已联系{网点}核实物流轨迹，并要求快递员优先派送。",
           "根据保价规定，未保价快件按运费的三倍赔偿，保价快件按声明价值赔偿。",
           "外包装破损的情况需要您提供外包装照片、内件照片和称重照片。",
           "遗失件需要发货凭证和价值证明，我们会在2小时内给出处理方案。",
           "偏远地区派送需要额外的时间，具体时效以网点通知为准。",
           "如您需要修改收件地址，请提供新的详细地址和联系电话。"]
PROMISE = ["我们会在{时限}内给您回复处理结果。", "处理进展我会第一时间短信通知您。",
           "如有新的消息，客服会主动联系您。"]
CLOSING = ["感谢您的理解与支持，祝您生活愉快！", "请问还有其他可以帮您的吗？", "再次向您表示歉意，谢谢！"]
STEPS = [("响应客户，安抚情绪", 5), ("核实物流轨迹和签收记录", 30), ("联系网点负责人核实情况", 60),
         ("给出处理方案：补发或赔偿", 120), ("登记问题件并备注原因", 10), ("上传外包装照片和内件照片", 30),
         ("提交仲裁举证材料", 24 * 60), ("回访客户确认结果", 24 * 60), ("通知快递员优先派送", 15),
         ("在品牌系统中拦截快件", 20)]
AUTHORITY = ["客服可自行决定赔偿金额在{amount}元以内的案件。", "可直接同意客户改地址或改派的请求。",
             "未保价快件赔偿不超过运费的三倍。", "可承诺客户在24小时内回电。"]
ESCALATION = ["赔偿超过{amount}元或客户要求投诉升级时，转交组长处理。",
              "涉及疑似违禁品、媒体曝光或12305投诉的，立即升级主管。",
              "网点拒不配合时，提交总部仲裁并通知组长。"]


def _waybill(rng: random.Random) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return "JT" + "".join(rng.choice("0123456789") for _ in range(13))
    if choice == 1:
        return "YT" + "".join(rng.choice("0123456789") for _ in range(13))
    if choice == 2:
        return str(rng.choice([73, 75, 77, 78])) + "".join(rng.choice("0123456789") for _ in range(12))
    return "SF" + "".join(rng.choice("0123456789") for _ in range(12))


def _fill(rng: random.Random, text: str) -> str:
    """Replace some blanks with concrete values (a script keeps most of its blanks)."""
    if rng.random() < 0.3:
        text = text.replace("{运单号}", _waybill(rng))
    if rng.random() < 0.3:
        brand, code = rng.choice(BRANDS)
        text = text.replace("{品牌}", f"{brand}（{code}）")
    return text


def scenario_text(rng: random.Random, index: int) -> dict:
    """One scenario's texts: a title from the topics, a script, steps, authority."""
    topic = rng.choice(TOPICS)
    brand, code = rng.choice(BRANDS)
    reason = rng.choice(REASONS)
    title = rng.choice([f"{topic}", f"{brand}{topic}", f"{topic}：{reason}", f"{code} {topic}处理",
                        f"{reason}{topic}话术"]) + (f" {index}" if rng.random() < 0.3 else "")
    paragraphs = [rng.choice(OPENINGS), rng.choice(EMPATHY)]
    paragraphs += rng.sample(EXPLAIN, rng.randint(1, 3))
    paragraphs += [rng.choice(PROMISE), rng.choice(CLOSING)]
    paragraphs = [_fill(rng, p) for p in paragraphs]
    if rng.random() < 0.4:
        paragraphs.insert(2, f"## {reason}的处理要点")
    if rng.random() < 0.4:
        paragraphs.insert(-1, "- **注意**：" + rng.choice(EXPLAIN).replace("{网点}", f"{brand}网点"))
    if rng.random() < 0.2:
        paragraphs.append(f"参考运单：{_waybill(rng)}，品牌 {code}。")
    steps = [{"text": text, "limit_minutes": minutes} for text, minutes in rng.sample(STEPS, rng.randint(2, 5))]
    amount = rng.choice([50, 100, 200, 300, 500])
    return {
        "title": title[:100],
        "kind": rng.choice(KINDS),
        "tags": sorted(set(rng.sample(TAGS, rng.randint(0, 3)) + ([topic[:2]] if rng.random() < 0.5 else []))),
        "script": "\n\n".join(paragraphs),
        "steps": steps,
        "authority": rng.choice(AUTHORITY).format(amount=amount),
        "escalation": rng.choice(ESCALATION).format(amount=amount),
    }


def raw_text(data: dict) -> str:
    """Every searchable field of a generated scenario, one per line (the reference text)."""
    return "\n".join([data["title"], " ".join(data["tags"]), data["script"],
                      *[s["text"] for s in data["steps"]], data["authority"], data["escalation"]])


def add_scenarios(db, count: int, seed: int = 10, versions: int = 1, archived_every: int = 0,
                  draft_only_every: int = 0, author_id: int | None = None
                  ) -> list[tuple[int, dict | None, list[dict]]]:
    """Write ``count`` scenarios (each with ``versions`` published versions, the last current).

    Returns (scenario id, the current version's texts or None when it has no
    published version or is archived — what search must find —, every version's texts).
    """
    from kdcs.models.sop import SopScenario, SopVersion, VersionStatus
    from kdcs.sop.search import reindex_scenario

    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        texts = [scenario_text(rng, i) for _ in range(versions)]
        first = texts[-1]
        scenario = SopScenario(title=first["title"], kind=first["kind"], tags=first["tags"], categories=[],
                               created_by_id=author_id)
        db.session.add(scenario)
        draft_only = bool(draft_only_every) and i % draft_only_every == draft_only_every - 1
        archived = bool(archived_every) and i % archived_every == archived_every - 2
        current = None
        for n, data in enumerate(texts, start=1):
            version = SopVersion(
                scenario=scenario, title=data["title"], script=data["script"], steps=data["steps"],
                authority=data["authority"], escalation=data["escalation"], author_id=author_id,
                status=VersionStatus.DRAFT if draft_only else VersionStatus.PUBLISHED,
                number=None if draft_only else n,
                published_at=None if draft_only else base + timedelta(hours=i, minutes=n),
            )
            db.session.add(version)
            current = version
        db.session.flush()
        if not draft_only:
            scenario.current_version = current
        scenario.is_archived = archived
        db.session.flush()
        reindex_scenario(scenario)
        out.append((scenario.id, None if (draft_only or archived) else first, texts))
    db.session.commit()
    return out
