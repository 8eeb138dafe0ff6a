"""The only code that writes comments.

The HTTP views, the WebSocket consumer and the admin all call these functions,
so each rule (who may, how long, how often, duplicates) is written once.
They are synchronous because Django transactions are; async callers use
sync_to_async / database_sync_to_async."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Greatest
from django.utils import timezone

from blog import events
from blog.accounts.models import User
from blog.accounts.two_factor.policy import second_factor_check
from blog.comments.models import MAX_REPLY_DEPTH, RESUME_LIMIT, Comment, CommentChange, CommentRevision, rendered_bodies
from blog.moderation import policy as moderation_policy
from blog.moderation import records as moderation_records
from blog.moderation.models import ModerationAction
from blog.notifications import services as notification_services
from blog.posts.models import Post
from blog.rate_limit import write_budget_spend

logger = logging.getLogger(__name__)

MESSAGE_LOGIN_REQUIRED = "Log in to comment."
MESSAGE_COMMENTS_CLOSED = "Comments open once the post is published."
MESSAGE_CLIENT_ID_REUSED = "This client_id was already used for a comment on another post."
MESSAGE_NOT_YOUR_COMMENT = "You can only delete your own comments."
MESSAGE_EDIT_NOT_YOURS = "You can only edit your own comments."
MESSAGE_EDIT_WINDOW_OVER = "Comments can only be edited in the first 5 minutes after posting."
MESSAGE_ALREADY_DELETED = "This comment was deleted."
MESSAGE_PARENT_NOT_ID = "parent must be the id of a comment (a positive whole number)."
MESSAGE_NO_SUCH_PARENT = "The comment you are replying to is not on this post (it may have been deleted)."
MESSAGE_EDIT_UNDER_REVIEW = "A comment can be edited only while it is published, not while a moderator reviews it."

# Comments of a deleted account read at a time (comments_of_author_delete).
AUTHOR_DELETION_CHUNK = 200


class LoginRequired(PermissionDenied):
    """The action needs a logged-in user (as opposed to a user without the right)."""


@dataclass(frozen=True)
class CommentPosted:
    comment: Comment
    created: bool  # False when client_id named a comment saved earlier


def comment_post(
    *, post: Post, author: User, body: str, client_id: str | None = None, parent_id: object = None
) -> CommentPosted:
    """Validate and save a comment, then announce it (blog/events.py) once the transaction commits.

    parent_id: the comment of the same post it answers (an id; anything else is refused).
    A reply to a comment at the deepest level (MAX_REPLY_DEPTH) answers that comment's
    parent instead, so it lands beside it.
    A comment the moderation policy holds (blog/moderation/policy.py) is saved pending:
    announced to the moderators only, and to readers when one approves it.
    Raises LoginRequired, PermissionDenied, ValidationError (with field errors) or RateLimited.
    A client_id the author used before returns that earlier comment instead.
    """
    comment = _valid_new_comment(post=post, author=author, body=body, client_id=client_id)
    if comment.client_id is not None:
        earlier = _comment_by_client_id(author=author, client_id=comment.client_id, post=post)
        if earlier is not None:
            return CommentPosted(comment=earlier, created=False)
    answered = None
    if parent_id is not None:
        answered = _reply_parent(post=post, parent_id=parent_id)
        _attach_to_parent(comment, answered)

    write_budget_spend(user_id=author.pk)
    try:
        with transaction.atomic():
            # The caller's Post may be stale (a socket opened before an unpublish): ask the row itself.
            _lock_published_post(post.pk)
            if comment.parent_id is not None:
                # Locked too: a deletion of the parent waits, then sees this reply and leaves a placeholder.
                _reply_parent(post=post, parent_id=comment.parent_id, lock=True)
            held_because = moderation_policy.hold_reason(comment, author)
            if held_because is not None:
                comment.status, comment.held_reason = Comment.Status.PENDING, held_because[:200]
            comment.save()
            if comment.is_public:
                events.publish_on_commit(events.CommentCreated(comment))
                notification_services.comment_notify(comment, answered=answered)
            else:
                moderation_records.comment_held(comment)
    except IntegrityError:
        if comment.client_id is None:
            raise
        # A concurrent retry with the same client_id won the race: answer with its comment.
        earlier = _comment_by_client_id(author=author, client_id=comment.client_id, post=post)
        if earlier is None:
            raise
        return CommentPosted(comment=earlier, created=False)
    logger.info("comment saved id=%s post=%s author=%s status=%s", comment.pk, post.pk, author.pk, comment.status)
    return CommentPosted(comment=comment, created=True)


def comment_preview(*, post: Post, author: User, body: str) -> str:
    """The body as it would show once posted (its sanitised HTML), under the rules of comment_post.

    Raises what comment_post raises for the same post, author and body, except RateLimited:
    nothing is saved, announced or spent.
    """
    comment = _valid_new_comment(post=post, author=author, body=body, client_id=None)
    [html] = rendered_bodies([comment.body])
    return html


def _valid_new_comment(*, post: Post, author: User, body: str, client_id: str | None) -> Comment:
    """An unsaved comment that passed every rule the model and the post's state set."""
    if not author.is_authenticated:
        raise LoginRequired(MESSAGE_LOGIN_REQUIRED)
    if not post.is_published:
        raise PermissionDenied(MESSAGE_COMMENTS_CLOSED)
    comment = Comment(post=post, author=author, body=body.strip(), client_id=client_id or None)
    # Uniqueness is settled by the database constraint in comment_post, not by a racy lookup.
    comment.full_clean(exclude=["post", "author"], validate_constraints=False)
    return comment


