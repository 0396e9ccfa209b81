"""A hotspot's short title: its place and its problem, as a supervisor would
write it on a list ("丽发新城小区附近搅拌站噪音扰民"), taken from the request that
reads most like all the others, with what every citizen's title carries and no
title needs (the district codes, 关于…的问题, 投诉, 请求处理) cut away."""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 30
_AREA_CODES = re.compile(r"^(?:[A-Za-z]\d{0,2}(?:市|区|县))+")
_LEAD = re.compile(
    r"^(?:关于|对于|对|有关|投诉|举报|反映|反应|建议|强烈建议|希望|恳请|请求|要求|咨询|询问|"
    r"请问|求助|紧急求助|坚决反对|反对|质疑|曝光|强烈要求|呼吁|申请|我要|解决|处理|整治)+"
)
_TAIL = re.compile(
    r"(?:的?(?:问题|情况|事情|现象|事宜)?的?(?:反映|投诉|举报|咨询|建议|请求|求助|质疑)|"
    r"的问题|问题|情况|事宜|，?请求?(?:有关部门|相关部门|政府|领导)?(?:尽快)?(?:处理|解决|查处|整治|关注)|"
    r"[！!？?。，,…~～]+)+$"
)


def hotspot_title(title: str, place: str) -> str:
    """``title`` cut to its place and problem; ``place`` in front when the title
    does not name it."""
    text = unicodedata.normalize("NFKC", title).strip()
    text = re.sub(r"^[“”\"'《》【】\[\]（）()]+|[“”\"'《》【】\[\]（）()]+$", "", text)
    for _round in range(3):
        text = _LEAD.sub("", _AREA_CODES.sub("", text)).strip(" ，,：:")
        text = _TAIL.sub("", text).strip(" ，,：:")
    if place and place not in text:
        text = f"{place}{text}"
    return text[:MAX_CHARS] or place or title.strip()[:MAX_CHARS]
