"""Demo training content written for KDCS: three 上岗必修 courses with lessons, one practical item each,
and the 新人30天计划 programme (the default one new agents follow).

``seed_courses()`` is idempotent (a course whose title exists is left as trainers may have changed it)
and returns the courses by key: ``rules`` (品牌规则与条款), ``systems`` (品牌系统操作与收发派签),
``comms`` (沟通技巧与共情话术). The question banks (kdcs/training/quiz/demo.py) and the demo agents at
their stages (kdcs/training/certification/demo.py) build on them; kdcs/demo.py runs the three in order.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..models import User
from ..models.sop import SopScenario
from ..models.training import (
    CourseKind,
    CourseStatus,
    PracticalItem,
    PracticalKind,
    ProgrammeItem,
    TrainingCourse,
    TrainingLesson,
    TrainingProgramme,
)
from ..models.types import utcnow

RULES_LESSONS = [
    ("品牌时效总览：问题件、留言、工单、仲裁", """\
我们替网点处理四类单据，每类都有品牌考核的**时效**。超时不是"晚一点"，而是直接计入网点的考核和罚款，最终会落到客服组的绩效上。

| 类型 | 首次回复 | 办结 | 计时方式 |
|---|---|---|---|
| 问题件 | 24 小时内 | 72 小时内 | 自然时间 |
| 留言 | 2 小时内 | 24 小时内 | 服务时间 08:00–20:00 |
| 工单（一般） | 2 小时内 | 24 小时内 | 自然时间 |
| 工单·催件 | 2 小时内 | 24 小时内 | 服务时间 08:00–20:00 |
| 工单·投诉 | 24 小时内 | 最长 7 天 | 自然时间 |
| 仲裁 | 24 小时内响应/举证 | 72 小时内协商完结 | 自然时间 |

> 以上是系统里的默认规则。个别品牌、个别网点有更严的约定（例如某些网点要求催件 1 小时内回复），以系统工单页上显示的**截止时间**为准——系统已经把节假日和服务时间算进去了。

**三条铁律**

1. 先回复、再处理：首次回复只要求"告诉对方我们已受理、何时给结果"，不要为了查清楚而拖过首次回复时限。
2. 时效按**最早到期**的那一项排队：队列默认就是这个顺序，不要挑容易的先做。
3. 快到期（30 分钟内）系统会提醒你；已经超时的会通知组长。超时后仍要处理完，并在备注里写清原因。
"""),
    ("罚款与申诉：钱是怎么扣的", """\
品牌对网点的考核罚款大致分三类：

- **时效类**：问题件、留言、工单超时未回复或未办结，按单计罚（常见 5–50 元/单，投诉类更高）。
- **质量类**：虚假签收、未按约派送、服务态度投诉，属于重罚项，单票可达 100–500 元。
- **仲裁类**：仲裁判我方责任时，除了赔付客户，还可能附加考核。

**谁承担？** 罚款记录在工单的"罚款"里，由组长判定承担方：网点、客服（因我方超时或处理不当），或双方按比例分担。客服承担的部分进入当月绩效。

**怎样少被罚**

- 回复里只承诺"何时给您回复"，不承诺具体送达时间点、不承诺赔付金额（见 SOP 权限边界）。
- 每一步处理都写进工单备注：联系了谁、几点、结果如何。**备注就是申诉证据**。
- 使用 SOP 话术时，系统会在时间线记录"查看并使用了话术《…》第 N 版"，申诉时可以证明我们按规范处理。

**申诉**：对品牌罚款有异议的，在品牌系统规定的申诉期内（通常 3–7 天）提交，附上工单时间线截图、通话记录、签收底单。找不到证据的申诉不要提交，浪费次数。
"""),
    ("问题件、留言、工单、仲裁的处理要点", """\
### 问题件
网点或中转登记的异常件：地址不详、联系不上收件人、拒收、破损、超区等。
- 先看**问题原因**和最新物流轨迹，再联系收件人或寄件人。
- 能解决的（补充地址、改约派送）当场解决并回复网点；不能解决的（拒收）按流程登记退回。
- 破损件：先让网点拍照留存（外包装、面单、内件），再登记，**不要**先答应赔付。

### 留言
客户在品牌官方渠道留的言：催派送、查物流、投诉快递员、要求回电。
- 按服务时间计时，晚上 20:00 后的留言从次日 08:00 开始算。
- "要求回电"的留言必须真的打电话，不能只在系统里回复文字。

