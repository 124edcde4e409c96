"""Records for the SOP panel and reports tests: scenarios tied to ticket categories and reasons,
with published versions written directly with the models (as sop-core's approve leaves them)."""

from __future__ import annotations

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.models.sop import SopScenario, SopVersion, VersionStatus

DAMAGE_SCRIPT = (
    "{客户称呼}您好，我是{品牌}客服{客服}。非常抱歉您的快件（运单号 {运单号}）出现破损。\n\n"
    "我们已联系{网点}核实，将在 {时限} 前给您答复。"
)


def make_scenario(title: str = "破损理赔", *, kind: str = "claim", categories=("problem",), reasons=(),
                  scripts=(DAMAGE_SCRIPT,), steps=None, archived: bool = False, draft: str | None = None,
                  authority: str = "", max_compensation: str | None = None) -> SopScenario:
    """A scenario with one published version per script (numbers 1, 2, …) and optionally a draft."""
    scenario = SopScenario(title=title, kind=kind, tags=[], categories=list(categories), is_archived=archived)
    scenario.reasons = list(reasons)
    db.session.add(scenario)
    db.session.flush()
    for number, script in enumerate(scripts, start=1):
        version = SopVersion(scenario_id=scenario.id, number=number, status=VersionStatus.PUBLISHED, title=title,
                             script=script, steps=steps or [{"text": "核实破损照片", "limit_minutes": 30}],
                             authority=authority, max_compensation=max_compensation, published_at=utcnow())
        db.session.add(version)
        db.session.flush()
        scenario.current_version_id = version.id
    if draft is not None:
        db.session.add(SopVersion(scenario_id=scenario.id, number=None, status=VersionStatus.DRAFT, title=title,
                                  script=draft, steps=[]))
    db.session.commit()
    return scenario
