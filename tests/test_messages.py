"""events.messages (encode/decode) and events.topics (names, wildcard matching)."""

from __future__ import annotations

import json

import pytest

from events import messages as m
from events import topics
from events.messages import SCHEMA, Message, decode, encode


def payload(**fields: object) -> bytes:
    raw: dict[str, object] = {
        "type": m.CALL_OFFERED,
        "id": "0123abcd",
        "ts": 1700000000.5,
        "node": "node1",
        "schema": SCHEMA,
        "data": {"call_id": "c1"},
    }
    raw.update(fields)
    return json.dumps(raw).encode()


def without(key: str) -> bytes:
    raw = json.loads(payload())
    del raw[key]
    return json.dumps(raw).encode()


# ---- messages ------------------------------------------------------------------------------


def test_round_trip_keeps_every_field_and_chinese_text() -> None:
    message = Message(
        m.SPEECH_ENDED,
        {"call_id": "c-42", "text": "我家门口的路灯坏了三天了", "speech_ms": 2300, "final": True},
        node="广州-1",
        ts=1700000123.456789,
    )

    decoded = decode(encode(message))

    assert decoded == message
    assert decoded.call_id == "c-42"


def test_encoding_is_compact_utf8_not_escaped() -> None:
    encoded = encode(Message(m.DTMF, {"note": "转人工"}, id="x", ts=1.0))

    assert "转人工".encode() in encoded
    assert b"\\u" not in encoded
    assert b": " not in encoded and b", " not in encoded


def test_encoded_payload_has_the_documented_fields() -> None:
    message = Message(m.PLAY, {"call_id": "c1", "prompt": "greeting"}, node="n")

    raw = json.loads(encode(message))

    assert set(raw) == {"type", "id", "ts", "node", "schema", "data"}
    assert raw["schema"] == SCHEMA
    assert raw["data"] == {"call_id": "c1", "prompt": "greeting"}


def test_new_messages_get_distinct_ids() -> None:
    assert Message(m.ANSWER).id != Message(m.ANSWER).id


def test_call_id_is_empty_without_one() -> None:
    assert Message(m.WORKER_STATUS, {"worker": "w1"}).call_id == ""


def test_decode_accepts_integer_ts_and_missing_schema_and_node() -> None:
    raw = json.loads(payload(ts=1700000000))
    del raw["schema"], raw["node"]

    decoded = decode(json.dumps(raw).encode())

    assert decoded.ts == 1700000000.0
    assert isinstance(decoded.ts, float)
    assert decoded.schema == SCHEMA
    assert decoded.node == ""


def test_decode_accepts_an_older_schema() -> None:
    assert decode(payload(schema=0)).schema == 0


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"\xff\xfe{}", b'{"type": ', b""],
    ids=["text", "not-utf8", "cut-short", "empty"],
)
def test_decode_refuses_what_is_not_json(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not UTF-8 JSON"):
        decode(raw)


@pytest.mark.parametrize("raw", [b"[]", b'"call.offered"', b"42", b"null"])
def test_decode_refuses_what_is_not_an_object(raw: bytes) -> None:
    with pytest.raises(ValueError, match="must be a JSON object"):
        decode(raw)


@pytest.mark.parametrize("key", ["type", "id", "ts", "data"])
def test_decode_refuses_a_missing_field(key: str) -> None:
    with pytest.raises(ValueError, match=f"'{key}' is missing or of the wrong type"):
        decode(without(key))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("type", 7),
        ("id", None),
        ("id", 123),
        ("ts", "yesterday"),
        ("data", ["call_id", "c1"]),
        ("data", "c1"),
    ],
)
def test_decode_refuses_a_field_of_the_wrong_type(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"'{key}' is missing or of the wrong type"):
        decode(payload(**{key: value}))


@pytest.mark.parametrize("schema", [SCHEMA + 1, "1", 1.5])
def test_decode_refuses_a_newer_or_odd_schema(schema: object) -> None:
    with pytest.raises(ValueError, match="newer than this node understands"):
        decode(payload(schema=schema))


def test_commands_are_the_documented_set() -> None:
    documented = {"answer", "reject", "play", "stop_playback", "listen", "stop_listening"}
    assert (
        documented | {"hangup", "transfer", "dial", "callback", "survey_dial", "drain"}
        == m.COMMANDS
    )


# ---- topics ----------------------------------------------------------------------------


def test_topic_names() -> None:
    assert topics.worker_status("w1") == "hotline/v1/workers/w1/status"
    assert topics.worker_commands("w1") == "hotline/v1/workers/w1/commands"
    assert topics.worker_replies("w1") == "hotline/v1/workers/w1/replies"
    assert topics.call_event("c1", m.CALL_ENDED) == "hotline/v1/calls/c1/call.ended"
    assert topics.agent_state("1001") == "hotline/v1/agents/1001/state"
    assert topics.matches(topics.ALL_AGENT_COMMANDS, topics.agent_commands("1001"))
    assert not topics.matches(topics.ALL_AGENT_COMMANDS, topics.agent_state("1001"))
    assert topics.hub_status() == "hotline/v1/hub/status"
    assert topics.node_status() == "hotline/v1/node/status"


def test_subscriptions_match_the_topics_they_are_for() -> None:
    assert topics.matches(topics.ALL_WORKER_STATUS, topics.worker_status("w9"))
    assert topics.matches(topics.ALL_WORKER_REPLIES, topics.worker_replies("w9"))
    assert topics.matches(topics.ALL_CALL_EVENTS, topics.call_event("c1", m.DTMF))
    assert not topics.matches(topics.ALL_WORKER_STATUS, topics.worker_commands("w9"))
    assert not topics.matches(topics.ALL_CALL_EVENTS, topics.worker_status("w9"))
    for topic in (topics.hub_status(), topics.worker_commands("w1"), topics.call_event("c", "x")):
        assert topics.matches(topics.ALL, topic)


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        ("a/b/c", "a/b/c", True),
        ("a/b/c", "a/b/d", False),
        ("a/b/c", "a/b", False),
        ("a/b", "a/b/c", False),
        ("a/+/c", "a/x/c", True),
        ("a/+/c", "a/x/y/c", False),
        ("a/+/c", "a/x", False),
        ("a/+", "a/", True),  # an empty level is a level
        ("+/+", "a/b", True),
        ("+", "a/b", False),
        ("a/#", "a/b/c/d", True),
        ("a/#", "a/b", True),
        ("a/#", "a", True),  # '#' also matches the parent level
        ("a/#", "b/c", False),
        ("#", "anything/at/all", True),
        ("a/+/#", "a/x/y/z", True),
        ("a/+/#", "b/x/y", False),
    ],
)
def test_matches_wildcards(pattern: str, topic: str, expected: bool) -> None:
    assert topics.matches(pattern, topic) is expected
