"""One Redis connection pool per process for Django's cache.

Django keeps a cache object per async context (django.core.cache.caches is an
asgiref Local), so under ASGI every request and every WebSocket handshake gets a
RedisCache of its own, and with it a new redis-py ConnectionPool: a new TCP
connection to Redis, with its handshake and a read of redis-py's package
metadata, for every page view and every socket. Profiled on the second of two
daphne processes while 5,000 readers connected, that was 46% of its samples.
RedisCache lets the pool class be chosen (OPTIONS["pool_class"]); this one hands
every cache object of the process the same pool for the same URL. redis-py's
pools are thread-safe, and the cache's calls run on worker threads.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import redis


class ProcessConnectionPool(redis.ConnectionPool):
    _pools: ClassVar[dict[str, redis.ConnectionPool]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> redis.ConnectionPool:
        # Keyed by URL alone: the options come from settings and are the same for every cache object.
        with cls._lock:
            if url not in cls._pools:
                cls._pools[url] = redis.ConnectionPool.from_url(url, **options)
            return cls._pools[url]
