"""Slots (槽位) in a caller's words: addresses, phone and ID numbers, names, times,
businesses and organisations.

``extract_slots(text, now=...)`` is pure and total: any string (empty, fillers
only, thousands of characters, English, emoji) gives a valid :class:`Slots`.
Every slot keeps the text it was read from and its character span in the
input, so a desk can highlight it and a summary can mask it (:func:`mask_ids`,
:func:`mask_phones`).  Times are resolved against the ``now`` passed in; the
clock is never read.

Rules, not a model: the tables of words come first, the small functions that
use them follow.  Every pattern is linear (no nested quantifiers), so a
5,000-character rant costs a few milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal, TypeVar

from call_routing.places import (
    AMBIGUOUS_SHORT,
    CITY_OF_DISTRICT,
    GUANGDONG,
    PROVINCE_OF_CITY,
    PROVINCES,
    short_name,
    words,
)

# --------------------------------------------------------------------------- tables

# Digits as they are read out one by one (幺 for 1, 两 for 2, 洞 for 0, 拐 for 7, 勾 for 9).
SPOKEN_DIGITS: dict[str, str] = {
    **{d: d for d in "0123456789"},
    **dict(zip("壹贰叁肆伍陆柒捌玖", "123456789", strict=True)),
    **dict.fromkeys("零〇○洞", "0"),
    **dict.fromkeys("一幺妖", "1"),
    **dict.fromkeys("二两", "2"),
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    **dict.fromkeys("七拐", "7"),
    "八": "8",
    **dict.fromkeys("九勾", "9"),
    **dict.fromkeys("Xx叉", "X"),
}
# What may stand between spoken digit groups: spaces, dashes, commas, a hesitation.
_DIGIT_GAP = " \t-—–_,，、.。·/()（）嗯呃额"

# ID numbers: ISO 7064 MOD 11-2 weights and check characters (GB 11643).
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Characters that end a name, a place or a business name: pronouns, particles,
# fillers, prepositions and the commonest verbs around them.
STOP_CHARS = frozenset(
    "我你您他她它们咱在住是的了着过和与及就那这哪个些嗯喂啊呀吧呢吗哦噢哎唉呃诶嘛啦咯喔"
    "有要去到从给跟把被让说讲想问还也都很对向往离靠近又再而但却说话打电找帮请"
)

# The surnames of about 97 % of China's people (百家姓 ranked by frequency), with
# Guangdong's (冼, 邝, 麦, 区, 岑, 植…).  Characters that are mostly function words
# (于 aside) are left out: 和, 从, 修, 向…
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋"
    "余于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤易常温康施文牛樊葛邢安齐伍庞颜倪"
    "殷赖翟聂祝耿苗阮柴"
    "黄冼邝麦区岑植欧简甘关霍巫练饶詹骆凌辜卓蓝幸古利邬钟游涂官丘宁柯童阎"
    "鲁韦蒙甄谷裴陆单车包毕池苟郎谈庄房芦宫左尤申司封滕褚柳裘卞焦屈纪章梅"
    "华盛席尚米鲍靳项祁穆郁臧栾喻饶岳卜艾车侯宗晏柏居乔麻阚娄解辛管景伊晋冉佟"
)
COMPOUND_SURNAMES = words(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木 轩辕 澹台 "
    "南宫 西门 闻人 呼延"
)
TITLES = words(
    "先生 女士 小姐 太太 阿姨 师傅 老师 同学 经理 老板 主任 医生 律师 警官 大哥 大姐 "
    "叔叔 伯伯 阿伯 婆婆 奶奶 爷爷 姐 哥 伯 生"
)
# After a bare title-less name these say the name has ended.
_NAME_END = STOP_CHARS | set("，。！？,.!?；; 住今昨想要来投反举咨家电手号也")
# Titles that may follow a surname anywhere in the text (王先生 / 找李经理).
_FREE_TITLES = ("先生", "女士", "小姐", "太太", "阿姨", "师傅", "老师", "经理", "老板", "姐")

MUNICIPALITIES = frozenset(("北京市", "天津市", "上海市", "重庆市"))
# Levels of an address, from the widest.
LEVELS = ("province", "city", "district", "street", "community", "road", "landmark", "building")

_STREET_SUFFIX = "街道办事处|街道办|街道|镇|乡"
_COMMUNITY_SUFFIX = "社区居委会|社区|居委会|村委会|村"
_ROAD_SUFFIX = "大道|大街|路|街|巷"
_LANDMARK_SUFFIX = (
    "小区|花园|广场|大厦|公寓|新村|家园|山庄|公园|医院|卫生院|学校|小学|中学|大学|"
    "幼儿园|地铁站|公交站|火车站|高铁站|汽车站|客运站|菜市场|市场|商场|酒店|大楼|苑"
)
_LANDMARK_RELATION = (
    "附近|旁边|边上|门口|对面|后面|前面|楼下|隔壁|周边|里面|[A-Za-z]?\\d?号?出口|[东南西北]门"
)
_ORG_SUFFIX = (
    "股份有限公司|有限责任公司|有限公司|分公司|公司|集团|超市|便利店|茶餐厅|餐厅|饭店|酒楼|"
    "酒家|茶楼|餐馆|大排档|快餐店|大药房|药房|药店|医院|卫生院|卫生服务中心|诊所|学校|"
    "小学|中学|大学|学院|幼儿园|物业管理处|物业服务中心|物业公司|物业|地产|中介|"
    "培训机构|培训中心|培训学校|银行|营业厅|商场|酒店|宾馆|4[sS]店|派出所|管理局|局|店"
)
# Generic words that end like a place but are none.
_NOT_PLACES = frozenset(
    words(
        "城镇 乡镇 小镇 古镇 村镇 农村 乡村 城中村 新农村 山村 本村 全村 同村 邻村 整村 该村 "
        "马路 道路 公路 铁路 线路 电路 走路 修路 思路 出路 小路 大路 山路 问路 迷路 带路 让路 "
        "拦路 挡路 堵路 占路 绕路 一路 半路 上路 赶路 水路 网路 套路 过马路 逛街 上街 沿街 临街 "
        "满街 一条街 小巷 街巷 大街小巷 回家路"
    )
)
# Words in front of a business or place name that are not part of it.
_LEAD_TRIM = re.compile(
    r"^(?:投诉|举报|反映|反应|咨询|请问|问下|问一下|就是|那个|这个|还有|然后|今天|昨天|前天|"
    r"刚才|现在|早上|晚上|上午|下午|中午|楼下|楼上|附近|旁边|对面|隔壁|一家|一间|一个|一所|"
    r"地址|位于|位置|叫做|叫|名叫|属于)+"
)

_CN_NUM = "零〇一二两三四五六七八九十百千万"
_NUM = rf"(?:\d{{1,4}}|[{_CN_NUM}]{{1,6}})"
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEKDAYS.update({str(i + 1): i for i in range(7)})
# 今天/昨晚… → (days from today, the part of the day they imply)
_DAY_WORDS: dict[str, tuple[int, str]] = {
    "大前天": (-3, ""),
    "前天": (-2, ""),
    "前日": (-2, ""),
    "昨天": (-1, ""),
    "昨日": (-1, ""),
    "琴日": (-1, ""),
    "寻日": (-1, ""),
    "昨晚": (-1, "晚上"),
    "昨夜": (-1, "晚上"),
    "今天": (0, ""),
    "今日": (0, ""),
    "今晚": (0, "晚上"),
    "今早": (0, "早上"),
    "今朝": (0, "早上"),
    "明天": (1, ""),
    "明日": (1, ""),
    "听日": (1, ""),
    "明早": (1, "早上"),
    "明晚": (1, "晚上"),
    "大后天": (3, ""),
    "后天": (2, ""),
}
_PERIODS = words(
    "凌晨 清晨 早上 早晨 朝早 一早 上午 中午 下午 下昼 傍晚 挨晚 晚上 夜晚 夜里 半夜 深夜 "
    "夜间 晚间 夜晚黑"
)
_NIGHT = frozenset(words("晚上 夜晚 夜里 半夜 深夜 夜间 晚间 夜晚黑"))
_AFTERNOON = frozenset(words("下午 下昼 傍晚 挨晚 晚上 夜晚 夜里 夜间 晚间 夜晚黑 半夜 深夜"))
_UNIT_SECONDS = {
    "年": 365 * 86400,
    "个月": 30 * 86400,
    "月": 30 * 86400,
    "星期": 7 * 86400,
    "礼拜": 7 * 86400,
    "周": 7 * 86400,
    "天": 86400,
    "日": 86400,
    "晚": 86400,
    "小时": 3600,
    "钟头": 3600,
    "分钟": 60,
}
_VAGUE_TIMES = words(
    "上上个月 上个月 上月 这个月 本月 去年 前年 今年 上上周 上周 上星期 上个星期 上礼拜 "
    "这周 本周 这个星期 前几天 前段时间 最近 近期 刚才 刚刚 头先 平时"
)

# --------------------------------------------------------------------------- result types

TimeKind = Literal["point", "recurring", "duration"]
PhoneKind = Literal["mobile", "landline", "service"]


@dataclass(frozen=True)
class AddressPart:
    """One piece of an address as said: ``level`` is one of :data:`LEVELS`;
    ``value`` is normalised where the place is known (天河 → 天河区)."""

    level: str
    value: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Address:
    """An address (地址) made of the parts said close together; the wider levels
    are filled in from the tables where a narrower one is known (天河区 → 广州市,
    广东省).  ``address`` joins everything into one line for the work order."""

    address: str
    text: str
    span: tuple[int, int]
    province: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    community: str = ""
    road: str = ""
    building: str = ""
    landmarks: tuple[str, ...] = ()
    parts: tuple[AddressPart, ...] = ()


@dataclass(frozen=True)
class Phone:
    """A phone number: ``value`` is digits only for mobiles (13800138000), area
    code and number for landlines (020-87654321)."""

    value: str
    kind: PhoneKind
    masked: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class IdNumber:
    """A resident ID number (身份证号), kept in full; ``masked`` is for summaries;
    ``valid`` says the check character and the birth date are right."""

    value: str
    masked: str
    valid: bool
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Name:
    """A person's name as the caller gave it (``value`` = surname + given + title)."""

    value: str
    surname: str
    given: str
    title: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class TimeMention:
    """A time: a ``point`` (resolved to a date or datetime where it can be), a
    ``recurring`` time (每天晚上, with ``clock`` "22:00" where said) or a
    ``duration`` (三个月了, in ``seconds`` where a number was said)."""

    kind: TimeKind
    text: str
    span: tuple[int, int]
    value: datetime | date | None = None
    seconds: int | None = None
    clock: str | None = None
    approximate: bool = False


