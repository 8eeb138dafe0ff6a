"""One cache object per process: requests and sockets (each an async context of its own) share it."""

from __future__ import annotations

import asyncio
import threading

from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.test import override_settings

from blog.process_cache import cache


def test_every_async_context_and_thread_gets_the_same_cache_object():
    """Django's own `caches` builds one per context: a socket would hold it, and with Redis a connection pool."""

    async def backend():
        return cache.backend()

    async def backend_of_a_new_context():
        return await asyncio.create_task(backend())

    async def two_contexts():
        return await asyncio.gather(backend_of_a_new_context(), backend_of_a_new_context())

    first, second = asyncio.run(two_contexts())
    in_thread = []
    thread = threading.Thread(target=lambda: in_thread.append(cache.backend()))
    thread.start()
    thread.join()
    assert first is second is in_thread[0] is cache.backend()


def test_a_test_that_changes_caches_gets_a_cache_built_from_its_setting():
    before = cache.backend()
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}):
        assert isinstance(cache.backend(), DummyCache)
        cache.set("key", "value")
        assert cache.get("key") is None
    assert cache.backend() is not before
    assert type(cache.backend()) is type(caches["default"])
