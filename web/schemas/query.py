"""Query-string values the API declares and FastAPI checks: times and numbers
read strictly, so that what the schema promises is exactly what is taken.

A *moment* is ISO 8601 in one of three forms, each declared in the schema:

- an RFC 3339 date-time with its offset (``2026-11-02T09:30:00+08:00``, ``…Z``);
- a local time without one (``2026-11-02T09:30``, seconds optional), read as
  hotline time — its pattern admits real calendar dates only;
- a date (``2026-11-02``), whose meaning (midnight, or the whole day) the
  parameter's description gives.

Nothing else is a moment: a number (``0.5``) is not a Unix time here, as a
lenient parser would read it.  Moments beyond what a timestamp can hold once
moved to UTC (the year 1 east of Greenwich) are held at its limits, where every
ticket and call is after (or before) them anyway.

Pure functions; ``ValueError`` subclasses (pydantic's custom errors) carry the
message users read.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

# RFC 3339 (section 5.6): date "T" time, seconds required, an offset required.
_RFC3339 = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})[Tt]"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2}):(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?"
    r"(?P<z>[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DATE = re.compile(r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})")


def _calendar_pattern() -> str:
    """Dates of the years 0001–9999 that exist (29 February in leap years only)."""
    year = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
    leap = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
    days = (
        "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
        "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
        "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    )
    return f"(?:{year}-{days}|{leap}-02-29)"


LOCAL_TIME_PATTERN = (
    f"^{_calendar_pattern()}T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{{1,6}})?)?$"
)
_LOCAL = re.compile(LOCAL_TIME_PATTERN)
_LOCAL_PARTS = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})T"
    r"(?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:\.(?P<f>[0-9]+))?)?"
)
MOMENT_FORMS = "YYYY-MM-DD、YYYY-MM-DDTHH:MM[:SS] 或带时区的 RFC 3339 时间"
_MOMENT_ERROR = f"日期时间格式应为 {MOMENT_FORMS}"


def _refused(message: str = _MOMENT_ERROR) -> PydanticCustomError:
    return PydanticCustomError("moment_format", message)


def _offset(text: str) -> tzinfo:
    if text in ("Z", "z"):
        return UTC
    sign = -1 if text[0] == "-" else 1
    return timezone(sign * timedelta(hours=int(text[1:3]), minutes=int(text[4:6])))


def _moment(parts: re.Match[str], zone: tzinfo | None) -> datetime:
    second = int(parts["s"] or 0)
    fraction = (parts["f"] or "")[:6].ljust(6, "0")
    leap = second == 60  # RFC 3339's leap second: the next second's start
    moment = datetime(
        int(parts["y"]),
        int(parts["mo"]),
        int(parts["d"]),
        int(parts["h"]),
        int(parts["mi"]),
        59 if leap else second,
        int(fraction),
        tzinfo=zone,
    )
    return moment + timedelta(seconds=1) if leap else moment


def parse_moment(text: str) -> date | datetime:
    """A date, a local time (naive) or an RFC 3339 time (aware); ``ValueError``
    (pydantic's, with the message users read) for anything else."""
    try:
        if _DATE.fullmatch(text):
            return date(int(text[0:4]), int(text[5:7]), int(text[8:10]))
        if parts := _RFC3339.fullmatch(text):
            return _moment(parts, _offset(parts["z"]))
        if _LOCAL.fullmatch(text) and (parts := _LOCAL_PARTS.fullmatch(text)):
            return _moment(parts, None)
    except (ValueError, OverflowError):
        pass
    raise _refused()


def in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """``moment`` made aware (a naive one is in ``zone``), held within what a UTC
    timestamp can hold."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
    try:
        return aware.astimezone(UTC)
    except OverflowError:
        limit = datetime.min if aware.year == datetime.min.year else datetime.max
        return limit.replace(tzinfo=UTC)


def day_start(day: date, zone: tzinfo, days_after: int = 0) -> datetime:
    """Midnight in ``zone`` starting ``day`` (``days_after`` later), within UTC's limits."""
    try:
        moment = datetime.combine(day + timedelta(days=days_after), datetime.min.time(), zone)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)
    return in_zone(moment, zone)


def _moment_text(value: str) -> str:
    if value:
        parse_moment(value)
    return value


def _moment_schema(date_means: str) -> dict[str, Any]:
    return {
        "anyOf": [
            {"type": "string", "format": "date", "description": date_means},
            {"type": "string", "format": "date-time"},
            {"type": "string", "pattern": LOCAL_TIME_PATTERN, "description": "Hotline time."},
        ]
    }


def _text_or_empty(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [*schema["anyOf"], {"type": "string", "maxLength": 0}]}


# A moment a filter starts or ends at, kept as the text given ("" for none, as a
# form sends an empty field); a date there means the whole day.
MomentText = Annotated[
    str,
    AfterValidator(_moment_text),
    WithJsonSchema(_text_or_empty(_moment_schema("The whole day, in hotline time."))),
]


def _strict_moment(value: Any) -> date | datetime:
    if not isinstance(value, str):
        raise _refused()
    return parse_moment(value)


def _as_datetime(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, datetime.min.time())


# A moment as a datetime (a date: its midnight), naive for hotline time.
Moment = Annotated[
    datetime,
    PlainValidator(lambda value: _as_datetime(_strict_moment(value))),
    WithJsonSchema(_moment_schema("Its midnight, in hotline time.")),
]

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _seconds_text(value: str) -> str:
    if value:
        if not _NUMBER.fullmatch(value) or not math.isfinite(number := float(value)):
            raise PydanticCustomError("seconds", "应为数字 (a number of seconds)")
        if number < 0:
            raise PydanticCustomError("seconds", "应不小于 0 (at least 0 seconds)")
    return value


# A number of seconds, at least 0, kept as the text given ("" for none).
SecondsText = Annotated[
    str,
    AfterValidator(_seconds_text),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "maxLength": 0}]}
    ),
]


def _yes_no(value: str) -> str:
    if value not in ("", "yes", "no"):
        raise PydanticCustomError("yes_no", "yes, no 或留空")
    return value


# "yes", "no" or "" (either).
YesNo = Annotated[
    str, AfterValidator(_yes_no), WithJsonSchema({"type": "string", "enum": ["", "yes", "no"]})
]


def _strict_day(value: Any) -> date:
    if isinstance(value, str) and (parts := _DATE.fullmatch(value)):
        try:
            return date(int(parts["y"]), int(parts["mo"]), int(parts["d"]))
        except ValueError:
            pass
    raise PydanticCustomError("day", "应为日期 YYYY-MM-DD (a date)")


# A calendar day, YYYY-MM-DD only (not a number, not a time).
Day = Annotated[
    date, PlainValidator(_strict_day), WithJsonSchema({"type": "string", "format": "date"})
]
