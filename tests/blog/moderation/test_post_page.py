"""Held and hidden comments on the post page: their author and the moderators see them, no one else does."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from blog.comments import services as comment_services
from blog.comments.views import MESSAGE_AWAITING_APPROVAL
from blog.models import Comment, Post
from blog.moderation import services as moderation
from tests.blog.comments.test_pages import add_comments
from tests.factories import make_comment, make_user

pytestmark = pytest.mark.django_db

HELD_BODY = "Buy cheap watches here"


@pytest.fixture
def held(post, reader):
    return make_comment(post, reader, body=HELD_BODY, status=Comment.Status.PENDING, held_reason="it looked like spam")


def page(client, post: Post) -> str:
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def form_actions(html: str) -> list[str]:
    return re.findall(r'<form method="post" action="([^"]+)">', html)


def test_the_author_sees_their_held_comment_marked_above_the_form(reader_client, post, held):
    html = page(reader_client, post)
    assert "Your comments awaiting approval" in html
    assert f'<li class="comment comment-held comment-pending" id="comment-{held.pk}"' in html
    assert HELD_BODY in html
    assert "Awaiting approval: only you and the moderators can see it." in html
    assert html.index('id="held-comments"') < html.index('id="comment-form"')
    assert "moderation_approve" not in html and "/approve/" not in html, "no decisions for an author"


def test_no_other_reader_sees_a_held_comment(reader_client, post, held):
    """Not even after its author's page was rendered: the section is never part of the shared, cached comments."""
    assert HELD_BODY in page(reader_client, post)
    someone_else = Client()
    someone_else.force_login(make_user("someone-else"))
    for html in (page(someone_else, post), page(Client(), post)):
        assert HELD_BODY not in html
        assert f"comment-{held.pk}" not in html
        assert "held-comments" not in html


def test_a_moderator_sees_held_comments_with_approve_and_reject_forms(client, moderator, post, held, author):
    make_comment(post, author, body="A published one")
    client.force_login(moderator)
    html = page(client, post)
    assert "Held for moderation (1)" in html
    assert f'id="comment-{held.pk}"' in html and HELD_BODY in html
    assert "Awaiting approval" in html
    assert "Held because it looked like spam." in html and "0 open flags." in html
    assert form_actions(html)[-2:] == [
        f"/moderation/comments/{held.pk}/approve/",
        f"/moderation/comments/{held.pk}/reject/",
    ]
    assert html.count(f'<input type="hidden" name="next" value="{post.get_absolute_url()}">') == 2
    assert '<button type="submit">Approve</button>' in html
    assert '<button type="submit" class="secondary">Reject</button>' in html
    assert 'href="/moderation/"' in html


def test_the_moderators_approve_form_publishes_the_comment_and_comes_back_to_the_post(client, moderator, post, held):
    client.force_login(moderator)
    response = client.post(f"/moderation/comments/{held.pk}/approve/", {"next": post.get_absolute_url()})
    assert (response.status_code, response["Location"]) == (302, post.get_absolute_url())
    client.logout()
    html = page(client, post)
    assert f'<li class="comment" id="comment-{held.pk}"' in html
    assert "held-comments" not in html


def test_a_hidden_comment_shows_for_the_moderator_with_restore_and_remove(client, post, reader, author, settings):
    settings.BLOG_FLAG_THRESHOLD = 1
    flagged = make_comment(post, reader, body="Rude words")
    assert moderation.comment_flag(comment_id=flagged.pk, user=author, reason="abuse")
    client.force_login(make_user("mod", moderator=True))
    html = page(client, post)
    assert "Held for moderation (1)" in html
    assert f'<li class="comment comment-held comment-hidden" id="comment-{flagged.pk}"' in html
    assert "Hidden until a moderator reviews it" in html and "1 open flag." in html
    assert form_actions(html)[-2:] == [
        f"/moderation/comments/{flagged.pk}/approve/",
        f"/moderation/comments/{flagged.pk}/reject/",
    ]
    assert '<button type="submit">Restore</button>' in html
    assert '<button type="submit" class="secondary">Remove</button>' in html

    client.force_login(reader)
    mine = page(client, post)
    assert "Your comments awaiting approval" in mine and "Hidden until a moderator reviews it" in mine
    client.force_login(author)
    assert "Rude words" not in page(client, post)


def test_posting_a_held_comment_lands_on_it_with_the_message(settings, reader_client, post):
    settings.BLOG_COMMENT_MODERATION = "all"
    response = reader_client.post(f"/blog/posts/{post.pk}/comments/", {"body": "Please approve me"}, follow=True)
    held = Comment.objects.get()
    assert held.status == Comment.Status.PENDING
    assert response.redirect_chain == [(f"{post.get_absolute_url()}#comment-{held.pk}", 302)]
    html = response.content.decode()
    assert MESSAGE_AWAITING_APPROVAL in html
    assert f'id="comment-{held.pk}"' in html and "Please approve me" in html


@pytest.mark.parametrize("held_comments", [0, 3])
def test_an_anonymous_post_page_costs_no_query_for_held_comments(
    client, post, reader, django_assert_num_queries, held_comments
):
    """As before held comments were shown: the post with its versions, the page of comments, the count;
    none at all once cached."""
    add_comments(post, reader, 5)
    for n in range(held_comments):
        make_comment(post, reader, body=f"held {n}", status=Comment.Status.PENDING)
    with django_assert_num_queries(3):
        page(client, post)
    with django_assert_num_queries(0):
        html = page(client, post)
    assert "held-comments" not in html


def test_a_logged_in_page_reads_its_held_comments_in_one_query(client, post, reader, held, django_assert_num_queries):
    """The session, the user, their permissions (direct and through groups), the follow state, the bell's
    count, and the held comments: read while the page renders, as the follow state is."""
    add_comments(post, make_user(), 60)
    page(client, post)  # the comments cached
    client.force_login(reader)
    with django_assert_num_queries(7):
        html = page(client, post)
    assert HELD_BODY in html


def test_a_page_looks_for_held_comments_only_when_its_post_has_some(
    client, post, reader, moderator, django_assert_num_queries, settings, django_capture_on_commit_callbacks
):
    """The cached post says whether any of its comments waits for a moderator; a comment held drops it."""
    add_comments(post, reader, 10)
    page(client, post)
    client.force_login(moderator)
    with django_assert_num_queries(6):
        page(client, post)
    settings.BLOG_COMMENT_MODERATION = "all"
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_post(post=post, author=reader, body="held")
    page(client, post)
    # The held comments and their open flags, on top.
    with django_assert_num_queries(8):
        assert "Held for moderation (1)" in page(client, post)
