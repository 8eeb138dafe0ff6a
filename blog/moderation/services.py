"""The only code that moderates: approve, reject, hide, restore, remove, flag, ban, always hold.

The moderation views, the admin and the tests call these, so each rule is written once.
Every decision is checked here (blog.moderate_comment, and a second factor for those
BLOG_REQUIRE_2FA covers: blog/accounts/two_factor/policy.py), recorded in the audit trail
(blog/moderation/records.py) and announced once committed: to readers when what they
see changes (blog/events.py), and to every moderator's queue.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from blog import events
from blog.accounts.models import User
from blog.accounts.two_factor.policy import second_factor_check
from blog.comments import services as comment_services
from blog.comments.models import Comment, CommentChange
from blog.moderation import records
from blog.moderation.models import Flag, ModerationAction
from blog.moderation.policy import is_moderator
from blog.notifications import services as notification_services
from blog.rate_limit import write_budget_spend

logger = logging.getLogger(__name__)

Kind = ModerationAction.Kind

MESSAGE_NOT_MODERATOR = "Only moderators can do this."
MESSAGE_NO_SUCH_COMMENT = "There is no such comment (it may have been deleted)."
MESSAGE_NOTHING_TO_APPROVE = "This comment is not waiting for a decision."
MESSAGE_NOT_HIDEABLE = "Only a published comment can be hidden."
MESSAGE_LOGIN_TO_FLAG = "Log in to flag comments."
MESSAGE_FLAG_OWN = "You cannot flag your own comment."
MESSAGE_FLAGGED_ALREADY = "You have already flagged this comment."
MESSAGE_FLAG_REASON = "Choose why you flag it: spam, abuse, off-topic or other."
MESSAGE_NO_SUCH_USER = "There is no such user."
MESSAGE_CANNOT_BAN = "Moderators and staff cannot be banned here: ask an administrator."
MESSAGE_BANNED_ALREADY = "This account is already deactivated."
REASON_BANNED = "the author was banned"


def _moderator_required(actor: User) -> None:
    if not actor.is_authenticated:
        raise comment_services.LoginRequired(comment_services.MESSAGE_LOGIN_REQUIRED)
    if not is_moderator(actor):
        raise PermissionDenied(MESSAGE_NOT_MODERATOR)
    second_factor_check(actor)


def _locked(comment_id: int) -> Comment:
    """The comment, locked, with its author and parent; not a deleted comment's placeholder."""
    comment = (
        Comment.objects.select_for_update(of=("self",))
        .select_related("author", "parent")
        .filter(pk=comment_id, deleted__isnull=True)
        .first()
    )
    if comment is None:
        raise PermissionDenied(MESSAGE_NO_SUCH_COMMENT)
    return comment


def comment_approve(*, comment_id: int, actor: User, reason: str = "") -> Comment:
    """Decide for the comment: a held one is published as if just posted (readers get it live, and
    notifications go out as for a new comment); a hidden one is restored; a published one keeps
    its place and its open flags are dismissed. Raises PermissionDenied otherwise."""
    _moderator_required(actor)
    with transaction.atomic():
        comment = _locked(comment_id)
        if comment.status == Comment.Status.PENDING:
            kind = Kind.APPROVE
        elif records.in_queue(comment):
            kind = Kind.RESTORE
        else:
            raise PermissionDenied(MESSAGE_NOTHING_TO_APPROVE)
        Flag.objects.filter(comment=comment, cleared__isnull=True).update(cleared=timezone.now())
        if not comment.is_public:
            _publish(comment)
            if kind == Kind.APPROVE:
                notification_services.comment_notify(comment, answered=comment.parent)
        records.action_record(kind, actor=actor, comment=comment, reason=reason)
        records.queue_announce(comment, action=kind, actor=actor)
    logger.info("comment %s id=%s by=%s", kind, comment.pk, actor.pk)
    return comment


def _publish(comment: Comment) -> None:
    comment.status = Comment.Status.PUBLISHED
    Comment.objects.filter(pk=comment.pk).update(status=comment.status)
    change = CommentChange.objects.create(
        post_id=comment.post_id, comment_id=comment.pk, kind=CommentChange.Kind.PUBLISHED
    )
    events.publish_on_commit(events.CommentPublished(comment, change))


def comment_reject(*, comment_id: int, actor: User, reason: str = "") -> None:
    """Decide against the comment: a held one is rejected (only its author is told, with the reason);
    a hidden or flagged one is removed, as a deletion (a placeholder stays if it has replies)."""
    _moderator_required(actor)
    with transaction.atomic():
        comment = _locked(comment_id)
        if comment.status == Comment.Status.PENDING:
            _reject(comment, actor=actor, reason=reason)
            notification_services.comment_rejected_notify(comment, actor=actor, note=reason)
        elif records.in_queue(comment):
            comment_services.comment_remove(comment=comment, actor=actor, reason=reason)
        else:
            raise PermissionDenied(MESSAGE_NOTHING_TO_APPROVE)
    logger.info("comment rejected id=%s by=%s", comment_id, actor.pk)


