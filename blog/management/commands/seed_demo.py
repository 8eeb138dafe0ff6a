"""Make demo accounts, posts and comments; safe to run again."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from blog.comments.services import comment_post
from blog.models import Post, User

DEMO_PASSWORD = "asgi-blog-demo"  # noqa: S105 - a documented demo login, debug only

DEMO_POSTS = [
    (
        "Welcome to asgi_blog",
        "This blog shows **new comments live**. Open this post in two browsers, "
        "log in in one of them and comment: the other sees it arrive without a reload.",
    ),
    (
        "How the live comments work",
        "Django's async views and a Channels consumer share one session.\n\n"
        "- HTTP posts go through `@login_required`;\n"
        '- WebSocket frames are checked against `scope["user"]`;\n'
        "- both call the same comment service, which broadcasts after the commit.",
    ),
    ("A draft nobody sees yet", "Only its author and the Editors can read this one."),
]
# Each demo post's tags (blog/posts/tags.py), in DEMO_POSTS' order: the draft's tag has no page.
DEMO_TAGS = [["welcome", "live comments"], ["live comments", "channels", "django"], ["drafts"]]

# One text per post: the same text on two posts is a spam signal (blog/moderation/checks.py).
DEMO_COMMENTS = ["First! Does this show up live on “{title}”?", "It does - try it from a second browser."]


class Command(BaseCommand):
    help = "Create demo users (one Editor), posts and comments. Idempotent."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        editor = self.demo_user("editor", is_staff=True)
        editor.groups.add(Group.objects.get(name="Editors"))
        writer = self.demo_user("writer")
        self.demo_user("reader")

        now = timezone.now()
        for index, ((title, body), tags) in enumerate(zip(DEMO_POSTS, DEMO_TAGS, strict=True)):
            published = index < 2
            post, _ = Post.objects.get_or_create(
                title=title,
                defaults={
                    "body": body,
                    "author": editor if published else writer,
                    "status": Post.Status.PUBLISHED if published else Post.Status.DRAFT,
                    "published_at": now if published else None,
                },
            )
            post.tags.set(tags)
            if published:
                # client_id makes a second run find these comments instead of adding more.
                # The second answers the first: the demo shows a thread.
                first = comment_post(
                    post=post, author=writer, body=DEMO_COMMENTS[0].format(title=title), client_id=f"seed-{post.pk}"
                )
                comment_post(
                    post=post,
                    author=editor,
                    body=DEMO_COMMENTS[1],
                    client_id=f"seed-{post.pk}",
                    parent_id=first.comment.pk,
                )

        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at /accounts/login/ as:"))
        self.stdout.write(f"  editor / {DEMO_PASSWORD}   (Editors group: publishes posts, moderates; staff)")
        self.stdout.write(f"  writer / {DEMO_PASSWORD}   (writes drafts, comments)")
        self.stdout.write(f"  reader / {DEMO_PASSWORD}   (comments)")

    def demo_user(self, username: str, *, is_staff: bool = False) -> User:
        # A verified address, so the demo shows notification email too (printed by the worker in debug).
        address = f"{username}@example.com"
        defaults = {"is_staff": is_staff, "email": address, "verified_email": address}
        user, created = User.objects.get_or_create(username=username, defaults=defaults)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user
