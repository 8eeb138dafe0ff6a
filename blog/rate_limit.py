"""The per-user comment budget, shared by every transport and every process.

A fixed window counter in the cache: at most N comments per user in each
S-second window (BLOG_COMMENT_RATE_LIMIT = "N/S"). With REDIS_URL set the
cache is Redis, so all server processes spend from the same budget.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

MESSAGE_RATE_LIMITED = "You are commenting too fast. Try again in {seconds} seconds."


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(MESSAGE_RATE_LIMITED.format(seconds=retry_after))


def comment_budget_spend(*, user_id: int) -> None:
    """Count one comment against the user's budget, or raise RateLimited."""
    rate = settings.BLOG_COMMENT_RATE_LIMIT
    if rate is None:
        return
    limit, window_seconds = rate
    now = time.time()
    window = int(now // window_seconds)
    key = f"blog:comment-budget:{user_id}:{window}"
    try:
        spent = _spend(key, timeout=window_seconds + 1)
    except Exception:
        # The cache (Redis) is down. A comment is worth more than the flood
        # control: let it through, and say so in the log.
        logger.warning("comment budget unavailable, allowing the comment user=%s", user_id, exc_info=True)
        return
    if spent > limit:
        raise RateLimited(retry_after=max(1, math.ceil((window + 1) * window_seconds - now)))


def _spend(key: str, timeout: int) -> int:
    # add() is a no-op when the key exists, so incr() is atomic across processes.
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # the key expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1