@dataclass(frozen=True)
class Organisation:
    """A business or organisation (企业/单位) by name, with the word that says what it is."""

    value: str
    kind: str
    text: str
    span: tuple[int, int]


@dataclass(frozen=True)
class Slots:
    addresses: tuple[Address, ...] = ()
    phones: tuple[Phone, ...] = ()
    id_numbers: tuple[IdNumber, ...] = ()
    names: tuple[Name, ...] = ()
    times: tuple[TimeMention, ...] = ()
    organisations: tuple[Organisation, ...] = ()

    @property
    def address(self) -> Address | None:
        """The fullest address said, if any."""
        return self.addresses[0] if self.addresses else None


_Slot = TypeVar("_Slot", AddressPart, Address, Phone, IdNumber, Name, TimeMention, Organisation)

# --------------------------------------------------------------------------- entry points


def extract_slots(text: str, now: datetime | None = None) -> Slots:
    """All slots in ``text``; times are resolved against ``now`` (left unresolved without it)."""
    original = text if isinstance(text, str) else ""
    return _as_said(_extract(_fold(original), now), original)


def _extract(text: str, now: datetime | None) -> Slots:
    phones, ids = _numbers(text)
    taken = [p.span for p in phones] + [i.span for i in ids]
    times = _times(text, now, taken)
    names = _names(text)
    taken += [t.span for t in times] + [n.span for n in names]
    organisations = _organisations(text, taken)
    companies = [o.span for o in organisations if not _LEVEL_SUFFIX["landmark"].search(o.kind)]
    return Slots(
        addresses=_addresses(text, taken + companies),
        phones=tuple(phones),
        id_numbers=tuple(ids),
        names=names,
        times=times,
        organisations=organisations,
    )


