"""The one place tests make users, posts and comments."""

from __future__ import annotations

import importlib
import itertools

from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.utils import timezone

from blog.models import Comment, EmailDelivery, Notification, Post, User

PASSWORD = "correct-horse-battery-staple"
_sequence = itertools.count(1)


def make_user(username: str | None = None, *, editor: bool = False, moderator: bool = False, **fields: object) -> User:
    user = User.objects.create_user(username=username or f"user{next(_sequence)}", password=PASSWORD, **fields)
    if editor:
        user.groups.add(editors_group())
    if moderator:
        user.groups.add(migration_group("Moderators"))
    return user


def editors_group() -> Group:
    """The group the data migration makes. Transactional tests empty every table, migration
    data included, so it is made again here by the migration's own code when missing."""
    if not Group.objects.filter(name="Editors").exists():
        migration = importlib.import_module("blog.migrations.0002_editors_group")
        migration.create_editors(django_apps, schema_editor=None)
    moderation_groups()
    return Group.objects.get(name="Editors")


def moderation_groups() -> None:
    """Moderators and Trusted, and the Editors' moderation right, as migration 0011 makes them."""
    if not Group.objects.filter(name="Moderators").exists():
        migration = importlib.import_module("blog.migrations.0011_moderation")
        migration.create_moderation_groups(django_apps, schema_editor=None)


def migration_group(name: str) -> Group:
    if name == "Editors":
        return editors_group()
    moderation_groups()
    return Group.objects.get(name=name)


def make_post(author: User, *, published: bool = True, title: str | None = None, body: str = "Hello.") -> Post:
    return Post.objects.create(
        author=author,
        title=title or f"Post {next(_sequence)}",
        body=body,
        status=Post.Status.PUBLISHED if published else Post.Status.DRAFT,
        published_at=timezone.now() if published else None,
    )


def make_comment(post: Post, author: User, body: str = "Nice post.", **fields: object) -> Comment:
    return Comment.objects.create(post=post, author=author, body=body, **fields)


def make_reply(parent: Comment, author: User, body: str = "I agree.") -> Comment:
    """A reply saved as comment_post saves one (tests of the service itself go through it)."""
    return Comment.objects.create(
        post_id=parent.post_id,
        author=author,
        body=body,
        parent=parent,
        thread_id=parent.thread_id or parent.pk,
        depth=parent.depth + 1,
    )


def make_notification(
    recipient: User, comment: Comment, *, kind: str = "reply", delivery: EmailDelivery | None = None
) -> Notification:
    """A notification row as the notifying service leaves it (the email side's tests start from rows)."""
    fields = {"post_id": comment.post_id, "actor": comment.author, "delivery": delivery}
    return Notification.objects.create(recipient=recipient, kind=kind, comment=comment, **fields)


def make_email_delivery(recipient: User, *, purpose: str = "notifications", **fields: object) -> EmailDelivery:
    """A pending email, due now unless send_after says otherwise."""
    fields.setdefault("send_after", timezone.now())
    return EmailDelivery.objects.create(recipient=recipient, purpose=purpose, **fields)


def make_verified_user(username: str | None = None, email: str | None = None, **fields: object) -> User:
    user = make_user(username, **fields)
    user.email = user.verified_email = email or f"{user.get_username()}@example.com"
    user.save(update_fields=["email", "verified_email"])
    return user
