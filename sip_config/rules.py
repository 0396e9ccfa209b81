"""Rules a settings value must follow, as plain functions (no pydantic).

:mod:`sip_config.settings` applies them in its validators and
:mod:`sip_config.worker_settings` to what a media worker reads, so both refuse
the same values with the same sentence.  Each returns the value or raises
``ValueError``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from typing import TypeVar

Items = TypeVar("Items", bound=Sequence[str])

NODE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


def ip_address(value: str) -> str:
    ipaddress.ip_address(value)
    return value


def ip_address_or_empty(value: str) -> str:
    return ip_address(value) if value else value


def transfer_uri(value: str) -> str:
    if value and not re.match(r"^sips?:[^@\s]*\{number\}[^@\s]*@[^\s]+$", value):
        raise ValueError("must look like sip:{number}@gateway.example (with {number})")
    return value


def non_empty_unique(value: Items) -> Items:
    if not value:
        raise ValueError("list must not be empty")
    if len(set(value)) != len(value):
        raise ValueError("list must not repeat an entry")
    return value


def mqtt_url(value: str) -> str:
    if value and not re.match(r"^mqtts?://[^/:]+(:\d+)?/?$", value):
        raise ValueError("must look like mqtt://host:1883 or mqtts://host:8883")
    return value