### 工单
品牌客服转来的正式工单：催件、查件、投诉、改地址、拦截、理赔、虚假签收。
- 投诉类工单先安抚、再核实，24 小时内给出处理结果或明确的进展。
- 改地址、拦截：以品牌系统的操作结果为准，未成功前不要对客户说"已经改好了"。

### 仲裁
客户或上游对网点发起的争议：延误、遗失、破损、虚假签收、内件短少、错派。
- **24 小时内举证**是第一优先级：签收底单、派件监控、通话录音、聊天截图。
- 证据不足时主动协商，比被判责任再加考核更划算；协商金额超出你的权限要升级组长。
"""),
    ("进港与出港：先分清是谁的件", """\
同一个网点既有**进港件**（别处寄来、由本网点派送），也有**出港件**（本网点揽收、发往别处）。

| | 进港 | 出港 |
|---|---|---|
| 常见问题 | 延误派送、虚假签收、联系不上收件人、破损 | 揽收不及时、虚假揽收、错发、重量异常 |
| 主要联系人 | 派件快递员、网点派件主管 | 揽件快递员、寄件客户 |
| 责任判断 | 以到件扫描后的派送记录为准 | 以揽收扫描和发件扫描为准 |

**为什么重要**：仲裁和罚款的责任网点由进港/出港决定。把一票出港件当成进港件去催派送，不但白忙，还会错过真正需要回复的时限。

工单页的"方向"一栏写着进港或出港；导入的品牌表格里通常叫"进港投诉明细"或"出港问题件"。看不清时，以物流轨迹里**本网点的第一条扫描**是到件还是揽收来判断。
"""),
]

SYSTEMS_LESSONS = [
    ("收发派签：四个环节与常用术语", """\
快件在网点的一生就是**收、发、派、签**：

1. **收（揽收）**：快递员上门或客户到网点寄件，扫描"揽收"。常见问题：虚假揽收（未实际取件就扫描）、揽收超时。
2. **发（发件）**：网点把快件装包、装车发往中转中心，扫描"发件"。常见问题：错发、漏发、重量异常。
3. **派（派件）**：到件扫描后分配给派件快递员，扫描"派件"。常见问题：延误、超区、联系不上收件人。
4. **签（签收）**：收件人本人、代收人或驿站签收，扫描"签收"。常见问题：虚假签收、代签未告知。

**常用术语**

- **到件 / 发件扫描**：每一个节点的到达和离开。轨迹"断更"超过 48 小时通常要查件。
- **问题件登记**：派送不成功时快递员登记的原因，它决定了我们要联系谁。
- **驿站 / 快递柜**：代收点。签收记录显示驿站，但客户没收到取件码，是虚假签收投诉的高发场景。
- **面单**：快件上的运单标签；面单破损会导致错分。
- **拦截件 / 退回件 / 转寄件**：客户改变主意后的三种处理，结果都以品牌系统为准。
"""),
    ("在品牌系统里查件：看懂一条物流轨迹", """\
处理任何一单之前，先在品牌系统里看**完整轨迹**。按这个顺序读：

1. **揽收时间和网点**：确认是不是我们的件（出港）。
2. **最后一次中转**：到了哪个中转中心，什么时候发往我们网点。
3. **到件扫描**：我们网点什么时候收到（进港的计时起点之一）。
4. **派件扫描和派件员**：谁在派，有没有登记问题件。
5. **签收**：谁签的、在哪签的（本人、家人、门卫、驿站、快递柜）。

**判断口诀**

- 有发无到超过 48 小时：按"有发未到件"处理，联系上一站查件。
- 到件后超过 24 小时未派件：先问网点原因，再回复客户预计派送时间段（不承诺具体时间点）。
- 签收但客户说没收到：按《虚假签收投诉》SOP，先核实签收人和签收方式，24 小时内给结果。

把轨迹关键节点**抄进工单备注**（时间 + 节点 + 网点），后面的同事和组长不用重新查。
"""),
    ("在 KDCS 里工作：队列、备注与举证", """\
KDCS 是我们自己的工作台，品牌系统是"源头"。日常顺序：

1. **打开队列**：默认按最早到期排序，红色是已超时，橙色是 1 小时内到期。
2. **打开工单**：右侧 SOP 面板已按工单原因列出适用的话术，空白处（如 {客户称呼}、{运单号}）已自动填好。
3. **回复**：插入话术后按实际情况修改，点"回复"记录首次回复时间——这就是考核的时间点。
4. **写备注**：每次联系网点、快递员、客户后写一条，包括时间和结果。
5. **上传举证材料**：照片、截图、PDF 直接拖进"举证材料"，系统按内容识别类型并去掉照片的定位信息。
6. **办结**：问题真正解决后再办结；需要等待品牌结果的，保持处理中并写明等待什么。

