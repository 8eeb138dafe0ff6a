from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from blog import events
from blog.accounts import services as account_services
from blog.comments import services as comment_services
from blog.comments.models import (
    MESSAGE_COMMENT_EMPTY,
    MESSAGE_COMMENT_NUL,
    MESSAGE_COMMENT_SURROGATE,
    MESSAGE_COMMENT_TOO_LONG,
)
from blog.models import Comment, Post
from blog.posts import services as post_services
from blog.process_cache import cache
from blog.rate_limit import RateLimited
from tests.factories import make_comment, make_post, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def broadcasts(monkeypatch):
    """Record new and deleted comments' events instead of broadcasting them, noting whether the write had committed."""
    sent = []

    def record(event):
        in_atomic_block = transaction.get_connection().in_atomic_block
        match event:
            case events.CommentCreated(comment=comment):
                sent.append(("created", comment.pk, in_atomic_block))
            case events.CommentDeleted(change=change):
                sent.append(("deleted", change.comment_id, in_atomic_block))

    monkeypatch.setattr(events, "_handlers", [record])
    return sent


def test_comment_post_saves_trimmed_body(post, reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        posted = comment_services.comment_post(post=post, author=reader, body="  Hello there \n", client_id=None)
    assert posted.created
    saved = Comment.objects.get()
    assert (saved.body, saved.author, saved.post, saved.client_id) == ("Hello there", reader, post, None)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", MESSAGE_COMMENT_EMPTY),
        (" \n\t ", MESSAGE_COMMENT_EMPTY),
        ("x" * 2001, MESSAGE_COMMENT_TOO_LONG),
        ("before\x00after", MESSAGE_COMMENT_NUL),
        ("lone \ud800 surrogate", MESSAGE_COMMENT_SURROGATE),
    ],
    ids=["empty", "whitespace", "too-long", "nul", "lone-surrogate"],
)
def test_comment_post_rejects_bad_body_and_saves_nothing(post, reader, body, message):
    with pytest.raises(ValidationError) as caught:
        comment_services.comment_post(post=post, author=reader, body=body)
    assert caught.value.message_dict == {"body": [message]}
    assert not Comment.objects.exists()


