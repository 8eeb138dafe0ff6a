"""The session behind a socket, re-checked: before every write, when told, and at its expiry.

A socket is opened once and may stay open for days; the session that let it in
can end at any time, by any path (realtime/auth.py says how it is checked).
SessionGate is the comment consumer's part that keeps to it: a socket whose
session ended carries on as an anonymous reader, or is closed with 4401 when
only that session let it see the post (a draft).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from realtime.auth import session_expires_at, session_still_names

logger = logging.getLogger(__name__)

CLOSE_SESSION_ENDED = 4401


class SessionGate:
    """Mixed into the consumer, which provides user, session_key, post, send_json, close and leave_user_group."""

    async def session_check(self, reason: str) -> None:
        """A logout or password change for this user: is this socket's session one of those ended?"""
        if self.user.is_authenticated and not await self.session_is_still_valid():
            await self.end_session(reason=reason)

    async def session_is_still_valid(self) -> bool:
        """Reload the session from its store: the connect-time user is not trusted for long."""
        current = await session_still_names(self.session_key, self.user)
        if current is None:
            return False
        self.user = current  # picks up changes such as new permissions
        return True

    async def end_session(self, reason: str) -> bool:
        """The session behind this socket is gone: carry on as an anonymous reader, or close.

        Returns whether the socket stays open.
        """
        if not self.user.is_authenticated:
            # A check running alongside (a push, a write, the expiry) already ended it.
            return self.post.is_published
        # Anonymous before the first await, so that a check alongside does not end it twice.
        user, self.user = self.user, AnonymousUser()
        logger.info("websocket session ended post=%s user=%s reason=%s", self.post.pk, user.pk, reason)
        await self.send_json({"type": "session.ended"})
        await self.leave_user_group()
        if self.post.is_published:
            return True
        # Only the session let this socket see a draft.
        await self.close(code=CLOSE_SESSION_ENDED)
        return False

    async def end_session_at_expiry(self, expires: datetime | None = None) -> None:
        """Wake when the session expires, so a socket that only reads hears of it too.

        `expires`: the expiry read with the session at connect, which saves a read; None to read it.
        """
        while self.user.is_authenticated:
            if expires is None:
                expires = await session_expires_at(self.session_key)
            if expires is None:
                await self.session_check(reason="expired")
                return
            # A session extended meanwhile has a later expiry when this wakes: it sleeps again.
            await asyncio.sleep((expires - timezone.now()).total_seconds())
            expires = None

    async def session_holds_for_writing(self) -> bool:
        """Re-check the session before any write. False when the socket had to close.

        A socket whose session ended stays open as an anonymous reader, so the
        service then answers login_required.
        """
        if not self.user.is_authenticated or await self.session_is_still_valid():
            return True
        return await self.end_session(reason="checked-before-write")