def mask_ids(text: str) -> str:
    """``text`` with every ID number (valid or not) replaced by its masked form."""
    if not isinstance(text, str):
        return ""
    folded = _fold(text)
    return _replace(text, [(i.span, i.masked) for i in _numbers(folded)[1]])


def mask_phones(text: str) -> str:
    """``text`` with every phone number replaced by its masked form (138****8000)."""
    if not isinstance(text, str):
        return ""
    folded = _fold(text)
    return _replace(text, [(p.span, p.masked) for p in _numbers(folded)[0]])


def id_checksum_ok(number: str) -> bool:
    """ISO 7064 MOD 11-2 check character of an 18-character ID number."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def cn_number(said: str) -> int | None:
    """二十三 → 23, 两千零二十六 → 2026, 二零二六 → 2026, 385 → 385; None if not a number."""
    if not said:
        return None
    if said.isdigit():
        return int(said)
    if all(c in SPOKEN_DIGITS and SPOKEN_DIGITS[c] != "X" for c in said):
        return int("".join(SPOKEN_DIGITS[c] for c in said))
    units = {"十": 10, "百": 100, "千": 1000, "万": 10000}
    total = section = digit = 0
    for char in said:
        if char in units:
            unit = units[char]
            if unit == 10000:
                total, section = (total + section + digit) * unit, 0
            else:
                section += (digit or 1) * unit
            digit = 0
        elif char in SPOKEN_DIGITS and SPOKEN_DIGITS[char].isdigit():
            digit = int(SPOKEN_DIGITS[char])
        else:
            return None
    return total + section + digit


# --------------------------------------------------------------------------- helpers


def _fold(text: str) -> str:
    """Full-width ASCII to half-width, one character for one, so spans found in the
    folded text are spans in the input."""
    out = []
    for char in text:
        code = ord(char)
        if 0xFF01 <= code <= 0xFF5E:
            char = chr(code - 0xFEE0)
        elif code == 0x3000:
            char = " "
        out.append(char)
    return "".join(out)


def _as_said(slots: Slots, original: str) -> Slots:
    """Each slot's ``text`` as in the input (full-width digits and commas kept)."""

    def said(slot: _Slot) -> _Slot:
        return replace(slot, text=original[slot.span[0] : slot.span[1]])

    def address(found: Address) -> Address:
        return replace(said(found), parts=tuple(said(p) for p in found.parts))

    return Slots(
        addresses=tuple(address(a) for a in slots.addresses),
        phones=tuple(said(p) for p in slots.phones),
        id_numbers=tuple(said(i) for i in slots.id_numbers),
        names=tuple(said(n) for n in slots.names),
        times=tuple(said(t) for t in slots.times),
        organisations=tuple(said(o) for o in slots.organisations),
    )


def _replace(text: str, edits: list[tuple[tuple[int, int], str]]) -> str:
    for (start, end), new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


# --------------------------------------------------------------------------- phones and IDs

_DIGIT_CLASS = "".join(sorted(SPOKEN_DIGITS))
_DIGIT_RUN = re.compile(
    rf"\+?[{_DIGIT_CLASS}](?:[{re.escape(_DIGIT_GAP)}]{{0,3}}[{_DIGIT_CLASS}])*"
)
_DIGIT_GROUP = re.compile(rf"[{_DIGIT_CLASS}]+")


