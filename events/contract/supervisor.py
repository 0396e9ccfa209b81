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
    },
)
