"""A rep's sentence → a structured follow-up. No Django here (the activities app feeds it the
admin-configured vocabulary and turns the result into form fields, tasks and tags).

    parse_note("客户李总约周三下午三点看厂", now=now)
    → contact "李总", action factory_visit/工厂参观, due next Wednesday 15:00

What it reads:
- the contact: a name from `known_contacts` (the account's people) if one occurs, else a surname
  plus a title (李总, 王主任, 张副院长, 陈工, 老王) or a full name before a speech verb (张伟说);
- the next action: the configured action vocabulary (看厂 → 工厂参观), paired with the time
  expression closest before it (Chinese puts the time before the verb: 下周二看样机);
- the due time: jiepai.lib.cntime; an expression in the past or impossible is reported as a
  problem and left for the user, the rest of the note is still returned;
- pain-point keywords (交付周期太长) and phrase meanings (客户很感兴趣 → 需验证预算真实性).

Triggers are plain substrings; `*` inside one stands for up to four characters of the same clause
(交付周期*长 matches 交付周期太长 and 交付周期比较长), so admins can write them without regexes.
"""

from __future__ import annotations

import bisect
import datetime
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from jiepai.lib.cntime import TimeMatch, find_times, normalize, problem_message

MAX_NOTE_CHARS = 2000  # a note longer than this is parsed on its first 2000 characters


@dataclass(frozen=True)
class ActionKind:
    kind: str
    label: str
    triggers: tuple[str, ...]
    generic: bool = False  # used only when no specific action is named (跟进, 联系)


@dataclass(frozen=True)
class PainPoint:
    label: str
    triggers: tuple[str, ...]


@dataclass(frozen=True)
class PhraseMeaning:
    triggers: tuple[str, ...]
    meaning: str
    task: str = ""  # the follow-up task it suggests
    task_kind: str = ""


def _trigger_pattern(trigger: str) -> str:
    """A trigger as a regex: literal text, `*` = up to 4 characters of the same clause."""
    pieces = [re.escape(normalize(piece)) for piece in trigger.split("*")]
    return "[^,，。.;；!！?？\\s]{0,4}?".join(pieces)


@dataclass(frozen=True)
class _Index:
    """All triggers of one kind in one regex, longest first (看样机 before 样机). The matched
    text names its owner: literal triggers by lookup, `*` triggers by testing the few of them.

    The alternation has no capturing groups (one named group per trigger made the engine ten
    times slower), and a lookahead on the triggers' first characters lets it skip the rest."""

    pattern: re.Pattern[str] | None
    literal: dict[str, Any]
    wildcard: tuple[tuple[re.Pattern[str], Any], ...]

    @classmethod
    def build(cls, items: Iterable[tuple[Any, tuple[str, ...]]]) -> _Index:
        by_trigger: dict[str, Any] = {}
        for owner, triggers in items:
            for trigger in triggers:
                key = normalize(trigger.strip()).lower()
                if key.replace("*", ""):
                    by_trigger.setdefault(key, owner)
        if not by_trigger:
            return cls(None, {}, ())
        ordered = sorted(by_trigger, key=lambda t: len(t.replace("*", "")), reverse=True)
        literal = {t: by_trigger[t] for t in ordered if "*" not in t}
        wildcard = tuple(
            (re.compile(_trigger_pattern(t), re.IGNORECASE), by_trigger[t])
            for t in ordered
            if "*" in t
        )
        firsts = {t.lstrip("*")[0] for t in ordered}
        firsts |= {c.upper() for c in firsts}
        lookahead = "(?=[" + "".join(re.escape(c) for c in sorted(firsts)) + "])"
        alternation = "|".join(f"(?:{_trigger_pattern(t)})" for t in ordered)
        return cls(re.compile(f"{lookahead}(?:{alternation})", re.IGNORECASE), literal, wildcard)

    def owner_of(self, found: str) -> Any:
        owner = self.literal.get(found.lower())
        if owner is not None:
            return owner
        return next((o for pattern, o in self.wildcard if pattern.fullmatch(found)), None)

    def find(self, text: str) -> list[tuple[Any, re.Match[str]]]:
        if self.pattern is None:
            return []
        hits = []
        for match in self.pattern.finditer(text):
            owner = self.owner_of(match.group(0))
            if owner is not None:
                hits.append((owner, match))
        return hits


