"""Replies: a comment answers another of the same post, three levels at most, and a deleted
comment with replies stays as a placeholder that holds them."""

from __future__ import annotations

import re

import pytest
from django.db.models import RestrictedError
from django.test import Client

from blog.comments import services as comment_services
from blog.models import Comment, CommentChange, CommentRevision
from tests.factories import make_comment, make_post, make_reply, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def comments_url(post) -> str:
    return f"/blog/posts/{post.pk}/comments/"


def reply(post, author, parent, body="A reply.", **fields):
    return comment_services.comment_post(post=post, author=author, body=body, parent_id=parent.pk, **fields).comment


def test_a_reply_over_http_names_its_parent_in_the_json(reader_client, post, author):
    top = make_comment(post, author, body="First!")
    response = reader_client.post(comments_url(post), {"body": "Welcome", "parent": str(top.pk)}, **JSON)
    assert response.status_code == 201
    saved = Comment.objects.get(body="Welcome")
    assert (saved.parent_id, saved.thread_id, saved.depth) == (top.pk, top.pk, 1)
    assert response.json()["comment"]["parent"] == top.pk
    assert top.as_json()["parent"] is None


def test_a_plain_form_reply_goes_back_to_the_post_at_the_reply(reader_client, post, author):
    top = make_comment(post, author)
    response = reader_client.post(comments_url(post), {"body": "From a form", "parent": str(top.pk)})
    saved = Comment.objects.get(body="From a form")
    assert response.status_code == 302 and response["Location"].endswith(f"#comment-{saved.pk}")
    assert saved.parent_id == top.pk


def test_a_reply_to_the_third_level_lands_beside_it(post, author, reader):
    top = make_comment(post, author)
    second = reply(post, reader, top)
    third = reply(post, author, second)
    fourth = reply(post, reader, third)
    assert (second.depth, third.depth, fourth.depth) == (1, 2, 2)
    assert fourth.parent_id == second.pk and fourth.thread_id == top.pk


@pytest.mark.parametrize("which", ["other post", "missing", "deleted"])
def test_a_parent_that_is_not_there_is_refused_and_nothing_is_saved(reader_client, post, author, reader, which):
    if which == "other post":
        parent_id = make_comment(make_post(author), author).pk
    elif which == "missing":
        parent_id = 999_999
    else:
        gone = make_comment(post, author)
        make_reply(gone, reader)
        comment_services.comment_delete(comment=gone, actor=author)
        parent_id = gone.pk
    before = Comment.objects.count()
    response = reader_client.post(comments_url(post), {"body": "Hi", "parent": str(parent_id)}, **JSON)
    message = comment_services.MESSAGE_NO_SUCH_PARENT
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": message, "errors": {"parent": [message]}}
    assert Comment.objects.count() == before


