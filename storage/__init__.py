"""Shared SQL plumbing for the hub's stores (tickets, call catalog, accounts,
event outbox): one engine set-up for SQLite and PostgreSQL, one migration runner.
Like ``sip_config``, every package may import it; it imports none of ours."""
