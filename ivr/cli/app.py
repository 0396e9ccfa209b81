"""The ``hotline`` command line: one Typer app, one module per command group."""

from __future__ import annotations

import sys

import typer

from ivr.cli.agents import agents_app
from ivr.cli.asr import asr_app
from ivr.cli.departments import departments_app
from ivr.cli.hotspots import hotspots_app
from ivr.cli.models import models_app
from ivr.cli.nlu import nlu_app, route
from ivr.cli.phone import phone
from ivr.cli.prompts import prompts_app, tts_app
from ivr.cli.qa import qa_app
from ivr.cli.replies import replies_app
from ivr.cli.report import report_app
from ivr.cli.serve import config_app, events_app, serve, status
from ivr.cli.simulate import simulate_command
from ivr.cli.staffing import capacity_command, staffing_command
from ivr.cli.tickets import tickets_app
from ivr.cli.users import users_app
from ivr.cli.verification import verification_app

app = typer.Typer(help="12345 hotline node: SIP front, media workers, hub.", no_args_is_help=True)
app.command()(serve)
app.command()(status)
app.add_typer(config_app, name="config")
app.add_typer(events_app, name="events")
app.command()(phone)
app.add_typer(asr_app, name="asr")
app.add_typer(models_app, name="models")
app.add_typer(tts_app, name="tts")
app.add_typer(prompts_app, name="prompts")
app.add_typer(tickets_app, name="tickets")
app.add_typer(departments_app, name="departments")
app.add_typer(nlu_app, name="nlu")
app.add_typer(agents_app, name="agents")
app.add_typer(users_app, name="users")
app.add_typer(qa_app, name="qa")
app.add_typer(replies_app, name="replies")
app.add_typer(report_app, name="report")
app.add_typer(verification_app, name="verification")
app.add_typer(hotspots_app, name="hotspots")
app.command("route")(route)
app.command("staffing")(staffing_command)
app.command("capacity")(capacity_command)
app.command("simulate")(simulate_command)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