def _numbers(text: str) -> tuple[list[Phone], list[IdNumber]]:
    """Phone and ID numbers, written or read out digit by digit."""
    phones: list[Phone] = []
    ids: list[IdNumber] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [
            (g.start() + run.start(), g.end() + run.start(), _digits(g.group()))
            for g in _DIGIT_GROUP.finditer(run.group())
        ]
        if sum(len(g[2]) for g in groups) < 7:
            continue
        for start, end, digits in _windows(groups):
            found = _classify(digits, text[start:end], (start, end))
            if isinstance(found, Phone):
                phones.append(found)
            elif isinstance(found, IdNumber):
                ids.append(found)
    return phones, ids


def _digits(said: str) -> str:
    return "".join(SPOKEN_DIGITS[c] for c in said)


def _windows(groups: list[tuple[int, int, str]]) -> Iterator[tuple[int, int, str]]:
    """Runs of consecutive digit groups that make a number, left to right: a valid ID
    first, else the longest phone number, else an ID that fails its check."""
    i = 0
    while i < len(groups):
        candidates: list[tuple[int, int, str]] = []  # (preference, j, digits)
        joined = ""
        for j in range(i, len(groups)):
            joined += groups[j][2]
            if len(joined) > 18:
                break
            kind = _kind_of(joined)
            if kind == "id":
                candidates.append((3 if _id_valid(joined) else 1, j, joined))
            elif kind:
                candidates.append((2, j, joined))
        if not candidates:
            i += 1
            continue
        _, j, joined = max(candidates)
        yield groups[i][0], groups[j][1], joined
        i = j + 1


def _kind_of(digits: str) -> str:
    if "X" in digits[:-1]:
        return ""
    if len(digits) == 18 and digits[:17].isdigit():
        return "id"
    if "X" in digits:
        return ""
    if len(digits) == 11 and re.fullmatch(r"1[3-9]\d{9}", digits):
        return "mobile"
    if len(digits) == 13 and re.fullmatch(r"861[3-9]\d{9}", digits):
        return "mobile"
    if len(digits) == 10 and digits[:3] in ("400", "800"):
        return "service"
    if 10 <= len(digits) <= 12 and re.fullmatch(r"0[1-9]\d+", digits):
        return "landline"
    return ""


def _classify(digits: str, said: str, span: tuple[int, int]) -> Phone | IdNumber | None:
    kind = _kind_of(digits)
    if kind == "id":
        masked = digits[:4] + "*" * 10 + digits[-4:]
        return IdNumber(digits, masked, _id_valid(digits), said, span)
    if kind == "mobile":
        digits = digits[-11:]
        return Phone(digits, "mobile", digits[:3] + "****" + digits[-4:], said, span)
    if kind == "service":
        value = f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
        return Phone(value, "service", value, said, span)
    if kind == "landline":
        area = 3 if digits[1] in "12" else 4
        value = f"{digits[:area]}-{digits[area:]}"
        masked = f"{digits[:area]}-{'*' * (len(digits) - area - 4)}{digits[-4:]}"
        return Phone(value, "landline", masked, said, span)
    return None


def _id_valid(number: str) -> bool:
    if number[0] not in "12345678" or not id_checksum_ok(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year <= 2100


# --------------------------------------------------------------------------- addresses

_NAME_CHAR = rf"[^\s{''.join(sorted(STOP_CHARS))}，。！？、；：,.!?;:\"'“”‘’（）()《》0-9a-zA-Z号]"
_PLACE_NAMES: dict[str, tuple[str, str]] = {}  # as said → (level, normalised)


def _place_names() -> dict[str, tuple[str, str]]:
    if _PLACE_NAMES:
        return _PLACE_NAMES
    names: dict[str, tuple[str, str]] = {}
    for province, capital in PROVINCES.items():
        names[province] = ("province", province)
        names.setdefault(short_name(province), ("province", province))
        if province != capital:
            names[capital] = ("city", capital)
            names.setdefault(short_name(capital), ("city", capital))
    names["内蒙"] = ("province", "内蒙古自治区")
    for city, districts in GUANGDONG.items():
        names[city] = ("city", city)
        names[short_name(city)] = ("city", city)
        for district in districts:
            names[district] = ("district", district)
            short = short_name(district, ("瑶族自治县", "壮族瑶族自治县", "新区", "区", "县", "市"))
            if short != district and short not in AMBIGUOUS_SHORT:
                names.setdefault(short, ("district", district))
    _PLACE_NAMES.update(names)
    return _PLACE_NAMES


_PLACE_RE: re.Pattern[str] | None = None
# A short place name followed by one of these names a road or a building instead.
_PLACE_FOLLOWERS = re.compile(
    r"(?:[东南西北中一二三四五六]{0,2}(?:路|大道|大街|街(?!道)|巷)|大学|医院|公园|南站|北站|东站|西站|站|机场|酒店|宾馆|饭店|大厦|"
    r"广场|花园|小区|中学|小学|商场|城|人民|话|腔|菜|口音|街道|镇|村|社区)"
)


def _place_re() -> re.Pattern[str]:
    global _PLACE_RE
    if _PLACE_RE is None:
        alternatives = sorted(_place_names(), key=len, reverse=True)
        _PLACE_RE = re.compile("|".join(map(re.escape, alternatives)))
    return _PLACE_RE


def _admin_parts(text: str) -> list[AddressPart]:
    parts = []
    names = _place_names()
    for m in _place_re().finditer(text):
        said = m.group()
        level, value = names[said]
        is_full = said == value
        if not is_full and _PLACE_FOLLOWERS.match(text, m.end()):
            continue
        parts.append(AddressPart(level, value, said, m.span()))
        if value in MUNICIPALITIES or (
            level == "city" and value not in GUANGDONG
        ):  # 南京市鼓楼区: a district we do not list
            district = re.compile(rf"{_NAME_CHAR}{{1,4}}?(?:区|县)").match(text, m.end())
            if district and district.group()[-2:] not in ("小区", "社区", "园区", "景区", "校区"):
                parts.append(
                    AddressPart("district", district.group(), district.group(), district.span())
                )
    return parts


_LEVEL_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("street", re.compile(rf"{_NAME_CHAR}{{2,5}}?(?:{_STREET_SUFFIX})")),
    ("community", re.compile(rf"{_NAME_CHAR}{{2,6}}?(?:{_COMMUNITY_SUFFIX})")),
    (
        "landmark",
        re.compile(rf"{_NAME_CHAR}{{2,10}}?(?:{_LANDMARK_SUFFIX})(?:{_LANDMARK_RELATION})?"),
    ),
    (
        "road",
        re.compile(
            rf"{_NAME_CHAR}{{2,8}}?(?:{_ROAD_SUFFIX})(?:[东南西北]{{1,2}}段?(?![边面头侧]))?"
            rf"(?:{_NUM}(?:之\d+)?号(?![楼线房码门]))?"
        ),
    ),
)
_BUILDING = re.compile(
    rf"(?:(?:{_NUM}|[a-zA-Z])(?:号楼|号栋|栋|座|幢|单元|楼|层|梯))+(?:{_NUM}(?:室|房|号房|号)?)?"
    rf"|{_NUM}(?:室|号房)"
)
_RELATION_TAIL = re.compile(rf"(?:{_LANDMARK_RELATION})$")


