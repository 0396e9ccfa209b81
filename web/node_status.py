"""The supervisor's status file of the node (``run/node.json``) as the consoles read
it: the node's parts, and whether the node is shedding load (系统繁忙)."""

from __future__ import annotations

import json
from typing import Any

from sip_config import Settings


def read_node_status(settings: Settings) -> dict[str, Any]:
    """The node's status document; {} before the supervisor wrote one."""
    try:
        found = json.loads((settings.run_dir / "node.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def node_parts(status: dict[str, Any]) -> list[dict[str, Any]]:
    parts = status.get("parts", [])
    return parts if isinstance(parts, list) else []


def system_load(status: dict[str, Any]) -> dict[str, Any]:
    """Whether the SIP front is refusing new calls because the node is saturated
    (``busy``), the share it admits, why, and the calls refused since it started."""
    admission = status.get("admission")
    if not isinstance(admission, dict):
        admission = {}
    refused = admission.get("refused") if isinstance(admission.get("refused"), dict) else {}
    return {
        "busy": admission.get("state") == "shedding",
        "admit_pct": int(admission.get("admit_pct", 100)),
        "reason": str(admission.get("reason", "")),
        "hub_p90_s": admission.get("hub_p90_s"),
        "refused": {str(k): int(v) for k, v in (refused or {}).items()},
        "refused_total": int(admission.get("refused_total", 0)),
    }