@pytest.mark.parametrize("parent", ["abc", "-1", "1.5", "0", "9223372036854775808", "99999999999999999999999"])
def test_a_parent_that_is_not_an_id_is_refused_with_a_clear_message(reader_client, post, parent):
    response = reader_client.post(comments_url(post), {"body": "Hi", "parent": parent}, **JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == {"parent": [comment_services.MESSAGE_PARENT_NOT_ID]}
    assert not Comment.objects.exists()


@pytest.mark.parametrize("parent", ["424242", "9223372036854775808"])
def test_a_plain_form_with_a_gone_parent_shows_the_error_and_keeps_the_text(reader_client, post, parent):
    response = reader_client.post(comments_url(post), {"body": "Kept text", "parent": parent})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Kept text</textarea>" in page
    assert comment_services.MESSAGE_NO_SUCH_PARENT in page or comment_services.MESSAGE_PARENT_NOT_ID in page


def test_a_parent_deleted_while_the_reply_is_saved_is_refused_not_a_database_error(monkeypatch, post, author, reader):
    """The parent is checked again, locked, in the transaction that saves the reply."""
    top = make_comment(post, author)
    attach = comment_services._attach_to_parent

    def attach_then_parent_goes(comment, parent):
        attach(comment, parent)
        comment_services.comment_delete(comment=top, actor=author)

    monkeypatch.setattr(comment_services, "_attach_to_parent", attach_then_parent_goes)
    with pytest.raises(comment_services.ValidationError) as refused:
        reply(post, reader, top)
    assert refused.value.message_dict == {"parent": [comment_services.MESSAGE_NO_SUCH_PARENT]}
    assert not Comment.objects.exists()


def test_a_retried_reply_returns_the_first_even_when_its_parent_went_since(post, author, reader):
    top = make_comment(post, author)
    first = reply(post, reader, top, client_id="r1")
    other = make_comment(post, author)
    again = comment_services.comment_post(post=post, author=reader, body="A reply.", client_id="r1", parent_id=other.pk)
    assert (again.created, again.comment.pk, again.comment.parent_id) == (False, first.pk, top.pk)


# ---- Deleting keeps the conversation ----


def test_deleting_a_comment_with_replies_leaves_a_placeholder_without_text_or_author(
    client, post, author, reader, django_capture_on_commit_callbacks
):
    top = make_comment(post, author, body="Secret words")
    comment_services.comment_edit(comment=top, actor=author, body="Secret words, edited")
    answer = make_reply(top, reader, body="An answer")
    client.get(post.get_absolute_url())  # the page is cached with the comment as it was

    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_delete(comment=top, actor=author)

    top.refresh_from_db()
    assert top.is_placeholder and (top.body, top.body_html, top.author_id, top.edited) == ("", "", None, None)
    assert not CommentRevision.objects.filter(comment=top).exists()
    assert CommentChange.objects.filter(comment_id=top.pk, kind=CommentChange.Kind.DELETED).count() == 1
    page = client.get(post.get_absolute_url()).content.decode()
    assert "Secret words" not in page and "Comment deleted" in page and "An answer" in page
    assert f'data-author="{author.username}"' not in page
    placeholder = re.search(rf'<li class="comment comment-deleted" id="comment-{top.pk}".*?</li>\s*</ol>', page, re.S)
    assert placeholder and f'id="comment-{answer.pk}"' in placeholder.group(0)
    listed = client.get(comments_url(post), **JSON).json()["comments"]
    assert listed[0] == {
        "id": top.pk,
        "post": post.pk,
        "parent": None,
        "author": None,
        "body": "",
        "html": "",
        "created": top.created.isoformat(),
        "edited": None,
        "editable_until": None,
        "client_id": None,
        "status": "published",
        "deleted": True,
    }
    assert listed[1]["parent"] == top.pk


def test_a_cached_page_never_shows_a_deleted_comments_text(
    client, post, author, reader, django_capture_on_commit_callbacks
):
    """A comment never edited has the same edit time before and after: its cached piece must not be reused."""
    top = make_comment(post, author, body="Words to forget")
    make_reply(top, reader)
    assert "Words to forget" in client.get(post.get_absolute_url()).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        comment_services.comment_delete(comment=top, actor=author)
    assert "Words to forget" not in client.get(post.get_absolute_url()).content.decode()
    assert "Words to forget" not in client.get(comments_url(post), **JSON).content.decode()


def test_deleting_over_http_says_whether_a_placeholder_stays(reader_client, post, author, reader):
    top = make_comment(post, reader)
    make_reply(top, author)
    response = reader_client.post(f"/blog/comments/{top.pk}/delete/", **JSON)
    assert response.json() == {"deleted": top.pk, "placeholder": True}


def test_a_placeholder_is_not_counted_and_cannot_be_deleted_or_edited_again(client, post, author, reader):
    top = make_comment(post, author)
    make_reply(top, reader)
    comment_services.comment_delete(comment=top, actor=author)
    assert '<h2 id="comments-heading">1 comment</h2>' in client.get(post.get_absolute_url()).content.decode()
    moderator = Client()
    moderator.force_login(make_user(is_superuser=True))
    assert moderator.post(f"/blog/comments/{top.pk}/delete/", **JSON).status_code == 404
    assert moderator.post(f"/blog/comments/{top.pk}/edit/", {"body": "back"}, **JSON).status_code == 404
    assert Comment.objects.filter(pk=top.pk, deleted__isnull=False).exists()


def test_the_last_reply_of_a_placeholder_takes_the_placeholder_with_it(post, author, reader):
    top = make_comment(post, author)
    middle = make_reply(top, reader)
    answer = make_reply(middle, author)
    comment_services.comment_delete(comment=top, actor=author)
    comment_services.comment_delete(comment=middle, actor=reader)
    assert Comment.objects.filter(deleted__isnull=False).count() == 2

    comment_services.comment_delete(comment=answer, actor=author)

    assert not Comment.objects.exists()
    removed = list(CommentChange.objects.order_by("id").values_list("comment_id", flat=True))
    assert removed == [top.pk, middle.pk, answer.pk, middle.pk, top.pk]


def test_a_placeholder_with_other_replies_stays(post, author, reader):
    top = make_comment(post, author)
    first, second = make_reply(top, reader), make_reply(top, reader)
    comment_services.comment_delete(comment=top, actor=author)
    comment_services.comment_delete(comment=first, actor=reader)
    assert list(Comment.objects.values_list("pk", flat=True).order_by("pk")) == [top.pk, second.pk]


def test_a_comment_with_replies_cannot_be_deleted_from_under_them_by_any_path(post, author, reader):
    top = make_comment(post, author)
    make_reply(top, reader)
    with pytest.raises(RestrictedError):
        top.delete()
    post.delete()  # a post's deletion still takes its whole conversation
    assert not Comment.objects.exists()


def test_edits_and_deletions_work_on_replies(reader_client, post, author, reader):
    top = make_comment(post, author)
    answer = make_reply(top, reader, body="typo")
    response = reader_client.post(f"/blog/comments/{answer.pk}/edit/", {"body": "fixed"}, **JSON)
    assert response.json()["comment"]["body"] == "fixed" and response.json()["comment"]["parent"] == top.pk
    assert reader_client.post(f"/blog/comments/{answer.pk}/delete/", **JSON).json() == {
        "deleted": answer.pk,
        "placeholder": False,
    }
    assert list(Comment.objects.values_list("pk", flat=True)) == [top.pk]


# ---- The post page: Reply without JavaScript ----


def test_reply_links_lead_to_the_form_set_to_answer_that_comment(reader_client, post, author):
    top = make_comment(post, author)
    page = reader_client.get(post.get_absolute_url()).content.decode()
    assert f'href="/blog/posts/{post.pk}/?reply_to={top.pk}#comment-form"' in page
    page = reader_client.get(post.get_absolute_url(), {"reply_to": top.pk}).content.decode()
    assert f'<input type="hidden" name="parent" value="{top.pk}" id="id_parent">' in page
    assert re.search(rf'Replying to <a class="replying-to-link" href="#comment-{top.pk}">{author.username}</a>', page)


def test_reply_to_a_comment_that_is_gone_says_so(reader_client, post):
    page = reader_client.get(post.get_absolute_url(), {"reply_to": 31337}).content.decode()
    assert comment_services.MESSAGE_NO_SUCH_PARENT in page


def test_reply_to_that_is_not_an_id_is_a_400(reader_client, post):
    response = reader_client.get(post.get_absolute_url(), {"reply_to": "x"})
    assert response.status_code == 400 and "reply_to must be a comment id" in response.content.decode()
