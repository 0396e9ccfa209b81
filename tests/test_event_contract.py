"""events.contract: every event the node publishes is documented, its examples
agree with its fields, and docs/events.md is generated from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from events import contract, topics
from events import messages as m
from events.contract.model import json_type
from events.messages import decode, encode

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "events.md"
TYPES = {"string", "integer", "number", "boolean", "object", "array", "null"}


def event_constants() -> dict[str, str]:
    """The type constants of events.messages that are events (not commands)."""
    commands = m.COMMANDS | m.AGENT_COMMANDS
    return {
        name: value
        for name, value in vars(m).items()
        if name.isupper() and isinstance(value, str) and value not in commands
    }


def test_docs_events_md_is_generated_from_the_contract() -> None:
    assert DOC.read_text(encoding="utf-8") == contract.render_markdown(), (
        "docs/events.md is stale: run `python -m events.contract > docs/events.md`"
    )


def test_the_module_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "events.contract"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.stdout.decode("utf-8") == contract.render_markdown()


def test_every_event_type_in_messages_is_in_the_contract() -> None:
    documented = {spec.type for spec in contract.EVENTS}
    missing = {name: value for name, value in event_constants().items() if value not in documented}
    assert not missing, f"add these to events/contract.py: {missing}"
    inbound = {spec.type for spec in contract.AGENT_COMMAND_SPECS}
    assert inbound == set(m.AGENT_COMMANDS)


def test_every_type_published_by_a_literal_is_in_the_contract() -> None:
    """Types the code publishes without a constant (``"callback.gave_up"``)."""
    literals = [
        re.compile(r'Message\(\s*"([a-z_]+\.[a-z_.]+)"'),
        re.compile(r'Publish\(\s*topics\.[a-z_]+\([^()]*\),\s*"([a-z_]+\.[a-z_.]+)"'),
    ]
    found: dict[str, str] = {}
    for folder in ("ivr", "asr", "web", "events"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for literal in literals:
                for match in literal.finditer(source):
                    found.setdefault(match.group(1), str(path.relative_to(ROOT)))
    documented = {spec.type for spec in contract.ALL_SPECS}
    missing = {t: where for t, where in found.items() if t not in documented}
    assert not missing, f"published but not in events/contract.py: {missing}"
    probe = 'Publish(topics.call_event(call_id, "x"), "callback.gave_up", {})'
    assert literals[1].search(probe) and literals[0].search('Message("asr.status", {})')


def test_types_are_unique() -> None:
    seen = [spec.type for spec in contract.ALL_SPECS]
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("spec", contract.ALL_SPECS, ids=lambda s: s.type)
def test_the_example_agrees_with_the_fields(spec: contract.EventSpec) -> None:
    assert contract.example_problems(spec) == []
    names = [f.name for f in spec.fields]
    assert len(names) == len(set(names)), "a field declared twice"
    for field in spec.fields:
        assert set(field.type.split("|")) <= TYPES, f"{field.name}: {field.type}"
        assert field.description
        value = spec.example.get(field.name)
        if field.name in spec.example:
            kinds = set(field.type.split("|"))
            if "number" in kinds:
                kinds.add("integer")
            assert json_type(value) in kinds, (field.name, value)
    payload = contract.example_message(spec)
    message = decode(encode(decode(json.dumps(payload).encode())))
    assert message.type == spec.type and message.data == spec.example
    assert message.schema == contract.CONTRACT_VERSION


@pytest.mark.parametrize("spec", contract.EVENTS, ids=lambda s: s.type)
def test_topics_are_under_the_root_and_reach_the_hubs_subscriptions(
    spec: contract.EventSpec,
) -> None:
    for pattern in spec.topics:
        concrete = re.sub(r"\{[a-z_]+\}", "x1", pattern)
        assert topics.matches(topics.ALL, concrete)
        if "/calls/" in pattern:
            assert topics.matches(topics.ALL_CALL_EVENTS, concrete)
            assert concrete.endswith("/" + spec.type)


def test_durable_and_retained_events() -> None:
    assert {
        m.TICKET_DRAFTED,
        m.TICKET_CHANGED,
        m.CALL_TRANSCRIPT,
        m.CALL_CONNECTED,
        m.CALL_ABANDONED,
        m.CALLBACK_REQUESTED,
        m.CALLBACK_CONNECTED,
        contract.CALLBACK_GAVE_UP,
        m.HOTSPOT_EMERGING,
    } == contract.DURABLE_TYPES
    assert contract.is_durable(m.TICKET_DRAFTED)
    assert not contract.is_durable(m.ASR_PARTIAL)
    assert contract.is_retained(m.AGENT_STATE) and contract.is_retained(contract.QUEUE_STATS)
    assert {m.WORKER_STATUS, m.HUB_STATUS, m.NODE_STATUS} <= contract.RETAINED_TYPES
    assert contract.spec(m.CALL_OFFERED).publisher == "worker"
    with pytest.raises(KeyError):
        contract.spec("no.such.event")


def test_the_document_names_every_event_with_its_example() -> None:
    text = contract.render_markdown()
    for spec in contract.ALL_SPECS:
        assert f"### {spec.type}\n" in text
        assert f'"type": "{spec.type}"' in text