def _reply_parent(*, post: Post, parent_id: object, lock: bool = False) -> Comment:
    """The comment a reply may answer: on this post, published, not deleted. Else ValidationError (errors.parent)."""
    if not isinstance(parent_id, int) or isinstance(parent_id, bool) or not 0 < parent_id < 2**63:
        raise ValidationError({"parent": [MESSAGE_PARENT_NOT_ID]})
    # Only the comment row is locked: its public() check joins its parent and thread.
    comments = Comment.objects.select_for_update(of=("self",)) if lock else Comment.objects
    parent = comments.shown().public().filter(pk=parent_id, post_id=post.pk).first()
    if parent is None:
        raise ValidationError({"parent": [MESSAGE_NO_SUCH_PARENT]})
    return parent


def _attach_to_parent(comment: Comment, parent: Comment) -> None:
    if parent.depth >= MAX_REPLY_DEPTH:
        comment.parent_id, comment.depth = parent.parent_id, parent.depth
    else:
        comment.parent_id, comment.depth = parent.pk, parent.depth + 1
    comment.thread_id = parent.thread_id or parent.pk


def _lock_published_post(post_id: int) -> None:
    """Refuse unless the post is published now; the lock keeps an unpublish from committing meanwhile."""
    if not Post.objects.select_for_update().filter(pk=post_id).published().exists():
        raise PermissionDenied(MESSAGE_COMMENTS_CLOSED)


def _comment_by_client_id(*, author: User, client_id: str, post: Post) -> Comment | None:
    earlier = Comment.objects.select_related("author").filter(author=author, client_id=client_id).first()
    if earlier is not None and earlier.post_id != post.pk:
        raise ValidationError({"client_id": [MESSAGE_CLIENT_ID_REUSED]})
    return earlier


def comment_delete(*, comment: Comment, actor: User) -> bool:
    """Delete a comment (its author, or anyone with blog.delete_comment) and tell readers.

    A comment with replies stays as a placeholder that holds them: its body, earlier bodies
    and author are erased. A placeholder whose last reply goes is removed with it.
    Deleting one's own comment spends the write budget (RateLimited past it);
    a moderator deleting someone else's comment does not, and is on the audit trail; one
    BLOG_REQUIRE_2FA covers must have given a second factor (SecondFactorRequired).
    Returns True when a placeholder stays.
    """
    if comment.is_placeholder:
        raise PermissionDenied(MESSAGE_ALREADY_DELETED)
    if not actor.is_authenticated:
        raise LoginRequired(MESSAGE_LOGIN_REQUIRED)
    if not (comment.author_id == actor.pk or actor.has_perm("blog.delete_comment")):
        raise PermissionDenied(MESSAGE_NOT_YOUR_COMMENT)
    if comment.author_id == actor.pk:
        write_budget_spend(user_id=actor.pk)
        return _delete(comment, actor=actor)
    second_factor_check(actor)
    return _delete(comment, actor=actor, recorded_as=ModerationAction.Kind.DELETE)


