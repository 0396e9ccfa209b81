"""The supervisor's retained status document of the whole node."""

from __future__ import annotations

from events import messages as m
from events import topics
from events.contract.model import Delivery, EventSpec
from events.contract.model import field as _f

STATUS = EventSpec(
    m.NODE_STATUS,
    (topics.node_status(),),
    "supervisor",
    Delivery.RETAINED,
    "The node: its parts, their state and restarts.",
    (
        _f("node", "string", "node name"),
        _f("state", "string", "starting, ready, stopping"),
        _f("pid", "integer", "the supervisor's process id"),
        _f("sip", "string", "the node's SIP address"),
        _f("numbers", "array", "numbers it answers"),
        _f("broker", "string", "host:port of the broker"),
        _f("data_dir", "string", "the data directory"),
        _f("parts", "array", "[{name, state, pid, restarts, since, last_exit}]"),
        _f("updated", "number", "Unix time of this status"),
        _f(
            "admission",
            "object",
            "{state (open, shedding), admit_pct (share of new calls let in), reason, "
            "hub_p90_s (answers), hub_lag_p90_s (call events), cpu (0-1), "
            "refused: {rate, load, hub_slow, full}, refused_total}",
            required=False,
        ),
    ),
    {
        "node": "gz-1",
        "state": "ready",
        "pid": 4000,
        "sip": "0.0.0.0:5060",
        "numbers": ["12345"],
        "broker": "127.0.0.1:1883",
        "data_dir": "/var/lib/hotline",
        "parts": [
            {
                "name": "hub",
                "state": "running",
                "pid": 4300,
                "restarts": 0,
                "since": 1774570000.0,
                "last_exit": None,
            }
        ],
        "updated": 1774577702.0,
        "admission": {
            "state": "open",
            "admit_pct": 100,
            "hub_p90_s": 0.08,
            "cpu": 0.62,
            "refused": {"rate": 0, "load": 0, "hub_slow": 0, "full": 2},
            "refused_total": 2,
        },
    },
)
