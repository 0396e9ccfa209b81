"""Where the node's broker is, from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from events.mqtt import BrokerAddress

if TYPE_CHECKING:  # annotations only: a media worker runs without pydantic
    from sip_config.settings import Settings
    from sip_config.worker_settings import WorkerSettings


def broker_address(settings: Settings | WorkerSettings) -> BrokerAddress:
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
