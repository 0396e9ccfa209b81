"""recordings.manifest, recordings.chain and recordings.layout, on real files in tmp_path."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import wave
from datetime import datetime
from pathlib import Path

import pytest

from recordings import manifest as mf
from recordings.chain import GENESIS, append_to_chain, entry_hash, verify_chain
from recordings.layout import CHAIN, MANIFEST, call_dir, leg_file, manifests

STARTED = datetime(2024, 5, 6, 9, 30)


def wav_bytes(frames: int, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<h", i % 3000) for i in range(frames)))
    return buffer.getvalue()


def crash_cut(data: bytes) -> bytes:
    """RIFF and data sizes left at zero, as a writer that died leaves them."""
    cut = bytearray(data)
    struct.pack_into("<I", cut, 4, 0)
    struct.pack_into("<I", cut, 40, 0)
    return bytes(cut)


def new_manifest(call_id: str = "call-1", worker: str = "w1", rate: int = 8000) -> mf.Manifest:
    return mf.Manifest(
        call_id=call_id,
        sip_call_id=f"{call_id}@192.0.2.1",
        node="node1",
        worker=worker,
        caller="13800138000",
        called="12345",
        started_at=STARTED.isoformat(),
        sample_rate=rate,
        legs=[mf.LegRecording("caller", "caller.wav"), mf.LegRecording("played", "played.wav")],
    )


def recorded_call(
    root: Path, call_id: str = "call-1", worker: str = "w1", caller_frames: int = 16000
) -> tuple[Path, mf.Manifest]:
    directory = call_dir(root, call_id, STARTED)
    manifest = new_manifest(call_id, worker)
    mf.write(directory, manifest)
    leg_file(directory, "caller").write_bytes(wav_bytes(caller_frames))
    leg_file(directory, "played").write_bytes(wav_bytes(4000))
    return directory, manifest


def chain_lines(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / CHAIN).read_text().splitlines() if line]


# ---- layout -------------------------------------------------------------------------------


def test_call_dir_is_dated_under_root(tmp_path: Path) -> None:
    assert call_dir(tmp_path, "abc-1.x_2", STARTED) == tmp_path / "2024" / "05" / "06" / "abc-1.x_2"


@pytest.mark.parametrize(
    "unsafe", ["../x", "..", ".hidden", "a/b", "a\\b", "", "/etc", "x" * 129, "call id", "呼叫"]
)
def test_call_dir_refuses_unsafe_call_ids(tmp_path: Path, unsafe: str) -> None:
    with pytest.raises(ValueError, match="unsafe call id"):
        call_dir(tmp_path, unsafe, STARTED)


def test_manifests_are_listed_oldest_day_first(tmp_path: Path) -> None:
    later = call_dir(tmp_path, "b", datetime(2024, 12, 1))
    earlier = call_dir(tmp_path, "a", datetime(2023, 1, 31))
    mf.write(later, new_manifest("b"))
    mf.write(earlier, new_manifest("a"))
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / MANIFEST).write_text("{}")

    assert manifests(tmp_path) == [earlier / MANIFEST, later / MANIFEST]


# ---- manifest files -----------------------------------------------------------------------


def test_manifest_json_round_trip_keeps_chinese(tmp_path: Path) -> None:
    manifest = new_manifest()
    manifest.notes.append("来电者挂断")
    directory = tmp_path / "call"

    path = mf.write(directory, manifest)

    assert "来电者挂断" in path.read_text(encoding="utf-8")
    assert mf.read(directory) == manifest
    assert not list(directory.glob("*.tmp"))  # the temporary file was renamed away


def test_finalise_fills_hashes_and_durations_and_chains(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path, caller_frames=16000)

    result = mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)

    assert result.status == mf.COMPLETE
    assert result.ended_at
    caller, played = result.legs
    caller_bytes = (directory / "caller.wav").read_bytes()
    assert caller.sha256 == hashlib.sha256(caller_bytes).hexdigest()
    assert caller.bytes == len(caller_bytes)
    assert caller.sample_rate == 8000
    assert caller.duration_s == pytest.approx(2.0)
    assert played.duration_s == pytest.approx(0.5)
    assert result.notes == []
    # What was returned is what was written.
    assert mf.read(directory) == result
    # And the manifest is the chain's one entry.
    (entry,) = chain_lines(tmp_path)
    manifest_path = directory / MANIFEST
    assert entry["manifest"] == str(manifest_path.relative_to(tmp_path))
    assert entry["sha256"] == hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    assert entry["prev"] == GENESIS
    assert entry["hash"] == entry_hash(GENESIS, entry["sha256"], entry["manifest"])
    assert verify_chain(tmp_path) == []
    assert mf.verify(directory) == []


def test_old_manifest_without_new_fields_still_loads(tmp_path: Path) -> None:
    """Manifests written before ``ticket``, ``agent`` and a leg's ``offset_s`` existed."""
    raw = json.loads(new_manifest().to_json())
    del raw["ticket"], raw["agent"]
    for leg in raw["legs"]:
        del leg["offset_s"]
    (tmp_path / MANIFEST).write_text(json.dumps(raw), encoding="utf-8")

    loaded = mf.read(tmp_path)

    assert loaded == new_manifest()
    assert (loaded.ticket, loaded.agent) == ("", "")
    assert [leg.offset_s for leg in loaded.legs] == [0.0, 0.0]


