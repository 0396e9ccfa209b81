"""Times (时间): points (昨晚十点, 3月5号, 上周三), recurring times (每天晚上十点
以后) and durations (三个月了), in Mandarin and Cantonese words (琴日, 听日), resolved
against the ``now`` passed in; the clock is never read."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from call_routing.places import words
from call_routing.slots.numbers import _CN_NUM, cn_number
from call_routing.slots.results import TimeMention
from call_routing.slots.spans import _overlaps

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
            try:
                delta = timedelta(seconds=seconds)
                moment = now - delta if "前" in tail else now + delta
            except OverflowError:  # 两千年前: no calendar date, still a mention
                moment = None
            if moment is not None:
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
