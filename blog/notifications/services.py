"""The only code that writes notifications and follows.

A comment's notifications are made in the comment's own transaction
(blog/comments/services.py calls comment_notify), so a comment and what its
readers were told of it commit or roll back together; the live frames and the
email task go out once it commits. One query per step whatever the number of
recipients: a comment on a followed post notifies every follower at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from blog import events
from blog.accounts.models import User
from blog.comments.markup import mention_candidates
from blog.comments.models import Comment
from blog.notifications.models import (
    Channel,
    EmailDelivery,
    Follow,
    Notification,
    NotificationKind,
    NotificationPreferences,
)
from blog.notifications.tasks import send_email_delivery_later
from blog.posts.models import Post

logger = logging.getLogger(__name__)

# A user without preferences saved hears of each kind this way.
DEFAULT_CHANNELS = {kind: NotificationPreferences._meta.get_field(kind).default for kind in NotificationKind.values}

MESSAGE_LOGIN_TO_FOLLOW = "Log in to follow a post."
MESSAGE_CANNOT_FOLLOW = "Only published posts can be followed."
MESSAGE_NO_SUCH_NOTIFICATION = "There is no such notification."


def comment_notify(comment: Comment, *, answered: Comment | None = None) -> None:
    """Inside the comment's transaction: its author follows the post, and everyone it concerns is told.

    answered: the comment the author replied to, which may be deeper than comment.parent
    (a reply to the deepest level lands beside it); its author is the one replied to.
    Nobody is told of their own comment; a kind its recipient turned off makes nothing.
    """
    Follow.objects.get_or_create(user_id=comment.author_id, post_id=comment.post_id)
    kinds: dict[int, str] = {}
    for user_id in _followers(comment.post_id):
        kinds[user_id] = NotificationKind.COMMENT
    for user_id in _mentioned(comment.body):
        kinds[user_id] = NotificationKind.MENTION
    if answered is not None and answered.author_id is not None:
        kinds[answered.author_id] = NotificationKind.REPLY
    _notify(comment, kinds)


def comment_edit_notify(comment: Comment) -> None:
    """Inside the edit's transaction: people its new text mentions are told; nobody is told twice of one comment."""
    kinds = dict.fromkeys(_mentioned(comment.body), NotificationKind.MENTION)
    told = Notification.objects.filter(comment=comment, recipient_id__in=kinds).values_list("recipient_id", flat=True)
    for user_id in told:
        del kinds[user_id]
    _notify(comment, kinds)


def _followers(post_id: int) -> set[int]:
    """Who follows the post: an explicit follow, or its author unless they unfollowed."""
    choices = dict(Follow.objects.filter(post_id=post_id).values_list("user_id", "following"))
    author_id = Post.objects.filter(pk=post_id).values_list("author_id", flat=True).first()
    if author_id is not None and author_id not in choices:
        choices[author_id] = True
    return {user_id for user_id, following in choices.items() if following}


def _mentioned(body: str) -> set[int]:
    names = mention_candidates(body)
    if not names:
        return set()
    return set(User.objects.filter(username__in=names).values_list("id", flat=True))


def _notify(comment: Comment, kinds: dict[int, str]) -> None:
    kinds.pop(comment.author_id, None)
    if not kinds:
        return
    # Rows as tuples, not models: a post thousands follow makes thousands of these in the
    # comment's transaction, and model instances would cost more than the insert itself.
    recipients = User.objects.filter(pk__in=kinds, is_active=True).values_list("id", "email", "verified_email")
    preferences = {
        user_id: dict(zip(NotificationKind.values, channels, strict=True))
        for user_id, *channels in NotificationPreferences.objects.filter(user_id__in=kinds).values_list(
            "user_id", *NotificationKind.values
        )
    }
    made = []
    for user_id, email, verified_email in recipients:
        kind = kinds[user_id]
        channel = preferences.get(user_id, DEFAULT_CHANNELS)[kind]
        if channel == Channel.OFF:
            continue
        notification = Notification(
            recipient_id=user_id, kind=kind, post_id=comment.post_id, comment_id=comment.pk, actor=comment.author
        )
        if channel == Channel.EMAIL and email and email == verified_email:
            notification.delivery = _pending_digest(user_id)
        made.append(notification)
    if not made:
        return
    Notification.objects.bulk_create(made)
    unread = _unread_counts(n.recipient_id for n in made)
    notices = [events.Notice(n.recipient_id, unread[n.recipient_id], n.as_json()) for n in made]
    events.publish_on_commit(events.NotificationsChanged(tuple(notices)))
    logger.info("notifications made comment=%s count=%s", comment.pk, len(made))