@dataclass(frozen=True)
class Vocabulary:
    actions: tuple[ActionKind, ...] = ()
    pain_points: tuple[PainPoint, ...] = ()
    phrases: tuple[PhraseMeaning, ...] = ()

    @cached_property
    def _actions(self) -> _Index:
        return _Index.build((a, a.triggers) for a in self.actions if not a.generic)

    @cached_property
    def _generic_actions(self) -> _Index:
        # searched apart so that 再谈 (generic) does not shadow 谈价 (specific) in 再谈价
        return _Index.build((a, a.triggers) for a in self.actions if a.generic)

    @cached_property
    def _pain_points(self) -> _Index:
        return _Index.build((p, p.triggers) for p in self.pain_points)

    @cached_property
    def _phrases(self) -> _Index:
        return _Index.build((p, p.triggers) for p in self.phrases)

    def find_actions(self, text: str) -> list[tuple[ActionKind, re.Match[str]]]:
        """Specific actions first, then generic ones (each list in text order)."""
        return self._actions.find(text) + self._generic_actions.find(text)

    def find_pain_points(self, text: str) -> list[tuple[PainPoint, re.Match[str]]]:
        return self._pain_points.find(text)

    def find_phrases(self, text: str) -> list[tuple[PhraseMeaning, re.Match[str]]]:
        return self._phrases.find(text)


