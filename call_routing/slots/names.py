"""Names (姓名) as callers give them: after 我叫, 我是 or 联系人, 姓 with a
surname (我姓黄), a surname with a title (王先生, 找李经理); surnames from the
百家姓, with Guangdong's."""

from __future__ import annotations

import re

from call_routing.places import words
from call_routing.slots.addresses import _place_names
from call_routing.slots.results import Name
from call_routing.slots.spans import _overlaps
from call_routing.slots.vocabulary import _NAME_CHAR, STOP_CHARS

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
