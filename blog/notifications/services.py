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
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from blog import events
from blog.accounts.models import User
from blog.comments.markup import mention_candidates
from blog.comments.models import Comment
from blog.notifications.models import (
    REJECTED,
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
    The stronger kinds go first: a follower who is also named or answered is told once, so.
    """
    Follow.objects.get_or_create(user_id=comment.author_id, post_id=comment.post_id)
    kinds = dict.fromkeys(_mentioned(comment.body), NotificationKind.MENTION)
    if answered is not None and answered.author_id is not None:
        kinds[answered.author_id] = NotificationKind.REPLY
    _insert(comment, kinds)
    _insert_for_followers(comment)
    _announce(comment)


def comment_edit_notify(comment: Comment) -> None:
    """Inside the edit's transaction: people its new text mentions are told; nobody is told twice of one comment."""
    kinds = dict.fromkeys(_mentioned(comment.body), NotificationKind.MENTION)
    told = Notification.objects.filter(comment=comment, recipient_id__in=kinds).values_list("recipient_id", flat=True)
    for user_id in told:
        del kinds[user_id]
    made = _insert(comment, kinds)
    if made:
        _announce(comment, only=made)


def _mentioned(body: str) -> set[int]:
    names = mention_candidates(body)
    if not names:
        return set()
    return set(User.objects.filter(username__in=names).values_list("id", flat=True))


def _insert(comment: Comment, kinds: dict[int, str]) -> list[int]:
    """The notifications of a few named people (replied to, mentioned); their ids."""
    kinds.pop(comment.author_id, None)
    if not kinds:
        return []
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
            recipient_id=user_id, kind=kind, post_id=comment.post_id, comment_id=comment.pk, actor_id=comment.author_id
        )
        if channel == Channel.EMAIL and email and email == verified_email:
            notification.delivery = _pending_digest(user_id)
        made.append(notification)
    return [notification.pk for notification in Notification.objects.bulk_create(made)]


def _insert_for_followers(comment: Comment) -> None:
    """The followers' notifications, in one INSERT … SELECT in the database.

    A post thousands follow makes thousands of rows in the comment's transaction, which holds
    the post's lock: built as models by bulk_create, 2,000 took about 170 ms on PostgreSQL; made
    by the database from the follows, about 20 ms. Followers are those with a follow, and the
    post's author unless they unfollowed; never the writer, an inactive user, a follower who
    turned this kind off, or someone told of the comment already (a stronger kind).
    Those who hear of it by email are then joined to their pending email, a few rows.
    """
    tables = {
        name: connection.ops.quote_name(model._meta.db_table)
        for name, model in (
            ("notification", Notification),
            ("follow", Follow),
            ("user", User),
            ("preferences", NotificationPreferences),
        )
    }
    sql = """
        INSERT INTO {notification} (recipient_id, kind, post_id, comment_id, actor_id, created)
        SELECT u.id, %s, %s, %s, %s, %s
        FROM {user} u LEFT JOIN {preferences} p ON p.user_id = u.id
        WHERE u.is_active = %s AND u.id <> %s AND COALESCE(p.comment, %s) <> %s
          AND (
            u.id IN (SELECT f.user_id FROM {follow} f WHERE f.post_id = %s AND f.following = %s)
            OR (u.id = %s AND NOT EXISTS (SELECT 1 FROM {follow} f WHERE f.post_id = %s AND f.user_id = %s))
          )
          AND NOT EXISTS (SELECT 1 FROM {notification} n WHERE n.comment_id = %s AND n.recipient_id = u.id)
    """.format(**tables)  # noqa: S608 - the models' own table names; every value is a parameter
    author_id = comment.post.author_id
    created = connection.ops.adapt_datetimefield_value(timezone.now())
    parameters = [
        *(NotificationKind.COMMENT.value, comment.post_id, comment.pk, comment.author_id, created),
        *(True, comment.author_id, DEFAULT_CHANNELS[NotificationKind.COMMENT], Channel.OFF.value),
        *(comment.post_id, True),
        *(author_id, comment.post_id, author_id),
        comment.pk,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
    by_email = (
        Notification.objects.filter(comment=comment, kind=NotificationKind.COMMENT)
        .filter(
            recipient__notification_preferences__comment=Channel.EMAIL, recipient__verified_email=F("recipient__email")
        )
        .exclude(recipient__email="")
        .values_list("pk", "recipient_id")
    )
    for pk, user_id in by_email:
        Notification.objects.filter(pk=pk).update(delivery=_pending_digest(user_id))


def _announce(comment: Comment, only: list[int] | None = None) -> None:
    """Once the transaction commits, each new notification of the comment to its recipient's open pages,
    with their unread count after it (the notifications `only`, or all the comment has)."""
    made = Notification.objects.filter(comment=comment)
    if only is not None:
        made = made.filter(pk__in=only)
    rows = list(made.values_list("pk", "recipient_id", "kind", "created"))
    if not rows:
        return
    unread = _unread_counts(made.values("recipient_id"))
    actor = comment.author.get_username()
    notices = tuple(
        events.Notice(user_id, unread[user_id], Notification.json_of(pk, kind, comment, actor, created, read=False))
        for pk, user_id, kind, created in rows
    )
    events.publish_on_commit(events.NotificationsChanged(notices))
    logger.info("notifications made comment=%s count=%s", comment.pk, len(rows))


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


def _unread_counts(recipients: Iterable[int] | QuerySet) -> dict[int, int]:
    """Each recipient's unread count; recipients as ids, or as a query of them (no list of thousands of parameters)."""
    rows = (
        Notification.objects.visible()
        .unread()
        .filter(recipient_id__in=recipients)
        .values("recipient_id")
        .annotate(unread=Count("id"))
        .values_list("recipient_id", "unread")
    )
    return dict(rows)


def comment_notifications_withdraw(comment_id: int) -> None:
    """Inside a deletion's transaction: what the comment told anyone is taken back, and their counts updated live.

    A placeholder's notifications go too: they would name the author its deletion erased.
    """
    notifications = Notification.objects.filter(comment_id=comment_id)
    had_unread = set(notifications.unread().values_list("recipient_id", flat=True))
    notifications.delete()
    if had_unread:
        unread = _unread_counts(had_unread)
        notices = tuple(events.Notice(user_id, unread.get(user_id, 0)) for user_id in had_unread)
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
        unread = _unread_counts([user.pk]).get(user.pk, 0)
        events.publish_on_commit(events.NotificationsChanged((events.Notice(user.pk, unread),)))
    return unread


def post_follow(*, user: User, post: Post, following: bool) -> None:
    """Follow or unfollow a post the user can read; an unfollow is remembered (commenting does not undo it)."""
    if not user.is_authenticated:
        raise PermissionDenied(MESSAGE_LOGIN_TO_FOLLOW)
    if not post.is_published:
        raise PermissionDenied(MESSAGE_CANNOT_FOLLOW)
    Follow.objects.update_or_create(user=user, post=post, defaults={"following": following})


def comment_rejected_notify(comment: Comment, *, actor: User, note: str) -> None:
    """Inside the rejection's transaction: its author alone hears that a moderator did not approve it, and why."""
    if comment.author_id is None:
        return
    notification = Notification.objects.create(
        recipient_id=comment.author_id,
        kind=REJECTED,
        post_id=comment.post_id,
        comment=comment,
        actor=actor,
        note=note,
    )
    unread = _unread_counts([comment.author_id]).get(comment.author_id, 0)
    notice = events.Notice(comment.author_id, unread, notification.as_json())
    events.publish_on_commit(events.NotificationsChanged((notice,)))