def comment_remove(*, comment: Comment, actor: User, reason: str = "") -> bool:
    """A moderator's removal of a hidden or flagged comment (blog/moderation/services.py checked the right):
    as a deletion, recorded with its reason. Returns True when a placeholder stays."""
    return _delete(comment, actor=actor, recorded_as=ModerationAction.Kind.REMOVE, reason=reason)


def comments_of_author_delete(*, author: User, actor: User) -> int:
    """Every comment of the author goes, each as its own deletion would (blog/accounts/data/services.py
    calls it when an account is deleted): readers of each post hear comment.deleted, a comment with
    others' replies stays as a placeholder, and held or hidden ones leave the moderators' queue.

    Not a moderator's deletion: it spends no write budget and is not on the audit trail.
    Replies go before what they answer, so a comment answered only by its own author leaves no
    placeholder. Rejected comments, which no reader ever saw, are simply deleted.
    Returns how many comments went or became placeholders.
    """
    # The ids first: SQLite does not isolate a cursor still open from the deletions made beside it.
    ids = list(
        Comment.objects.filter(author=author, deleted__isnull=True)
        .exclude(status=Comment.Status.REJECTED)
        .order_by("-depth", "-id")
        .values_list("id", flat=True)
    )
    count = 0
    for start in range(0, len(ids), AUTHOR_DELETION_CHUNK):
        chunk = ids[start : start + AUTHOR_DELETION_CHUNK]
        comments = Comment.objects.in_bulk(chunk)
        for comment in (comments[pk] for pk in chunk if pk in comments):
            try:
                _delete(comment, actor=actor)
            except PermissionDenied:
                continue  # deleted meanwhile, by a moderator
            count += 1
    rejected, _ = Comment.objects.filter(author=author, status=Comment.Status.REJECTED).delete()
    logger.info("comments of author deleted author=%s count=%s rejected=%s", author.pk, count, rejected)
    return count + rejected


def _delete(comment: Comment, *, actor: User, recorded_as: str | None = None, reason: str = "") -> bool:
    with transaction.atomic():
        # Locked: a reply being saved to it either committed first (and is seen here) or waits and is refused.
        locked = (
            Comment.objects.select_for_update()
            .filter(pk=comment.pk, deleted__isnull=True)
            .exclude(status=Comment.Status.REJECTED)
            .first()
        )
        if locked is None:
            raise PermissionDenied(MESSAGE_ALREADY_DELETED)
        if recorded_as is not None:
            moderation_records.action_record(recorded_as, actor=actor, comment=locked, reason=reason)
        under_review = moderation_records.in_queue(locked)
        # Readers have not got a held comment, and no longer have a hidden one (nor the replies under
        # it): nothing to tell them, nothing to count down. A placeholder left for the replies shows
        # with them at the next load.
        announce = locked.status == Comment.Status.PUBLISHED
        if locked.replies.exists():
            _leave_placeholder(locked, announce=announce)
            placeholder = True
        elif announce:
            _remove(locked)
            placeholder = False
        else:
            notification_services.comment_notifications_withdraw(locked.pk)
            locked.delete()
            placeholder = False
        if under_review:
            moderation_records.queue_announce(comment, action=recorded_as or "delete", actor=actor)
    return placeholder


