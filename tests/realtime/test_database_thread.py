"""Sockets' database calls share the database thread's connection, and drop it once it stops working."""

from __future__ import annotations

import pytest
from django.db import connections

from realtime.database_thread import on_database_thread

pytestmark = pytest.mark.django_db(transaction=True)


def raw_connection() -> object:
    """The driver's connection object the thread's Django connection uses now (sync: on the thread)."""
    connection = connections["default"]
    connection.ensure_connection()
    return connection.connection


def checks_recorded(monkeypatch, *, usable: bool) -> list[str]:
    """Make the thread's connection answer `usable` to a check; record each check and close (sync: on the thread).

    Closes are recorded, not seen as a new connection: the in-memory SQLite test database ignores them.
    """
    calls: list[str] = []
    connection = connections["default"]
    monkeypatch.setattr(connection, "is_usable", lambda: calls.append(f"usable? {usable}") or usable)
    monkeypatch.setattr(connection, "close", lambda: calls.append("close"))
    return calls


async def test_calls_in_a_row_share_one_connection_checked_before_each(monkeypatch):
    """A connection per call costs a PostgreSQL server process per handshake."""
    first = await on_database_thread(raw_connection)()
    calls = await on_database_thread(checks_recorded)(monkeypatch, usable=True)
    assert await on_database_thread(raw_connection)() is first
    assert await on_database_thread(raw_connection)() is first
    assert calls == ["usable? True", "usable? True"]


async def test_a_connection_that_no_longer_answers_is_dropped_before_the_call(monkeypatch):
    """A database restart: the call gets a new connection instead of failing on the dead one."""
    await on_database_thread(raw_connection)()
    calls = await on_database_thread(checks_recorded)(monkeypatch, usable=False)
    await on_database_thread(raw_connection)()
    assert calls == ["usable? False", "close"]


async def test_a_connection_left_outside_autocommit_is_dropped_before_the_call(monkeypatch):
    def leave_a_transaction_open() -> list[str]:
        connections["default"].set_autocommit(False)
        return checks_recorded(monkeypatch, usable=True)

    await on_database_thread(raw_connection)()
    calls = await on_database_thread(leave_a_transaction_open)()
    await on_database_thread(raw_connection)()
    assert calls == ["close"]
    await on_database_thread(lambda: connections["default"].set_autocommit(True))()  # the close was only recorded
