"""Readers like others' comments once, and take it back: the service's rules, the HTTP endpoint and
the plain form, the write budget, and the count every page shows."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from blog import events
from blog.comments import likes
from blog.comments.services import LoginRequired, comment_delete
from blog.models import Comment, CommentLike, LikesVersion
from blog.rate_limit import RateLimited
from tests.factories import make_comment, make_reply, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def like_url(comment) -> str:
    return f"/blog/comments/{comment.pk}/like/"


@pytest.fixture
def comment(post, author):
    return make_comment(post, author, body="Worth a like")


def like_count(comment) -> int:
    return Comment.objects.values_list("like_count", flat=True).get(pk=comment.pk)


def test_a_reader_likes_a_comment_once_and_can_take_it_back(comment, reader):
    assert likes.comment_like(comment=comment, actor=reader, liked=True) == likes.CommentLiked(comment.pk, True, 1)
    again = likes.comment_like(comment=comment, actor=reader, liked=True)
    assert again == likes.CommentLiked(comment.pk, True, 1)
    assert CommentLike.objects.filter(comment=comment, user=reader).count() == 1
    assert likes.comment_like(comment=comment, actor=reader, liked=False) == likes.CommentLiked(comment.pk, False, 0)
    assert like_count(comment) == 0
    assert not CommentLike.objects.exists()


def test_each_reader_counts_once(comment, reader):
    others = [make_user() for _ in range(3)]
    for user in [reader, *others]:
        likes.comment_like(comment=comment, actor=user, liked=True)
    likes.comment_like(comment=comment, actor=others[0], liked=False)
    assert like_count(comment) == 3 == CommentLike.objects.filter(comment=comment).count()


def test_nobody_likes_their_own_comment(comment, author):
    with pytest.raises(PermissionDenied, match="your own comment"):
        likes.comment_like(comment=comment, actor=author, liked=True)
    assert like_count(comment) == 0


def test_an_anonymous_reader_must_log_in(comment):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(LoginRequired):
        likes.comment_like(comment=comment, actor=AnonymousUser(), liked=True)


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.HIDDEN, Comment.Status.REJECTED])
def test_what_readers_cannot_see_cannot_be_liked(post, author, reader, status):
    held = make_comment(post, author, status=status)
    with pytest.raises(ValidationError):
        likes.comment_like(comment=held, actor=reader, liked=True)
    assert like_count(held) == 0


def test_a_reply_under_a_hidden_comment_cannot_be_liked(post, author, reader, comment):
    reply = make_reply(comment, make_user())
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN)
    with pytest.raises(ValidationError):
        likes.comment_like(comment=reply, actor=reader, liked=True)


def test_a_placeholder_cannot_be_liked(comment, author, reader):
    make_reply(comment, reader)
    comment_delete(comment=comment, actor=author)
    placeholder = Comment.objects.get(pk=comment.pk)
    with pytest.raises(ValidationError):
        likes.comment_like(comment=placeholder, actor=reader, liked=True)


def test_a_comment_hidden_after_it_was_read_is_refused_in_the_transaction(comment, reader):
    """The caller read it published; the service checks again where it writes."""
    Comment.objects.filter(pk=comment.pk).update(status=Comment.Status.HIDDEN)
    with pytest.raises(ValidationError):
        likes.comment_like(comment=comment, actor=reader, liked=True)
    assert not CommentLike.objects.exists()


def test_a_like_and_an_unlike_each_spend_the_write_budget(comment, reader, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = (2, 60)
    likes.comment_like(comment=comment, actor=reader, liked=True)
    # Asking again for what already is spends nothing.
    likes.comment_like(comment=comment, actor=reader, liked=True)
    likes.comment_like(comment=comment, actor=reader, liked=False)
    with pytest.raises(RateLimited):
        likes.comment_like(comment=comment, actor=reader, liked=True)
    assert like_count(comment) == 0


def test_a_like_is_announced_after_the_commit_with_a_growing_version(
    comment, reader, django_capture_on_commit_callbacks, monkeypatch
):
    heard = []
    monkeypatch.setattr(events, "_handlers", [heard.append])
    other = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        likes.comment_like(comment=comment, actor=reader, liked=True)
        likes.comment_like(comment=comment, actor=other, liked=True)
        likes.comment_like(comment=comment, actor=reader, liked=False)
    assert [(event.likes, event.version) for event in heard] == [(1, 1), (2, 2), (1, 3)]
    assert all(isinstance(event, events.CommentLikesChanged) for event in heard)
    assert LikesVersion.objects.get(post=comment.post).number == 3


def test_likes_close_with_the_post(comment, reader):
    comment.post.status = comment.post.Status.DRAFT
    comment.post.save()
    with pytest.raises(PermissionDenied, match="published"):
        likes.comment_like(comment=comment, actor=reader, liked=True)


# Over HTTP


def test_a_json_client_likes_and_unlikes(reader_client, comment):
    liked = reader_client.post(like_url(comment), {"liked": "1"}, **JSON)
    assert (liked.status_code, liked.json()) == (200, {"id": comment.pk, "liked": True, "likes": 1})
    unliked = reader_client.post(like_url(comment), {"liked": "0"}, **JSON)
    assert unliked.json() == {"id": comment.pk, "liked": False, "likes": 0}


def test_a_json_client_liking_its_own_comment_is_forbidden(client, author, comment):
    client.force_login(author)
    refused = client.post(like_url(comment), **JSON)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_anonymous_json_gets_401_and_a_browser_the_login_page(client, comment):
    assert client.post(like_url(comment), **JSON).status_code == 401
    assert client.post(like_url(comment)).url.startswith("/accounts/login/")


def test_a_liked_value_other_than_0_or_1_is_invalid(reader_client, comment):
    refused = reader_client.post(like_url(comment), {"liked": "yes"}, **JSON)
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"liked": ["liked must be 1 (like) or 0 (unlike)."]}
    assert like_count(comment) == 0


@pytest.mark.parametrize("status", [Comment.Status.PENDING, Comment.Status.HIDDEN])
def test_a_held_or_hidden_comment_is_not_found(reader_client, post, author, status):
    held = make_comment(post, author, status=status)
    assert reader_client.post(like_url(held), **JSON).status_code == 404


def test_over_the_budget_a_like_gets_429_with_retry_after(reader_client, comment, settings):
    settings.BLOG_COMMENT_RATE_LIMIT = (1, 60)
    assert reader_client.post(like_url(comment), **JSON).status_code == 200
    refused = reader_client.post(like_url(comment), {"liked": "0"}, **JSON)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert like_count(comment) == 1


def test_the_plain_form_comes_back_to_the_page_it_was_sent_from(reader_client, post, comment):
    page = f"http://testserver{post.get_absolute_url()}?sort=liked"
    response = reader_client.post(like_url(comment), {"liked": "1"}, HTTP_REFERER=page)
    assert response.status_code == 302
    assert response.url == f"{post.get_absolute_url()}?sort=liked#comment-{comment.pk}"


def test_the_plain_form_never_follows_a_referer_off_the_post(reader_client, post, comment):
    for referer in ("https://evil.example/blog/", "http://testserver/blog/drafts/"):
        response = reader_client.post(like_url(comment), {"liked": "1"}, HTTP_REFERER=referer)
        assert response.url == comment.permalink()


def test_without_the_script_the_page_shows_the_count_and_the_pressed_button(
    reader_client, post, comment, django_capture_on_commit_callbacks
):
    page = reader_client.get(post.get_absolute_url()).content.decode()
    assert re.search(r'aria-pressed="false">Like</button>', page)
    assert 'name="liked" value="1"' in page
    with django_capture_on_commit_callbacks(execute=True):
        reader_client.post(like_url(comment), {"liked": "1"})
    page = reader_client.get(post.get_absolute_url()).content.decode()
    assert '<span class="comment-likes" data-likes="1">1 like</span>' in page
    assert 'aria-pressed="true">Like</button>' in page
    assert 'name="liked" value="0"' in page


def test_no_one_gets_a_like_button_on_their_own_comment(client, post, author, comment):
    client.force_login(author)
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment-like"' not in page


def test_a_cached_page_never_shows_a_stale_count(client, post, comment, reader, django_capture_on_commit_callbacks):
    """Pieces are cached per comment: a like makes the page's next read show the new count."""
    assert 'data-likes="0"' in client.get(post.get_absolute_url()).content.decode()
    for user in (reader, make_user()):
        with django_capture_on_commit_callbacks(execute=True):
            likes.comment_like(comment=comment, actor=user, liked=True)
    for url in (post.get_absolute_url(), f"{post.get_absolute_url()}?sort=liked"):
        assert '<span class="comment-likes" data-likes="2">2 likes</span>' in client.get(url).content.decode()
    listed = client.get(f"/blog/posts/{post.pk}/comments/", **JSON).json()["comments"]
    assert listed[0]["likes"] == 2


def test_a_logged_in_page_reads_the_readers_likes_only_when_a_comment_has_likes(
    client, post, comment, reader, django_assert_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(reader)
    client.get(post.get_absolute_url())
    # As tests/blog/test_page_cache.py counts them: no query for likes when no comment has one.
    with django_assert_num_queries(6):
        client.get(post.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        likes.comment_like(comment=comment, actor=make_user(), liked=True)
    client.get(post.get_absolute_url())
    with django_assert_num_queries(7):  # and one when some have
        page = client.get(post.get_absolute_url()).content.decode()
    assert 'aria-pressed="false"' in page


def test_a_user_deleted_outright_takes_their_likes_out_of_the_counts(post, author):
    comment = make_comment(post, author)
    liker, other = make_user(), make_user()
    for user in (liker, other):
        likes.comment_like(comment=comment, actor=user, liked=True)
    liker.delete()  # the admin's delete, or the shell's
    comment.refresh_from_db()
    assert comment.like_count == 1
