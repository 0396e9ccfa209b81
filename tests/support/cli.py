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


def hotline_in_process(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``hotline ARGS`` in this process (the same typer app the installed command
    runs, with its exit code, stdout and stderr), without the second or so a new
    interpreter takes to import it.  The node's ``HOTLINE_*`` variables are unset
    but for those in ``env``; an unexpected exception shows as a traceback on stderr,
    as it would from the installed command."""
    import os
    import traceback

    from typer.testing import CliRunner

    from ivr.cli.app import app

    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("HOTLINE_")}
    environment |= env or {}
    result = CliRunner().invoke(app, list(args), env=environment)
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(["hotline", *args], result.exit_code, result.stdout, stderr)