def test_ticket_agent_and_offsets_round_trip(tmp_path: Path) -> None:
    manifest = new_manifest()
    manifest.ticket = "GD12345-20240506-000042"
    manifest.agent = "1001"
    manifest.legs.append(mf.LegRecording("agent", "agent.wav", offset_s=12.34))
    manifest.legs.append(mf.LegRecording("qa", "qa.wav", channels=2))

    mf.write(tmp_path, manifest)

    loaded = mf.read(tmp_path)
    assert loaded == manifest
    assert loaded.legs[2].offset_s == 12.34
    assert loaded.legs[3].channels == 2


def stereo_wav_bytes(frames: int, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"".join(struct.pack("<hh", i % 3000, -i % 3000) for i in range(frames)))
    return buffer.getvalue()


def test_finalise_hashes_agent_and_stereo_qa_legs(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path, caller_frames=24000)
    manifest.agent = "1001"
    manifest.legs.append(mf.LegRecording("agent", "agent.wav", offset_s=1.0))
    manifest.legs.append(mf.LegRecording("qa", "qa.wav", channels=2))
    (directory / "agent.wav").write_bytes(wav_bytes(16000))
    (directory / "qa.wav").write_bytes(stereo_wav_bytes(24000))

    result = mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)

    assert result.status == mf.COMPLETE and result.notes == []
    legs = {leg.leg: leg for leg in result.legs}
    assert legs["agent"].duration_s == pytest.approx(2.0)
    assert legs["agent"].offset_s == 1.0
    # Two channels: 24000 frames of 4 bytes are 3 s, not 6.
    assert (legs["qa"].channels, legs["qa"].duration_s) == (2, pytest.approx(3.0))
    qa_bytes = (directory / "qa.wav").read_bytes()
    assert legs["qa"].sha256 == hashlib.sha256(qa_bytes).hexdigest()
    assert legs["qa"].bytes == len(qa_bytes)
    assert mf.verify(directory) == []
    assert verify_chain(tmp_path) == []


def test_finalise_records_the_channels_a_file_really_has(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    manifest.legs.append(mf.LegRecording("qa", "qa.wav"))  # listed as mono by mistake
    (directory / "qa.wav").write_bytes(stereo_wav_bytes(8000))

    result = mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)

    assert (result.legs[2].channels, result.legs[2].duration_s) == (2, pytest.approx(1.0))


