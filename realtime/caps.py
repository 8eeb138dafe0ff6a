"""Caps on open sockets: per logged-in user, and (off by default) per address for anonymous readers.

Each open socket holds a slot (blog/slots.py) in the cache, so with Redis every
process counts the same sockets. A slot is taken for two ping intervals and
renewed at every heartbeat tick (realtime/heartbeat.py), so the slots of a
process that died free themselves within a minute or so.

The anonymous cap is off by default: many real readers share one address
behind NAT. A cache that is down lets sockets through: reading a post is worth
more than the cap.

Each operation is one call to a worker thread: the async cache API (aget_many)
makes a hop per slot, and not on the thread the database work queues on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings

from blog.slots import Slot, slot_release, slot_renew, slot_take

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SocketCap:
    name: str
    capacity: int


def socket_cap(user: object, address: str | None) -> SocketCap | None:
    """The cap this socket counts against, or None (no cap: set to 0, or no address known)."""
    if getattr(user, "is_authenticated", False):
        capacity, name = settings.BLOG_SOCKETS_PER_USER, f"blog:sockets:user:{user.pk}"
    elif address:
        capacity, name = settings.BLOG_ANONYMOUS_SOCKETS_PER_ADDRESS, f"blog:sockets:address:{address}"
    else:
        return None
    return SocketCap(name=name, capacity=capacity) if capacity > 0 else None


def lease_seconds() -> float:
    return 2 * settings.BLOG_SOCKET_PING_SECONDS


class SocketSlot:
    """The slot one socket holds under its cap, if it has a cap."""

    def __init__(self, cap: SocketCap | None) -> None:
        self.cap = cap
        self.slot: Slot | None = None

    async def take(self) -> bool:
        """False when every slot of the cap is held by other sockets."""
        if self.cap is None:
            return True
        try:
            self.slot = await sync_to_async(slot_take, thread_sensitive=False)(
                name=self.cap.name, capacity=self.cap.capacity, seconds=lease_seconds()
            )
        except Exception:
            logger.warning("socket cap unavailable, allowing the socket cap=%s", self.cap.name, exc_info=True)
            return True
        return self.slot is not None

    async def renew(self) -> None:
        if self.slot is not None:
            try:
                await sync_to_async(slot_renew, thread_sensitive=False)(self.slot, seconds=lease_seconds())
            except Exception:
                logger.warning("socket cap renewal failed cap=%s", self.slot.key, exc_info=True)

    async def release(self) -> None:
        slot, self.slot = self.slot, None
        if slot is not None:
            try:
                await sync_to_async(slot_release, thread_sensitive=False)(slot)
            except Exception:  # it expires on its own
                logger.warning("socket cap release failed cap=%s", slot.key, exc_info=True)
