"""The per-user write budget, shared by every transport and every process.

Comments, edits and deletions of one's own comments all spend it. The budget
BLOG_COMMENT_RATE_LIMIT = "N/S" is N slots of S seconds (blog/slots.py): each
write holds one slot for S seconds, so no S-second span, wherever it starts,
holds more than N writes (a sliding window, not one that refills on the
clock minute). With REDIS_URL set the cache is Redis, so all server
processes spend from the same budget.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings

from blog.slots import slot_take, slots_free_in

logger = logging.getLogger(__name__)

MESSAGE_RATE_LIMITED = "You are commenting too fast. Try again in {seconds} seconds."


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(MESSAGE_RATE_LIMITED.format(seconds=retry_after))


def write_budget_name(user_id: int) -> str:
    return f"blog:write-budget:{user_id}"


def write_budget_spend(*, user_id: int) -> None:
    """Count one write (comment, edit or deletion) against the user's budget, or raise RateLimited."""
    rate = settings.BLOG_COMMENT_RATE_LIMIT
    if rate is None:
        return
    limit, window_seconds = rate
    name = write_budget_name(user_id)
    try:
        if slot_take(name=name, capacity=limit, seconds=window_seconds) is not None:
            return
        free_in = slots_free_in(name=name, capacity=limit)
    except Exception:
        # The cache (Redis) is down. A comment is worth more than the flood
        # control: let it through, and say so in the log.
        logger.warning("write budget unavailable, allowing the write user=%s", user_id, exc_info=True)
        return
    raise RateLimited(retry_after=max(1, math.ceil(free_in)))
