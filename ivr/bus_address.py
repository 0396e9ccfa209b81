"""Where the node's broker is, from the settings."""

from __future__ import annotations

from events.mqtt import BrokerAddress
from sip_config import Settings


def broker_address(settings: Settings) -> BrokerAddress:
    if settings.mqtt.url:
        return BrokerAddress.parse(settings.mqtt.url, settings.mqtt.username, settings.mqtt.password)
    return BrokerAddress("127.0.0.1", settings.mqtt.port)
