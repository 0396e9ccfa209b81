"""MQTT topic names (DESIGN.md, "Events and commands").  Pure functions."""

from __future__ import annotations

ROOT = "hotline/v1"


def worker_status(worker: str) -> str:
    return f"{ROOT}/workers/{worker}/status"


def worker_commands(worker: str) -> str:
    return f"{ROOT}/workers/{worker}/commands"


def worker_replies(worker: str) -> str:
    return f"{ROOT}/workers/{worker}/replies"


def call_event(call_id: str, event: str) -> str:
    return f"{ROOT}/calls/{call_id}/{event}"


def ticket_event(number: str, event: str) -> str:
    return f"{ROOT}/tickets/{number}/{event}"


def hotspot_event(event: str) -> str:
    return f"{ROOT}/hotspots/{event}"


def agent_state(agent_id: str) -> str:
    return f"{ROOT}/agents/{agent_id}/state"


def agent_offer(agent_id: str) -> str:
    return f"{ROOT}/agents/{agent_id}/offer"


def agent_commands(agent_id: str) -> str:
    return f"{ROOT}/agents/{agent_id}/commands"


def agent_command_replies(agent_id: str) -> str:
    return f"{ROOT}/agents/{agent_id}/commands/replies"


def queue_stats(group: str) -> str:
    """Retained statistics of one seat group (``events.stats``)."""
    return f"{ROOT}/queues/{group}/stats"


def asr_status(name: str) -> str:
    return f"{ROOT}/asr/{name}/status"


def hub_status() -> str:
    return f"{ROOT}/hub/status"


def node_status() -> str:
    return f"{ROOT}/node/status"


def hub_load() -> str:
    """The hub's load figures, every second (not retained): the supervisor's admission
    control reads them."""
    return f"{ROOT}/hub/load"


def is_call_offer(topic: str) -> bool:
    """A new call offered by a worker: the one event the hub must handle first."""
    return topic.startswith(f"{ROOT}/calls/") and topic.endswith("/call.offered")


ALL = f"{ROOT}/#"
ALL_WORKER_STATUS = f"{ROOT}/workers/+/status"
ALL_WORKER_REPLIES = f"{ROOT}/workers/+/replies"
ALL_CALL_EVENTS = f"{ROOT}/calls/#"
ALL_AGENT_COMMANDS = f"{ROOT}/agents/+/commands"
ALL_AGENT_UPDATES = f"{ROOT}/agents/+/+"  # state and offers (commands too: filtered)
ALL_TICKET_EVENTS = f"{ROOT}/tickets/#"
ALL_QUEUE_STATS = f"{ROOT}/queues/+/stats"
ALL_AGENT_STATES = f"{ROOT}/agents/+/state"
ALL_ASR_STATUS = f"{ROOT}/asr/+/status"
ALL_PART_STATUS = f"{ROOT}/+/+/status"  # one per part: workers/{worker}, asr/{name}
ALL_NODE_WIDE_STATUS = f"{ROOT}/+/status"  # one per node: hub, node


def is_call_topic(topic: str) -> bool:
    """Whether ``topic`` carries a call's event (``calls/{call_id}/{event}``)."""
    return topic.startswith(f"{ROOT}/calls/")


def matches(pattern: str, topic: str) -> bool:
    """MQTT wildcard matching (``+`` one level, ``#`` the rest)."""
    pattern_parts, topic_parts = pattern.split("/"), topic.split("/")
    for index, part in enumerate(pattern_parts):
        if part == "#":
            return True
        if index >= len(topic_parts) or (part != "+" and part != topic_parts[index]):
            return False
    return len(pattern_parts) == len(topic_parts)
