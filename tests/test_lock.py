"""What is installed is what was locked: every package, transitive ones too."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
UNLOCKED = {"hotline-node", "pip"}  # the project itself; pip is pinned by the setup script


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    found = list(project["project"]["dependencies"])
    for extra in project["project"]["optional-dependencies"].values():
        found += extra
    return [Requirement(r) for r in found + project["build-system"]["requires"]]


def test_every_declared_dependency_is_pinned_and_locked_at_that_version() -> None:
    locked = _locked()
    for requirement in _declared():
        specs = list(requirement.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{requirement} is not pinned"
        assert locked.get(canonicalize_name(requirement.name)) == specs[0].version, (
            f"{requirement} differs from constraints.txt: run bash scripts/lock.sh"
        )


def test_the_environment_holds_exactly_the_locked_versions() -> None:
    locked = _locked()
    for dist in metadata.distributions():
        name = canonicalize_name(dist.metadata["Name"])
        if name in UNLOCKED or name == "setuptools":
            continue
        assert name in locked, f"{name} is installed but not in constraints.txt"
        assert locked[name] == dist.version, (
            f"{name} {dist.version} is installed, constraints.txt says {locked[name]}: "
            "re-run bash scripts/bootstrap.sh setup (or scripts/lock.sh after a change)"
        )


def test_the_setup_installs_with_the_constraints_and_a_pinned_pip() -> None:
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "-c constraints.txt" in bootstrap
    assert re.search(r"^PIP_VERSION=\d+(\.\d+)+$", bootstrap, re.MULTILINE)
    assert "--upgrade pip" not in bootstrap