def _addresses(text: str, taken: list[tuple[int, int]]) -> tuple[Address, ...]:
    parts = [p for p in _admin_parts(text) if not _overlaps(p.span, taken)]
    taken = taken + [p.span for p in parts]
    for level, pattern in _LEVEL_PATTERNS:
        found = []
        for segment_start, segment in _free_segments(text, taken):
            for m in pattern.finditer(segment):
                part = _generic_part(level, m.group(), segment_start + m.start())
                if part is not None:
                    found.append(part)
        parts += found
        taken += [p.span for p in found]
    for m in _BUILDING.finditer(text):
        if not _overlaps(m.span(), taken) and not _is_floor_only(m.group()):
            parts.append(AddressPart("building", m.group(), m.group(), m.span()))
    parts.sort(key=lambda p: p.span)
    return _group(text, parts)


def _is_floor_only(said: str) -> bool:
    """一楼 or 三楼 alone is a floor said in passing, not a building."""
    return bool(re.fullmatch(rf"{_NUM}楼", said)) and len(said) <= 2


def _free_segments(text: str, taken: list[tuple[int, int]]) -> Iterator[tuple[int, str]]:
    position = 0
    for start, end in sorted(taken):
        if start > position:
            yield position, text[position:start]
        position = max(position, end)
    if position < len(text):
        yield position, text[position:]


_LEVEL_SUFFIX = {
    "street": re.compile(rf"(?:{_STREET_SUFFIX})$"),
    "community": re.compile(rf"(?:{_COMMUNITY_SUFFIX})$"),
    "landmark": re.compile(rf"(?:{_LANDMARK_SUFFIX})$"),
    "road": re.compile(rf"(?:{_ROAD_SUFFIX})$"),
}


def _generic_part(level: str, said: str, start: int) -> AddressPart | None:
    """A street, community, landmark or road found by its suffix, with the words in
    front that are not part of its name trimmed; None for everyday words (马路, 农村)."""
    trimmed = _LEAD_TRIM.sub("", said)
    start += len(said) - len(trimmed)
    core = trimmed
    if level == "landmark":
        core = _RELATION_TAIL.sub("", core)
    if level == "road":
        core = re.sub(rf"{_NUM}(?:之\d+)?号$", "", core)
        core = re.sub(r"(大道|大街|路|街|巷)[东南西北]{1,2}段?$", r"\1", core)
    suffix = _LEVEL_SUFFIX[level].search(core)
    if suffix is None or suffix.start() < 2 or any(core.endswith(w) for w in _NOT_PLACES):
        return None
    return AddressPart(level, trimmed, trimmed, (start, start + len(trimmed)))


def _group(text: str, parts: list[AddressPart]) -> tuple[Address, ...]:
    """Parts said close together (at most a few characters apart) make one address."""
    groups: list[list[AddressPart]] = []
    for part in parts:
        if groups and _close(text, groups[-1][-1].span[1], part.span[0]):
            groups[-1].append(part)
        else:
            groups.append([part])
    addresses = [_address(text, group) for group in groups]
    addresses.sort(key=lambda a: -len({p.level for p in a.parts}))  # fullest first
    return tuple(addresses)


_LINK_WORDS = re.compile(r"[，,、\s]|就是|那个|这个|的|在|靠近|附近|嗯|啊")


def _close(text: str, end: int, start: int) -> bool:
    """Parts belong together when only punctuation and filler words stand between them."""
    between = text[end:start]
    if len(between) > 12 or re.search(r"[。！？!?；;]", between):
        return False
    return len(_LINK_WORDS.sub("", between)) <= 2


