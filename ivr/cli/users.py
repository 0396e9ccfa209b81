"""``hotline users``: the consoles' accounts — add, passwd, disable, enable, list,
and API tokens for integrations (token, tokens, revoke-token).

They live in the node's database (``tickets.database_url``; SQLite under the
data directory by default), so the commands work with the node running or not.
Every change is written to the audit log as ``cli:<login name>``.  Refusals
(unknown user, name taken, weak password, unknown agent id) exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from sip_config import Settings
    from web.accounts import Accounts
    from web.audit import Actor

users_app = typer.Typer(
    help="Console accounts: add, passwd, disable, enable, list; API tokens.",
    no_args_is_help=True,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="TOML settings file.")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="Data directory.")]
NameArg = Annotated[str, typer.Argument(help="The username, e.g. zhangsan.")]
PasswordOpt = Annotated[
    str | None,
    typer.Option(
        "--password", help="The password (at least 8 characters); asked for when omitted."
    ),
]
GenerateOpt = Annotated[
    bool, typer.Option("--generate", help="Make up a random password and print it once.")
]
MustChangeOpt = Annotated[
    bool,
    typer.Option(
        "--must-change/--no-must-change",
        help="A one-time password: the consoles admit the user only to the password "
        "page until they choose their own (API tokens are not affected).",
    ),
]

_ROLES = (
    "agent",
    "supervisor",
    "qa",
    "admin",
    "department_handler",
    "department_reviewer",
    "verifier",
)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(2)


def _open(config: Path | None, data_dir: Path | None) -> tuple[Accounts, Settings]:
    """The node's accounts (migrated on open) and its settings, or exit 2 saying why."""
    from ivr.cli import common  # the node's settings, loaded the way every command does
    from tickets.store import StoreError
    from web.accounts import Accounts

    settings = common.node_settings(config, **{"node.data_dir": data_dir})
    try:
        return Accounts.from_settings(settings), settings
    except StoreError as exc:
        raise _fail(str(exc)) from None


def _password(given: str | None, generate: bool) -> tuple[str, bool]:
    """The password to set, and whether it was made up (and must be printed)."""
    from web.accounts.credentials import generate_password

    if given is not None:
        return given, False
    if not generate and sys.stdin.isatty():
        entered = typer.prompt("密码 (password)", hide_input=True, confirmation_prompt=True)
        return entered, False
    return generate_password(), True


def _department_id(settings: Settings, given: str) -> str:
    """The directory id of the department named ``given`` (id, name or alias), or exit 2."""
    if not given.strip():
        return ""
    from tickets.departments import DirectoryError, UnknownDepartment, load_directory

    try:
        return load_directory(settings.tickets.departments).get(given.strip()).id
    except DirectoryError as exc:
        raise _fail(f"tickets.departments: {exc}") from None
    except UnknownDepartment as exc:
        raise _fail(f"--department {given}: {exc}") from None


def _actor() -> Actor:
    from web.audit import Actor

    return Actor.cli()


@users_app.command("add")
def add(
    name: NameArg,
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="agent, supervisor, qa, admin, department_handler (承办单位经办人), "
            "department_reviewer (承办单位审核人) or verifier (回访员).",
        ),
    ],
    agent_id: Annotated[
        str,
        typer.Option(
            "--agent-id",
            help="For agents: the SIP user id of their [[agents]]; for a verifier "
            "(optional): the softphone their 回访 calls ring first.",
        ),
    ] = "",
    department: Annotated[
        str,
        typer.Option(
            "--department",
            help="For department roles: the department's id or name in tickets.departments "
            "(hotline departments list).",
        ),
    ] = "",
    display_name: Annotated[
        str, typer.Option("--display-name", help="The name the consoles show, e.g. 张三.")
    ] = "",
    password: PasswordOpt = None,
    generate: GenerateOpt = False,
    must_change: MustChangeOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Add a user.  Without --password the password is asked for on a terminal, or
    made up and printed once (also with --generate).  With --must-change the user
    must choose a new password at their first sign-in."""
    from web.accounts import AccountError

    if role not in _ROLES:
        raise _fail(f"--role {role}: choose one of {', '.join(_ROLES)}")
    accounts, settings = _open(config, data_dir)
    with accounts:
        known = [agent.id for agent in settings.agents]
        if role in ("agent", "verifier") and agent_id and known and agent_id not in known:
            raise _fail(
                f"--agent-id {agent_id} is not in [[agents]] (known: {', '.join(known)}); "
                "use the id the agent's softphone registers with"
            )
        department = _department_id(settings, department)
        secret, made_up = _password(password, generate)
        try:
            user = accounts.add_user(
                name,
                role,
                secret,
                display_name=display_name,
                agent_id=agent_id,
                department=department,
                must_change=must_change,
                actor=_actor(),
            )
        except AccountError as exc:
            raise _fail(str(exc)) from None
    agent = f", agent {user.agent_id}" if user.agent_id else ""
    agent += f", department {user.department}" if user.department else ""
    then = ", must change the password at sign-in" if user.must_change_password else ""
    console.print(escape(f"added {user.username} ({user.role}{agent}){then}"), highlight=False)
    if made_up:
        console.print(escape(f"password: {secret}  (shown once)"), highlight=False)


@users_app.command("passwd")
def passwd(
    name: NameArg,
    password: PasswordOpt = None,
    generate: GenerateOpt = False,
    must_change: MustChangeOpt = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Set a user's password; lifts a lockout and signs them out everywhere.  With
    --must-change they must choose a new one at their next sign-in."""
    from web.accounts import AccountError

    accounts, _ = _open(config, data_dir)
    with accounts:
        try:
            accounts.get_user(name)
            secret, made_up = _password(password, generate)
            accounts.set_password(name, secret, must_change=must_change, actor=_actor())
        except AccountError as exc:
            raise _fail(str(exc)) from None
    then = "; to be changed at the next sign-in" if must_change else ""
    console.print(
        escape(f"password of {name} changed; their sessions ended{then}"), highlight=False
    )
    if made_up:
        console.print(escape(f"password: {secret}  (shown once)"), highlight=False)


