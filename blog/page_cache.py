"""Django's cache as the pages use it: read in place or in one thread hop, and failing open.

The cache is an optimisation, never a source: while it is down (Redis), reads find
nothing and writes are dropped, so pages are rendered from the database instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial

from asgiref.sync import sync_to_async
from django.core.cache.backends.locmem import LocMemCache

from blog.process_cache import cache

logger = logging.getLogger(__name__)

# While the cache is down, say so at most this often, not once per page view.
OUTAGE_LOG_SECONDS = 60
_outage_logged_at = -OUTAGE_LOG_SECONDS


def cache_in_process() -> bool:
    """True for the local-memory cache: a dict behind a lock in this process, cheaper to read than a thread hop."""
    return isinstance(cache.backend(), LocMemCache)


async def in_cache_thread[Result](read_or_write: Callable[[], Result]) -> Result:
    """Run cache calls where the backend needs them: in place for the local-memory cache, else in one thread hop.

    One hop for many keys, or for several dependent reads: the cache's own aget_many
    awaits the keys one by one on backends without a get_many of their own.
    """
    if cache_in_process():
        return read_or_write()
    # Not thread-sensitive: cache calls need no database connection, so they do not queue
    # behind every socket's database work on the one thread that work shares.
    return await sync_to_async(read_or_write, thread_sensitive=False)()


async def _cache_get_many(keys: list[str]) -> dict[str, object]:
    return await in_cache_thread(partial(cache.get_many, keys))


async def _cache_set_many(entries: dict[str, object], seconds: int) -> None:
    await in_cache_thread(partial(cache.set_many, entries, seconds))


async def cache_get_many(keys: list[str]) -> dict[str, object]:
    """What the cache holds of `keys`; nothing while the cache (Redis) is down: pages are then rendered afresh."""
    try:
        return await _cache_get_many(keys)
    except Exception:
        cache_outage()
        return {}


async def cache_set_many(entries: dict[str, object], seconds: int) -> None:
    try:
        await _cache_set_many(entries, seconds)
    except Exception:
        cache_outage()


def cache_outage() -> None:
    global _outage_logged_at
    if time.monotonic() - _outage_logged_at >= OUTAGE_LOG_SECONDS:
        _outage_logged_at = time.monotonic()
        logger.warning("page cache unavailable, rendering from the database", exc_info=True)