def _address(text: str, parts: list[AddressPart]) -> Address:
    fields: dict[str, str] = {}
    landmarks: list[str] = []
    for part in parts:
        if part.level == "landmark":
            landmarks.append(part.value)
        elif part.level not in fields:
            fields[part.level] = part.value
        elif part.level == "building":
            fields["building"] += part.value
    if "district" in fields and "city" not in fields:
        fields["city"] = CITY_OF_DISTRICT.get(fields["district"], "")
    if fields.get("province") in MUNICIPALITIES and "city" not in fields:
        fields["city"] = fields["province"]
    if fields.get("city") and "province" not in fields:
        fields["province"] = PROVINCE_OF_CITY.get(fields["city"], "")
    fields = {k: v for k, v in fields.items() if v}
    line = []
    for level in LEVELS:
        if level == "landmark":
            line += landmarks
        elif level in fields and (level != "city" or fields[level] != fields.get("province")):
            line.append(fields[level])
    span = (parts[0].span[0], parts[-1].span[1])
    return Address(
        address="".join(line),
        text=text[span[0] : span[1]],
        span=span,
        landmarks=tuple(landmarks),
        parts=tuple(parts),
        **fields,
    )


# --------------------------------------------------------------------------- names

_SURNAME_ALT = "|".join(COMPOUND_SURNAMES) + "|[" + "".join(sorted(SURNAMES)) + "]"
_INTRODUCTION = re.compile(
    r"(?:我的名字叫|我名字叫|我名叫|名字叫|我叫做|我叫|叫我|我系|我是|本人是|本人|联系人是|联系人叫|联系人)[:：]?\s?"
)
_SURNAME_ONLY = re.compile(rf"(?<!百)(?<!老百)姓\s?({_SURNAME_ALT})")
_TITLE_ALT = "|".join(sorted(TITLES, key=len, reverse=True))
_TITLED = re.compile(rf"({_SURNAME_ALT})({'|'.join(_FREE_TITLES)})")
_SURNAME_RE = re.compile(_SURNAME_ALT)
_TITLE_RE = re.compile(_TITLE_ALT)


def _names(text: str) -> tuple[Name, ...]:
    found: list[Name] = []
    for m in _INTRODUCTION.finditer(text):
        name = _read_name(text, m.end(), strict=m.group().startswith(("我是", "我系", "本人")))
        if name is not None:
            found.append(name)
    for m in _SURNAME_ONLY.finditer(text):
        found.append(Name(m.group(1), m.group(1), "", "", m.group(), m.span()))
    for m in _TITLED.finditer(text):
        before = text[m.start() - 1] if m.start() else ""
        if (
            before
            and re.match(_NAME_CHAR, before)
            and before not in "找叫问位跟同对和给帮请喊让称姓系下"
        ):
            continue
        surname, title = m.group(1), m.group(2)
        found.append(Name(surname + title, surname, "", title, m.group(), m.span()))
    return _dedupe(found)


def _read_name(text: str, position: int, strict: bool) -> Name | None:
    """The name that starts at ``position`` (after 我叫, 我是…): a surname, then up to two
    given characters or a title; after 我是 a bare name must end where a clause ends."""
    surname = _SURNAME_RE.match(text, position)
    if surname is None:
        return None
    end, given = surname.end(), ""
    title = _TITLE_RE.match(text, end)
    while title is None and len(given) < 2 and end < len(text) and text[end] not in _NAME_END:
        if not "\u4e00" <= text[end] <= "\u9fff":
            break
        given += text[end]
        end += 1
        title = _TITLE_RE.match(text, end)
    title_text = title.group() if title else ""
    end += len(title_text)
    value = surname.group() + given
    if not given and not title_text:
        return None
    if strict and not title_text:
        if end < len(text) and text[end] not in _NAME_END:
            return None
        if any(value in place for place in _place_names()):
            return None  # 我是黄埔的 names a place
    said = text[position:end]
    return Name(value + title_text, surname.group(), given, title_text, said, (position, end))


def _dedupe(names: list[Name]) -> tuple[Name, ...]:
    """Overlapping finds once; 我姓黄 dropped when 黄先生 or 黄大文 is said too."""
    fuller = {n.surname for n in names if n.given or n.title}
    names = [n for n in names if n.given or n.title or n.surname not in fuller]
    names.sort(key=lambda n: (n.span[0], -(n.span[1] - n.span[0])))
    kept: list[Name] = []
    for name in names:
        if any(_overlaps(name.span, [k.span]) for k in kept):
            continue
        kept.append(name)
    return tuple(kept)


# --------------------------------------------------------------------------- times