def _set_disabled(name: str, disabled: bool, config: Path | None, data_dir: Path | None) -> None:
    from web.accounts import AccountError

    accounts, _ = _open(config, data_dir)
    with accounts:
        try:
            accounts.set_disabled(name, disabled, actor=_actor())
        except AccountError as exc:
            raise _fail(str(exc)) from None


@users_app.command("disable")
def disable(name: NameArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Disable a user: signed out at once, refused at login, API tokens refused."""
    _set_disabled(name, True, config, data_dir)
    console.print(escape(f"{name} disabled"), highlight=False)


@users_app.command("enable")
def enable(name: NameArg, config: ConfigOpt = None, data_dir: DataDirOpt = None) -> None:
    """Enable a disabled user again."""
    _set_disabled(name, False, config, data_dir)
    console.print(escape(f"{name} enabled"), highlight=False)


@users_app.command("list")
def list_users(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array.")] = False,
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Users with role, agent id and state (disabled, locked until, must change the
    password)."""
    accounts, _ = _open(config, data_dir)
    with accounts:
        users = accounts.users()
        now = accounts.clock()
    if as_json:
        rows = [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role.value,
                "agent_id": u.agent_id,
                "department": u.department,
                "disabled": u.disabled,
                "must_change_password": u.must_change_password,
                "locked_until": u.locked_until.isoformat() if u.locked_until else None,
                "created_at": u.created_at.isoformat(),
            }
            for u in users
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table("username", "name", "role", "agent / department", "state")
    for u in users:
        state = "disabled" if u.disabled else "active"
        if u.locked_until is not None and u.locked_until > now:
            state += f", locked until {u.locked_until:%Y-%m-%d %H:%M} UTC"
        if u.must_change_password:
            state += ", must change password"
        table.add_row(u.username, u.display_name, u.role.value, u.agent_id or u.department, state)
    console.print(table)


@users_app.command("token")
def token(
    name: NameArg,
    label: Annotated[str, typer.Option("--label", help="What the token is for.")] = "",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Create an API token for NAME (sent as ``Authorization: Bearer …``); it is
    printed once and stored only as a hash."""
    from web.accounts import AccountError

    accounts, _ = _open(config, data_dir)
    with accounts:
        try:
            record, secret = accounts.create_token(name, label, actor=_actor())
        except AccountError as exc:
            raise _fail(str(exc)) from None
    err.print(
        escape(
            f"token {record.id} for {name} (shown once; revoke with `revoke-token {record.id}`)"
        ),
        highlight=False,
    )
    print(secret)


@users_app.command("tokens")
def tokens(
    name: Annotated[str, typer.Argument(help="Only this user's tokens.")] = "",
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """API tokens: id, user, label, created, last used, revoked."""
    accounts, _ = _open(config, data_dir)
    with accounts:
        found = accounts.tokens(name)
    table = Table("id", "user", "label", "created", "last used", "revoked")

    def when(value: object) -> str:
        return f"{value:%Y-%m-%d %H:%M}" if value is not None else ""

    for t in found:
        table.add_row(
            str(t.id),
            t.username,
            t.label,
            when(t.created_at),
            when(t.last_used_at),
            when(t.revoked_at),
        )
    console.print(table)


@users_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Argument(help="The token's id (see `tokens`).")],
    config: ConfigOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke an API token: refused from the next request on."""
    from web.accounts import AccountError

    accounts, _ = _open(config, data_dir)
    with accounts:
        try:
            record = accounts.revoke_token(token_id, actor=_actor())
        except AccountError as exc:
            raise _fail(str(exc)) from None
    console.print(escape(f"token {record.id} of {record.username} revoked"), highlight=False)
