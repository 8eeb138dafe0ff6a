from __future__ import annotations

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from blog.models import Comment, EmailDelivery, Notification, Post, User

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_prints_the_logins(capsys):
    call_command("seed_demo")
    counts = (User.objects.count(), Post.objects.count(), Comment.objects.count())
    call_command("seed_demo")
    assert (User.objects.count(), Post.objects.count(), Comment.objects.count()) == counts
    assert counts == (3, 3, 4)
    output = capsys.readouterr().out
    assert "editor / asgi-blog-demo" in output
    assert User.objects.get(username="editor").has_perm("blog.publish_post")
    assert not User.objects.get(username="writer").has_perm("blog.publish_post")


def test_the_demo_shows_notifications_and_their_email(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo")
    writer = User.objects.get(username="writer")
    assert writer.has_verified_email
    # The editor answered the writer's comment on each published post.
    assert set(Notification.objects.filter(recipient=writer).values_list("kind", flat=True)) == {"reply"}
    assert EmailDelivery.objects.filter(recipient=writer, status="pending").count() == 1
    assert DBTaskResult.objects.count() == EmailDelivery.objects.count()
