"""Demo SOP handbook: 23 scenarios written for KDCS (话术, 处理步骤, 时效, 权限边界), linked to the
ticket categories and reasons of ``kdcs.tickets.reference``.

Some scenarios have two or three published versions (to try the diff and the acknowledgements),
破损理赔 has a draft by trainer1 waiting for another trainer's review, 保价咨询 version 2 is
required reading that agent1 has not read yet, and the trainers' inbox has three open reports
and one resolved by linking a newer version. ``seed_demo_scenarios`` is idempotent: a scenario
whose title exists is left as it is (trainers may have changed it).

Rows are written with the models (timestamps spread over the past weeks, as a real handbook
would have them); ``current_version_id`` is the newest published version and numbers run 1, 2, 3.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Role, TicketReason, User, utcnow
from ..models.sop import SopAcknowledgement, SopKind, SopScenario, SopVersion, VersionStatus

P, M, W, A = "problem", "message", "work_order", "arbitration"
K = SopKind

# Authority and escalation texts several scenarios share.
ESCALATE_COMPLAINT = ("- 客户提出媒体曝光、12305 邮政申诉或报警；\n- 同一客户 24 小时内第二次投诉；\n"
                      "- 诉求金额超过本人权限，或客户要求与主管通话。")
NO_MONEY = "不承诺任何赔付金额、不承诺具体送达时间点；可承诺的只有“何时给您回复”。"

SCENARIOS: list[dict] = [
    # ------------------------------------------------------------------ 咨询
    {
        "title": "催件",
        "kind": K.CONSULTATION, "tags": ["催件", "派送", "时效"],
        "links": [(W, "催件"), (M, "催派送")],
        "versions": [
            {
                "days_ago": 75,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，很高兴为您服务。\n\n"
                    "理解您着急收到快件的心情，给您添麻烦了。\n\n"
                    "经查询，您的快件（运单号 {运单号}）目前在{网点}，正在安排派送。\n\n"
                    "我已通知网点优先派送，并会在 {时限} 前把派送进度回复给您。\n\n"
                    "感谢您的耐心等待，祝您生活愉快！"
                ),
                "steps": [
                    {"text": "查询物流轨迹，确认快件当前所在网点和最后一条扫描", "limit_minutes": 5},
                    {"text": "在网点群或系统内催派，要求网点给出预计派送时间", "limit_minutes": 30},
                    {"text": "把网点答复的派送时间回复客户", "limit_minutes": 120},
                ],
                "authority": "可自行催促网点、约定回复时间；" + NO_MONEY,
                "escalation": "- 网点 2 小时内无回复；\n- 快件 48 小时无任何扫描（转“查件”或“遗失理赔”）。",
                "change_note": "首版",
            },
            {
                "days_ago": 12,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，很高兴为您服务。\n\n"
                    "非常理解您着急收到快件的心情，给您添麻烦了，实在抱歉。\n\n"
                    "经查询，您的快件（运单号 {运单号}）已到达{网点}，网点正在安排派送；"
                    "如遇收件地址较偏或当天件量较大，可能会稍晚一些。\n\n"
                    "我已通知网点优先为您派送，并会在 {时限} 前把派送进度主动回复给您，"
                    "您无需再次来电。\n\n"
                    "感谢您的耐心等待，祝您生活愉快！"
                ),
                "steps": [
                    {"text": "查询物流轨迹，确认快件当前所在网点和最后一条扫描", "limit_minutes": 5},
                    {"text": "在网点群或系统内催派，要求网点给出预计派送时间并留存截图", "limit_minutes": 30},
                    {"text": "把网点答复的派送时间回复客户，并在工单备注中记录", "limit_minutes": 120},
                    {"text": "到约定时间仍未派送的，再次催派并升级组长", "limit_minutes": 240},
                ],
                "authority": "可自行催促网点、约定回复时间；" + NO_MONEY,
                "escalation": "- 网点 2 小时内无回复，或到约定时间仍未派送；\n"
                              "- 快件 48 小时无任何扫描（转“查件”或“遗失理赔”）。",
                "change_note": "增加“主动回复、无需再次来电”的承诺；催派留存截图；第 4 步二次催派。",
            },
        ],
    },
    {
        "title": "查件",
        "kind": K.CONSULTATION, "tags": ["查件", "物流轨迹"],
        "links": [(W, "查件"), (M, "查询物流"), (P, "有发未到件")],
        "versions": [{
            "days_ago": 60,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "您关心快件到哪儿了，我马上帮您查。\n\n"
                "您的快件（运单号 {运单号}）最新轨迹显示已到达{网点}。如轨迹暂时没有更新，"
                "一般是快件在转运途中，扫描会在到达下一站时补上。\n\n"
                "如 {时限} 前轨迹仍未更新，我会联系网点核实并第一时间告诉您结果。\n\n"
                "还有其他可以帮您的吗？感谢您的来电。"
            ),
            "steps": [
                {"text": "核对运单号，查询完整物流轨迹", "limit_minutes": 5},
                {"text": "轨迹 24 小时未更新的，联系上一站和派送网点核实", "limit_minutes": 30},
                {"text": "把核实结果回复客户", "limit_minutes": 120},
            ],
            "authority": "可告知轨迹和网点核实结果；不得泄露收件人/寄件人的电话和地址给非本人。",
            "escalation": "- 轨迹 72 小时未更新（转“遗失理赔”）；\n- 客户要求查看签收底单或监控。",
            "change_note": "首版",
        }],
    },
    {
        "title": "保价咨询",
        "kind": K.CONSULTATION, "tags": ["保价", "运费", "理赔"],
        "links": [(M, "咨询运费")],
        "versions": [
            {
                "days_ago": 90,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "您寄贵重物品前先了解保价，非常细心。\n\n"
                    "保价是按您声明的物品价值收取保价费，发生丢失或损坏时按声明价值赔付；"
                    "未保价的快件，丢失或损坏按运费的 3 倍赔付。\n\n"
                    "具体费率以寄件网点为准，寄件时请告诉快递员需要保价并如实填写物品价值。\n\n"
                    "如果还有疑问，欢迎随时联系我们。"
                ),
                "steps": [
                    {"text": "确认客户寄的物品类别和价值", "limit_minutes": 5},
                    {"text": "说明保价与未保价的赔付区别", "limit_minutes": 10},
                ],
                "authority": "只解释规则；保价费率以品牌公布的为准，不自行报价。",
                "escalation": "- 物品价值超过 2 万元，或客户要求签订协议客户保价。",
                "change_note": "首版",
            },
            {
                "days_ago": 0.4,
                "required_reading": True,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "您寄贵重物品前先了解保价，非常细心，我给您详细说明一下。\n\n"
                    "保价是按您声明的物品价值收取保价费（{品牌}现行费率为声明价值的 1%，最低 1 元），"
                    "发生丢失或损坏时，在声明价值内按实际损失赔付；"
                    "未保价的快件，丢失或损坏按运费的 3 倍赔付，最高不超过物品实际价值。\n\n"
                    "声明价值 1 万元以上的物品，寄件时需提供购买凭证，快递员会当面验视并拍照留存。\n\n"
                    "如果还有疑问，欢迎随时联系我们，祝您寄件顺利。"
                ),
                "steps": [
                    {"text": "确认客户寄的物品类别和价值", "limit_minutes": 5},
                    {"text": "说明保价费率、保价与未保价的赔付区别", "limit_minutes": 10},
                    {"text": "声明价值 1 万元以上的，提醒准备购买凭证、当面验视", "limit_minutes": 10},
                ],
                "authority": "只解释规则；费率按品牌 11 月起的新规（1%，最低 1 元），不自行报价或打折。",
                "escalation": "- 物品价值超过 2 万元，或客户要求签订协议客户保价；\n"
                              "- 客户对新费率有异议并要求书面说明。",
                "change_note": "品牌保价新规：费率 1%（最低 1 元）；未保价赔付不超过实际价值；1 万元以上需凭证验视。",
            },
        ],
    },
    {
        "title": "偏远地区派送",
        "kind": K.CONSULTATION, "tags": ["偏远", "超区", "派送"],
        "links": [(P, "超区/超派")],
        "versions": [{
            "days_ago": 40,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "让您久等了，非常抱歉。\n\n"
                "您的收件地址在{网点}的派送范围之外（超区），网点无法直接送货上门。"
                "我们可以为您提供两种方式：一是到网点或就近的驿站自提；二是转第三方派送，"
                "需要多等 1–2 天，可能另收派送费。\n\n"
                "您选好方式后，我会在 {时限} 前为您安排好，并把自提地址或派送进度发给您。\n\n"
                "感谢您的理解与配合。"
            ),
            "steps": [
                {"text": "查询网点派送范围，确认是否确属超区", "limit_minutes": 10},
                {"text": "告知客户自提或转派两种方式，记录客户选择", "limit_minutes": 30},
                {"text": "按客户选择通知网点安排，回复客户自提地址或转派单号", "limit_minutes": 120},
            ],
            "authority": "可安排自提或转派；转派费用以网点报价为准，客服不得承诺免费。",
            "escalation": "- 客户拒绝自提又拒付转派费用；\n- 网点对“是否超区”与公布范围不一致。",
            "change_note": "首版",
        }],
    },
    {
        "title": "客户要求回电",
        "kind": K.CONSULTATION, "tags": ["回电", "留言"],
        "links": [(M, "要求回电"), (M, "其他留言")],
        "versions": [{
            "days_ago": 30,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}，看到您留言希望我们回电，现在给您回复。\n\n"
                "让您久等了，请问您遇到的是快件（运单号 {运单号}）的哪方面问题呢？\n\n"
                "我先把您的问题记录下来，能马上处理的现在就为您处理；需要网点核实的，"
                "我会在 {时限} 前再给您回电。\n\n"
                "感谢您的来电，再见。"
            ),
            "steps": [
                {"text": "回电（服务时间 08:00–20:00 内计时）", "limit_minutes": 120},
                {"text": "连续 3 次未接通的，发短信告知并在工单备注", "limit_minutes": 30},
            ],
            "authority": "按具体问题转对应场景处理。",
            "escalation": "- 客户情绪激动并提出投诉（转“投诉安抚”）。",
            "change_note": "首版",
        }],
    },
    # ------------------------------------------------------------------ 投诉
    {
        "title": "投诉安抚",
        "kind": K.COMPLAINT, "tags": ["投诉", "安抚", "服务态度"],
        "links": [(W, "投诉"), (W, "服务态度")],
        "versions": [
            {
                "days_ago": 80,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "非常抱歉给您带来了不好的体验，您反映的情况我都记下来了。\n\n"
                    "我会把您的投诉转交{网点}负责人核实处理。\n\n"
                    "{时限} 前给您答复。\n\n"
                    "感谢您的反馈，再次向您致歉。"
                ),
                "steps": [
                    {"text": "耐心听完客户诉求，不打断、不争辩", "limit_minutes": 5},
                    {"text": "转网点负责人核实", "limit_minutes": 60},
                    {"text": "回复客户处理结果", "limit_minutes": 1440},
                ],
                "authority": "可致歉、可承诺回复时间；" + NO_MONEY,
                "escalation": ESCALATE_COMPLAINT,
                "change_note": "首版",
            },
            {
                "days_ago": 8,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，这件事由我来跟进到底。\n\n"
                    "非常抱歉给您带来了不好的体验，换作是我也会很生气。您反映的情况我都记下来了：\n"
                    "快件（运单号 {运单号}），涉及{网点}。\n\n"
                    "我会立即把您的投诉转交{网点}负责人核实，核实清楚后按公司规定处理，"
                    "处理结果不满意的您可以随时再联系我。\n\n"
                    "我会在 {时限} 前主动给您回复处理结果。\n\n"
                    "感谢您愿意把问题告诉我们，这能帮我们把服务做得更好。"
                ),
                "steps": [
                    {"text": "耐心听完客户诉求，复述确认，不打断、不争辩", "limit_minutes": 5},
                    {"text": "工单备注写清诉求、客户期望的结果", "limit_minutes": 15},
                    {"text": "转网点负责人核实，要求书面答复", "limit_minutes": 60},
                    {"text": "回复客户处理结果并询问是否满意", "limit_minutes": 1440},
                ],
                "authority": "可致歉、可承诺回复时间；可为客户申请 10 元以内的服务补偿券（需备注原因）。",
                "escalation": ESCALATE_COMPLAINT,
                "max_compensation": "10.00",
                "change_note": "共情句改为“换作是我也会很生气”；复述确认诉求；可申请 10 元以内补偿券。",
            },
        ],
    },
    {
        "title": "延误致歉",
        "kind": K.COMPLAINT, "tags": ["延误", "致歉", "时效"],
        "links": [(P, "延误"), (P, "节假日无人收货"), (P, "客户要求延迟派送")],
        "versions": [
            {
                "days_ago": 50,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "您的快件（运单号 {运单号}）比承诺时间晚到了，耽误您的事了，真的非常抱歉。\n\n"
                    "经核实，延误是因为{网点}近期件量激增，派送排班没有跟上。\n\n"
                    "网点已安排优先派送，我会在 {时限} 前跟进确认您已收到。\n\n"
                    "再次向您致歉，感谢您的理解。"
                ),
                "steps": [
                    {"text": "核实延误原因（天气、件量、中转、网点）", "limit_minutes": 30},
                    {"text": "致歉并告知原因和预计送达时间", "limit_minutes": 120},
                    {"text": "送达后回访确认", "limit_minutes": 1440},
                ],
                "authority": "可致歉、说明原因；不承诺延误赔付（延误赔付按品牌规则走理赔）。",
                "escalation": "- 客户因延误提出经济损失索赔；\n- 延误超过 3 天（按遗失件处理）。",
                "change_note": "首版",
            },
            {
                "days_ago": 5,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "您的快件（运单号 {运单号}）比承诺时间晚到了，耽误您的事了，真的非常抱歉。\n\n"
                    "经核实，延误的原因是：{延误原因}。\n\n"
                    "{网点}已安排优先派送，我会在 {时限} 前跟进确认您已收到；"
                    "如果延误给您造成了损失，您可以提供相关凭证，我帮您申请理赔。\n\n"
                    "再次向您致歉，感谢您的理解。"
                ),
                "steps": [
                    {"text": "核实延误原因（天气、件量、中转、网点），写入工单备注", "limit_minutes": 30},
                    {"text": "致歉并告知原因和预计送达时间", "limit_minutes": 120},
                    {"text": "送达后回访确认", "limit_minutes": 1440},
                ],
                "authority": "可致歉、说明原因；可受理延误理赔申请，但不承诺赔付金额。",
                "escalation": "- 客户因延误提出经济损失索赔超过 200 元；\n- 延误超过 3 天（按遗失件处理）。",
                "change_note": "延误原因改为据实填写；主动告知可凭凭证申请理赔。",
            },
        ],
    },
    {
        "title": "虚假签收投诉",
        "kind": K.COMPLAINT, "tags": ["虚假签收", "签收", "投诉"],
        "links": [(W, "虚假签收")],
        "versions": [{
            "days_ago": 35,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "快件显示已签收，您却没有收到，换作谁都会着急，非常抱歉。\n\n"
                "我已调取快件（运单号 {运单号}）的签收记录，正在联系{网点}核实签收人、签收地点和派送员，"
                "确认是否被家人、门卫、快递柜或驿站代收。\n\n"
                "{时限} 前我会告诉您核实结果：能找到的马上为您派送；找不到的，按遗失件为您办理理赔。\n\n"
                "感谢您的耐心，给您添麻烦了。"
            ),
            "steps": [
                {"text": "查询签收记录（签收人、时间、地点、照片）", "limit_minutes": 10},
                {"text": "联系网点和派送员核实实际投递位置", "limit_minutes": 60},
                {"text": "回复客户核实结果；未找到的转“遗失理赔”", "limit_minutes": 1440},
            ],
            "authority": "可要求网点 24 小时内给出投递证据；不得当客户面认定派送员违规。",
            "escalation": "- 网点无法提供投递证据；\n- 客户要求对派送员处罚或已向邮政管理局申诉。",
            "change_note": "首版",
        }],
    },
    # ------------------------------------------------------------------ 理赔
    {
        "title": "破损理赔",
        "kind": K.CLAIM, "tags": ["破损", "理赔", "内件短少"],
        "links": [(P, "破损"), (P, "外包装破损/内件短少"), (W, "理赔")],
        "versions": [
            {
                "days_ago": 88,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "收到的快件有破损，真的很抱歉。\n\n"
                    "请您提供外包装和物品破损的照片，我们核实后按规定赔付。\n\n"
                    "{时限} 前给您回复。\n\n"
                    "感谢您的配合。"
                ),
                "steps": [
                    {"text": "收集破损照片", "limit_minutes": 60},
                    {"text": "核实后给出赔付方案", "limit_minutes": 2880},
                ],
                "authority": "未保价按运费 3 倍以内赔付。",
                "escalation": "- 赔付金额超过 200 元。",
                "max_compensation": "200.00",
                "change_note": "首版",
            },
            {
                "days_ago": 45,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，您的破损件由我来跟进。\n\n"
                    "收到的快件有破损，心里一定很不舒服，真的很抱歉。\n\n"
                    "为了尽快为您处理，请您提供：外包装六面照片、破损物品照片、面单照片"
                    "（运单号 {运单号}）；如已保价，请同时提供物品价值凭证。\n\n"
                    "收到照片后我会联系{网点}核实，{时限} 前给您赔付方案。\n\n"
                    "感谢您的配合，给您添麻烦了。"
                ),
                "steps": [
                    {"text": "响应客户，致歉并说明需要的照片", "limit_minutes": 5},
                    {"text": "收到照片后联系网点核实（派前/派后破损、包装是否合规）", "limit_minutes": 30},
                    {"text": "给出赔付方案", "limit_minutes": 120},
                ],
                "authority": "未保价：按运费 3 倍以内赔付；已保价：按声明价值内实际损失赔付。单票 200 元以内可自行决定。",
                "escalation": "- 赔付金额超过 200 元；\n- 网点认为包装不合规拒绝承担；\n- 客户不接受赔付方案。",
                "max_compensation": "200.00",
                "change_note": "照片清单写全；时效改为 5 分钟响应、30 分钟核实、2 小时方案；区分保价与未保价。",
            },
            {
                "days_ago": 6,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，您的破损件由我来跟进。\n\n"
                    "收到的快件有破损，心里一定很不舒服，真的很抱歉。\n\n"
                    "为了尽快为您处理，请您提供：外包装六面照片、破损物品照片、面单照片"
                    "（运单号 {运单号}）；如已保价，请同时提供物品价值凭证。"
                    "照片请在签收后 48 小时内提供，超过时限可能影响理赔。\n\n"
                    "收到照片后我会联系{网点}核实，{时限} 前给您赔付方案；"
                    "赔付金额确定后，一般 3 个工作日内到账。\n\n"
                    "感谢您的配合，给您添麻烦了。"
                ),
                "steps": [
                    {"text": "响应客户，致歉并说明需要的照片和 48 小时时限", "limit_minutes": 5},
                    {"text": "收到照片后联系网点核实（派前/派后破损、包装是否合规）", "limit_minutes": 30},
                    {"text": "给出赔付方案（写明金额和到账时间）", "limit_minutes": 120},
                    {"text": "客户同意后当天提交理赔单", "limit_minutes": 480},
                ],
                "authority": "未保价：按运费 3 倍以内赔付；已保价：按声明价值内实际损失赔付。单票 200 元以内可自行决定。",
                "escalation": "- 赔付金额超过 200 元；\n- 网点认为包装不合规拒绝承担；\n- 客户不接受赔付方案。",
                "max_compensation": "200.00",
                "change_note": "增加 48 小时提供照片的时限和到账时间；新增第 4 步当天提交理赔单。",
            },
        ],
        # trainer1's draft, sent for review: another trainer (trainer2) or an admin approves it.
        "draft": {
            "author": "trainer1",
            "submitted_days_ago": 0.2,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}，您的破损件由我来跟进。\n\n"
                "收到的快件有破损，心里一定很不舒服，真的很抱歉。\n\n"
                "为了尽快为您处理，请您通过短信链接上传：外包装六面照片、破损物品照片、面单照片"
                "（运单号 {运单号}）；如已保价，请同时提供物品价值凭证。"
                "照片请在签收后 48 小时内提供，超过时限可能影响理赔。\n\n"
                "收到照片后我会联系{网点}核实，{时限} 前给您赔付方案；"
                "赔付金额确定后，一般 3 个工作日内原路退回到您的支付账户。\n\n"
                "感谢您的配合，给您添麻烦了。"
            ),
            "change_note": "照片改为通过短信链接上传；写明赔付原路退回。",
        },
    },
    {
        "title": "遗失理赔",
        "kind": K.CLAIM, "tags": ["遗失", "理赔", "丢件"],
        "links": [(W, "理赔"), (P, "少件")],
        "versions": [
            {
                "days_ago": 70,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                    "快件找不到了，您一定很着急，非常抱歉。\n\n"
                    "我们会先全网查找您的快件（运单号 {运单号}）；确认遗失后，"
                    "未保价的按运费 3 倍赔付，已保价的按声明价值赔付。\n\n"
                    "{时限} 前我会给您查找结果和赔付方案。\n\n"
                    "感谢您的理解。"
                ),
                "steps": [
                    {"text": "响应客户并致歉", "limit_minutes": 5},
                    {"text": "联系网点和中转核实最后扫描位置", "limit_minutes": 30},
                    {"text": "给出查找结果或赔付方案", "limit_minutes": 120},
                ],
                "authority": "未保价按运费 3 倍赔付；已保价按声明价值赔付。单票 300 元以内可自行决定。",
                "escalation": "- 赔付金额超过 300 元；\n- 物品为贵重物品（手机、首饰、证件）。",
                "max_compensation": "300.00",
                "change_note": "首版",
            },
            {
                "days_ago": 15,
                "script": (
                    "{客户称呼}您好，我是{品牌}客服{客服}，您的快件由我负责查找到底。\n\n"
                    "快件找不到了，您一定很着急，真的非常抱歉。\n\n"
                    "我已发起全网查找，正在联系{网点}和沿途中转核实您快件（运单号 {运单号}）的最后位置。"
                    "确认遗失后：未保价的按运费 3 倍赔付；已保价的按声明价值内的实际损失赔付，"
                    "需要您提供物品价值凭证。\n\n"
                    "我会在 30 分钟内给您核实进展，{时限} 前给您查找结果和赔付方案。\n\n"
                    "感谢您的理解，给您添麻烦了。"
                ),
                "steps": [
                    {"text": "响应客户并致歉，登记物品和价值", "limit_minutes": 5},
                    {"text": "核实：联系网点和中转，查最后一次扫描和交接记录", "limit_minutes": 30},
                    {"text": "给出方案：找到则安排派送，确认遗失则给出赔付金额", "limit_minutes": 120},
                ],
                "authority": "未保价按运费 3 倍赔付；已保价按声明价值内实际损失赔付。单票 300 元以内可自行决定。",
                "escalation": "- 赔付金额超过 300 元；\n- 物品为贵重物品（手机、首饰、证件）；\n"
                              "- 网点与中转互相推诿超过 2 小时。",
                "max_compensation": "300.00",
                "change_note": "时效明确为 5 分钟响应、30 分钟核实、2 小时方案；保价件需价值凭证。",
            },
        ],
    },
    {
        "title": "错件/少件处理",
        "kind": K.CLAIM, "tags": ["错件", "少件", "分拣"],
        "links": [(P, "错件"), (P, "错分/分拣差错"), (P, "外包装破损/内件短少")],
        "versions": [{
            "days_ago": 28,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "收到的不是自己的快件（或件数不对），给您添麻烦了，非常抱歉。\n\n"
                "请您先不要拆封错收的快件，告诉我面单上的运单号；您自己的快件（运单号 {运单号}）"
                "我正在联系{网点}查找，确认后会安排调换。\n\n"
                "{时限} 前我会给您回复调换安排。\n\n"
                "感谢您的配合。"
            ),
            "steps": [
                {"text": "登记错收快件的运单号和客户自己的运单号", "limit_minutes": 10},
                {"text": "联系网点查找并安排上门调换", "limit_minutes": 120},
                {"text": "调换完成后回访", "limit_minutes": 1440},
            ],
            "authority": "可安排上门调换；少件的按“破损理赔”的权限处理赔付。",
            "escalation": "- 错收快件已被拆封或使用；\n- 网点 24 小时内未找到客户的快件。",
            "change_note": "首版",
        }],
    },
    # ------------------------------------------------------------------ 问题件
    {
        "title": "拒收处理",
        "kind": K.CONSULTATION, "tags": ["拒收", "退回", "到付"],
        "links": [(P, "拒收"), (P, "拒付到付款")],
        "versions": [{
            "days_ago": 55,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}，关于您的快件（运单号 {运单号}）想和您确认一下。\n\n"
                "我们了解到您拒收了这个快件，想先听听是什么原因，看看能不能帮您解决。\n\n"
                "如您确定不要，快件会退回寄件人，退回运费一般由寄件人承担；"
                "如是到付金额有异议，我可以帮您核实费用明细。\n\n"
                "您确认后，我会在 {时限} 前通知{网点}按您的意思处理。\n\n"
                "感谢您的配合。"
            ),
            "steps": [
                {"text": "联系收件人确认拒收原因", "limit_minutes": 60},
                {"text": "联系寄件人确认退回或改派", "limit_minutes": 240},
                {"text": "通知网点退回并在工单备注", "limit_minutes": 1440},
            ],
            "authority": "可按寄件人意见安排退回或改派；不可减免到付运费。",
            "escalation": "- 寄件人要求收件人承担费用而收件人拒绝；\n- 拒收原因涉及破损或违禁品。",
            "change_note": "首版",
        }],
    },
    {
        "title": "改地址",
        "kind": K.CONSULTATION, "tags": ["改地址", "改派", "地址不详"],
        "links": [(W, "改地址"), (P, "收件人要求改派/改地址"), (P, "地址不详")],
        "versions": [{
            "days_ago": 42,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "您需要修改收件地址，我来帮您办理。\n\n"
                "为保证安全，请您核对收件人姓名和手机号后四位，并告诉我完整的新地址"
                "（小区、楼栋、门牌号）。同城改址一般不另收费；跨城改派需按新地址补运费，"
                "派送时间也会相应延后。\n\n"
                "您的快件（运单号 {运单号}）目前在{网点}，我会在 {时限} 前告诉您改址是否成功。\n\n"
                "感谢您的配合。"
            ),
            "steps": [
                {"text": "核验身份：收件人姓名和手机号后四位", "limit_minutes": 5},
                {"text": "快件未派送的，在系统提交改址并通知网点", "limit_minutes": 30},
                {"text": "回复客户改址结果和新的预计送达时间", "limit_minutes": 120},
            ],
            "authority": "身份核验通过后可提交同城改址；跨城改派的费用按品牌标准，不得减免。",
            "escalation": "- 无法核验身份但客户坚持改址；\n- 快件已在派送途中（转“拦截件”）。",
            "change_note": "首版",
        }],
    },
    {
        "title": "联系不上收件人",
        "kind": K.INTERNAL, "tags": ["联系不上", "电话错误", "查无此人"],
        "links": [(P, "联系不上收件人"), (P, "电话错误/无人接听"), (P, "查无此人")],
        "versions": [{
            "days_ago": 33,
            "script": (
                "您好，这里是{品牌}客服，您有一个快件（运单号 {运单号}）在{网点}，"
                "派送时没能联系上您。\n\n"
                "请您收到短信后回电或回复方便收件的时间和地址，我们会尽快为您安排派送；"
                "快件在网点最多保留 3 天，逾期将退回寄件人。\n\n"
                "祝您生活愉快。"
            ),
            "steps": [
                {"text": "按面单电话致电 3 次（间隔不少于 30 分钟）", "limit_minutes": 120},
                {"text": "仍未接通的发送短信（本话术）", "limit_minutes": 10},
                {"text": "联系寄件人核对收件人电话和地址", "limit_minutes": 240},
                {"text": "3 天仍联系不上的，按寄件人意见退回", "limit_minutes": 4320},
            ],
            "authority": "可向寄件人核对收件信息；不得把收件人信息告诉寄件人以外的人。",
            "escalation": "- 寄件人也联系不上；\n- 快件为生鲜或贵重物品。",
            "change_note": "首版",
        }],
    },
    {
        "title": "拦截件",
        "kind": K.INTERNAL, "tags": ["拦截", "退回", "转寄"],
        "links": [(W, "拦截"), (W, "退回/转寄")],
        "versions": [{
            "days_ago": 25,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "您需要拦截快件（运单号 {运单号}），我马上帮您办理。\n\n"
                "拦截需要寄件人本人申请，并按品牌标准收取拦截费；快件还没派送的，拦截成功率较高，"
                "已经在派送途中的，我们会尽力但不能保证一定成功。\n\n"
                "我已提交拦截，{时限} 前告诉您是否拦截成功，以及退回或转寄的安排。\n\n"
                "感谢您的配合。"
            ),
            "steps": [
                {"text": "核验寄件人身份", "limit_minutes": 5},
                {"text": "系统提交拦截并电话通知目的网点", "limit_minutes": 15},
                {"text": "确认拦截结果并回复客户", "limit_minutes": 120},
            ],
            "authority": "寄件人身份核验通过后可提交拦截；不承诺一定拦截成功。",
            "escalation": "- 收件人已签收但寄件人坚持追回；\n- 涉及诈骗、违禁品等，需报警或上报。",
            "change_note": "首版",
        }],
    },
    {
        "title": "疑似违禁品",
        "kind": K.INTERNAL, "tags": ["违禁品", "安全"],
        "links": [(P, "疑似违禁品")],
        "versions": [{
            "days_ago": 20,
            "script": (
                "{客户称呼}您好，我是{品牌}客服{客服}。\n\n"
                "您的快件（运单号 {运单号}）在安检时被标记为需要进一步核查，给您带来不便，请您谅解。\n\n"
                "按照国家寄递安全规定，快件需要在{网点}开箱验视，核查通过后会正常派送；"
                "如属于禁寄物品，将按规定处理并通知寄件人。\n\n"
                "核查结果出来后，我会在 {时限} 前告诉您。\n\n"
                "感谢您的理解与配合。"
            ),
            "steps": [
                {"text": "通知网点暂扣快件，不得派送", "limit_minutes": 10},
                {"text": "上报组长并按安检要求开箱验视", "limit_minutes": 60},
                {"text": "回复客户核查结果", "limit_minutes": 1440},
            ],
            "authority": "只告知“需要核查”，不对物品性质下结论；不得透露安检细节。",
            "escalation": "- 一律上报组长；\n- 疑似危险品（易燃易爆、毒害品）时同时通知网点负责人和安全员。",
            "change_note": "首版",
        }],
    },
    # ------------------------------------------------------------------ 仲裁
    {
        "title": "仲裁举证（延误）",
        "kind": K.INTERNAL, "tags": ["仲裁", "举证", "延误"],
        "links": [(A, "延误")],
        "versions": [{
            "days_ago": 65,
            "script": (
                "致{品牌}仲裁组：\n\n"
                "关于运单号 {运单号} 的延误仲裁，{网点}举证如下：\n\n"
                "1. 快件到达网点时间及当日派送排班截图；\n2. 派送员首次派送扫描及联系客户的通话记录；\n"
                "3. 延误原因说明（天气、交通管制、客户要求改约等）及相关证明。\n\n"
                "以上证据可证明延误非网点原因（或已尽合理派送义务），请仲裁组予以核查。\n\n"
                "举证人：{客服}"
            ),
            "steps": [
                {"text": "收集轨迹、派送扫描、通话记录截图", "limit_minutes": 1440},
                {"text": "核对证据时间线，写举证说明（本话术）", "limit_minutes": 240},
                {"text": "在品牌仲裁系统提交举证，并在工单备注提交时间", "limit_minutes": 60},
            ],
            "authority": "可按证据提交举证；网点确有责任的，可建议网点接受判责以免罚款加重。",
            "escalation": "- 证据不足且罚款金额超过 100 元；\n- 网点拒绝提供证据。",
            "change_note": "首版",
        }],
    },
    {
        "title": "仲裁举证（遗失）",
        "kind": K.INTERNAL, "tags": ["仲裁", "举证", "遗失"],
        "links": [(A, "遗失")],
        "versions": [{
            "days_ago": 64,
            "script": (
                "致{品牌}仲裁组：\n\n"
                "关于运单号 {运单号} 的遗失仲裁，{网点}举证如下：\n\n"
                "1. 快件在本网点的最后一次扫描记录（到件/派件/签收）；\n"
                "2. 交接单或交接视频截图，证明快件已交出或已妥投；\n"
                "3. 签收底单或签收照片（如有）。\n\n"
                "快件在本网点环节的交接记录完整，遗失不在本网点环节，请仲裁组予以核查。\n\n"
                "举证人：{客服}"
            ),
            "steps": [
                {"text": "调取最后扫描和交接记录", "limit_minutes": 1440},
                {"text": "确认遗失环节：本网点、上一站还是派送后", "limit_minutes": 240},
                {"text": "提交举证；本网点责任的，按遗失理赔标准协商赔付", "limit_minutes": 1440},
            ],
            "authority": "可提交举证；承认网点责任须经网点负责人同意。",
            "escalation": "- 物品为贵重物品或声明价值超过 1000 元；\n- 判责结果网点不认可需要申诉。",
            "change_note": "首版",
        }],
    },
    {
        "title": "仲裁举证（破损）",
        "kind": K.INTERNAL, "tags": ["仲裁", "举证", "破损"],
        "links": [(A, "破损"), (A, "内件短少")],
        "versions": [
            {
                "days_ago": 63,
                "script": (
                    "致{品牌}仲裁组：\n\n"
                    "关于运单号 {运单号} 的破损仲裁，{网点}举证如下：\n\n"
                    "1. 到件时的外包装照片；\n2. 派送签收时的照片。\n\n"
                    "请仲裁组予以核查。\n\n举证人：{客服}"
                ),
                "steps": [
                    {"text": "收集到件和签收照片", "limit_minutes": 1440},
                    {"text": "提交举证", "limit_minutes": 1440},
                ],
                "authority": "可提交举证。",
                "escalation": "- 罚款金额超过 100 元。",
                "change_note": "首版",
            },
            {
                "days_ago": 18,
                "script": (
                    "致{品牌}仲裁组：\n\n"
                    "关于运单号 {运单号} 的破损仲裁，{网点}举证如下：\n\n"
                    "1. 到件扫描时的外包装六面照片（显示到件时包装已破损或完好）；\n"
                    "2. 派送签收时的照片或视频，以及收件人当面验视无异议的记录；\n"
                    "3. 寄件包装不符合品牌包装规范的说明（如易碎品无缓冲材料）。\n\n"
                    "证据显示破损发生在本网点环节之前（或因包装不当），请仲裁组予以核查。\n\n"
                    "举证人：{客服}"
                ),
                "steps": [
                    {"text": "收集到件照片、签收照片或视频", "limit_minutes": 1440},
                    {"text": "判断破损环节和包装是否合规，写举证说明", "limit_minutes": 240},
                    {"text": "提交举证并在工单备注", "limit_minutes": 60},
                ],
                "authority": "可提交举证；网点确有责任的，可建议网点接受判责。",
                "escalation": "- 罚款金额超过 100 元；\n- 网点与上一站对破损环节有争议。",
                "change_note": "证据清单写全（六面照片、当面验视、包装规范）；时效写明。",
            },
        ],
    },
    {
        "title": "仲裁举证（虚假签收）",
        "kind": K.INTERNAL, "tags": ["仲裁", "举证", "虚假签收"],
        "links": [(A, "虚假签收"), (A, "错派")],
        "versions": [{
            "days_ago": 22,
            "script": (
                "致{品牌}仲裁组：\n\n"
                "关于运单号 {运单号} 的虚假签收仲裁，{网点}举证如下：\n\n"
                "1. 签收时的定位和照片（快递柜、驿站入库记录或门口照片）；\n"
                "2. 派送员与收件人的通话记录或短信，证明签收前已征得同意；\n"
                "3. 驿站/快递柜取件记录（如已被取走）。\n\n"
                "请仲裁组予以核查。\n\n举证人：{客服}"
            ),
            "steps": [
                {"text": "调取签收定位、照片和通话记录", "limit_minutes": 1440},
                {"text": "提交举证并在工单备注", "limit_minutes": 240},
            ],
            "authority": "可提交举证；未经同意放驿站/快递柜的，不得举证为正常签收。",
            "escalation": "- 派送员无法提供任何投递证据；\n- 客户已向邮政管理局申诉。",
            "change_note": "首版",
        }],
    },
    # ------------------------------------------------------------------ 内部流程
    {
        "title": "网点沟通",
        "kind": K.INTERNAL, "tags": ["网点", "沟通", "协作"],
        "categories": [P, W],
        "versions": [{
            "days_ago": 58,
            "script": (
                "{网点}的老板/负责人您好，我是{品牌}客服{客服}。\n\n"
                "有一票快件需要麻烦您协助：运单号 {运单号}，情况是：{问题说明}。\n\n"
                "客户那边我已经先安抚好了，需要您这边在 {时限} 前帮忙核实并回复处理结果，"
                "这样我们能按时回复客户，避免被品牌考核。\n\n"
                "辛苦了，有需要我这边配合的随时说。"
            ),
            "steps": [
                {"text": "先查清轨迹和工单记录，再联系网点（不问网点能自己查到的事）", "limit_minutes": 10},
                {"text": "网点群或电话联系负责人，说清运单号、问题和回复时限", "limit_minutes": 30},
                {"text": "网点答复写入工单备注（截图留存）", "limit_minutes": 15},
            ],
            "authority": "可要求网点在时限内核实和答复；不替网点承诺赔付或处罚。",
            "escalation": "- 网点 2 小时内无回复；\n- 网点与客服对责任认定有争议。",
            "change_note": "首版",
        }],
    },
    {
        "title": "快递员沟通",
        "kind": K.INTERNAL, "tags": ["快递员", "沟通", "服务态度"],
        "links": [(M, "投诉快递员"), (M, "改约派送时间")],
        "versions": [{
            "days_ago": 26,
            "script": (
                "师傅您好，我是{品牌}客服{客服}，打扰您一下。\n\n"
                "您负责的一票快件（运单号 {运单号}），客户反映：{问题说明}。\n\n"
                "想先听听您这边的情况；客户希望 {时限} 前能有个结果，"
                "您看什么时候方便派送或给客户回个电话？\n\n"
                "辛苦您了，谢谢！"
            ),
            "steps": [
                {"text": "先听快递员说明情况，不带指责语气", "limit_minutes": 15},
                {"text": "约定派送或回电时间，写入工单备注", "limit_minutes": 15},
                {"text": "到约定时间回访客户确认", "limit_minutes": 240},
            ],
            "authority": "可与快递员约定派送/回电时间；不得对快递员作出处罚决定（由网点处理）。",
            "escalation": "- 快递员与客户发生冲突或言语辱骂；\n- 同一快递员一周内被投诉 2 次以上。",
            "change_note": "首版",
        }],
    },
    {
        "title": "升级主管",
        "kind": K.INTERNAL, "tags": ["升级", "主管", "组长"],
        "categories": [W, A],
        "versions": [{
            "days_ago": 85,
            "script": (
                "{客户称呼}您好，您反映的问题比较特殊，为了给您一个更好的处理结果，"
                "我已经把情况完整地转给我们的主管。\n\n"
                "您不需要再重复说明，主管会在 {时限} 前直接联系您。\n\n"
                "在这之前有任何新情况，您也可以随时联系我（客服{客服}）。\n\n"
                "感谢您的耐心。"
            ),
            "steps": [
                {"text": "在工单备注写清：客户诉求、已做的处理、客户期望、为何升级", "limit_minutes": 15},
                {"text": "转交组长并电话或消息提醒", "limit_minutes": 15},
                {"text": "组长接手后告知客户（本话术）", "limit_minutes": 30},
            ],
            "authority": "超出本人权限的诉求一律升级，不自行承诺。",
            "escalation": "- 赔付超过本人权限；\n- 媒体、12305、报警；\n- 客户要求与主管通话；\n- 涉及人身安全或违禁品。",
            "change_note": "首版",
        }],
    },
]

REVIEWER = "admin"  # who approved the demo's published versions (never their author)


def _reasons() -> dict[tuple[str, str], TicketReason]:
    return {(r.category, r.name): r for r in db.session.scalars(select(TicketReason))}


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def seed_demo_scenarios(now: datetime | None = None) -> dict[str, int]:
    """Load the demo SOP handbook (idempotent); returns how many scenarios and versions were created."""
    now = now or utcnow()
    reasons = _reasons()
    author = _user("trainer1")
    reviewer = _user("trainer2") or _user(REVIEWER)
    created = {"sop_scenarios": 0, "sop_versions": 0}
    new_scenarios: list[SopScenario] = []
    required: list[SopVersion] = []
    for spec in SCENARIOS:
        if db.session.scalar(select(SopScenario.id).where(SopScenario.title == spec["title"])) is not None:
            continue
        links = [reasons[key] for key in spec.get("links", []) if key in reasons]
        categories = spec.get("categories") or sorted({category for category, _name in spec.get("links", [])})
        first = now - timedelta(days=spec["versions"][0]["days_ago"])
        scenario = SopScenario(title=spec["title"], kind=spec["kind"], tags=list(spec["tags"]), categories=categories,
                               created_by_id=author.id if author else None, created_at=first, updated_at=first)
        scenario.reasons = links
        db.session.add(scenario)
        db.session.flush()
        previous = None
        for number, fields in enumerate(spec["versions"], start=1):
            at = now - timedelta(days=fields["days_ago"])
            version = SopVersion(
                scenario_id=scenario.id, number=number, status=VersionStatus.PUBLISHED, title=spec["title"],
                script=fields["script"], steps=[dict(s) for s in fields["steps"]], authority=fields["authority"],
                escalation=fields.get("escalation", ""), max_compensation=fields.get("max_compensation"),
                change_note=fields.get("change_note", ""), based_on_id=previous.id if previous else None,
                author_id=author.id if author else None, created_at=at - timedelta(hours=3),
                updated_at=at, submitted_at=at - timedelta(hours=2),
                reviewer_id=reviewer.id if reviewer else None, reviewed_at=at, published_at=at,
                required_reading=bool(fields.get("required_reading")),
                reading_due_at=at + timedelta(hours=72) if fields.get("required_reading") else None,
            )
            db.session.add(version)
            db.session.flush()
            created["sop_versions"] += 1
            previous = version
            if version.required_reading:
                required.append(version)
        scenario.current_version_id = previous.id
        draft = spec.get("draft")
        if draft:
            draft_author = _user(draft["author"]) or author
            submitted = now - timedelta(days=draft["submitted_days_ago"])
            db.session.add(SopVersion(
                scenario_id=scenario.id, number=None, status=VersionStatus.IN_REVIEW, title=spec["title"],
                script=draft["script"], steps=[dict(s) for s in previous.steps], authority=previous.authority,
                escalation=previous.escalation, max_compensation=previous.max_compensation,
                change_note=draft["change_note"], based_on_id=previous.id,
                author_id=draft_author.id if draft_author else None,
                created_at=submitted - timedelta(hours=1), updated_at=submitted, submitted_at=submitted,
            ))
            created["sop_versions"] += 1
        created["sop_scenarios"] += 1
        new_scenarios.append(scenario)
    db.session.flush()
    for version in required:
        _required_reading(version, now)
    if new_scenarios:
        _reports(now)
    db.session.commit()
    _reindex(new_scenarios)
    return created


# (reporter, scenario title, version number, ticket reason (category, name) or None, note, hours ago,
#  resolution (trainer, linked version number or None, answer) or None)
REPORTS = [
    ("agent1", "破损理赔", 3, (P, "破损"), "客户说照片拍不了六面（大件家具已拆包），话术里没有这种情况怎么办。", 5, None),
    ("agent7", "遗失理赔", 2, (W, "理赔"), "客户寄的是手机，已保价 3000 元，话术说 300 元以内可以自己定，"
     "那超过的要先回复客户什么？", 20, None),
    ("agent2", None, None, (M, "咨询运费"), "客户问偏远地区（新疆、西藏）的运费和时效，没有找到对应话术。", 30, None),
    ("agent4", "破损理赔", 2, (P, "破损"), "第 2 版没有写客户多久内要提供照片，客户隔了一周才拍照，网点拒赔。", 24 * 7,
     ("trainer1", 3, "第 3 版已加上：签收后 48 小时内提供照片，请提前告诉客户。")),
]


def _reports(now: datetime) -> None:
    """A few reports in the trainers' inbox: open ones and one resolved by linking a new version."""
    from ..models import Outlet, Ticket
    from ..models.sop import ReportStatus, SopReport

    for username, title, number, reason_key, note, hours, resolution in REPORTS:
        reporter = _user(username)
        if reporter is None:
            continue
        scenario = db.session.scalar(select(SopScenario).where(SopScenario.title == title)) if title else None
        version = next((v for v in scenario.versions if v.number == number), None) if scenario else None
        ticket = None
        if reason_key is not None:
            # A ticket of that reason the reporter may see: assigned to them, or of an outlet they serve.
            ticket = db.session.scalar(
                select(Ticket).join(TicketReason, TicketReason.id == Ticket.reason_id)
                .join(Outlet, Outlet.id == Ticket.outlet_id)
                .where(or_(Ticket.assignee_id == reporter.id, Outlet.primary_agent_id == reporter.id),
                       TicketReason.category == reason_key[0], TicketReason.name == reason_key[1])
                .order_by(Ticket.id).limit(1))
        at = now - timedelta(hours=hours)
        report = SopReport(scenario_id=scenario.id if scenario else None, version_id=version.id if version else None,
                           ticket_id=ticket.id if ticket else None, reporter_id=reporter.id, note=note,
                           status=ReportStatus.OPEN, created_at=at)
        if resolution is not None:
            trainer, linked_number, answer = resolution
            linked = next((v for v in scenario.versions if v.number == linked_number), None) if scenario else None
            resolver = _user(trainer)
            report.status = ReportStatus.RESOLVED
            report.answer = answer
            report.resolved_version_id = linked.id if linked else None
            report.resolved_by_id = resolver.id if resolver else None
            report.resolved_at = linked.published_at if linked else at + timedelta(hours=2)
        db.session.add(report)


def _required_reading(version: SopVersion, now: datetime) -> None:
    """Notify the agents (sop-reading's hook) and let some of them have read it already — not agent1."""
    try:
        from .reading.service import on_published
    except ImportError:  # pragma: no cover - the reading package is part of the app
        on_published = None
    if on_published is not None:
        on_published(version)
    readers = db.session.scalars(select(User).where(User.role == Role.AGENT, User.username.in_(
        ["agent2", "agent3", "agent5", "agent7", "agent8", "agent11"])))
    for index, user in enumerate(readers):
        db.session.add(SopAcknowledgement(user_id=user.id, version_id=version.id,
                                          acknowledged_at=min(now, version.published_at + timedelta(hours=1 + index))))


def _reindex(scenarios: list[SopScenario]) -> None:
    """Put the new scenarios into the search index (when the index exists)."""
    try:
        from .search import reindex_scenario
    except ImportError:  # pragma: no cover
        return
    for scenario in scenarios:
        reindex_scenario(scenario)
    db.session.commit()
