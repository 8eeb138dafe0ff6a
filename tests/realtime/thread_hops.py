"""Counting what a socket costs: hops to worker threads, and the queries run on the database thread."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asgiref.sync import SyncToAsync, sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext


class Hops:
    """Calls run on a worker thread (sync_to_async, database_sync_to_async, the async cache API), by name.

    on_database_thread: those run on the one thread every socket's database work queues on
    (thread_sensitive, asgiref's default); elsewhere: the others.
    """

    def __init__(self, monkeypatch) -> None:
        self.on_database_thread: list[str] = []
        self.elsewhere: list[str] = []
        self.hopped = asyncio.Event()
        original = SyncToAsync.__call__

        async def counted(hop, *args, **kwargs):
            # The function's name only: a repr of a bound QuerySet method would run the query.
            name = getattr(hop.func, "__qualname__", type(hop.func).__name__)
            (self.on_database_thread if hop._thread_sensitive else self.elsewhere).append(name)
            self.hopped.set()
            return await original(hop, *args, **kwargs)

        monkeypatch.setattr(SyncToAsync, "__call__", counted)

    async def made(self, count: int) -> None:
        """Until `count` hops to the database thread were made."""
        while len(self.on_database_thread) < count:
            self.hopped.clear()
            await self.hopped.wait()

    def reset(self) -> None:
        self.on_database_thread.clear()
        self.elsewhere.clear()


@asynccontextmanager
async def tables_queried() -> AsyncIterator[list[str]]:
    """The table each query read, in order, on the thread database_sync_to_async runs on.

    CaptureQueriesContext there: each thread has a connection of its own.
    """
    capture = CaptureQueriesContext(connection)
    tables: list[str] = []

    def stop() -> None:
        capture.__exit__(None, None, None)
        tables.extend(outer_table(query["sql"]) for query in capture.captured_queries)

    await sync_to_async(capture.__enter__)()
    try:
        yield tables
    finally:
        await sync_to_async(stop)()


def outer_table(sql: str) -> str:
    """The table after the query's own FROM, not a subquery's."""
    depth = 0
    for index, char in enumerate(sql):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(" FROM ", index):
            return sql[index + len(" FROM ") :].split()[0].strip('"')
    raise ValueError(f"no FROM in {sql!r}")
