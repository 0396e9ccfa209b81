"""Shared fixtures: one real node for the call tests, and a factory for nodes
that tests break on purpose (kill -9, SIGTERM, overload).

Every test that uses one of these node fixtures is marked ``node`` here, so
``pytest -m "not node"`` (the fast lane) leaves it out; modules that start nodes
(or Kamailio) themselves say ``pytestmark = pytest.mark.node``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.nodes import Node, start_node
from tests.support.postgres import PostgresServer, start_postgres

# A terminal size inherited from whoever started the run (pytest-xdist's workers get
# 80×24) would be frozen into the CLI's consoles when they are imported; without it
# they follow COLUMNS as each test sets it.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

# Chromium and a page per fresh context, for the console tests.
pytest_plugins = ["tests.support.browser"]

NODE_FIXTURES = ("node", "node_factory")  # defined below; a module may reuse a name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``node`` every test whose fixtures include a real node from this file."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        for name in NODE_FIXTURES:
            definitions = info.name2fixturedefs.get(name, ())
            if name in info.names_closure and definitions and _is_ours(definitions[-1]):
                item.add_marker(pytest.mark.node)
                break


def _is_ours(definition: pytest.FixtureDef) -> bool:
    return Path(definition.func.__code__.co_filename).resolve() == Path(__file__).resolve()


@pytest.fixture(scope="session")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    """A node with enough workers (14 × 4 legs) for 50 concurrent calls."""
    started = start_node(tmp_path_factory.mktemp("shared-node"), workers=14)
    yield started
    started.stop()


@pytest.fixture
def node_factory(tmp_path: Path) -> Iterator:
    nodes: list[Node] = []

    def make(name: str = "node", **options) -> Node:
        made = start_node(tmp_path / name, **options)
        nodes.append(made)
        return made

    yield make
    for made in nodes:
        made.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole run (Debian's binaries)."""
    try:
        server = start_postgres()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database for a store test, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'tickets.db'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