**交接**：休假前在"休假交接"里把每个网点的未办结单据、承诺、特殊要求写清楚，替班同事会在队列里看到"代班"标记。
"""),
]

COMMS_LESSONS = [
    ("共情的三步：听、认、给", """\
客户找到我们时，往往已经等了很久、打过几次电话。共情不是说"亲"，而是让对方感到**被听见、被认真对待**。

1. **听**：让客户把话说完，不打断；复述关键事实（运单号、问题、诉求）确认你听懂了。
2. **认**：承认对方的感受和不便，而不是辩解。"让您等了这么久，确实着急"比"系统显示正在派送"更能降温。
3. **给**：给出下一步和时间："我现在联系网点，{时限}之前给您回复"。

**避免的说法**

- "这不是我们的问题" → 改为"我来帮您查清楚是哪个环节出了问题"。
- "您别急" → 改为"我理解您着急，我们一起把它解决"。
- "我也没办法" → 改为"我能做的是……，同时我会帮您向主管申请……"。
"""),
    ("话术示例：催件、投诉、破损", """\
以下话术与 SOP 库一致，在工单页可以一键插入（空白处会自动填写）。

**催件**
> {客户称呼}您好，已为您联系派送网点加急处理，快递员今日会优先派送，派送前会电话联系您，请保持电话畅通。

**投诉（先致歉、再说行动、最后给时间）**
> {客户称呼}您好，非常抱歉给您带来不便！您反映的问题我们已记录并转交网点负责人处理，将在 24 小时内给您答复。

**破损（不承诺赔付金额）**
> 您好，您的快件外包装有破损，我们已拍照留存并登记，网点核实内件情况后会第一时间与您联系，请您放心。

**练习**：把下面这句改得更有共情——"系统显示已经签收了，您再找找。"
参考："听到您没有收到快件，我也很着急。签收记录显示由驿站代收，我现在就联系网点和驿站核实，30 分钟内给您回电。"
"""),
    ("与网点、快递员沟通", """\
我们是网点的"外包客服"，不是网点的上级。和网点、快递员沟通要**快、准、留痕**：

- **快**：一次说清楚运单号、问题、需要对方做什么、什么时候要结果。
- **准**：引用轨迹上的事实（时间、节点），不要转述客户的情绪化表达。
- **留痕**：电话沟通后在工单备注里写"已电话联系 XX 网点张主管，答应 15:00 前派送"。

**示例（微信/电话）**
> 张主管您好，我是 KDCS 客服小王。运单 75121488724296，到件已 26 小时未派，客户催了两次，品牌工单 14:30 到期。麻烦今天下午安排派送，派前联系客户 139xxxx5678，派完回我一句，谢谢！

遇到网点长期不配合、同一问题反复出现，不要在群里争执，记录下来交给组长统一沟通。
"""),
    ("升级与边界：什么时候找组长", """\
以下情况立即升级组长（工单里点"升级"并写明原因）：

- 客户提出媒体曝光、12305 邮政申诉或报警；
- 同一客户 24 小时内第二次投诉；
- 诉求金额超过你的权限（见各 SOP 的"权限"一节），或客户要求与主管通话；
- 疑似违禁品、人身安全相关的问题。