def test_comment_of_exactly_the_limit_is_accepted(post, reader, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        posted = comment_services.comment_post(post=post, author=reader, body="é" * 2000)
    assert len(posted.comment.body) == 2000


def test_anonymous_user_cannot_comment(post):
    with pytest.raises(comment_services.LoginRequired):
        comment_services.comment_post(post=post, author=AnonymousUser(), body="Hi")
    assert not Comment.objects.exists()


def test_comments_on_a_draft_are_refused(draft, author):
    with pytest.raises(PermissionDenied, match="published"):
        comment_services.comment_post(post=draft, author=author, body="Hi")


def test_repeated_client_id_returns_the_first_comment(post, reader, broadcasts, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = comment_services.comment_post(post=post, author=reader, body="Once", client_id="abc")
        again = comment_services.comment_post(post=post, author=reader, body="Once", client_id="abc")
    assert first.created and not again.created
    assert again.comment.pk == first.comment.pk
    assert Comment.objects.count() == 1
    assert [kind for kind, *_ in broadcasts] == ["created"]


def test_same_client_id_from_another_author_is_a_new_comment(post, reader, author, broadcasts):
    comment_services.comment_post(post=post, author=reader, body="Mine", client_id="abc")
    comment_services.comment_post(post=post, author=author, body="Mine too", client_id="abc")
    assert Comment.objects.count() == 2


def test_client_id_reused_on_another_post_is_invalid(post, reader, author, broadcasts):
    comment_services.comment_post(post=post, author=reader, body="Here", client_id="abc")
    other = make_post(author)
    with pytest.raises(ValidationError) as caught:
        comment_services.comment_post(post=other, author=reader, body="There", client_id="abc")
    assert caught.value.message_dict == {"client_id": [comment_services.MESSAGE_CLIENT_ID_REUSED]}


def test_overlong_client_id_is_invalid(post, reader):
    with pytest.raises(ValidationError) as caught:
        comment_services.comment_post(post=post, author=reader, body="Hi", client_id="x" * 65)
    assert list(caught.value.message_dict) == ["client_id"]


def test_database_refuses_a_duplicate_client_id_even_without_the_lookup(post, reader):
    """The constraint, not the lookup, is what makes racing retries safe."""
    make_comment(post, reader, client_id="race")
    with pytest.raises(Exception, match="(?i)unique"), transaction.atomic():
        make_comment(post, reader, client_id="race")


def test_racing_retry_that_loses_to_the_constraint_gets_the_winner(post, reader, broadcasts, monkeypatch):
    winner = make_comment(post, reader, client_id="race")
    # Simulate the race: the lookup ran before the other request committed.
    lookups = iter([None, winner])
    monkeypatch.setattr(comment_services, "_comment_by_client_id", lambda **kwargs: next(lookups))
    posted = comment_services.comment_post(post=post, author=reader, body="Again", client_id="race")
    assert (posted.created, posted.comment.pk) == (False, winner.pk)
    assert Comment.objects.count() == 1
    assert broadcasts == []


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
def test_rate_limit_refuses_past_the_budget(post, reader, broadcasts):
    comment_services.comment_post(post=post, author=reader, body="1")
    comment_services.comment_post(post=post, author=reader, body="2")
    with pytest.raises(RateLimited) as caught:
        comment_services.comment_post(post=post, author=reader, body="3")
    assert 1 <= caught.value.retry_after <= 60
    assert Comment.objects.count() == 2


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_rate_limit_is_per_user_and_retries_do_not_spend_it(post, reader, author, broadcasts):
    comment_services.comment_post(post=post, author=reader, body="1", client_id="one")
    comment_services.comment_post(post=post, author=reader, body="1", client_id="one")
    comment_services.comment_post(post=post, author=author, body="Someone else")
    assert Comment.objects.count() == 2


@override_settings(BLOG_COMMENT_RATE_LIMIT=None)
def test_rate_limit_off(post, reader, broadcasts):
    for number in range(15):
        comment_services.comment_post(post=post, author=reader, body=str(number))
    assert Comment.objects.count() == 15


@pytest.mark.django_db(transaction=True)
def test_broadcast_happens_after_commit(post, reader, broadcasts):
    posted = comment_services.comment_post(post=post, author=reader, body="Hi")
    assert broadcasts == [("created", posted.comment.pk, False)]


@pytest.mark.django_db(transaction=True)
def test_no_broadcast_when_the_transaction_rolls_back(post, reader, broadcasts):
    with pytest.raises(RuntimeError), transaction.atomic():
        comment_services.comment_post(post=post, author=reader, body="Hi")
        raise RuntimeError("the surrounding work failed")
    assert broadcasts == []
    assert not Comment.objects.exists()


def test_authors_delete_their_own_comments(post, reader, broadcasts, django_capture_on_commit_callbacks):
    comment = make_comment(post, reader)
    comment_id = comment.pk
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_delete(comment=comment, actor=reader)
    assert not Comment.objects.exists()
    assert [(kind, pk) for kind, pk, _ in broadcasts] == [("deleted", comment_id)]


def test_editors_delete_any_comment(post, reader, editor, broadcasts):
    comment = make_comment(post, reader)
    comment_services.comment_delete(comment=comment, actor=editor)
    assert not Comment.objects.exists()


def test_others_cannot_delete_a_comment(post, reader, author, broadcasts):
    comment = make_comment(post, reader)
    with pytest.raises(PermissionDenied):
        comment_services.comment_delete(comment=comment, actor=author)
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert broadcasts == []


def test_post_create_saves_a_draft_for_a_writer_who_asks_to_publish(author):
    post = post_services.post_create(author=author, title=" Hello ", body="Body", status=Post.Status.PUBLISHED)
    assert (post.title, post.status, post.published_at) == ("Hello", Post.Status.DRAFT, None)


def test_post_create_publishes_for_an_editor(editor):
    post = post_services.post_create(author=editor, title="News", body="Body", status=Post.Status.PUBLISHED)
    assert post.status == Post.Status.PUBLISHED
    assert post.published_at is not None


def test_post_create_validates(author):
    with pytest.raises(ValidationError) as caught:
        post_services.post_create(author=author, title="  ", body="Body", status=Post.Status.DRAFT)
    assert "title" in caught.value.message_dict


def test_post_publish_needs_the_permission(draft, author, editor):
    with pytest.raises(PermissionDenied):
        post_services.post_publish(post=draft, actor=author)
    post_services.post_publish(post=draft, actor=editor)
    draft.refresh_from_db()
    assert draft.is_published and draft.published_at is not None


@pytest.mark.usefixtures("production_password_hashers")
def test_user_signup_hashes_the_password_with_argon2(db):
    user = account_services.user_signup(username="newcomer", password="a-long-enough-password")
    assert user.password.startswith("argon2$")
    assert user.check_password("a-long-enough-password")


def test_publish_permission_comes_from_the_editors_group(db):
    writer, editor = make_user(), make_user(editor=True)
    assert not writer.has_perm("blog.publish_post")
    assert editor.has_perm("blog.publish_post")
    assert editor.has_perm("blog.delete_comment")


def test_author_edits_within_the_window_and_the_old_body_is_kept(post, reader, broadcasts):
    comment = make_comment(post, reader, body="Frist")
    edited = comment_services.comment_edit(comment=comment, actor=reader, body="  First  ")
    comment.refresh_from_db()
    assert (comment.body, comment.edited is not None) == ("First", True)
    assert edited.edited == comment.edited
    assert [revision.body for revision in comment.revisions.all()] == ["Frist"]


@pytest.mark.django_db(transaction=True)
def test_edit_broadcasts_after_commit(post, reader, monkeypatch):
    sent = []

    def record(event):
        if isinstance(event, events.CommentUpdated):
            sent.append((event.comment.body, transaction.get_connection().in_atomic_block))

    monkeypatch.setattr(events, "_handlers", [record])
    comment = make_comment(post, reader, body="before")
    comment_services.comment_edit(comment=comment, actor=reader, body="after")
    assert sent == [("after", False)]


def test_only_the_author_may_edit(post, reader, editor, broadcasts):
    comment = make_comment(post, reader, body="mine")
    for other in (editor, make_user()):
        with pytest.raises(PermissionDenied, match="your own"):
            comment_services.comment_edit(comment=comment, actor=other, body="theirs")
    comment.refresh_from_db()
    assert comment.body == "mine" and not comment.revisions.exists()


def test_editing_after_five_minutes_is_refused(post, reader, broadcasts):
    comment = make_comment(post, reader, body="old")
    Comment.objects.filter(pk=comment.pk).update(created=timezone.now() - timedelta(minutes=5, seconds=1))
    comment.refresh_from_db()
    with pytest.raises(PermissionDenied) as refused:
        comment_services.comment_edit(comment=comment, actor=reader, body="new")
    assert str(refused.value) == comment_services.MESSAGE_EDIT_WINDOW_OVER
    comment.refresh_from_db()
    assert comment.body == "old"


def test_an_edit_follows_the_body_rules(post, reader, broadcasts):
    comment = make_comment(post, reader, body="fine")
    with pytest.raises(ValidationError) as caught:
        comment_services.comment_edit(comment=comment, actor=reader, body="\x00")
    assert caught.value.message_dict == {"body": [MESSAGE_COMMENT_NUL]}
    comment.refresh_from_db()
    assert comment.body == "fine" and comment.edited is None


def test_an_edit_that_changes_nothing_keeps_no_revision(post, reader, broadcasts):
    comment = make_comment(post, reader, body="same")
    comment_services.comment_edit(comment=comment, actor=reader, body="same ")
    comment.refresh_from_db()
    assert comment.edited is None and not comment.revisions.exists()


def test_anonymous_users_cannot_edit_or_delete(post, reader):
    comment = make_comment(post, reader)
    with pytest.raises(comment_services.LoginRequired):
        comment_services.comment_edit(comment=comment, actor=AnonymousUser(), body="x")
    with pytest.raises(comment_services.LoginRequired):
        comment_services.comment_delete(comment=comment, actor=AnonymousUser())


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_comments_are_still_saved_when_the_budget_store_is_down(post, reader, broadcasts, monkeypatch):
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", cache_down)
    monkeypatch.setattr(cache, "add", cache_down)
    comment_services.comment_post(post=post, author=reader, body="1")
    comment_services.comment_post(post=post, author=reader, body="2")
    assert Comment.objects.count() == 2


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
def test_edits_spend_the_write_budget(post, reader, broadcasts):
    comment = make_comment(post, reader, body="one")
    comment_services.comment_edit(comment=comment, actor=reader, body="two")
    comment_services.comment_edit(comment=comment, actor=reader, body="three")
    with pytest.raises(RateLimited):
        comment_services.comment_edit(comment=comment, actor=reader, body="four")
    comment.refresh_from_db()
    assert comment.body == "three" and comment.revisions.count() == 2


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_an_edit_that_changes_nothing_spends_nothing(post, reader, broadcasts):
    comment = make_comment(post, reader, body="same")
    comment_services.comment_edit(comment=comment, actor=reader, body="same")
    comment_services.comment_edit(comment=comment, actor=reader, body="changed")
    comment.refresh_from_db()
    assert comment.body == "changed"


@override_settings(BLOG_COMMENT_RATE_LIMIT=(2, 60))
def test_comments_edits_and_deletions_share_one_budget(post, reader, broadcasts):
    posted = comment_services.comment_post(post=post, author=reader, body="one").comment
    comment_services.comment_edit(comment=posted, actor=reader, body="two")
    doomed = make_comment(post, reader)
    with pytest.raises(RateLimited):
        comment_services.comment_delete(comment=doomed, actor=reader)
    assert Comment.objects.filter(pk=doomed.pk).exists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_deleting_ones_own_comments_spends_the_budget(post, reader, broadcasts):
    first, second = make_comment(post, reader), make_comment(post, reader)
    comment_services.comment_delete(comment=first, actor=reader)
    with pytest.raises(RateLimited):
        comment_services.comment_delete(comment=second, actor=reader)
    assert list(Comment.objects.values_list("pk", flat=True)) == [second.pk]


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_a_moderator_deleting_others_comments_is_not_limited(post, reader, editor, broadcasts):
    for comment in [make_comment(post, reader) for _ in range(3)]:
        comment_services.comment_delete(comment=comment, actor=editor)
    assert not Comment.objects.exists()
    # ...and their own budget is untouched.
    comment_services.comment_post(post=post, author=editor, body="Still free to comment")
