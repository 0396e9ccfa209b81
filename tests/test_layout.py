"""The package boundaries of DESIGN.md, checked on the source: which package may
import which, ``pjsua2`` only in the media engine, ``web`` never ``ivr``, every
module of ``ivr`` in a sub-package, no module too long, no test importing a test."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASE = {"sip_config"}
# package → the packages of ours it may import (DESIGN.md, "Packages").
MAY_IMPORT: dict[str, set[str]] = {
    "sip_config": set(),
    "storage": BASE,
    "events": BASE | {"storage"},
    "asr": BASE | {"events"},
    "tts": BASE,
    "recordings": BASE | {"storage"},
    "call_routing": BASE,
    "tickets": BASE | {"storage"},
    "analytics": BASE | {"call_routing"},
    "verification": BASE | {"call_routing", "tickets"},
}
OURS = set(MAY_IMPORT) | {"ivr", "web"}
MAY_IMPORT["web"] = OURS - {"ivr", "web"}
MAY_IMPORT["ivr"] = OURS - {"ivr"}
# Inside ivr: the rooms each room may use (node/ holds what every process shares).
IVR_ROOMS = {"media": {"node"}, "hub": {"node"}, "node": {"hub"}, "peers": {"media", "node"}}
WEB_IN_IVR = ("ivr.hub.main", "ivr.cli.")  # the hub's assembly; the CLI (accounts, schemas)
LONGEST = 800


def modules(*roots: str) -> dict[str, Path]:
    found = {}
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            if "migrations" not in path.parts:
                found[".".join(path.relative_to(REPO).with_suffix("").parts)] = path
    return found


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


CODE = modules(*sorted(OURS & {p.name for p in REPO.iterdir()}))


def test_each_package_imports_only_what_design_allows() -> None:
    wrong = []
    for name, path in CODE.items():
        package, _, rest = name.partition(".")
        for imported in imports(path):
            top = imported.split(".")[0]
            allowed = top in MAY_IMPORT[package] or (top == "web" and name.startswith(WEB_IN_IVR))
            if top in OURS and top != package and not allowed:
                wrong.append(f"{name} imports {imported}")
            room = rest.split(".")[0]
            if package == "ivr" == top and room in IVR_ROOMS:
                other = imported.split(".")[1]
                if other != room and other not in IVR_ROOMS[room]:
                    wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(wrong)


def test_pjsua2_is_imported_only_by_the_media_engine() -> None:
    users = [n for n, p in CODE.items() if any(i.split(".")[0] == "pjsua2" for i in imports(p))]
    assert users == ["ivr.media.engine"]


def test_every_module_of_ivr_lives_in_a_room() -> None:
    loose = [p.name for p in (REPO / "ivr").glob("*.py") if p.name != "__init__.py"]
    assert not loose, f"modules directly under ivr/: {loose}"


def test_no_module_is_too_long() -> None:
    long = {
        name: lines
        for name, path in {**CODE, **modules("tests", "bench", "scripts")}.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LONGEST
    }
    assert not long, f"over {LONGEST} lines (split by concern): {long}"


def test_no_test_imports_another_test_module() -> None:
    wrong = {
        f"{path.name} imports {imported}"
        for path in (REPO / "tests").rglob("*.py")
        for imported in imports(path)
        if imported.startswith("tests.")
        and imported.split(".")[1].startswith("test_")
        and len(imported.split(".")) == 2
    }
    assert not wrong, "\n".join(sorted(wrong))