def _reject(comment: Comment, *, actor: User, reason: str) -> None:
    comment.status = Comment.Status.REJECTED
    Comment.objects.filter(pk=comment.pk).update(status=comment.status)
    records.action_record(Kind.REJECT, actor=actor, comment=comment, reason=reason)
    records.queue_announce(comment, action=Kind.REJECT, actor=actor)


def comment_hide(*, comment_id: int, actor: User, reason: str = "") -> None:
    """Hide a published comment (and the replies under it) from readers until a moderator decides."""
    _moderator_required(actor)
    with transaction.atomic():
        comment = _locked(comment_id)
        if not comment.is_public:
            raise PermissionDenied(MESSAGE_NOT_HIDEABLE)
        _hide(comment, actor=actor, reason=reason)


def _hide(comment: Comment, *, actor: User | None, reason: str) -> None:
    comment.status = Comment.Status.HIDDEN
    Comment.objects.filter(pk=comment.pk).update(status=comment.status)
    change = CommentChange.objects.create(
        post_id=comment.post_id, comment_id=comment.pk, kind=CommentChange.Kind.HIDDEN
    )
    events.publish_on_commit(events.CommentHidden(change))
    # What it told anyone goes with it: a notification would lead readers to what they may not see.
    notification_services.comment_notifications_withdraw(comment.pk)
    records.action_record(Kind.HIDE, actor=actor, comment=comment, reason=reason)
    records.queue_announce(comment)
    logger.info("comment hidden id=%s by=%s", comment.pk, actor.pk if actor is not None else "flags")


def comment_flag(*, comment_id: int, user: User, reason: str) -> bool:
    """A reader's flag: once per reader and comment, never one's own, spending the write budget.

    At BLOG_FLAG_THRESHOLD open flags the comment is hidden for review. Returns whether this flag hid it.
    Raises LoginRequired, ValidationError (errors.reason), PermissionDenied or RateLimited.
    """
    if not user.is_authenticated:
        raise comment_services.LoginRequired(MESSAGE_LOGIN_TO_FLAG)
    if reason not in Flag.Reason.values:
        raise ValidationError({"reason": [MESSAGE_FLAG_REASON]})
    comment = Comment.objects.filter(pk=comment_id, deleted__isnull=True, status=Comment.Status.PUBLISHED).first()
    if comment is None:
        raise PermissionDenied(MESSAGE_NO_SUCH_COMMENT)
    if comment.author_id == user.pk:
        raise PermissionDenied(MESSAGE_FLAG_OWN)
    if Flag.objects.filter(comment=comment, user=user).exists():
        raise PermissionDenied(MESSAGE_FLAGGED_ALREADY)
    write_budget_spend(user_id=user.pk)
    with transaction.atomic():
        comment = _locked(comment_id)
        if not comment.is_public:
            raise PermissionDenied(MESSAGE_NO_SUCH_COMMENT)
        try:
            with transaction.atomic():
                Flag.objects.create(comment=comment, user=user, reason=reason)
        except IntegrityError:  # the same reader's flag from another tab won the race
            raise PermissionDenied(MESSAGE_FLAGGED_ALREADY) from None
        open_count = Flag.objects.filter(comment=comment, cleared__isnull=True).count()
        if open_count >= settings.BLOG_FLAG_THRESHOLD:
            _hide(comment, actor=None, reason=f"{open_count} readers flagged it")
            return True
        records.queue_announce(comment)
    return False


def user_ban(*, user_id: int, actor: User, reason: str = "") -> None:
    """Deactivate the account: its sessions and open sockets end at once (blog/receivers.py),
    and its held comments are rejected. Moderators and staff are for an administrator to deal with."""
    _moderator_required(actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise PermissionDenied(MESSAGE_NO_SUCH_USER)
        if user.pk == actor.pk or user.is_staff or user.is_superuser or is_moderator(user):
            raise PermissionDenied(MESSAGE_CANNOT_BAN)
        if not user.is_active:
            raise PermissionDenied(MESSAGE_BANNED_ALREADY)
        user.is_active = False
        user.save(update_fields=["is_active"])
        records.action_record(Kind.BAN, actor=actor, author=user, reason=reason)
        held = Comment.objects.select_for_update().filter(author=user, status=Comment.Status.PENDING)
        for comment in held.order_by("id"):
            _reject(comment, actor=actor, reason=REASON_BANNED)
        records.author_queue_announce(user.pk)  # their hidden or flagged comments stay, for a decision
    logger.info("user banned id=%s by=%s", user_id, actor.pk)


def user_hold_set(*, user_id: int, actor: User, hold: bool) -> None:
    """Hold every later comment of the user for approval (or stop): on the record either way."""
    _moderator_required(actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            raise PermissionDenied(MESSAGE_NO_SUCH_USER)
        if user.always_hold == hold:
            return
        User.objects.filter(pk=user.pk).update(always_hold=hold)
        records.action_record(Kind.ALWAYS_HOLD if hold else Kind.STOP_HOLDING, actor=actor, author=user)
        records.author_queue_announce(user.pk)
