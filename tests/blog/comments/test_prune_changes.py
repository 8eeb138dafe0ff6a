"""manage.py prune_comment_changes: old changes go, and the post remembers up to where."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from blog.models import RESUME_LIMIT as BACKLOG_LIMIT
from blog.models import CommentChange, Post
from tests.factories import make_post

pytestmark = pytest.mark.django_db(transaction=True)


def add_changes(post: Post, count: int, *, days_old: float) -> list[int]:
    """`count` deletions on the post, dated `days_old` days ago; their ids, oldest first."""
    made = CommentChange.objects.bulk_create(
        CommentChange(post=post, comment_id=number, kind=CommentChange.Kind.DELETED) for number in range(count)
    )
    ids = [change.pk for change in made]
    CommentChange.objects.filter(pk__in=ids).update(at=timezone.now() - timedelta(days=days_old))
    return ids


def prune(settings, keep_days: float = 2) -> str:
    settings.BLOG_COMMENT_CHANGES_KEEP_DAYS = keep_days
    output = StringIO()
    call_command("prune_comment_changes", stdout=output)
    return output.getvalue()


def remaining(post: Post) -> list[int]:
    return list(post.comment_changes.order_by("id").values_list("id", flat=True))


def test_prune_keeps_the_newest_changes_and_the_recent_ones_and_records_the_boundary(author, settings):
    busy = make_post(author)
    old = add_changes(busy, 50, days_old=3)
    recent = add_changes(busy, BACKLOG_LIMIT + 50, days_old=1)
    quiet = make_post(author)
    quiet_changes = add_changes(quiet, 20, days_old=30)

    output = prune(settings)

    assert remaining(busy) == recent, "more than the newest 200 stay when they are recent"
    busy.refresh_from_db()
    assert busy.changes_pruned_through == old[-1]
    assert remaining(quiet) == quiet_changes, "a post with fewer than 200 changes keeps them all"
    quiet.refresh_from_db()
    assert quiet.changes_pruned_through == 0
    assert output.splitlines() == [
        f"post {busy.pk}: removed 50 comment changes, up to change {old[-1]}",
        "Removed 50 comment changes from 1 post(s).",
    ]


def test_prune_keeps_the_newest_changes_however_old(author, settings):
    post = make_post(author)
    changes = add_changes(post, BACKLOG_LIMIT + 10, days_old=30)

    output = prune(settings)

    assert remaining(post) == changes[10:]
    post.refresh_from_db()
    assert post.changes_pruned_through == changes[9]
    assert "removed 10 comment changes" in output


def test_prune_with_nothing_to_remove_says_so(author, settings):
    add_changes(make_post(author), BACKLOG_LIMIT + 10, days_old=1)
    assert prune(settings) == "Removed 0 comment changes from 0 post(s).\n"