**边界**：不承诺任何赔付金额、不承诺具体送达时间点；可承诺的只有"何时给您回复"。
升级不是推卸：升级后你仍然是这张单的负责人，要跟进到组长给出结论，并把结论回复客户。
"""),
]

COURSES = {
    "rules": {
        "title": "品牌规则与条款",
        "summary": "各品牌对问题件、留言、工单、仲裁的时效要求，罚款与申诉，进港与出港的区分。上岗前必须通过。",
        "lessons": RULES_LESSONS,
        "practical": {"kind": PracticalKind.ROLE_PLAY, "title": "情景模拟：延误仲裁举证", "scenario": "仲裁举证（延误）",
                      "checklist": ["24 小时内完成举证", "材料齐全：轨迹截图、沟通记录", "备注写清时间节点", "协商金额不超权限"],
                      "description": "培训师扮演品牌仲裁员，学员在 KDCS 中完成一单延误仲裁的举证与回复。"},
    },
    "systems": {
        "title": "品牌系统操作与收发派签",
        "summary": "收发派签四个环节与术语，看懂物流轨迹，在 KDCS 里处理队列、备注、举证和交接。",
        "lessons": SYSTEMS_LESSONS,
        "practical": {"kind": PracticalKind.SUPERVISED, "title": "实战带教：跟岗处理真实工单", "days": 5,
                      "checklist": ["独立完成首次回复", "备注规范", "无超时", "举证材料完整"],
                      "description": "在带教老师旁边处理本组真实队列 5 个工作日，老师每天复核。"},
    },
    "comms": {
        "title": "沟通技巧与共情话术",
        "summary": "共情的三步、标准话术、与网点和快递员沟通、升级与权限边界。",
        "lessons": COMMS_LESSONS,
        "practical": {"kind": PracticalKind.ROLE_PLAY, "title": "情景模拟：投诉安抚", "scenario": "投诉安抚",
                      "checklist": ["开场白规范", "复述并确认问题", "先致歉、不辩解", "给出回复时限", "不承诺赔付金额"],
                      "description": "培训师扮演情绪激动的投诉客户，学员按 SOP 完成一次电话安抚。"},
    },
}

PROGRAMME_TITLE = "新人30天计划"
# (day, course key, practical?, note)
PLAN = [
    (3, "rules", False, "第一周：品牌规则"),
    (10, "systems", False, "第二周：系统与收发派签"),
    (17, "comms", False, "第三周：沟通与共情"),
    (20, "comms", True, "情景模拟：投诉安抚"),
    (24, "rules", True, "情景模拟：仲裁举证"),
    (30, "systems", True, "最后一周跟岗带教"),
]


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _scenario_id(title: str) -> int | None:
    return db.session.scalar(select(SopScenario.id).where(SopScenario.title == title,
                                                          SopScenario.current_version_id.is_not(None)))


def seed_courses() -> dict[str, TrainingCourse]:
    """The three demo courses (published, 上岗必修, with lessons and a practical item each) and the
    default 新人30天计划; idempotent. Returns the courses by key (rules, systems, comms)."""
    author = _user("trainer1")
    now = utcnow()
    result: dict[str, TrainingCourse] = {}
    for key, spec in COURSES.items():
        course = db.session.scalar(select(TrainingCourse).where(TrainingCourse.title == spec["title"]))
        if course is None:
            course = TrainingCourse(title=spec["title"], summary=spec["summary"], kind=CourseKind.ONBOARDING,
                                    required_for_live=True, status=CourseStatus.PUBLISHED, revision=1,
                                    published_at=now - timedelta(days=40), created_by_id=author.id if author else None)
            db.session.add(course)
            for position, (title, body) in enumerate(spec["lessons"], start=1):
                db.session.add(TrainingLesson(course=course, position=position, title=title, body=body))
            practical = spec["practical"]
            db.session.add(PracticalItem(
                course=course, position=1, kind=practical["kind"], title=practical["title"],
                description=practical["description"], checklist=list(practical["checklist"]),
                days=practical.get("days"),
                sop_scenario_id=_scenario_id(practical["scenario"]) if "scenario" in practical else None))
            db.session.flush()
        result[key] = course
    _embed_scenarios(result)
    _programme(result, author)
    db.session.commit()
    return result


def _embed_scenarios(courses: dict[str, TrainingCourse]) -> None:
    """Two lessons show the current version of an SOP scenario beside their text."""
    for key, lesson_title, scenario in (("comms", "话术示例：催件、投诉、破损", "投诉安抚"),
                                         ("systems", "在品牌系统里查件：看懂一条物流轨迹", "虚假签收投诉")):
        for lesson in courses[key].lessons:
            if lesson.title == lesson_title and lesson.sop_scenario_id is None:
                lesson.sop_scenario_id = _scenario_id(scenario)


def _programme(courses: dict[str, TrainingCourse], author: User | None) -> TrainingProgramme:
    programme = db.session.scalar(select(TrainingProgramme).where(TrainingProgramme.title == PROGRAMME_TITLE))
    if programme is not None:
        return programme
    default_exists = db.session.scalar(select(TrainingProgramme.id).where(TrainingProgramme.is_default.is_(True)))
    programme = TrainingProgramme(
        title=PROGRAMME_TITLE, is_default=default_exists is None, created_by_id=author.id if author else None,
        description="新人入职 30 天：第一周品牌规则，第二周系统与收发派签，第三周沟通与共情，"
                    "之后情景模拟和跟岗带教；全部通过后上岗。")
    db.session.add(programme)
    for position, (day, key, practical, note) in enumerate(PLAN, start=1):
        course = courses[key]
        target = {"practical_item": next(p for p in course.practical_items if p.is_active)} if practical \
            else {"course": course}
        db.session.add(ProgrammeItem(programme=programme, day_offset=day, position=position, note=note, **target))
    db.session.flush()
    return programme
