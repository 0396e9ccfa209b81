"""ivr.node.tasks.TaskSet: fire-and-forget tasks are kept, released, logged, cancelled."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import weakref

import pytest

from ivr.node.logs import JsonFormatter
from ivr.node.tasks import TaskSet

log = logging.getLogger("test_tasks")


async def fail(message: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(message)


async def test_a_failing_task_is_logged_with_its_name_and_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)
    caplog.set_level(logging.INFO, logger="test_tasks")
    tasks.spawn(fail("boom"), name="emit call_ended", call_id="c-1")
    assert await tasks.wait(1.0)
    await asyncio.sleep(0)  # done callbacks run on the next loop turn
    (record,) = caplog.records
    assert record.name == "test_tasks" and record.levelno == logging.ERROR
    assert record.fields == {  # type: ignore[attr-defined]
        "task": "emit call_ended",
        "exception": "ValueError('boom')",
        "call_id": "c-1",
    }
    assert record.exc_info is not None and str(record.exc_info[1]) == "boom"
    line = json.loads(JsonFormatter("worker-1").format(record))
    assert line["task"] == "emit call_ended" and line["call_id"] == "c-1"
    assert "ValueError: boom" in line["error"]  # with its traceback
    assert len(tasks) == 0


async def test_without_a_logger_failures_go_to_the_modules_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet()
    tasks.spawn(fail("lost"))
    await tasks.wait(1.0)
    await asyncio.sleep(0)
    (record,) = caplog.records
    assert record.name == "ivr.node.tasks" and record.fields["task"].startswith("Task-")  # type: ignore[attr-defined]


async def test_a_running_task_is_kept_and_a_finished_one_released(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)
    release = asyncio.Event()

    async def work() -> int:
        await release.wait()
        return 42

    task = weakref.ref(tasks.spawn(work(), name="work"))
    gc.collect()
    assert task() is not None and len(tasks) == 1  # kept while it runs
    release.set()
    assert await tasks.wait(1.0)
    await asyncio.sleep(0)
    assert len(tasks) == 0
    gc.collect()
    assert task() is None
    assert caplog.records == []


async def test_a_cancelled_task_is_no_failure(caplog: pytest.LogCaptureFixture) -> None:
    tasks = TaskSet(log)
    task = tasks.spawn(asyncio.sleep(60), name="sleeper")
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.cancelled() and len(tasks) == 0
    assert caplog.records == []


async def test_cancel_all_stops_every_task_and_waits_for_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)
    cleaned: list[str] = []

    async def worker(name: str) -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0.01)  # cleaning up takes a moment
            cleaned.append(name)

    spawned = [tasks.spawn(worker(f"w{i}"), name=f"w{i}") for i in range(3)]
    await asyncio.sleep(0)
    await tasks.cancel_all(timeout=2.0)
    assert sorted(cleaned) == ["w0", "w1", "w2"]
    assert all(task.cancelled() for task in spawned)
    await asyncio.sleep(0)
    assert len(tasks) == 0
    assert caplog.records == []


async def test_cancel_all_reports_a_task_that_will_not_stop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tasks = TaskSet(log)
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                continue

    task = tasks.spawn(stubborn(), name="stubborn")
    await asyncio.sleep(0)
    await tasks.cancel_all(timeout=0.1)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.fields == {"tasks": ["stubborn"]}  # type: ignore[attr-defined]
    stop.set()
    task.cancel()
    await asyncio.wait([task])


async def test_wait_gives_up_after_its_timeout() -> None:
    tasks = TaskSet(log)
    task = tasks.spawn(asyncio.sleep(60), name="slow")
    assert not await tasks.wait(0.05)
    await tasks.cancel_all()
    assert task.cancelled()


async def test_a_task_may_cancel_the_set_it_belongs_to() -> None:
    tasks = TaskSet(log)
    other = tasks.spawn(asyncio.sleep(60), name="other")

    async def shut_down() -> str:
        await tasks.cancel_all(timeout=1.0)
        return "done"

    assert await tasks.spawn(shut_down(), name="shutdown") == "done"
    assert other.cancelled()


def test_spawn_on_a_given_loop_from_outside_it() -> None:
    loop = asyncio.new_event_loop()
    try:
        tasks = TaskSet(log, loop=loop)
        task = tasks.spawn(asyncio.sleep(0, result="slept"), name="later")
        assert len(tasks) == 1
        assert loop.run_until_complete(task) == "slept"
        loop.run_until_complete(asyncio.sleep(0))
        assert len(tasks) == 0
    finally:
        loop.close()
