"""SIP URIs the node dials for a phone number: pure functions."""

from __future__ import annotations


def number_uri(number: str, template: str, remote_uri: str, setting: str) -> str:
    """``template`` with ``{number}`` filled in (e.g. ``sip.transfer_uri``,
    ``acd.trunk_uri``), or, with no template, ``sip:{number}@`` the host the
    caller's call came from (their carrier's gateway).  ``ValueError`` names the
    ``setting`` to configure when neither is known."""
    if not number or not all(c.isdigit() or c in "+*#" for c in number):
        raise ValueError(f"not a number to dial: {number!r}")
    if template:
        return template.replace("{number}", number)
    host = remote_uri.split("@", 1)[-1].split(";", 1)[0].rstrip(">") if "@" in remote_uri else ""
    if not host:
        raise ValueError(f"no {setting} and no gateway the caller came from to dial through")
    return f"sip:{number}@{host}"


def front_address(listen: str, port: int, advertised_address: str = "") -> str:
    """host:port of the node's Kamailio as its media workers and phones reach it:
    where agents register and what every call a worker places goes through."""
    host = advertised_address or listen
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    return f"{host}:{port}"
