"""Delete the comment changes (edits, deletions) that no reader can still need.

Readers resume with ?changes_after=<id> (realtime/backlog.py), which replays at
most RESUME_LIMIT changes. So each post keeps its newest RESUME_LIMIT changes
and every change younger than BLOG_COMMENT_CHANGES_KEEP_DAYS; older ones go.
In the same transaction the post records the newest change id pruned, and a
reader resuming from before it is told to resync (reload its comments) instead
of being replayed the rest with a gap. Meant for a timer (deploy/systemd/).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from blog.comments.services import comment_changes_prune
from blog.models import RESUME_LIMIT, CommentChange


class Command(BaseCommand):
    help = (
        "Delete comment changes older than BLOG_COMMENT_CHANGES_KEEP_DAYS beyond each post's newest "
        f"{RESUME_LIMIT}; readers resuming from before them are told to resync."
    )

    def handle(self, *args: object, **options: object) -> None:
        older_than = timezone.now() - timedelta(days=settings.BLOG_COMMENT_CHANGES_KEEP_DAYS)
        posts = CommentChange.objects.filter(at__lt=older_than).values_list("post_id", flat=True).distinct()
        total = pruned_posts = 0
        for post_id in posts.order_by("post_id"):
            pruned = comment_changes_prune(post_id=post_id, older_than=older_than)
            if pruned is None:
                continue
            count, through = pruned
            total += count
            pruned_posts += 1
            self.stdout.write(f"post {post_id}: removed {count} comment changes, up to change {through}")
        self.stdout.write(f"Removed {total} comment changes from {pruned_posts} post(s).")
