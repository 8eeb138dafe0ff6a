"""Reads for moderators: the queue (held, hidden and flagged comments, oldest first) and each author's history.

A queue entry is plain JSON, the same for the page, its socket's frames and the
JSON answer, so the three never disagree about what a moderator sees.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse

from blog.accounts.models import User
from blog.comments.models import Comment, CommentQuerySet
from blog.moderation.models import Flag, ModerationAction
from blog.moderation.policy import is_moderator
from blog.posts.models import Post

# The queue page shows this many entries, oldest first; the rest come as these are decided.
QUEUE_LIMIT = 200
HELD_ON_POST_LIMIT = 100


def open_flags() -> Exists:
    return Exists(Flag.objects.filter(comment=OuterRef("pk"), cleared__isnull=True))


def queue_comments() -> CommentQuerySet:
    """Held and hidden comments, and published ones with flags no moderator has answered yet."""
    published_and_flagged = Q(status=Comment.Status.PUBLISHED, deleted__isnull=True) & Q(open_flags())
    return (
        Comment.objects.filter(Q(status__in=[Comment.Status.PENDING, Comment.Status.HIDDEN]) | published_and_flagged)
        .select_related("author", "post")
        .order_by("id")
    )


def queue_items(limit: int = QUEUE_LIMIT) -> list[dict[str, object]]:
    """Sync: the queue's first `limit` entries, oldest first (a few queries, whatever the count)."""
    return items_of(list(queue_comments()[:limit]))


async def aqueue_items(limit: int = QUEUE_LIMIT) -> list[dict[str, object]]:
    return await sync_to_async(queue_items)(limit)


def queue_item(comment_id: int) -> dict[str, object] | None:
    """Sync: the comment's queue entry, or None when it is not in the queue."""
    comments = list(queue_comments().filter(pk=comment_id))
    items = items_of(comments)
    return items[0] if items else None


def items_of(comments: list[Comment]) -> list[dict[str, object]]:
    if not comments:
        return []
    flags = flag_reasons(comment.pk for comment in comments)
    history = author_history({comment.author_id for comment in comments if comment.author_id is not None})
    return [
        item_json(comment, flags.get(comment.pk, Counter()), history.get(comment.author_id, {})) for comment in comments
    ]


def item_json(comment: Comment, flags: Counter, history: dict[str, int]) -> dict[str, object]:
    author = comment.author
    return {
        "id": comment.pk,
        "status": comment.status,
        "post": {"id": comment.post_id, "title": comment.post.title, "url": comment.post.get_absolute_url()},
        "author": {
            "id": author.pk,
            "username": author.get_username(),
            "active": author.is_active,
            "always_hold": author.always_hold,
            "history": {kind: history.get(kind, 0) for kind in ("approved", "rejected", "removed", "flags")},
        },
        "body": comment.body,
        "html": comment.body_html,
        "created": comment.created.isoformat(),
        "held_reason": comment.held_reason,
        "flags": dict(sorted(flags.items())),
        "flag_count": sum(flags.values()),
        "url": comment.get_absolute_url(),
        "approve_url": reverse("moderation_approve", args=[comment.pk]),
        "reject_url": reverse("moderation_reject", args=[comment.pk]),
        "hide_url": reverse("moderation_hide", args=[comment.pk]),
        "ban_url": reverse("moderation_ban", args=[author.pk]),
        "hold_url": reverse("moderation_hold", args=[author.pk]),
    }


def flag_reasons(comment_ids: Iterable[int]) -> dict[int, Counter]:
    """The open flags of each comment, counted by reason."""
    rows = (
        Flag.objects.filter(comment_id__in=list(comment_ids), cleared__isnull=True)
        .values_list("comment_id", "reason")
        .annotate(n=Count("id"))
    )
    counted: dict[int, Counter] = defaultdict(Counter)
    for comment_id, reason, n in rows:
        counted[comment_id][reason] = n
    return counted


def author_history(author_ids: set[int]) -> dict[int, dict[str, int]]:
    """Per author: comments published, comments rejected and removed by moderators, and flags received."""
    history: dict[int, dict[str, int]] = defaultdict(dict)
    published = (
        Comment.objects.filter(author_id__in=author_ids, status=Comment.Status.PUBLISHED)
        .values_list("author_id")
        .annotate(n=Count("id"))
    )
    for author_id, n in published:
        history[author_id]["approved"] = n
    decided = (
        ModerationAction.objects.filter(
            author_id__in=author_ids, kind__in=[ModerationAction.Kind.REJECT, ModerationAction.Kind.REMOVE]
        )
        .values_list("author_id", "kind")
        .annotate(n=Count("id"))
    )
    names = {ModerationAction.Kind.REJECT: "rejected", ModerationAction.Kind.REMOVE: "removed"}
    for author_id, kind, n in decided:
        history[author_id][names[kind]] = n
    flags = (
        Flag.objects.filter(comment__author_id__in=author_ids).values_list("comment__author_id").annotate(n=Count("id"))
    )
    for author_id, n in flags:
        history[author_id]["flags"] = n
    return history


def held_on_post(post: Post, user: User, *, can_moderate: bool) -> list[Comment]:
    """Sync: the post's comments this reader sees only because they are theirs or they moderate:
    held and hidden ones (all of them for a moderator, their own for an author), oldest first."""
    if not user.is_authenticated:
        return []
    comments = post.comments.filter(status__in=[Comment.Status.PENDING, Comment.Status.HIDDEN])
    if not can_moderate:
        comments = comments.filter(author=user)
    return list(comments.select_related("author").order_by("id")[:HELD_ON_POST_LIMIT])


@dataclass(frozen=True)
class HeldComment:
    comment: Comment
    open_flags: int

    @property
    def pending(self) -> bool:
        """Held before readers saw it (else hidden after they did)."""
        return self.comment.status == Comment.Status.PENDING


@dataclass(frozen=True)
class HeldComments:
    """The post's held and hidden comments this reader sees only as their author, or as a moderator."""

    comments: list[HeldComment]
    moderating: bool


def held_for_reader(user: User, post: Post) -> HeldComments:
    """Sync, for the post page's render thread: the post's held and hidden comments this reader sees,
    with their open flags for a moderator. Whether the user moderates is read from the permissions
    the page loaded for the comments' controls: no query of its own."""
    moderating = is_moderator(user)
    comments = held_on_post(post, user, can_moderate=moderating)
    flags = {}
    if moderating and comments:
        flags = flag_reasons(comment.pk for comment in comments)
    held = [HeldComment(comment, sum(flags.get(comment.pk, {}).values())) for comment in comments]
    return HeldComments(held, moderating)