DEFAULT_ACTIONS = (
    ActionKind(
        "factory_visit",
        "工厂参观",
        (
            "看厂",
            "参观工厂",
            "工厂参观",
            "参观厂",
            "来厂",
            "到厂",
            "验厂",
            "看产线",
            "参观产线",
            "产线参观",
            "看车间",
            "参观车间",
            "考察工厂",
            "来工厂",
            "去工厂",
            "看工厂",
            "参观基地",
            "看生产线",
            "参观生产线",
            "来公司参观",
            "考察",
        ),
    ),
    ActionKind(
        "sample_demo",
        "样机演示",
        (
            "看样机",
            "样机",
            "试机",
            "看机器",
            "看设备",
            "设备演示",
            "上机测试",
            "看样品",
            "现场演示",
        ),
    ),
    ActionKind("send_sample", "寄送样品", ("送样", "寄样", "寄样品", "送样品", "打样", "寄个样")),
    ActionKind(
        "product_demo", "产品演示", ("演示", "demo", "产品展示", "系统演示", "讲解产品", "线上演示")
    ),
    ActionKind(
        "solution_review",
        "方案交流",
        (
            "方案交流",
            "讲方案",
            "方案汇报",
            "技术交流",
            "技术沟通",
            "汇报方案",
            "方案评审",
            "讲一下方案",
            "方案讲解",
            "交流",
        ),
    ),
    ActionKind(
        "send_quote",
        "发送报价",
        ("报价", "报个价", "出价格", "发价格", "价格表", "重新报价", "调整报价"),
    ),
    ActionKind(
        "send_proposal",
        "发送方案",
        (
            "发*方案",
            "出*方案",
            "提交*方案",
            "做*方案",
            "给*方案",
            "写方案",
            "方案发",
            "改方案",
            "调整方案",
            "修改方案",
            "方案给",
            "回复*方案",
        ),
    ),
    ActionKind(
        "send_materials",
        "发送资料",
        (
            "发资料",
            "参数表",
            "对比表",
            "发案例",
            "案例",
            "彩页",
            "白皮书",
            "资质",
            "发材料",
            "技术资料",
            "规格书",
            "说明书",
            "资料",
        ),
    ),
    ActionKind("poc", "POC测试", ("poc", "试用", "测试", "试点", "小范围试", "验证")),
    ActionKind(
        "signing",
        "签约",
        ("签约", "签合同", "签单", "签协议", "合同*签", "签字", "盖章", "签框架", "签订", "签了"),
    ),
    ActionKind(
        "contract_draft",
        "合同草案",
        (
            "发合同",
            "合同草案",
            "合同初稿",
            "起草合同",
            "合同模板",
            "审合同",
            "合同审核",
            "走合同",
            "合同流程",
            "法务审核",
        ),
    ),
    ActionKind(
        "negotiation",
        "商务谈判",
        (
            "谈价格",
            "谈价",
            "议价",
            "商务谈判",
            "谈合同",
            "谈条款",
            "砍价",
            "谈折扣",
            "谈商务",
            "谈判",
        ),
    ),
    ActionKind(
        "visit",
        "上门拜访",
        (
            "拜访",
            "上门",
            "登门",
            "去客户那",
            "过去一趟",
            "见面",
            "面谈",
            "见一面",
            "当面聊",
            "去一趟",
            "见个面",
            "过去聊",
        ),
    ),
    ActionKind(
        "call_back",
        "电话回访",
        (
            "回电",
            "回电话",
            "打电话",
            "电话沟通",
            "电话确认",
            "回访",
            "电话跟进",
            "致电",
            "通个电话",
            "打个电话",
            "电话联系",
            "来电",
            "电话",
        ),
    ),
    ActionKind(
        "meeting",
        "会议沟通",
        (
            "开会",
            "会议",
            "碰头",
            "碰一下",
            "线上会",
            "视频会",
            "腾讯会议",
            "开个会",
            "会面",
            "座谈",
        ),
    ),
    ActionKind("tender", "投标", ("投标", "招标", "开标", "标书", "挂网", "评标", "挂标")),
    ActionKind(
        "payment",
        "回款跟进",
        ("回款", "付款", "打款", "尾款", "首付", "预付款", "催款", "结款", "开票", "发票", "到账"),
    ),
    ActionKind("installation", "安装调试", ("安装", "调试", "部署", "实施", "上线")),
    ActionKind("training", "培训", ("培训",)),
    ActionKind("acceptance", "验收", ("验收",)),
    ActionKind("review", "复盘", ("复盘",)),
    ActionKind(
        "budget_check",
        "确认预算",
        ("确认预算", "报预算", "申请预算", "立项", "预算审批", "批预算", "核预算"),
    ),
    ActionKind(
        "meet_decision_maker",
        "约见决策人",
        ("见老板", "见决策人", "约见领导", "见领导", "约老板", "见一把手", "拜见院长", "见院长"),
    ),
    ActionKind("dinner", "商务宴请", ("吃饭", "饭局", "请客", "吃个饭", "喝茶", "喝酒")),
    ActionKind(
        "follow_up",
        "再次跟进",
        (
            "跟进",
            "再联系",
            "联系",
            "沟通",
            "约时间",
            "确认",
            "问一下",
            "催一下",
            "微信",
            "再约",
            "再谈",
            "再聊",
        ),
        generic=True,
    ),
)

DEFAULT_PAIN_POINTS = (
    PainPoint(
        "交付周期太长",
        (
            "交付周期*长",
            "交期*长",
            "交货期*长",
            "交付*慢",
            "交货*慢",
            "货期*长",
            "到货*慢",
            "交期太久",
            "供货周期*长",
            "交付周期*久",
        ),
    ),
    PainPoint(
        "价格偏高",
        (
            "价格*高",
            "太贵",
            "偏贵",
            "有点贵",
            "比较贵",
            "报价*高",
            "价格*贵",
            "超预算",
            "价格没优势",
            "贵了",
            "价格没有优势",
        ),
    ),
    PainPoint(
        "缺少本地服务",
        (
            "没有本地服务",
            "缺少本地服务",
            "本地没有服务",
            "没有本地团队",
            "没有售后网点",
            "本地服务*不足",
            "缺少本地",
            "本地没人",
        ),
    ),
    PainPoint("售后响应慢", ("售后*慢", "响应*慢", "售后不及时", "维修*慢", "服务*不及时")),
    PainPoint(
        "预算不足",
        ("预算不够", "预算不足", "没有预算", "没预算", "预算*紧", "预算有限", "资金*紧", "钱不够"),
    ),
    PainPoint(
        "功能不满足",
        ("功能*不满足", "功能*不够", "缺少*功能", "功能*缺失", "不支持", "满足不了", "功能*不全"),
    ),
    PainPoint(
        "决策链长",
        (
            "决策*慢",
            "审批*长",
            "审批*慢",
            "流程*长",
            "没拍板",
            "层层审批",
            "决策链*长",
            "领导*犹豫",
        ),
    ),
    PainPoint(
        "竞品压价",
        ("竞品*低", "别家*便宜", "友商*便宜", "对手*低价", "竞品*便宜", "别家*低", "友商*低"),
    ),
    PainPoint("付款条件", ("账期*长", "付款条件", "要*账期", "不付预付款", "先货后款", "账期")),
    PainPoint("担心稳定性", ("稳定性", "担心*故障", "故障率", "质量*问题", "可靠性", "不稳定")),
    PainPoint("缺少成功案例", ("没有*案例", "缺少*案例", "案例*不足", "案例太少")),
    PainPoint("实施周期长", ("实施*长", "上线*慢", "部署*复杂", "实施*久")),
    PainPoint("数据安全顾虑", ("数据安全", "信息安全", "担心*泄露", "私有化")),
    PainPoint("操作复杂", ("操作*复杂", "不好用", "太复杂", "学习成本", "不会用")),
)

