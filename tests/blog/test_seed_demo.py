from __future__ import annotations

import pytest
from django.core.management import call_command

from blog.models import Comment, Post, User

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
