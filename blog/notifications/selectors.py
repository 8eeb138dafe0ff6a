"""Reads of notifications and follows: what a user was told, how much is unread, whether they follow a post."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet

from blog.accounts.models import User
from blog.notifications.models import Follow, Notification
from blog.posts.models import Post

NOTIFICATIONS_PER_PAGE = 20


def unread_of(user: User) -> QuerySet[Notification]:
    """The bell's count counts these: unread, on posts still published."""
    return Notification.objects.visible().unread().filter(recipient=user)


def unread_count(user: User) -> int:
    return unread_of(user).count()


async def aunread_count(user: User) -> int:
    return await unread_of(user).acount()


@dataclass(frozen=True)
class NotificationsPage:
    notifications: list[Notification]
    # The cursor of the next (older) page, or None on the last one.
    next_before: int | None


async def notifications_page(user: User, *, before: int | None = None) -> NotificationsPage:
    """The user's notifications newest first, a page at a time (?before=<id>), on posts they can still read."""
    mine = Notification.objects.visible().filter(recipient=user).select_related("actor", "post", "comment")
    if before is not None:
        mine = mine.filter(pk__lt=before)
    found = [n async for n in mine.order_by("-pk")[: NOTIFICATIONS_PER_PAGE + 1]]
    more = len(found) > NOTIFICATIONS_PER_PAGE
    found = found[:NOTIFICATIONS_PER_PAGE]
    return NotificationsPage(notifications=found, next_before=found[-1].pk if more else None)


def follows(user: User, post: Post) -> bool:
    """Sync, for the page's render thread: an explicit choice if there is one; else authors follow their own posts."""
    choice = Follow.objects.filter(user=user, post=post).values_list("following", flat=True).first()
    return choice if choice is not None else post.author_id == user.pk
