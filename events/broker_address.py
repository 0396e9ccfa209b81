"""Where the node's broker is, from the settings."""

from __future__ import annotations

from events.mqtt import BrokerAddress
from sip_config import Settings


def broker_address(settings: Settings) -> BrokerAddress:
    if settings.mqtt.url:
        mqtt = settings.mqtt
        return BrokerAddress.parse(
            mqtt.url,
            mqtt.username,
            mqtt.password,
            tls=mqtt.tls or mqtt.url.startswith("mqtts://"),
            ca_file=str(mqtt.ca_file or ""),
        )
    return BrokerAddress("127.0.0.1", settings.mqtt.port)
