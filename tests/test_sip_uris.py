"""sip_config.sip_uris: the URI the node dials for a number."""

from __future__ import annotations

import pytest

from sip_config.sip_uris import number_uri


def test_the_template_gets_the_number() -> None:
    assert number_uri("119", "sip:{number}@gw.example:5060", "", "sip.transfer_uri") == (
        "sip:119@gw.example:5060"
    )


@pytest.mark.parametrize(
    ("remote", "expected"),
    [
        ("<sip:13800138000@192.0.2.1:5060>", "sip:110@192.0.2.1:5060"),
        ("<sip:13800138000@192.0.2.1;transport=udp>", "sip:110@192.0.2.1"),
        ("sip:13800138000@carrier.example", "sip:110@carrier.example"),
    ],
)
def test_without_a_template_the_callers_gateway_is_used(remote: str, expected: str) -> None:
    assert number_uri("110", "", remote, "sip.transfer_uri") == expected


def test_no_template_and_no_gateway_names_the_setting() -> None:
    with pytest.raises(ValueError, match="acd.trunk_uri"):
        number_uri("13800138000", "", "", "acd.trunk_uri")


@pytest.mark.parametrize("number", ["", "abc", "138 0013", "sip:1@x"])
def test_only_dialable_numbers(number: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        number_uri(number, "sip:{number}@gw", "", "acd.trunk_uri")
