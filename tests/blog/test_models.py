from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AnonymousUser

from blog.models import Comment, Post, User
from blog.posts import selectors as post_selectors
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db


def test_the_user_model_is_the_projects_own():
    assert settings.AUTH_USER_MODEL == "blog.User"
    assert get_user_model() is User
    assert User.USERNAME_FIELD == "username"


@pytest.mark.usefixtures("production_password_hashers")
def test_pbkdf2_hashes_still_verify_and_are_upgraded_to_argon2():
    user = make_user("old-timer")
    user.password = make_password("an-old-password", hasher="pbkdf2_sha256")
    user.save()
    assert user.check_password("an-old-password")
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


def test_post_body_markdown_is_rendered_and_sanitised(author):
    post = make_post(author, body="**bold** <script>alert(1)</script> <a href='javascript:alert(1)'>x</a>")
    html = str(post.body_html)
    assert "<strong>bold</strong>" in html
    assert "<script" not in html
    assert "javascript:" not in html


def test_published_posts_newest_first(author):
    older = make_post(author)
    newer = make_post(author)
    make_post(author, published=False)
    assert list(Post.objects.published().newest_first()) == [newer, older]


def test_drafts_are_visible_to_their_author_and_to_publishers(author, reader, post, draft):
    assert set(Post.objects.visible_to(AnonymousUser(), can_publish=False)) == {post}
    assert set(Post.objects.visible_to(reader, can_publish=False)) == {post}
    assert set(Post.objects.visible_to(author, can_publish=False)) == {post, draft}
    assert set(Post.objects.visible_to(reader, can_publish=True)) == {post, draft}


@pytest.mark.django_db(transaction=True)
async def test_the_async_selectors_and_the_sockets_agree_on_who_sees_which_post(author, reader, editor, post, draft):
    expected = {
        "anonymous": {post.pk},
        "reader": {post.pk},
        "author": {post.pk, draft.pk},
        "editor": {post.pk, draft.pk},
    }
    users = {"anonymous": AnonymousUser(), "reader": reader, "author": author, "editor": editor}
    for name, user in users.items():
        assert {p.pk async for p in await post_selectors.visible_posts(user)} == expected[name], name
        for candidate in (post, draft):
            seen = candidate.pk in expected[name]
            assert await post_selectors.post_is_visible(user, candidate.pk) is seen, name
            assert (await post_selectors.visible_post(user, candidate.pk) is not None) is seen, name
            for_socket, _ = await sync_to_async(post_selectors.post_and_moderation_for_socket)(user, candidate.pk)
            assert (for_socket is not None) is seen, name


def test_comments_after_an_id_in_id_order(post, reader):
    first, second, third = (make_comment(post, reader, body=str(n)) for n in range(3))
    assert list(Comment.objects.after(first.pk).for_display()) == [second, third]
    assert list(Comment.objects.after(None).for_display()) == [first, second, third]


def test_comment_json_shape(post, reader):
    comment = make_comment(post, reader, body="<b>raw</b>", client_id="c1")
    assert comment.as_json() == {
        "id": comment.pk,
        "post": post.pk,
        "parent": None,
        "author": "reader",
        "body": "<b>raw</b>",
        "html": "<p>&lt;b&gt;raw&lt;/b&gt;</p>",
        "created": comment.created.isoformat(),
        "edited": None,
        "editable_until": (comment.created + timedelta(minutes=5)).isoformat(),
        "client_id": "c1",
        "status": "published",
        "likes": 0,
    }