DEFAULT_PHRASES = (
    PhraseMeaning(
        ("很感兴趣", "挺感兴趣", "非常感兴趣", "比较感兴趣", "有兴趣", "很有兴趣", "感兴趣"),
        "需验证预算真实性",
        "确认预算金额与采购时间",
        "budget_check",
    ),
    PhraseMeaning(
        (
            "比比别家",
            "比一比别家",
            "对比一下",
            "货比三家",
            "看看别家",
            "还在比较",
            "再比较",
            "比较一下",
            "看看其他家",
            "多看几家",
        ),
        "竞品应对",
        "推送竞品应对话术包",
        "send_materials",
    ),
    PhraseMeaning(
        ("考虑考虑", "再考虑", "回去商量", "研究一下", "内部讨论", "再想想", "商量一下"),
        "决策未明确",
        "明确决策人和决策时间",
        "meet_decision_maker",
    ),
    PhraseMeaning(
        ("领导拍板", "老板决定", "请示领导", "需要请示", "领导定", "上面决定", "老板说了算"),
        "需接触决策人",
        "约见决策人",
        "meet_decision_maker",
    ),
    PhraseMeaning(
        ("等通知", "等消息", "等我消息", "等他们消息", "有消息再说"),
        "被动等待",
        "约定下次沟通的具体时间",
        "call_back",
    ),
    PhraseMeaning(
        ("再便宜点", "能不能便宜", "再优惠", "降点价", "价格再低"),
        "价格异议",
        "准备价值论证和分期付款方案",
        "negotiation",
    ),
    PhraseMeaning(
        ("不着急", "下次再说", "以后再说", "明年再说", "暂时不考虑"),
        "意向降温",
        "转入培育并约定回访时间",
        "call_back",
    ),
)

