"""``[verification]`` in node.toml: what is refused at start, naming the key and the fix."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from ivr.node.preflight import PreflightError, check_verification
from sip_config.settings import Settings

TRUNK = {"enabled": True, "trunk_uri": "sip:{number}@gw.example"}


@pytest.mark.parametrize(
    ("section", "words"),
    [
        ({"enabled": True}, ["verification.trunk_uri", "acd.trunk_uri"]),
        ({"calling_hours": ["12:00-09:00"]}, ["calling_hours", "ends before it starts"]),
        ({"calling_hours": []}, ["calling_hours", "no calling window"]),
        (
            {"calling_hours": ["09:00-13:00", "12:00-14:00"]},
            ["calling_hours", "overlap at 12:00"],
        ),
        ({"calling_hours": ["9点到12点"]}, ["calling_hours", "HH:MM-HH:MM"]),
        ({"attempts": 0}, ["attempts", "greater than or equal to 1"]),
        ({"trunk_uri": "gw.example"}, ["trunk_uri", "{number}"]),
        ({"sample_close_at_once": 1.5}, ["sample_close_at_once"]),
    ],
)
def test_settings_that_cannot_work_are_refused_naming_the_key(
    section: dict, words: list[str]
) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(verification=section)
    message = str(refused.value)
    for word in words:
        assert word in message, message


def test_the_acds_trunk_serves_when_verification_names_none() -> None:
    settings = Settings(verification={"enabled": True}, acd={"trunk_uri": "sip:{number}@gw"})
    assert settings.survey_trunk_uri == "sip:{number}@gw"
    assert settings.survey_caller_id == "12345"
    assert Settings(sip={"numbers": ["12366"]}).survey_caller_id == "12366"


def test_24_00_ends_a_calling_window() -> None:
    windows = Settings(verification={"calling_hours": ["20:00-24:00"]}).verification.windows()
    assert windows[0][1].hour == 23 and windows[0][1].minute == 59


def test_preflight_names_a_bad_line_of_the_do_not_call_list(tmp_path: Path) -> None:
    listing = tmp_path / "dnc.txt"
    listing.write_text("# 免打扰\n13800138000\n138-0013-8001\n找不到\n", encoding="utf-8")
    settings = Settings(verification=TRUNK | {"do_not_call": str(listing)})
    with pytest.raises(PreflightError, match=r"dnc.txt:4: '找不到' is not a phone number"):
        check_verification(settings)
    listing.write_text("13800138000\n", encoding="utf-8")
    check_verification(settings)  # a good list passes
    missing = Settings(verification=TRUNK | {"do_not_call": str(tmp_path / "none.txt")})
    with pytest.raises(PreflightError, match="cannot read"):
        check_verification(missing)


def test_preflight_refuses_calling_hours_that_never_open() -> None:
    today = date.today()
    every_day = [today + timedelta(days=n) for n in range(420)]  # a year of holidays
    settings = Settings(
        verification=TRUNK | {"weekends": False},
        tickets={"builtin_calendar": False, "holidays": every_day},
    )
    with pytest.raises(PreflightError, match="verification.calling_hours: no calling day"):
        check_verification(settings)
    check_verification(Settings(verification=TRUNK))  # the defaults open
    check_verification(Settings(verification={"enabled": False}))  # off: nothing checked
