"""Settings schema, validation with clear errors, and Kamailio configuration.

``Settings`` and ``load_settings`` are loaded on first use: they bring pydantic
(about 8 MB a process), which a media worker, importing ``sip_config.kamailio``
or ``sip_config.worker_settings``, does without.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sip_config.errors import ConfigError

if TYPE_CHECKING:
    from sip_config.loading import load_settings
    from sip_config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from sip_config.settings import Settings

        return Settings
    if name == "load_settings":
        from sip_config.loading import load_settings

        return load_settings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
