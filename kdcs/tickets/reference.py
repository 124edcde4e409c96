"""Reference data of the ticket queues: reasons, deadline rules, canned replies,
import mappings. Seeds (idempotent, production defaults), the agents' canned
reply lookup and the remembered import mappings. (The admin pages' services
for rules, reasons, calendar and canned replies are in ``settings.service``.)

``seed_reference_data()`` loads the reasons of every category, the default
deadline rules of DOMAIN.md, the work calendar from ``chinesecalendar`` and
the canned replies; run it with ``flask --app kdcs tickets seed-reference``.
Seeds look records up by natural key and never overwrite what admins changed.
"""

from __future__ import annotations

from datetime import time

from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Brand,
    CannedReply,
    Category,
    CountingMode,
    DeadlineRule,
    ImportMapping,
    TicketReason,
    utcnow,
)
from ..permissions import Permission, ensure
from ..service_errors import ValidationError

P, M, W, A = Category.PROBLEM, Category.MESSAGE, Category.WORK_ORDER, Category.ARBITRATION

REASONS: dict[str, list[str]] = {
    P: ["地址不详", "查无此人", "联系不上收件人", "电话错误/无人接听", "拒收", "破损", "超区/超派",
        "收件人要求改派/改地址", "延误", "外包装破损/内件短少", "疑似违禁品", "错分/分拣差错",
        "有发未到件", "节假日无人收货", "客户要求延迟派送", "拒付到付款", "面单破损", "重量异常",
        "虚假揽收", "少件", "错件"],
    M: ["催派送", "查询物流", "改约派送时间", "投诉快递员", "要求回电", "咨询运费", "其他留言"],
    W: ["催件", "查件", "投诉", "改地址", "拦截", "退回/转寄", "理赔", "虚假签收", "服务态度"],
    A: ["延误", "遗失", "破损", "虚假签收", "内件短少", "错派"],
}

H = 60  # minutes
SERVICE_WINDOW = (time(8, 0), time(20, 0))

# (category, reason name or None, reply minutes, resolve minutes, mode, note) — any brand.
DEFAULT_RULES: list[tuple[str, str | None, int, int, str, str]] = [
    (M, None, 2 * H, 24 * H, CountingMode.SERVICE_HOURS, "留言 2 小时内回复（服务时间 08:00–20:00）"),
    (W, None, 2 * H, 24 * H, CountingMode.CLOCK, "工单 2 小时内首次回复，24 小时内办结"),
    (W, "投诉", 24 * H, 7 * 24 * H, CountingMode.CLOCK, "投诉 24 小时内回复，最长 7 天办结"),
    (W, "催件", 2 * H, 24 * H, CountingMode.SERVICE_HOURS, "催件 2 小时内回复（服务时间 08:00–20:00）"),
    (P, None, 24 * H, 72 * H, CountingMode.CLOCK, "问题件 24 小时内回复"),
    (A, None, 24 * H, 72 * H, CountingMode.CLOCK, "仲裁 24 小时内响应/举证，72 小时内协商完结"),
]

CANNED_REPLIES: list[tuple[str | None, str, str]] = [
    (P, "地址不详-请补充地址", "您好，您的快件（运单号{运单号}）因地址不详暂无法派送，请提供详细收件地址（小区、楼栋、门牌号），我们将尽快为您安排派送。"),
    (P, "联系不上收件人", "您好，快递员多次联系收件人均未接通，请确认收件人电话是否正确，方便时请回电{网点}，谢谢配合。"),
    (P, "拒收退回", "您好，该快件收件人已拒收，我们已按流程登记退回，预计{时限}内退回寄件网点，请留意物流信息。"),
    (P, "破损已登记", "您好，您的快件外包装有破损，我们已拍照留存并登记问题件，网点核实内件情况后会第一时间与您联系，请您放心。"),
    (P, "节假日改约派送", "您好，因节假日收件地址无人签收，快件已暂存网点，节后第一个工作日为您优先派送，如需改约请告知。"),
    (M, "已催派送", "您好，已为您联系派送网点加急处理，快递员今日会优先派送，请保持电话畅通。"),
    (M, "物流查询", "您好，您的快件（运单号{运单号}）目前已到达{网点}，正在安排派送，请耐心等待。"),
    (M, "改约派送时间", "您好，已为您备注改约派送时间，快递员会在您约定的时间段内与您联系。"),
    (W, "催件回复", "您好，已联系网点核实，您的快件今日安排派送，快递员派送前会电话联系您，请保持电话畅通。"),
    (W, "查件回复", "您好，经查询您的快件（运单号{运单号}）最新状态为派送中，预计{时限}内送达，如有异常我们会主动联系您。"),
    (W, "投诉致歉", "{客户称呼}您好，非常抱歉给您带来不便！您反映的问题我们已记录并转交网点负责人处理，将在24小时内给您答复。"),
    (W, "改地址已受理", "您好，已为您申请修改收件地址，修改成功后快递员将按新地址派送，如产生额外费用会提前告知您。"),
    (W, "拦截已提交", "您好，已为您提交拦截申请，拦截成功后快件将退回寄件人，拦截结果请以物流信息为准。"),
    (A, "举证材料已上传", "您好，针对该仲裁我方已上传签收底单、派件监控截图及与收件人的沟通记录，请审核。"),
    (A, "协商赔付", "您好，经核实该件确有延误，我方同意按规定协商处理，请告知对方诉求，我们尽快确认赔付方案。"),
    (A, "申请撤销仲裁", "您好，该件已由收件人本人签收，签收记录及通话录音已上传，申请撤销该仲裁。"),
    (None, "结束语", "感谢您的耐心等待，如有其他问题请随时联系我们，祝您生活愉快！"),
]


