"""Django's default cache as one object per process, shared by every request and socket.

Django gives each thread and each async context a cache object of its own
(`django.core.cache.caches` is an asgiref Local), because some backends' clients
are not thread-safe. Under ASGI each request and each WebSocket is a context of
its own, so each built a new object: about a kilobyte held for as long as a
socket stays open, and with Redis a new redis-py connection pool, so a new
connection to Redis, for every page view and every socket. The blog's two
backends are safe to share (the local-memory cache locks its dict; redis-py's
pool is thread-safe), so the blog's cache calls all go through the one object
here, which is built again when CACHES changes (a test's override).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver


class ProcessCache:
    """Stands for the default cache, as `django.core.cache.cache` does, with one backend for the whole process."""

    _backend: BaseCache | None = None

    @classmethod
    def backend(cls) -> BaseCache:
        # Two threads that race here may each build one; either works, and one is kept.
        if cls._backend is None:
            cls._backend = caches.create_connection(DEFAULT_CACHE_ALIAS)
        return cls._backend

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend(), name)


cache = ProcessCache()


@receiver(setting_changed)
def forget_backend(*, setting: str, **kwargs: object) -> None:
    if setting == "CACHES":
        ProcessCache._backend = None
