"""Businesses and organisations (企业/单位) by name: a name that ends in the word
saying what it is (…有限公司, …茶餐厅, …银行…支行), with the words in front that are
no part of it trimmed (投诉, 那家…)."""

from __future__ import annotations

import re

from call_routing.slots.results import Organisation
from call_routing.slots.spans import _free_segments
from call_routing.slots.vocabulary import _LEAD_TRIM, _NAME_CHAR, _NOT_PLACES

_ORG_SUFFIX = (
    "股份有限公司|有限责任公司|有限公司|分公司|公司|集团|超市|便利店|茶餐厅|餐厅|饭店|酒楼|"
    "酒家|茶楼|餐馆|大排档|快餐店|大药房|药房|药店|医院|卫生院|卫生服务中心|诊所|学校|"
    "小学|中学|大学|学院|幼儿园|物业管理处|物业服务中心|物业公司|物业|地产|中介|"
    "培训机构|培训中心|培训学校|银行|营业厅|商场|酒店|宾馆|4[sS]店|派出所|管理局|局|店"
)

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