# --------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------

def seed_reasons() -> int:
    existing = {(r.category, r.name) for r in db.session.scalars(select(TicketReason))}
    created = 0
    for category, names in REASONS.items():
        for order, name in enumerate(names, start=1):
            if (category, name) not in existing:
                db.session.add(TicketReason(category=category, name=name, sort_order=order * 10))
                created += 1
    db.session.flush()
    return created


def seed_rules() -> int:
    """The default any-brand rules; a rule for the same (category, reason) is never added twice."""
    reasons = {(r.category, r.name): r.id for r in db.session.scalars(select(TicketReason))}
    existing = {(r.category, r.reason_id) for r in db.session.scalars(
        select(DeadlineRule).where(DeadlineRule.brand_id.is_(None)))}
    created = 0
    for category, reason_name, reply, resolve, mode, note in DEFAULT_RULES:
        reason_id = reasons.get((category, reason_name)) if reason_name else None
        if reason_name and reason_id is None:
            continue
        if (category, reason_id) in existing:
            continue
        window = SERVICE_WINDOW if mode == CountingMode.SERVICE_HOURS else (None, None)
        db.session.add(DeadlineRule(category=category, reason_id=reason_id, reply_minutes=reply,
                                    resolve_minutes=resolve, mode=mode, service_start=window[0],
                                    service_end=window[1], note=note))
        created += 1
    db.session.flush()
    return created


def seed_canned_replies() -> int:
    existing = {(c.category, c.title) for c in db.session.scalars(select(CannedReply))}
    created = 0
    for order, (category, title, body) in enumerate(CANNED_REPLIES, start=1):
        if (category, title) not in existing:
            db.session.add(CannedReply(category=category, title=title, body=body, sort_order=order * 10))
            created += 1
    db.session.flush()
    return created


def seed_reference_data(calendar: bool = True) -> dict[str, int]:
    """Reasons, deadline rules, canned replies, evidence checklists, the work calendar. Idempotent; commits."""
    from ..workcalendar import seed_calendar
    from .attachments.checklist import seed_evidence_items

    created = {
        "reasons": seed_reasons(),
        "rules": seed_rules(),
        "canned_replies": seed_canned_replies(),
        "evidence_items": seed_evidence_items(),
        "calendar_days": seed_calendar()["created"] if calendar else 0,
    }
    db.session.commit()
    return created


# --------------------------------------------------------------------------
# Canned replies (agents read them here; admins edit them in settings.service)
# --------------------------------------------------------------------------

def canned_replies_for(category: str | None = None, include_inactive: bool = False) -> list[CannedReply]:
    """Replies of a category plus the general ones (category None), in their order."""
    query = select(CannedReply)
    if category:
        query = query.where((CannedReply.category == category) | CannedReply.category.is_(None))
    if not include_inactive:
        query = query.where(CannedReply.is_active.is_(True))
    return list(db.session.scalars(query.order_by(CannedReply.sort_order, CannedReply.id)))


# --------------------------------------------------------------------------
# Import mappings (remembered per brand)
# --------------------------------------------------------------------------

def get_import_mapping(brand_id: int) -> dict | None:
    row = db.session.scalar(select(ImportMapping).where(ImportMapping.brand_id == brand_id))
    return dict(row.mapping) if row else None


def save_import_mapping(actor, brand_id: int, mapping: dict) -> ImportMapping:
    """Remember a brand's column mapping (JSON-serialisable dict); the last one saved wins."""
    ensure(actor, Permission.IMPORT_TICKETS)
    if db.session.get(Brand, brand_id) is None:
        raise ValidationError({"brand_id": _("Unknown brand.")})
    row = db.session.scalar(select(ImportMapping).where(ImportMapping.brand_id == brand_id))
    if row is None:
        row = ImportMapping(brand_id=brand_id, mapping=dict(mapping), updated_by_id=actor.id)
        db.session.add(row)
    else:
        row.mapping, row.updated_by_id, row.updated_at = dict(mapping), actor.id, utcnow()
    db.session.commit()
    return row
