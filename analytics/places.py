"""The places a citizen's message is about, as keys that let two messages about
the same estate, school, company or road be recognised as such.

Two kinds: *areas* — the city, district or county (天河区, and the organisers'
anonymised codes A市, A2区, K9县) — say where in the city, and many unrelated
messages share one; *specific places* — an estate (丽发新城小区), a building, a
school (经济学院), a company, a named road (汇金路), a village — are what a
hotspot gathers around.  Keys are normalised: the words in front that are no part
of the name (关于, 投诉, 我们…) and the trailing kind of place (小区, 附近) dropped,
so "丽发新城小区附近" and "丽发新城" give one key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from call_routing.places import GUANGDONG, PROVINCES, words
from call_routing.text import normalise

# The organisers' anonymised areas (A市, A2区, K9县) and the places the slot
# extractor knows (provinces, cities, Guangdong's districts).
_CODE_AREA = re.compile(r"[A-Za-z]\d{0,2}(?:市|区|县)")
_KNOWN_AREAS = sorted(
    {*PROVINCES, *PROVINCES.values(), *GUANGDONG, *(d for ds in GUANGDONG.values() for d in ds)},
    key=len,
    reverse=True,
)
_KNOWN_AREA = re.compile("|".join(map(re.escape, _KNOWN_AREAS)))
_CJK = "[\u4e00-\u9fa5A-Za-z0-9]"
# What a named place ends in; the longest kinds first so that 小学 wins over 学.
_KINDS = (
    "小区|花园|新城|新村|家园|山庄|公寓|大厦|大楼|广场|商场|市场|中心|苑|府|城|园|"
    "幼儿园|小学|中学|大学|学院|学校|医院|卫生院|诊所|"
    "有限公司|公司|集团|工厂|厂|工地|楼盘|酒店|宾馆|银行|车站|站|驾校|培训机构|培训学校|"
    "超市|商店|餐厅|饭店|酒楼|网吧|"
    "大道|大街|路|街|巷|桥|"
    "村|社区|镇|乡|街道"
)
_PLACE = re.compile(rf"({_CJK}{{1,10}}?)({_KINDS})")
# Words in front of a name that are not part of it.
_LEAD = re.compile(
    r"^(?:.*?(?:关于|投诉|举报|反映|建议|希望|请求|要求|咨询|询问|请问|强烈|恳请|"
    r"解决|处理|整治|查处|落实|我们|我家|我是|本人|位于|住在|地处|这个|那个|的|在|对|给|和|与|及))+"
)
# Kinds too generic to name anything by themselves (路 in 公路, 道路, 线路…).
_GENERIC = frozenset(
    words(
        "政府 人民政府 市政府 县政府 镇政府 有关部门 公路 道路 线路 马路 村道 街道 小区 社区"
        " 学校 医院 公司 农村 城市 县城 市区 城区 安置小区 老旧小区 高速路 村级公路 交叉路"
        " 这段路 一条路 商业街 步行街 物业公司 开发商 房地产公司 中心 车站 城管 电站 加油站"
        " 收费站 派出所 广场 修路 工地 工厂 超市 酒店 银行 驾校 餐厅 饭店 公园 校园 园"
    )
)
# What every complaint says whatever its problem: left out of "what the problem is".
_BOILERPLATE = re.compile(
    r"请求|恳请|希望|要求|建议|请问|请|麻烦|相关部门|有关部门|政府|领导|部门|尽快|及时|"
    r"处理|解决|查处|整治|管一管|管理|重视|反映|投诉|举报|咨询|问题|情况|严重|影响|"
    r"小区|业主|居民|村民|住户|我们|我|大家|附近|周边|旁边|门口|已经|一直|至今|没有|还是|"
    r"非常|特别|很多|多次|每天|现在|帮忙|帮帮|到底|什么|怎么|为什么|这个|那个"
)
# What is never inside a place's name: a place ends before these.
_BREAK = re.compile(
    r"的|了|对|给|把|被|将|向|从|让|及|局|委|拖延|要求|希望|请求|反映|投诉|举报|建议|咨询|关于|"
    r"旁边|旁|附近|周边|周围|对面|门口|[东南西北]侧|[东南西北]边|一带|"
    r"[，,。！!？?；;：:“”\"（）()、\s]"
)
_TRAILING = re.compile(r"(?:小区|附近|周边|旁边|门口|一带|片区|路段|段)+$")
_MIN_KEY = 2


@dataclass(frozen=True)
class Places:
    specific: tuple[str, ...]  # keys of the estates, schools, companies, roads named
    areas: tuple[str, ...]  # keys of the cities, districts and counties named

    @property
    def main(self) -> str:
        """The place a hotspot's title names: the first specific place, else the
        most precise area ("" when none)."""
        if self.specific:
            return self.specific[0]
        return self.areas[-1] if self.areas else ""


def places_in(title: str, text: str = "", hint: str = "") -> Places:
    """The places a message names: specific ones from its title and ``hint`` (a
    ticket's address or business slot; free text names too many places in
    passing to tell what a message is about), areas from all three."""
    specific: list[str] = []
    areas: list[str] = []
    for part, named in ((hint, True), (title, True), (text[:200], False)):
        cleaned = normalise(part)
        for match in _CODE_AREA.finditer(cleaned):
            _add(areas, match.group().upper())
        for match in _KNOWN_AREA.finditer(cleaned):
            _add(areas, match.group())
        if not named:
            continue
        rest = _BREAK.sub("，", _KNOWN_AREA.sub("，", _CODE_AREA.sub("，", cleaned)))
        for match in _PLACE.finditer(rest):
            key = place_key(match.group(1) + match.group(2))
            if key:
                _add(specific, key)
    return Places(tuple(specific), tuple(areas))


def place_key(said: str) -> str:
    """One key per place however it is written: leading words and the trailing
    kind (小区, 附近) dropped; "" for a name too generic to tell places apart."""
    name = _LEAD.sub("", said)
    if name in _GENERIC or said in _GENERIC:
        return ""
    stripped = _TRAILING.sub("", name)
    if len(stripped) >= _MIN_KEY and stripped not in _GENERIC:
        name = stripped
    if len(name) < _MIN_KEY or name in _GENERIC or name.isdigit():
        return ""
    return name


def same_place(a: Places, b: Places) -> bool:
    """Whether two messages name one specific place (one key inside the other
    counts: 丽发新城 and 丽发新城二期)."""
    for key in a.specific:
        for other in b.specific:
            if key == other or (min(len(key), len(other)) >= 3 and (key in other or other in key)):
                return True
    return False


def _add(found: list[str], key: str) -> None:
    if key and key not in found:
        found.append(key)


def without_places(text: str, places: Places) -> str:
    """``text`` with the places it names cut out: what is left says what the
    problem is, so that two problems at one estate do not read alike for it."""
    for key in sorted((*places.specific, *places.areas), key=len, reverse=True):
        text = text.replace(key, "，")
    return _BOILERPLATE.sub("，", _CODE_AREA.sub("，", text))
