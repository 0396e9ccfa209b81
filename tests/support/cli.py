"""Checking what a ``hotline`` command run in a subprocess answered."""

from __future__ import annotations

import subprocess


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """The command refused (exit 2) with a message, not a traceback, that says each
    of ``fragments``."""
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output
    assert "Traceback" not in output, output
    for fragment in fragments:
        assert fragment in output, output
