"""sip_config.sip_uris: the URI the node dials for a number."""

from __future__ import annotations

import pytest

from ivr.media.engine_support import via_proxy
from sip_config.sip_uris import front_address, number_uri


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


@pytest.mark.parametrize(
    ("listen", "advertised", "expected"),
    [
        ("127.0.0.1", "", "127.0.0.1:5060"),
        ("0.0.0.0", "", "127.0.0.1:5060"),  # the workers share its host
        ("0.0.0.0", "198.51.100.7", "198.51.100.7:5060"),
        ("10.0.0.5", "198.51.100.7", "198.51.100.7:5060"),
    ],
)
def test_the_front_address_is_where_workers_and_phones_reach_kamailio(
    listen: str, advertised: str, expected: str
) -> None:
    assert front_address(listen, 5060, advertised) == expected


@pytest.mark.parametrize(
    ("uri", "proxied"),
    [
        ("sip:13800138000@gw.example:5060", True),  # a citizen, through the trunk
        ("sip:agent7@127.0.0.1:5060", False),  # an agent registered at Kamailio itself
        ("<sip:agent7@127.0.0.1:5060;transport=udp>", False),
        ("sip:agent7@127.0.0.1:5070", True),  # an agent's fixed phone elsewhere
        ("sip:127.0.0.1:5060", False),
    ],
)
def test_every_call_a_worker_places_goes_through_kamailio_unless_addressed_to_it(
    uri: str, proxied: bool
) -> None:
    assert via_proxy(uri, "127.0.0.1:5060") is proxied
    assert via_proxy(uri, "") is False  # no proxy configured (a softphone)