_PERIOD_ALT = "|".join(sorted(_PERIODS, key=len, reverse=True))
_CLOCK = (
    rf"(?P<hour>\d{{1,2}}|[{_CN_NUM}]{{1,3}})(?:点钟|点|时)(?P<minute>半|一刻|三刻|"
    rf"\d{{1,2}}分?|[零〇一二两三四五六七八九十]{{1,3}}分?)?(?P<about>多|左右|钟)?"
    r"|(?P<hh>\d{1,2}):(?P<mm>\d{2})"
)
_RECURRING = re.compile(
    rf"(?:每天|每晚|每日|每夜|天天|日日|晚晚|夜夜|成日|经常|时常|每逢|每到|一到|每个?周末|周末|"
    rf"每个?星期[一二三四五六日天]?|每个?礼拜[一二三四五六日天]?|每周[一二三四五六日天]?|每个?月)"
    rf"(?:的)?(?P<period>{_PERIOD_ALT})?(?:(?:{_CLOCK})(?:以后|之后|后|以前|之前|前|到)?)?"
)
_DURATION = re.compile(
    rf"(?<![\d{_CN_NUM}])(?P<lead>已经|都|有|快|差不多|将近|接近|近|整整|足足|持续|连续|好)?"
    rf"(?P<n>\d{{1,3}}|[{_CN_NUM}]{{1,4}}|半|几|好几|十几|一两|两三|三四|三五)"
    r"(?P<ge>个)?(?P<half>半)?(?P<more>多)?(?P<unit>年|个月|星期|礼拜|周|天|日|晚|小时|钟头|分钟|月)"
    r"(?P<more2>多)?(?P<tail>了|之久|以来|左右|前|之前|以前|后|之后|以后)?"
)
_POINT = re.compile(
    rf"(?:(?P<year>\d{{4}}|[零〇一二三四五六七八九]{{4}}|今|去|前|明)年)?"
    rf"(?:(?P<month>\d{{1,2}}|[一二三四五六七八九十]{{1,3}})月(?P<mday>\d{{1,2}}|[一二三四五六七八九十]{{1,3}})(?:日|号)"
    rf"|(?P<iso>\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}})"
    rf"|(?P<monthword>上个?月|这个?月|本月|下个?月)(?P<day>\d{{1,2}}|[一二三四五六七八九十]{{1,3}})(?:日|号)"
    rf"|(?P<week>上上|上|这|本|下)?个?(?:周|星期|礼拜)(?P<wd>[一二三四五六日天1-7])"
    rf"|(?P<dayword>{'|'.join(sorted(_DAY_WORDS, key=len, reverse=True))}))?"
    rf"(?P<period>{_PERIOD_ALT})?(?:{_CLOCK})?"
)
_VAGUE = re.compile("|".join(sorted(_VAGUE_TIMES, key=len, reverse=True)))


def _times(
    text: str, now: datetime | None, taken: list[tuple[int, int]]
) -> tuple[TimeMention, ...]:
    found: list[TimeMention] = []
    taken = list(taken)

    def add(mention: TimeMention | None) -> None:
        if mention is not None and not _overlaps(mention.span, taken):
            found.append(mention)
            taken.append(mention.span)

    for m in _RECURRING.finditer(text):
        add(_recurring(m))
    for m in _POINT.finditer(text):
        if m.group() and not _overlaps(m.span(), taken):
            add(_point(m, now))
    for m in _DURATION.finditer(text):
        add(_duration(m, now))
    for m in _VAGUE.finditer(text):
        add(TimeMention("point", m.group(), m.span()))
    found.sort(key=lambda t: t.span)
    return tuple(found)


def _clock(m: re.Match[str], period: str) -> tuple[int, int, bool] | None:
    """(hour, minute, approximate) from a clock match, the hour moved by the part of the day."""
    if m.group("hh"):
        hour, minute = int(m.group("hh")), int(m.group("mm"))
    elif m.group("hour"):
        hour = cn_number(m.group("hour"))
        minute = _minute(m.group("minute") or "")
        if hour is None or minute is None:
            return None
    else:
        return None
    if not (0 <= hour <= 24 and 0 <= minute < 60):
        return None
    if period in _NIGHT and (hour <= 4 or hour == 12):
        hour = hour % 12 + 24  # 昨天半夜两点, 晚上十二点: the small hours after that day
    elif (period in _AFTERNOON and hour < 12) or (period == "中午" and hour < 6):
        hour += 12
    elif period == "凌晨" and hour == 12:
        hour = 0
    return hour, minute, bool(m.group("about"))


def _minute(said: str) -> int | None:
    said = said.rstrip("分")
    if not said:
        return 0
    return {"半": 30, "一刻": 15, "三刻": 45}.get(said, cn_number(said))


def _recurring(m: re.Match[str]) -> TimeMention:
    clock = _clock(m, m.group("period") or "")
    text = m.group()
    return TimeMention(
        "recurring",
        text,
        m.span(),
        clock=f"{clock[0] % 24:02d}:{clock[1]:02d}" if clock else None,
        approximate=bool(clock and clock[2]),
    )


def _duration(m: re.Match[str], now: datetime | None) -> TimeMention | None:
    unit, tail, n = m.group("unit"), m.group("tail") or "", m.group("n")
    if unit == "月" and not m.group("ge") and not m.group("lead"):
        return None  # 三月 is a month, 三个月 a duration
    if not (
        m.group("lead") or tail or m.group("ge") or unit in ("小时", "钟头", "分钟", "年", "天")
    ):
        return None
    amount = {"半": 0.5, "一两": 1.5, "两三": 2.5, "三四": 3.5, "三五": 4.0}.get(n)
    if amount is None:
        number = cn_number(n)
        amount = float(number) if number is not None else None
    if amount is not None and m.group("half"):
        amount += 0.5
    seconds = int(amount * _UNIT_SECONDS[unit]) if amount is not None else None
    approximate = bool(m.group("more") or m.group("more2") or tail == "左右" or amount is None)
    if tail in ("前", "之前", "以前", "后", "之后", "以后"):
        value = None
        if now is not None and seconds is not None:
            delta = timedelta(seconds=seconds)
            moment = now - delta if "前" in tail else now + delta
            value = moment if seconds < 86400 else moment.date()
        return TimeMention("point", m.group(), m.span(), value=value, approximate=approximate)
    if n.isdigit() and int(n) > 999:
        return None
    return TimeMention("duration", m.group(), m.span(), seconds=seconds, approximate=approximate)