def test_finalise_keeps_an_ended_at_already_set(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    manifest.ended_at = "2024-05-06T09:31:00.000+00:00"

    assert mf.finalise(directory, manifest, mf.COMPLETE, tmp_path).ended_at == (
        "2024-05-06T09:31:00.000+00:00"
    )


def test_finalise_with_a_missing_leg_is_incomplete(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    (directory / "played.wav").unlink()

    result = mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)

    assert result.status == mf.INCOMPLETE
    assert "played.wav is missing" in result.notes
    assert result.legs[0].sha256  # the leg that exists is still hashed


def test_finalise_repairs_a_cut_wav_and_says_so(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    (directory / "caller.wav").write_bytes(crash_cut(wav_bytes(8000)) + b"\x01")

    result = mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)

    assert "caller.wav: WAV header repaired" in result.notes
    assert result.legs[0].duration_s == pytest.approx(1.0)
    with wave.open(str(directory / "caller.wav")) as reader:
        assert reader.getnframes() == 8000


def test_verify_finds_a_changed_recording(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)
    data = bytearray((directory / "caller.wav").read_bytes())
    data[-1] ^= 0xFF
    (directory / "caller.wav").write_bytes(bytes(data))

    assert mf.verify(directory) == ["caller.wav: SHA-256 does not match the manifest"]


def test_verify_finds_a_missing_recording(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path)
    mf.finalise(directory, manifest, mf.COMPLETE, tmp_path)
    (directory / "played.wav").unlink()

    assert mf.verify(directory) == ["played.wav: missing"]


# ---- the hash chain ---------------------------------------------------------------------


def finalised_calls(root: Path, count: int) -> list[Path]:
    directories = []
    for number in range(count):
        directory, manifest = recorded_call(root, f"call-{number}")
        mf.finalise(directory, manifest, mf.COMPLETE, root)
        directories.append(directory)
    return directories


def test_chain_links_each_entry_to_the_previous(tmp_path: Path) -> None:
    finalised_calls(tmp_path, 3)

    entries = chain_lines(tmp_path)

    assert [e["prev"] for e in entries] == [GENESIS, entries[0]["hash"], entries[1]["hash"]]
    assert len({e["hash"] for e in entries}) == 3
    assert verify_chain(tmp_path) == []


def test_verify_chain_without_a_chain_is_empty(tmp_path: Path) -> None:
    assert verify_chain(tmp_path) == []


def test_verify_chain_detects_an_edited_manifest(tmp_path: Path) -> None:
    directories = finalised_calls(tmp_path, 2)
    path = directories[0] / MANIFEST
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["caller"] = "10086"
    path.write_text(json.dumps(edited), encoding="utf-8")

    problems = verify_chain(tmp_path)

    relative = str(path.relative_to(tmp_path))
    assert problems == [f"{relative}: manifest changed after it was chained"]


def test_verify_chain_detects_a_removed_manifest(tmp_path: Path) -> None:
    directories = finalised_calls(tmp_path, 2)
    (directories[1] / MANIFEST).unlink()

    relative = str((directories[1] / MANIFEST).relative_to(tmp_path))
    assert verify_chain(tmp_path) == [f"{relative}: manifest missing"]


def test_verify_chain_detects_an_edited_link(tmp_path: Path) -> None:
    finalised_calls(tmp_path, 3)
    entries = chain_lines(tmp_path)
    entries[1]["hash"] = "f" * 64
    (tmp_path / CHAIN).write_text("".join(json.dumps(e) + "\n" for e in entries))

    problems = verify_chain(tmp_path)

    # Line 2's own hash is wrong, and line 3 no longer follows from it.
    assert problems == ["line 2: broken link", "line 3: broken link"]


def test_verify_chain_detects_a_removed_line(tmp_path: Path) -> None:
    finalised_calls(tmp_path, 3)
    lines = (tmp_path / CHAIN).read_text().splitlines(keepends=True)
    (tmp_path / CHAIN).write_text(lines[0] + lines[2])

    assert verify_chain(tmp_path) == ["line 2: broken link"]


def test_verify_chain_detects_swapped_lines(tmp_path: Path) -> None:
    finalised_calls(tmp_path, 2)
    lines = (tmp_path / CHAIN).read_text().splitlines(keepends=True)
    (tmp_path / CHAIN).write_text(lines[1] + lines[0])

    problems = verify_chain(tmp_path)

    assert "line 1: broken link" in problems
    assert "line 2: broken link" in problems


def test_rechained_manifest_is_checked_against_its_latest_entry(tmp_path: Path) -> None:
    (directory,) = finalised_calls(tmp_path, 1)
    manifest = mf.read(directory)
    manifest.notes.append("QA: reviewed")
    path = mf.write(directory, manifest)

    append_to_chain(tmp_path, path)

    assert len(chain_lines(tmp_path)) == 2
    assert verify_chain(tmp_path) == []


# ---- after a worker crash ------------------------------------------------------------------


def test_repair_unfinished_finalises_a_crashed_workers_recordings(tmp_path: Path) -> None:
    directory, _ = recorded_call(tmp_path, "call-crashed", worker="w1")
    caller = wav_bytes(12000)
    (directory / "caller.wav").write_bytes(crash_cut(caller) + b"\x7f")
    (directory / "played.wav").write_bytes(crash_cut(wav_bytes(3000)))

    repaired = mf.repair_unfinished(tmp_path, "w1")

    assert [m.call_id for m in repaired] == ["call-crashed"]
    on_disk = mf.read(directory)
    assert on_disk.status == mf.INCOMPLETE
    assert on_disk.end_reason == "worker_lost"
    assert "caller.wav: WAV header repaired" in on_disk.notes
    assert "played.wav: WAV header repaired" in on_disk.notes
    with wave.open(str(directory / "caller.wav")) as reader:
        assert reader.getnframes() == 12000
        assert reader.readframes(12000) == caller[44:]
    with wave.open(str(directory / "played.wav")) as reader:
        assert reader.getnframes() == 3000
    assert on_disk.legs[0].duration_s == pytest.approx(1.5)
    assert mf.verify(directory) == []
    assert verify_chain(tmp_path) == []


def test_repair_unfinished_keeps_an_end_reason_already_known(tmp_path: Path) -> None:
    directory, manifest = recorded_call(tmp_path, worker="w1")
    manifest.end_reason = "caller_hangup"
    mf.write(directory, manifest)

    (repaired,) = mf.repair_unfinished(tmp_path, "w1")

    assert repaired.end_reason == "caller_hangup"


def test_repair_unfinished_ignores_other_workers_and_finished_calls(tmp_path: Path) -> None:
    other, _ = recorded_call(tmp_path, "call-other", worker="w2")
    cut = crash_cut(wav_bytes(800))
    (other / "caller.wav").write_bytes(cut)
    done, manifest = recorded_call(tmp_path, "call-done", worker="w1")
    mf.finalise(done, manifest, mf.COMPLETE, tmp_path)
    chain_before = (tmp_path / CHAIN).read_bytes()

    assert mf.repair_unfinished(tmp_path, "w1") == []

    assert mf.read(other).status == mf.RECORDING
    assert (other / "caller.wav").read_bytes() == cut  # another worker may still be writing
    assert mf.read(done).status == mf.COMPLETE
    assert (tmp_path / CHAIN).read_bytes() == chain_before


def test_repair_unfinished_skips_an_unreadable_manifest(tmp_path: Path) -> None:
    broken = call_dir(tmp_path, "call-broken", STARTED)
    broken.mkdir(parents=True)
    (broken / MANIFEST).write_text("{not json")
    good, _ = recorded_call(tmp_path, "call-good", worker="w1")

    repaired = mf.repair_unfinished(tmp_path, "w1")

    assert [m.call_id for m in repaired] == ["call-good"]
    assert (broken / MANIFEST).read_text() == "{not json"


@pytest.mark.parametrize("content", [b"", b"\x00\x01" * 100], ids=["empty", "no-header"])
def test_repair_unfinished_survives_a_wav_without_any_header(
    tmp_path: Path, content: bytes
) -> None:
    """A worker killed before the recorder wrote its header leaves an empty or
    header-less file.  That leg is unreadable, but the call must still be marked
    ``incomplete`` (with a note) and the other calls repaired: the worker runs
    this at start-up, so an exception here would stop it starting at all."""
    bad, _ = recorded_call(tmp_path, "call-a", worker="w1")
    (bad / "caller.wav").write_bytes(content)
    good, _ = recorded_call(tmp_path, "call-b", worker="w1")

    repaired = mf.repair_unfinished(tmp_path, "w1")

    assert sorted(m.call_id for m in repaired) == ["call-a", "call-b"]
    on_disk = mf.read(bad)
    assert on_disk.status == mf.INCOMPLETE
    assert any(note.startswith("caller.wav: unreadable WAV") for note in on_disk.notes)
    assert on_disk.legs[1].sha256  # the readable leg is still measured and hashed
    assert mf.read(good).status == mf.INCOMPLETE
    assert verify_chain(tmp_path) == []


def test_finalise_waits_for_a_recorder_still_closing_its_file(tmp_path: Path) -> None:
    """PJSIP writes the final WAV header a little after the call ends: wait, don't repair."""
    import threading

    directory, manifest = recorded_call(tmp_path)
    path = directory / "caller.wav"
    final = path.read_bytes()
    path.write_bytes(crash_cut(final))
    threading.Timer(0.2, lambda: path.write_bytes(final)).start()
    mf.finalise(directory, manifest, mf.COMPLETE, tmp_path, settle_s=2.0)
    assert path.read_bytes() == final
    assert not any("repaired" in note for note in manifest.notes)
    assert mf.verify(directory) == []
