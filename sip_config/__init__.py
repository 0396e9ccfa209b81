"""Settings schema, validation with clear errors, and Kamailio configuration."""

from sip_config.loading import ConfigError, load_settings
from sip_config.settings import Settings

__all__ = ["ConfigError", "Settings", "load_settings"]
