"""Database work for sockets: one call on the database thread, keeping that thread's connection.

Every socket's database work runs on asgiref's one shared thread (thread
sensitive, and Channels opens no ThreadSensitiveContext). Channels'
database_sync_to_async closes old connections before and after each call; with
CONN_MAX_AGE = 0 (settings.py, for the HTTP side) that opens a connection per
call, and on PostgreSQL a new connection costs more than a handshake's queries
(2,000 handshakes: 99 a second that way, against 281 before). The calls here
share the thread's one connection instead, and check it before each call as
Django's CONN_HEALTH_CHECKS does at the start of a request (on PostgreSQL one
`SELECT 1`, a fraction of a new connection): one left outside autocommit, or
that no longer answers (a database restart), is dropped, so a restart costs no
failed call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync
from django.db import connections


class DatabaseThreadCall(SyncToAsync):
    """Like Channels' database_sync_to_async, without opening a connection per call."""

    def __init__(self, func: Callable[..., Any]) -> None:
        super().__init__(func, thread_sensitive=True)

    def thread_handler(self, loop, *args, **kwargs):
        drop_unusable_connections()
        return super().thread_handler(loop, *args, **kwargs)


def drop_unusable_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if connection.get_autocommit() != connection.settings_dict["AUTOCOMMIT"] or not connection.is_usable():
            connection.close()
        else:
            connection.errors_occurred = False


on_database_thread = DatabaseThreadCall
