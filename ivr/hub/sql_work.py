"""One thread for the hub's SQL writes (tickets, the QA catalog).

SQLite takes one writer at a time: writes from several threads only wait for
each other's lock (and hold the GIL in turns against the event loop that answers
callers).  In order on one thread they cost what they cost and no more; the
event loop and the understanding model keep the other threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_SQL = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="hub-sql")


async def in_sql_thread(function: Callable[..., T], *args: Any) -> T:
    """Run ``function(*args)`` on the hub's SQL thread and wait for it."""
    return await asyncio.get_running_loop().run_in_executor(_SQL, function, *args)