def _pending_digest(user_id: int) -> EmailDelivery:
    """The recipient's notifications email still waiting to go, or a new one (its task enqueued on commit)."""
    pending = EmailDelivery.objects.select_for_update().filter(
        recipient_id=user_id, purpose=EmailDelivery.Purpose.NOTIFICATIONS, status=EmailDelivery.Status.PENDING
    )
    delivery = pending.first()
    if delivery is not None:
        return delivery
    send_after = timezone.now() + timedelta(seconds=settings.BLOG_NOTIFICATION_EMAIL_DELAY_SECONDS)
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                recipient_id=user_id, purpose=EmailDelivery.Purpose.NOTIFICATIONS, send_after=send_after
            )
    except IntegrityError:
        # Another comment made it meanwhile (one pending per person): join that one.
        return pending.get()
    # robust: a queue that cannot take the task must not undo the comment; the row stays pending.
    transaction.on_commit(lambda: send_email_delivery_later(delivery), robust=True)
    return delivery


def _unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Notification.objects.visible()
        .unread()
        .filter(recipient_id__in=set(user_ids))
        .values("recipient_id")
        .annotate(unread=Count("id"))
    )
    counts = dict.fromkeys(set(user_ids), 0)
    counts.update({row["recipient_id"]: row["unread"] for row in rows})
    return counts


def comment_notifications_withdraw(comment_id: int) -> None:
    """Inside a deletion's transaction: what the comment told anyone is taken back, and their counts updated live.

    A placeholder's notifications go too: they would name the author its deletion erased.
    """
    notifications = Notification.objects.filter(comment_id=comment_id)
    had_unread = set(notifications.unread().values_list("recipient_id", flat=True))
    notifications.delete()
    if had_unread:
        notices = tuple(events.Notice(user_id, unread) for user_id, unread in _unread_counts(had_unread).items())
        events.publish_on_commit(events.NotificationsChanged(notices))


def notifications_mark_read(*, user: User, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read, or all of them; returns the unread count after.

    Every open page of the user hears the new count. Raises Notification.DoesNotExist
    (MESSAGE_NO_SUCH_NOTIFICATION) for an id that is not one of theirs.
    """
    mine = Notification.objects.filter(recipient=user)
    if notification_id is not None:
        mine = mine.filter(pk=notification_id)
        if not mine.exists():
            raise Notification.DoesNotExist(MESSAGE_NO_SUCH_NOTIFICATION)
    with transaction.atomic():
        mine.unread().update(read=timezone.now())
        unread = _unread_counts([user.pk])[user.pk]
        events.publish_on_commit(events.NotificationsChanged((events.Notice(user.pk, unread),)))
    return unread


def post_follow(*, user: User, post: Post, following: bool) -> None:
    """Follow or unfollow a post the user can read; an unfollow is remembered (commenting does not undo it)."""
    if not user.is_authenticated:
        raise PermissionDenied(MESSAGE_LOGIN_TO_FOLLOW)
    if not post.is_published:
        raise PermissionDenied(MESSAGE_CANNOT_FOLLOW)
    Follow.objects.update_or_create(user=user, post=post, defaults={"following": following})
