"""The REST API's OpenAPI tells the truth: Schemathesis (every check, every
phase, a bounded, seeded number of examples per operation) against the app
served by uvicorn on a loopback port, signed in with an admin's API token, a
throwaway database per test.

The node behind the app is real but without telephony: a hub with agents on
the in-memory bus, the ticket store, the call catalog with one recorded call,
accounts with an admin.  Every documented status code, body and header of
each answer must match what the schema says; a 5xx fails the test.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.served import ServedNode, served_node

# -- running Schemathesis ---------------------------------------------------------

SEED = 12345
MAX_EXAMPLES = 15  # per operation and phase: about 30 s on two cores


@dataclass
class Finding:
    operation: str
    check: str
    title: str
    message: str
    reproduce: str

    def __str__(self) -> str:
        return f"{self.operation} [{self.check}] {self.title}: {self.message}\n    {self.reproduce}"


@dataclass
class Run:
    cases: int = 0
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    answers: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))


def run_schemathesis(node: ServedNode, token: str) -> Run:
    """Every phase (examples, coverage, fuzzing, stateful) and every check, seeded,
    two workers, no example database (each run starts from the seed alone).  Half
    the ticket numbers and call ids are the fixture's, so that operations on one
    get past 404."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import events, from_schema

    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 2,
            "dictionaries": {
                "tickets": {"values": [node.ticket]},
                "calls": {"values": [node.call_id]},
            },
            "parameters": {
                "path.number": {"dictionary": "tickets", "probability": 0.5},
                "path.call_id": {"dictionary": "calls", "probability": 0.5},
            },
            "headers": {"Authorization": f"Bearer {token}"},
            # An upload valid by the schema may still be the wrong kind of file (checked by
            # its first bytes: 415), too big (413) or empty (422).
            "operations": [
                {
                    "include-path": "/api/tickets/{number}/attachments",
                    "include-method": "POST",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", 401, 403, 404, 409, 413, 415, 422]
                        }
                    },
                }
            ],
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "cache": {"enabled": False},
            "request-timeout": 10,
        }
    )
    config.projects.override.checks.update(included_check_names=["all"])
    schema = schemathesis.openapi.from_url(f"{node.base_url}/openapi.json", config=config)
    run = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            recorder = event.recorder
            run.cases += len(recorder.cases)
            for case_id, interaction in recorder.interactions.items():
                if interaction.response is not None:
                    label = recorder.cases[case_id].value.operation.label
                    run.answers[label][interaction.response.status_code] += 1
            for case_id, checks in recorder.checks.items():
                case = recorder.cases[case_id].value
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        run.findings.append(
                            Finding(
                                case.operation.label,
                                check.name,
                                failure.title,
                                failure.message,
                                check.failure_info.code_sample,
                            )
                        )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            run.errors.append(f"{getattr(event, 'label', '')}: {event.info.format()}")
    return run


def assert_kept_to(run: Run, reached: dict[str, set[int]]) -> None:
    """No failure, no error, and each operation in ``reached`` got one of its
    statuses at least once (the run got past the refusals to the work)."""
    print(f"schemathesis: {run.cases} cases, {len(run.findings)} failures")
    for label, answers in sorted(run.answers.items()):
        print(f"  {label}: {dict(sorted(answers.items()))}")
    assert not run.errors, "\n".join(run.errors)
    assert not run.findings, "\n".join(str(f) for f in run.findings)
    missed = {
        label: codes
        for label, codes in reached.items()
        if not any(run.answers[label][code] for code in codes)
    }
    assert not missed, missed


def test_the_api_keeps_to_its_openapi_for_an_admin(tmp_path: Path) -> None:
    """Everything but the agent's desk is open to an admin."""
    with served_node(tmp_path) as node:
        run = run_schemathesis(node, node.admin_token)
    assert_kept_to(
        run,
        {
            "POST /api/tickets": {201},
            "GET /api/tickets/{number}": {200},
            "POST /api/tickets/{number}/transitions": {200, 409},
            "GET /api/calls": {200},
            "POST /api/calls/{call_id}/score": {201},
            "GET /api/calls/{call_id}/recordings/{leg}": {200},
            "POST /api/wallboard/switches": {200},
            "GET /metrics": {200},
        },
    )
    assert run.cases > 500


def test_the_desk_api_keeps_to_its_openapi_for_an_agent(tmp_path: Path) -> None:
    """The desk's operations answer only an agent (an admin gets 403)."""
    with served_node(tmp_path) as node:
        run = run_schemathesis(node, node.agent_token)
    assert_kept_to(run, {"GET /api/desk": {200}, "POST /api/desk/state": {200}})
    assert run.cases > 500
