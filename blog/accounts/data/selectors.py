"""The account's data as one JSON document (README, "Your data"): what the blog holds about a person.

One query per section whatever the account's size (a comment's earlier versions are read
for all its comments at once, joined to them by their author), each reading plain values
rather than models. Never in it: the session keys (bearer secrets), the password hash, the
moderators' notes on why a comment was held, and anything about other people beyond the
names their notifications show.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.utils import timezone

from blog.accounts.models import User, UserSession
from blog.accounts.two_factor.selectors import has_second_factor
from blog.comments.models import Comment, CommentLike, CommentRevision
from blog.moderation.models import Flag
from blog.notifications.models import Follow, Notification, NotificationKind
from blog.notifications.preferences import preferences_of
from blog.posts.models import Post, TaggedPost

EXPORT_FORMAT = "asgi_blog-account-export"
EXPORT_VERSION = 1


def account_export(user: User) -> dict[str, object]:
    """Sync: everything the account holds, as JSON-ready values (datetimes in ISO 8601)."""
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported": _when(timezone.now()),
        "profile": _profile(user),
        "posts": _posts(user),
        "comments": _comments(user),
        "notifications": _notifications(user),
        "notification_preferences": _preferences(user),
        "follows": _follows(user),
        "flags": _flags(user),
        "likes": _likes(user),
        "sessions": _sessions(user),
    }


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _profile(user: User) -> dict[str, object]:
    return {
        "username": user.get_username(),
        "email": user.email,
        "verified_email": user.verified_email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _when(user.date_joined),
        "last_login": _when(user.last_login),
        "groups": sorted(user.groups.values_list("name", flat=True)),
        # Names such as "blog.publish_post": through groups or held alone (a superuser holds them all).
        "permissions": sorted(user.get_all_permissions()),
        "staff": user.is_staff,
        "superuser": user.is_superuser,
        # Whether it is on, never its secret nor the recovery codes.
        "two_factor": has_second_factor(user),
    }


def _posts(user: User) -> list[dict[str, object]]:
    """Each post with its tags: two queries, joined here by post id."""
    rows = (
        Post.objects.filter(author=user)
        .order_by("id")
        .values_list("id", "title", "body", "status", "created", "updated", "published_at")
    )
    tags: dict[int, list[str]] = defaultdict(list)
    tagged = TaggedPost.objects.filter(content_object__author=user).order_by("tag__name")
    for post_id, name in tagged.values_list("content_object_id", "tag__name"):
        tags[post_id].append(name)
    return [
        {
            "id": pk,
            "title": title,
            "body": body,
            "status": status,
            "tags": tags[pk],
            "created": _when(created),
            "updated": _when(updated),
            "published_at": _when(published_at),
        }
        for pk, title, body, status, created, updated, published_at in rows
    ]


def _comments(user: User) -> list[dict[str, object]]:
    """Each comment with its earlier bodies, oldest first: two queries, joined here by comment id."""
    earlier = defaultdict(list)
    revisions = (
        CommentRevision.objects.filter(comment__author=user)
        .order_by("comment_id", "replaced", "id")
        .values_list("comment_id", "body", "replaced")
    )
    for comment_id, body, replaced in revisions:
        earlier[comment_id].append({"body": body, "replaced": _when(replaced)})
    rows = (
        Comment.objects.filter(author=user)
        .order_by("id")
        .values_list("id", "post_id", "post__title", "parent_id", "body", "status", "created", "edited")
    )
    return [
        {
            "id": pk,
            "post": post_id,
            "post_title": post_title,
            "parent": parent_id,
            "body": body,
            "status": status,
            "created": _when(created),
            "edited": _when(edited),
            "earlier_versions": earlier.get(pk, []),
        }
        for pk, post_id, post_title, parent_id, body, status, created, edited in rows
    ]


def _notifications(user: User) -> list[dict[str, object]]:
    rows = (
        Notification.objects.filter(recipient=user)
        .order_by("id")
        .values_list("id", "kind", "post_id", "comment_id", "actor__username", "created", "read", "note")
    )
    return [
        {
            "id": pk,
            "kind": kind,
            "post": post_id,
            "comment": comment_id,
            "actor": actor,
            "created": _when(created),
            "read": _when(read),
            "note": note,
        }
        for pk, kind, post_id, comment_id, actor, created, read, note in rows
    ]


def _preferences(user: User) -> dict[str, object]:
    preferences = preferences_of(user)
    return {
        **{kind: preferences.channel(kind) for kind in NotificationKind.values},
        # False: never changed, so these are the defaults.
        "saved": preferences.pk is not None,
    }


def _follows(user: User) -> list[dict[str, object]]:
    rows = Follow.objects.filter(user=user).order_by("id").values_list("post_id", "post__title", "following", "changed")
    return [
        {"post": post_id, "post_title": title, "following": following, "changed": _when(changed)}
        for post_id, title, following, changed in rows
    ]


def _flags(user: User) -> list[dict[str, object]]:
    rows = Flag.objects.filter(user=user).order_by("id").values_list("comment_id", "reason", "created", "cleared")
    return [
        {"comment": comment_id, "reason": reason, "created": _when(created), "cleared": _when(cleared)}
        for comment_id, reason, created, cleared in rows
    ]


def _likes(user: User) -> list[dict[str, object]]:
    rows = CommentLike.objects.filter(user=user).order_by("id").values_list("comment_id", "comment__post_id", "created")
    return [
        {"comment": comment_id, "post": post_id, "created": _when(created)} for comment_id, post_id, created in rows
    ]


def _sessions(user: User) -> list[dict[str, object]]:
    # Named field by field: the session key is a bearer secret and never leaves the server.
    rows = (
        UserSession.objects.filter(user=user)
        .order_by("signed_in", "id")
        .values_list("device", "user_agent", "address", "signed_in", "last_seen", "ended")
    )
    return [
        {
            "device": device,
            "user_agent": user_agent,
            "address": address,
            "signed_in": _when(signed_in),
            "last_seen": _when(last_seen),
            "ended": _when(ended),
        }
        for device, user_agent, address, signed_in, last_seen, ended in rows
    ]