def _leave_placeholder(comment: Comment, *, announce: bool = True) -> None:
    comment.revisions.all().delete()
    notification_services.comment_notifications_withdraw(comment.pk)
    # Published: a hidden comment's replies come back with the placeholder that holds them.
    Comment.objects.filter(pk=comment.pk).update(
        deleted=timezone.now(),
        body="",
        body_html="",
        author=None,
        client_id=None,
        edited=None,
        status=Comment.Status.PUBLISHED,
    )
    comment.deleted = timezone.now()
    if not announce:
        return
    change = CommentChange.objects.create(
        post_id=comment.post_id, comment_id=comment.pk, kind=CommentChange.Kind.DELETED
    )
    events.publish_on_commit(events.CommentDeleted(change, placeholder=True))


def _remove(comment: Comment) -> None:
    """Delete the comment, then any placeholder above it that held nothing else."""
    while comment is not None:
        parent_id = comment.parent_id
        change = CommentChange.objects.create(
            post_id=comment.post_id, comment_id=comment.pk, kind=CommentChange.Kind.DELETED
        )
        notification_services.comment_notifications_withdraw(comment.pk)
        comment.delete()
        events.publish_on_commit(events.CommentDeleted(change))
        comment = (
            Comment.objects.select_for_update().filter(pk=parent_id, deleted__isnull=False).first()
            if parent_id is not None
            else None
        )
        if comment is not None and comment.replies.exists():
            comment = None


def comment_edit(*, comment: Comment, actor: User, body: str) -> Comment:
    """Change a comment's body: its author, within the edit window. The old body is kept.

    An edit spends the write budget (RateLimited past it); one that changes
    nothing saves, broadcasts and spends nothing.
    """
    if not actor.is_authenticated:
        raise LoginRequired(MESSAGE_LOGIN_REQUIRED)
    if comment.author_id != actor.pk:
        raise PermissionDenied(MESSAGE_EDIT_NOT_YOURS)
    if not comment.is_public:
        raise PermissionDenied(MESSAGE_EDIT_UNDER_REVIEW)
    now = timezone.now()
    if now > comment.editable_until():
        raise PermissionDenied(MESSAGE_EDIT_WINDOW_OVER)
    previous = comment.body
    comment.body = body.strip()
    comment.full_clean(exclude=["post", "author", "client_id"], validate_constraints=False)
    if comment.body == previous:
        return comment
    write_budget_spend(user_id=actor.pk)
    comment.edited = now
    with transaction.atomic():
        # Comments are closed while the post is unpublished: editing is commenting again.
        _lock_published_post(comment.post_id)
        CommentRevision.objects.create(comment=comment, body=previous)
        comment.save(update_fields=["body", "edited"])
        change = CommentChange.objects.create(
            post_id=comment.post_id, comment_id=comment.pk, kind=CommentChange.Kind.EDITED
        )
        events.publish_on_commit(events.CommentUpdated(comment, change))
        notification_services.comment_edit_notify(comment)
        if moderation_records.has_open_flags(comment):
            moderation_records.queue_announce(comment)  # moderators judge what it says now
    logger.info("comment edited id=%s post=%s author=%s", comment.pk, comment.post_id, actor.pk)
    return comment


def comment_changes_prune(*, post_id: int, older_than: datetime) -> tuple[int, int] | None:
    """Delete the post's changes a resume can no longer need; (how many, up to which id) or None."""
    newest_first = CommentChange.objects.filter(post_id=post_id).order_by("-id").values_list("id", flat=True)
    kept = list(newest_first[RESUME_LIMIT - 1 : RESUME_LIMIT])
    if not kept:
        return None  # no more than a resume replays anyway
    old = CommentChange.objects.filter(post_id=post_id, id__lt=kept[0], at__lt=older_than)
    through = old.aggregate(through=Max("id"))["through"]
    if through is None:
        return None
    with transaction.atomic():
        # Everything up to `through` goes, so "after the boundary" always means "all still here".
        count, _ = CommentChange.objects.filter(post_id=post_id, id__lte=through).delete()
        Post.objects.filter(pk=post_id).update(changes_pruned_through=Greatest("changes_pruned_through", through))
    return count, through