DEFAULT_VOCABULARY = Vocabulary(DEFAULT_ACTIONS, DEFAULT_PAIN_POINTS, DEFAULT_PHRASES)

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关"
    "兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻"
    "祁蒲房滕屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂"
    "全佟应臧闵苟邬边卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池查麻苑迟邝"
)
_COMPOUND_SURNAMES = "欧阳|司马|诸葛|上官|东方|皇甫|令狐|慕容|尉迟|公孙|长孙|宇文|司徒|夏侯"
_TITLES = (
    "总经理|总监|总工|总裁|总助|副总|董事长|老总|老板|经理|主任医师|主任|主管|副院长|院长|处长|科长|"
    "部长|局长|厅长|所长|校长|书记|厂长|站长|行长|老师|教授|博士|医生|大夫|工程师|律师|会计|秘书|"
    "助理|专员|主席|社长|队长|组长|班长|股长|司长|董|总|工|姐|哥|先生|女士|小姐"
)
_SURNAME = f"(?:{_COMPOUND_SURNAMES}|[{_SURNAMES}])"
# the title must not be the start of a longer word (高总体, 张工作, 施工程)
_TITLE_GUARD = "(?!体|是|共|结|部|额|价|量|数|计|的|算|归|之|包|成|台|线|账|署|作|程|期|艺|厂|资|人|地|具|业|序|单|况|商|行|科|种|夫|友|龄|装|字)"
_CONTACT = re.compile(
    rf"(?P<title>{_SURNAME}(?:副)?(?:{_TITLES}){_TITLE_GUARD})"
    rf"|(?P<familiar>(?<![\u4e00-\u9fff])[老小][{_SURNAMES}](?![\u4e00-\u9fff]{{2}}[的了]))"
    rf"|(?P<full>(?<![\u4e00-\u9fff]){_SURNAME}[\u4e00-\u9fff]{{1,2}}?(?=说|表示|反馈|提到|答应|同意|要求|希望|觉得|认为|回复))"
)
# the surname char is the end of a common word: 对方总经理, 提高总体, 订单总额
_NOT_A_SURNAME_AFTER = {
    "对方",
    "双方",
    "各方",
    "甲方",
    "乙方",
    "我方",
    "院方",
    "厂方",
    "校方",
    "买方",
    "卖方",
    "官方",
    "他方",
    "一方",
    "提高",
    "最高",
    "很高",
    "较高",
    "太高",
    "偏高",
    "过高",
    "同时",
    "及时",
    "到时",
    "按时",
    "准时",
    "平时",
    "订单",
    "清单",
    "名单",
    "账单",
    "下单",
    "买单",
    "简单",
    "保单",
    "地方",
    "配方",
    "处方",
    "药方",
    "厂家",
    "研发",
    "开发",
    "所以",
    "可以",
}
_NOT_A_NAME = {
    "高层",
    "上面",
    "对方",
    "双方",
    "大家",
    "管理层",
    "老板",
    "领导",
    "甲方",
    "院方",
    "厂家",
    "同事",
    "他们",
    "客户",
    "采购",
    "财务",
    "技术",
    "老总",
    "小姐",
    "老师",
    "关键",
    "明确",
    "单方",
    "全部",
    "全体",
    "成本",
    "华为",
    "安全",
    "应该",
    "时间",
}


_CLAUSE_BREAK = re.compile(r"[,，。.;；!！?？\n]")
_DONE = re.compile(r"[已了过完]")
# a place adverbial (在会议室, 在他们厂) names where, not what
_PLACE = re.compile(
    r"在[\u4e00-\u9fff]{0,6}?(?:会议室|办公室|院办|公司|厂里|厂|医院|现场|酒店|展厅|会所|门口)"
)


@dataclass(frozen=True)
class PhraseHit:
    phrase: str
    meaning: str
    task: str
    task_kind: str


@dataclass
class ParsedNote:
    text: str
    contact: str | None = None
    action: ActionKind | None = None
    due: datetime.datetime | None = None
    due_has_time: bool = False
    due_text: str = ""
    deadline: bool = False
    keywords: list[str] = field(default_factory=list)
    phrases: list[PhraseHit] = field(default_factory=list)
    problem_times: list[TimeMatch] = field(default_factory=list)  # past or impossible

    @property
    def problems(self) -> list[str]:
        """The problems as sentences (zh-Hans; Django callers translate from problem_times)."""
        return [problem_message(time) for time in self.problem_times]

    def as_json(self) -> dict[str, Any]:
        """The shape of `jiepai parse-note --json` (absent parts null or empty)."""
        return {
            "contact": self.contact,
            "action": (
                {"kind": self.action.kind, "label": self.action.label} if self.action else None
            ),
            "due": self.due.isoformat() if self.due else None,
            "due_has_time": self.due_has_time,
            "keywords": list(self.keywords),
            "phrases": [
                {"phrase": hit.phrase, "meaning": hit.meaning, "task": hit.task}
                for hit in self.phrases
            ],
        }


