"""Fire-and-forget asyncio tasks, kept until they end, their failures logged.

The event loop only holds weak references to tasks, and an exception nobody
awaits surfaces (if ever) as "Task exception was never retrieved" when the task
is collected.  A :class:`TaskSet` keeps every task it starts until it is done,
then lets go of it and logs its exception, if any, with the task's name and
fields (as :func:`ivr.node.logs.fields`).  On shutdown :meth:`TaskSet.cancel_all`
cancels what is left and waits for it.

    tasks = TaskSet(log)
    tasks.spawn(publish(event), name="emit call_ended", call_id=call_id)
    ...
    await tasks.cancel_all()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from ivr.node.logs import fields


class TaskSet:
    def __init__(
        self, logger: logging.Logger | None = None, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self._log = logger or logging.getLogger(__name__)
        self._loop = loop
        self._tasks: dict[asyncio.Task[Any], dict[str, Any]] = {}  # task -> its log fields

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(
        self, coro: Coroutine[Any, Any, Any], name: str | None = None, **log_fields: Any
    ) -> asyncio.Task[Any]:
        """Start ``coro`` as a task (on the given loop, else the running one) and keep it
        until it ends; ``log_fields`` go with its failure (e.g. ``call_id``)."""
        loop = self._loop or asyncio.get_running_loop()
        task = loop.create_task(coro, name=name)
        self._tasks[task] = log_fields
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        log_fields = self._tasks.pop(task, {})
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self._log.error(
                "task failed",
                exc_info=(type(exc), exc, exc.__traceback__),
                extra=fields(task=task.get_name(), exception=repr(exc), **log_fields),
            )

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait for the running tasks (and those they start) to end: False if some
        were still running after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while pending := self._others():
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(pending, timeout=left)
        return True

    async def cancel_all(self, timeout: float = 5.0) -> None:
        """Cancel every task still running and wait up to ``timeout`` seconds for them
        to end; any that ignore the cancellation are logged and left."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while pending := self._others():
            for task in pending:
                task.cancel()
            await asyncio.wait(pending, timeout=max(0.0, deadline - loop.time()))
            if loop.time() >= deadline:
                break
        if stuck := self._others():
            names = sorted(task.get_name() for task in stuck)
            self._log.warning("tasks did not stop", extra=fields(tasks=names))

    def _others(self) -> list[asyncio.Task[Any]]:
        """The tasks still running, but not the one asking (it may be one of them)."""
        current = asyncio.current_task()
        return [task for task in self._tasks if task is not current and not task.done()]
