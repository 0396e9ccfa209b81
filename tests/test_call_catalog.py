"""recordings.catalog on SQLite and PostgreSQL, from call directories written in
tmp_path with the real manifest, stereo and transcript writers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from recordings import manifest as mf
from recordings.catalog import (
    MIGRATIONS,
    VERSION_TABLE,
    CallCatalog,
    CallQuery,
    RecordingRefused,
    UnknownCall,
    upgrade_database,
)
from recordings.layout import call_dir
from recordings.transcript import write_transcript
from tests.support.calls import T0, make_call, wav_bytes
from tickets.store import TicketStore, make_engine


@pytest.fixture
def catalog(url: str) -> Iterator[CallCatalog]:
    with CallCatalog(url, clock=lambda: T0) as opened:
        yield opened


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


def test_migrations_make_own_tables_beside_the_tickets_and_go_back(url: str) -> None:
    TicketStore(url).close()
    engine = make_engine(url)
    try:
        upgrade_database(url)
        tables = set(inspect(engine).get_table_names())
        assert {"calls", "qa_scores", VERSION_TABLE, "tickets_alembic_version"} <= tables
        assert "tickets" in tables
        upgrade_database(url)  # idempotent
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        tables = set(inspect(engine).get_table_names())
        assert "calls" not in tables and "qa_scores" not in tables
        assert "tickets" in tables  # the ticket schema is left alone
    finally:
        engine.dispose()


def test_a_call_is_catalogued_from_its_manifest_and_transcript(
    catalog: CallCatalog, root: Path
) -> None:
    directory = make_call(
        root, "call-a", ticket="GD12345-20261102-000001", emergency="119", seconds=4.0
    )
    call = catalog.add_from_directory(directory, root)
    assert call == catalog.get("call-a")
    assert call.started_at == T0
    assert call.duration_s == 4.0
    assert (call.caller, call.agent_id, call.seat_group) == ("13800138000", "1001", "综合")
    assert (call.domain, call.request_type, call.emergency) == ("城市管理", "投诉", "119")
    assert call.ticket == "GD12345-20261102-000001"
    assert call.directory == "2026/11/02/call-a"
    assert call.status == mf.COMPLETE
    assert call.legs == ("caller", "played", "agent", "qa")
    assert call.rating is None and call.qa_total is None
    json.dumps(call.as_dict(), ensure_ascii=False)


def test_adding_again_updates_and_keeps_rating_and_scores(catalog: CallCatalog, root: Path) -> None:
    directory = make_call(root, "call-a", ticket="T-1", transcript=False)
    first = catalog.add_from_directory(directory, root)
    assert (first.domain, first.request_type, first.emergency) == ("", "", None)
    assert catalog.set_rating("T-1", "满意") == 1
    catalog.save_score("call-a", {"开场规范": 8}, "", "qa1")
    write_transcript(
        directory,
        {"understanding": {"domain": "交通运输", "request_type": "咨询"}, "seat_group": "交通"},
    )
    again = catalog.add_from_directory(directory, root)
    assert (again.domain, again.request_type, again.seat_group) == ("交通运输", "咨询", "交通")
    assert again.rating == "满意" and again.qa_total == 8
    assert catalog.count() == 1


def test_a_directory_outside_the_root_is_refused(catalog: CallCatalog, tmp_path: Path) -> None:
    elsewhere = make_call(tmp_path / "elsewhere", "call-x")
    with pytest.raises(ValueError, match="not under the recordings root"):
        catalog.add_from_directory(elsewhere, tmp_path / "recordings")


def test_filters(catalog: CallCatalog, root: Path) -> None:
    specs = [
        ("c1", dict(agent="1001", seat_group="综合", domain="城市管理", request_type="投诉")),
        ("c2", dict(agent="1002", seat_group="交通", domain="交通运输", request_type="咨询")),
        ("c3", dict(agent="1001", seat_group="综合", domain="城市管理", emergency="110")),
        ("c4", dict(agent="1002", seat_group="交通", domain="交通运输", seconds=8.0)),
    ]
    for number, (call_id, options) in enumerate(specs):
        started = T0 + timedelta(hours=number)
        directory = make_call(root, call_id, started, ticket=f"T-{call_id}", **options)  # type: ignore[arg-type]
        catalog.add_from_directory(directory, root)
    catalog.set_rating("T-c2", "不满意")

    def ids(**filters: Any) -> list[str]:
        return [c.call_id for c in catalog.find(CallQuery(**filters))]

    assert ids() == ["c4", "c3", "c2", "c1"]  # newest first
    assert ids(agent_id="1001") == ["c3", "c1"]
    assert ids(seat_group="交通") == ["c4", "c2"]
    assert ids(domain="城市管理", request_type="投诉") == ["c3", "c1"]
    assert ids(request_type="咨询") == ["c2"]
    assert ids(started_from=T0 + timedelta(hours=1), started_before=T0 + timedelta(hours=3)) == [
        "c3",
        "c2",
    ]
    assert ids(emergency=True) == ["c3"]
    assert ids(emergency=False) == ["c4", "c2", "c1"]
    assert ids(min_duration_s=5) == ["c4"]
    assert ids(max_duration_s=5) == ["c3", "c2", "c1"]
    assert ids(rating="不满意") == ["c2"]
    assert ids(rating="未评价") == ["c4", "c3", "c1"]
    assert ids(limit=2, offset=1) == ["c3", "c2"]
    assert catalog.count(CallQuery(agent_id="1002", limit=1)) == 2
    catalog.save_score("c1", {"开场规范": 9}, "", "qa1")
    assert ids(scored=True) == ["c1"]
    assert catalog.choices()["agent_id"] == ["1001", "1002"]
    assert catalog.choices()["domain"] == ["交通运输", "城市管理"]


def test_reindex_finds_calls_recorded_while_the_hub_was_down(
    catalog: CallCatalog, root: Path
) -> None:
    for number in range(3):
        make_call(root, f"call-{number}", T0 + timedelta(days=number))
    busy = call_dir(root, "call-live", T0)
    mf.write(busy, mf.Manifest("call-live", "x", "n", "w1", "1", "12345", T0.isoformat(), 8000, []))
    broken = call_dir(root, "call-broken", T0)
    broken.mkdir(parents=True)
    (broken / "manifest.json").write_text("{not json")
    seen: list[tuple[int, int]] = []
    result = catalog.reindex(root, progress=lambda done, total: seen.append((done, total)))
    assert (result.added, result.skipped) == (3, 1)
    assert len(result.failed) == 1 and "call-broken" in result.failed[0]
    assert seen[-1] == (5, 5) and len(seen) == 5
    assert catalog.count() == 3
    again = catalog.reindex(root, skip_known=True)
    assert (again.added, again.skipped) == (0, 4)


def test_scores_are_kept_newest_first_and_validated(catalog: CallCatalog, root: Path) -> None:
    catalog.add_from_directory(make_call(root, "call-a"), root)
    first = catalog.save_score("call-a", {"开场规范": 8, "倾听理解": 7.5}, " 语气好 ", "qa1", at=T0)
    assert (first.total, first.comment, first.scored_by) == (15.5, "语气好", "qa1")
    second = catalog.save_score("call-a", {"开场规范": 10}, "", "qa2", at=T0 + timedelta(1))
    assert [s.id for s in catalog.scores("call-a")] == [second.id, first.id]
    assert catalog.get("call-a").qa_total == 10
    for bad in ({}, {"开场规范": 11}, {"开场规范": -1}, {"开场规范": float("nan")}, {" ": 1}):
        with pytest.raises(ValueError):
            catalog.save_score("call-a", bad, "", "qa1")
    with pytest.raises(UnknownCall):
        catalog.save_score("nope", {"开场规范": 1}, "", "qa1")
    with pytest.raises(UnknownCall):
        catalog.get("nope")


def test_integrity_of_an_intact_and_a_tampered_call(catalog: CallCatalog, root: Path) -> None:
    catalog.add_from_directory(make_call(root, "intact"), root)
    tampered = make_call(root, "tampered")
    catalog.add_from_directory(tampered, root)
    data = bytearray((tampered / "agent.wav").read_bytes())
    data[-1] ^= 0xFF
    (tampered / "agent.wav").write_bytes(bytes(data))
    good = catalog.integrity("intact", root)
    assert good.ok and good.chained is True and good.problems == ()
    assert mf.verify(tampered) == ["agent.wav: SHA-256 does not match the manifest"]
    bad = catalog.integrity("tampered", root)
    assert not bad.ok
    assert bad.problems == ("agent.wav: SHA-256 does not match the manifest",)
    assert [g.leg for g in bad.legs if g.problem] == ["agent"]
    assert bad.as_dict()["ok"] is False


def test_an_edited_manifest_breaks_the_chain(catalog: CallCatalog, root: Path) -> None:
    directory = make_call(root, "call-a")
    catalog.add_from_directory(directory, root)
    manifest = mf.read(directory)
    manifest.agent = "9999"
    mf.write(directory, manifest)
    integrity = catalog.integrity("call-a", root)
    assert integrity.chained is False and not integrity.ok


def test_leg_paths_come_only_from_the_manifest(
    catalog: CallCatalog, root: Path, tmp_path: Path
) -> None:
    directory = make_call(root, "call-a")
    catalog.add_from_directory(directory, root)
    assert catalog.leg_path("call-a", "qa", root) == (directory / "qa.wav").resolve()
    for leg in ("../manifest", "manifest", "qa.wav", "/etc/passwd", ""):
        with pytest.raises(RecordingRefused):
            catalog.leg_path("call-a", leg, root)
    secret = tmp_path / "secret.wav"
    secret.write_bytes(wav_bytes(0.1))
    (directory / "agent.wav").unlink()
    (directory / "agent.wav").symlink_to(secret)
    manifest = mf.read(directory)
    manifest.legs[0].file = "../../../../../secret.wav"
    manifest.legs[1].file = str(secret)
    mf.write(directory, manifest)
    for leg in ("caller", "played", "agent"):
        with pytest.raises(RecordingRefused):
            catalog.leg_path("call-a", leg, root)
    with pytest.raises(UnknownCall):
        catalog.leg_path("other", "qa", root)


def test_hotline_qa_reindex_indexes_the_recordings_folder(tmp_path: Path) -> None:
    import json
    import subprocess

    from tests.support.nodes import HOTLINE

    data = tmp_path / "data"
    make_call(data / "recordings", "c1")
    make_call(data / "recordings", "c2", caller="13912345678")
    result = subprocess.run(
        [str(HOTLINE), "qa", "reindex", "--data-dir", str(data), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"added": 2, "skipped": 0, "failed": []}
    again = subprocess.run(
        [str(HOTLINE), "qa", "reindex", "--data-dir", str(data), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert json.loads(again.stdout)["skipped"] == 2