def find_contact(text: str, known_contacts: Sequence[str] = ()) -> str | None:
    names = sorted({n.strip() for n in known_contacts if n and n.strip()}, key=len, reverse=True)
    best: tuple[int, str] | None = None
    for name in names:
        position = text.find(normalize(name))
        if position >= 0 and (best is None or position < best[0]):
            best = (position, name)
    if best is not None:
        return best[1]
    for match in _CONTACT.finditer(text):
        value = match.group(0)
        start = match.start()
        if value in _NOT_A_NAME:
            continue
        if start > 0 and text[start - 1 : start + 1] in _NOT_A_SURNAME_AFTER:
            continue
        return value
    return None


def _overlaps(match: re.Match[str], spans: list[tuple[int, int]]) -> bool:
    return any(match.start() < end and start < match.end() for start, end in spans)


def _pair_cost(time: TimeMatch, action: re.Match[str]) -> int:
    """Chinese puts the time before the verb (下周二看样机): prefer an action right after a time."""
    if action.start() >= time.end:
        return action.start() - time.end
    return 2 * (time.start - action.end()) + 20 if time.start >= action.end() else 0


def parse_note(
    text: str,
    *,
    now: datetime.datetime,
    vocabulary: Vocabulary = DEFAULT_VOCABULARY,
    known_contacts: Sequence[str] = (),
) -> ParsedNote:
    """Read what can be read; never raises on any text (see test_notes_property)."""
    text = normalize(text or "")[:MAX_NOTE_CHARS]
    result = ParsedNote(text=text)
    result.contact = find_contact(text, known_contacts)

    pain_hits = vocabulary.find_pain_points(text)
    phrase_hits = vocabulary.find_phrases(text)
    for point, _match in pain_hits:
        if point.label not in result.keywords:
            result.keywords.append(point.label)
    seen_meanings: set[str] = set()
    for phrase, match in phrase_hits:
        if phrase.meaning not in seen_meanings:
            seen_meanings.add(phrase.meaning)
            result.phrases.append(
                PhraseHit(match.group(0), phrase.meaning, phrase.task, phrase.task_kind)
            )

    # an action word inside a pain point, a phrase, a time or a place is not an action
    # (报价太高 is not 发送报价; 在会议室 is not 会议沟通)
    taken = [m.span() for _p, m in pain_hits] + [m.span() for _p, m in phrase_hits]
    times = find_times(text, now=now)
    taken += [(t.start, t.end) for t in times]
    taken += [m.span() for m in _PLACE.finditer(text)]
    clause_breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]

    def narrated(match: re.Match[str]) -> bool:
        """An action after a past time in the same clause, said as done (已/了/过), already
        happened (上周三已经看过样机了); without those marks it is a plan with a wrong date."""
        clause = bisect.bisect(clause_breaks, match.start())
        before = [
            t
            for t in times
            if t.end <= match.start() and bisect.bisect(clause_breaks, t.start) == clause
        ]
        if not before or not before[-1].past:
            return False
        clause_end = clause_breaks[clause] if clause < len(clause_breaks) else len(text)
        return bool(_DONE.search(text, before[-1].start, clause_end))

    actions = [
        (a, m)
        for a, m in vocabulary.find_actions(text)
        if not _overlaps(m, taken) and not narrated(m)
    ]
    usable = [t for t in times if t.due is not None and not t.problem]
    specific = [(a, m) for a, m in actions if not a.generic]
    # 跟进/沟通 alone is narration (已沟通); it is a next action only with a time (下周再联系)
    actions = specific or (actions if usable else [])

    chosen_time: TimeMatch | None = None
    if usable and actions:
        chosen_time, (result.action, _m) = min(
            ((t, am) for t in usable for am in actions),
            key=lambda pair: _pair_cost(pair[0], pair[1][1]),
        )
    elif usable:
        chosen_time = usable[0]
    elif actions:
        result.action = actions[0][0]
    if chosen_time is None:
        # nothing usable: keep an impossible time's day if it had one, report the first problem
        for time in times:
            if time.problem.startswith("impossible_time") and time.due is not None:
                chosen_time = time
                break
        for time in times:
            if time.problem:
                result.problem_times.append(time)
                break
    if chosen_time is not None:
        result.due = chosen_time.due
        result.due_has_time = chosen_time.has_time and not chosen_time.problem
        result.due_text = chosen_time.text
        result.deadline = chosen_time.deadline
    return result