def _point(m: re.Match[str], now: datetime | None) -> TimeMention | None:
    has_day = any(m.group(g) for g in ("month", "iso", "monthword", "wd", "dayword"))
    has_clock = bool(m.group("hour") or m.group("hh"))
    if not (has_day or has_clock):
        return None
    if has_clock and not has_day and not m.group("period") and not _clearly_clock(m):
        return None
    period = m.group("period") or ""
    day, implied = _day(m, now)
    clock = _clock(m, period or implied) if has_clock else None
    if has_clock and clock is None:
        return None
    value: datetime | date | None = day
    if clock is not None and now is not None:
        base = day or now.date()
        hour, minute, _ = clock
        moment = datetime(base.year, base.month, base.day, tzinfo=now.tzinfo)
        value = moment + timedelta(hours=hour, minutes=minute)
        if day is None and value > now.replace(tzinfo=now.tzinfo):
            value -= timedelta(days=1)  # 晚上十点 said at noon: last night, not tonight
    return TimeMention(
        "point", m.group(), m.span(), value=value, approximate=bool(clock and clock[2])
    )


def _clearly_clock(m: re.Match[str]) -> bool:
    """三点 alone may be "three points"; 三点钟, 三点半, 3点, 15:30 are times."""
    return bool(m.group("hh") or m.group("hour").isdigit() or m.group("minute") or m.group("about"))


def _day(m: re.Match[str], now: datetime | None) -> tuple[date | None, str]:
    """The calendar day a point names (None if it needs ``now`` and has none), and the
    part of the day its word implies (昨晚 → 晚上)."""
    implied = ""
    if m.group("dayword"):
        offset, implied = _DAY_WORDS[m.group("dayword")]
        return (now.date() + timedelta(days=offset) if now else None), implied
    try:
        if m.group("iso"):
            y, mo, d = (int(x) for x in re.split(r"[-/.]", m.group("iso")))
            return date(y, mo, d), implied
        if m.group("month"):
            year = _year(m.group("year"), now)
            month, mday = cn_number(m.group("month")), cn_number(m.group("mday"))
            if year is None or month is None or mday is None:
                return None, implied
            return date(year, month, mday), implied
        if m.group("monthword") and now is not None:
            shift = {"上": -1, "下": 1}.get(m.group("monthword")[0], 0)
            month_index = now.year * 12 + now.month - 1 + shift
            mday = cn_number(m.group("day"))
            if mday is None:
                return None, implied
            return date(month_index // 12, month_index % 12 + 1, mday), implied
        if m.group("wd") and now is not None:
            weekday = _WEEKDAYS[m.group("wd")]
            today = now.date()
            week = m.group("week")
            if week is None:
                return today - timedelta(days=(today.weekday() - weekday) % 7), implied
            shift = {"上上": -14, "上": -7, "这": 0, "本": 0, "下": 7}[week]
            monday = today - timedelta(days=today.weekday())
            return monday + timedelta(days=shift + weekday), implied
    except (ValueError, OverflowError):
        return None, implied
    return None, implied


def _year(said: str | None, now: datetime | None) -> int | None:
    if said is None:
        return now.year if now else None
    relative = {"今": 0, "去": -1, "前": -2, "明": 1}
    if said in relative:
        return now.year + relative[said] if now else None
    return cn_number(said)


# --------------------------------------------------------------------------- organisations

_ORGANISATION = re.compile(
    rf"{_NAME_CHAR}{{2,16}}?(?:银行(?:{_NAME_CHAR}{{2,6}}?(?:支行|分行|营业部))?|{_ORG_SUFFIX})"
    r"(?![面势长部])"
)


def _organisations(text: str, taken: list[tuple[int, int]]) -> tuple[Organisation, ...]:
    found = []
    for offset, segment in _free_segments(text, taken):
        for m in _ORGANISATION.finditer(segment):
            organisation = _organisation(text, m.group(), offset + m.start())
            if organisation is not None:
                found.append(organisation)
    return tuple(found)


_ORG_KIND = re.compile(rf"(?:{_ORG_SUFFIX})$")


def _organisation(text: str, said: str, start: int) -> Organisation | None:
    """The business named by ``said`` with the words in front trimmed (那家, 投诉…)."""
    trimmed = _LEAD_TRIM.sub("", said)
    start += len(said) - len(trimmed)
    if trimmed[:1] in "家间所" and start and text[start - 1] in "那这哪一每":
        trimmed, start = trimmed[1:], start + 1
    kind = _ORG_KIND.search(trimmed)
    if "银行" in trimmed and (kind is None or kind.group() not in ("银行",)):
        kind_start, kind_word = trimmed.index("银行"), "银行"
    elif kind is not None:
        kind_start, kind_word = kind.start(), kind.group()
    else:
        return None
    if kind_start < 2 or trimmed in _NOT_PLACES:
        return None
    return Organisation(trimmed, kind_word, trimmed, (start, start + len(trimmed)))
