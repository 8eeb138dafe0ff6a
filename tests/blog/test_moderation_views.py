"""Deleting and editing comments over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from blog.comments import services as comment_services
from blog.models import Comment
from tests.factories import make_comment, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def delete_url(comment: Comment) -> str:
    return f"/blog/comments/{comment.pk}/delete/"


def edit_url(comment: Comment) -> str:
    return f"/blog/comments/{comment.pk}/edit/"


@pytest.fixture
def comment(post, reader):
    return make_comment(post, reader, body="Original words")


def test_author_deletes_their_comment_and_returns_to_the_post(reader_client, comment, post):
    response = reader_client.post(delete_url(comment))
    assert (response.status_code, response["Location"]) == (302, post.get_absolute_url())
    assert not Comment.objects.exists()


def test_delete_as_json(reader_client, comment):
    comment_id = comment.pk
    response = reader_client.post(delete_url(comment), **JSON)
    assert (response.status_code, response.json()) == (200, {"deleted": comment_id, "placeholder": False})


def test_editor_deletes_anyones_comment(client, editor, comment):
    client.force_login(editor)
    assert client.post(delete_url(comment)).status_code == 302
    assert not Comment.objects.exists()


def test_others_get_403_and_the_comment_stays(client, author, comment):
    client.force_login(author)
    response = client.post(delete_url(comment), **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert client.post(delete_url(comment)).status_code == 403
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_anonymous_delete_goes_to_login(client, comment):
    response = client.post(delete_url(comment))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert Comment.objects.exists()


def test_delete_needs_a_csrf_token(reader, comment):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    assert client.post(delete_url(comment)).status_code == 403
    assert Comment.objects.exists()


def test_deleted_comments_leave_the_json_list(reader_client, comment, post):
    reader_client.post(delete_url(comment))
    assert reader_client.get(f"/blog/posts/{post.pk}/comments/").json()["comments"] == []


def test_author_edits_and_returns_to_the_comment(reader_client, comment):
    response = reader_client.post(edit_url(comment), {"body": "Better words"})
    assert (response.status_code, response["Location"]) == (302, comment.get_absolute_url())
    comment.refresh_from_db()
    assert comment.body == "Better words" and comment.edited is not None


def test_edit_as_json_shows_the_new_body_and_edited_time(reader_client, comment, post):
    response = reader_client.post(edit_url(comment), {"body": "Better words"}, **JSON)
    assert response.status_code == 200
    edited = response.json()["comment"]
    assert edited["body"] == "Better words" and edited["edited"] is not None
    listed = reader_client.get(f"/blog/posts/{post.pk}/comments/").json()["comments"]
    assert listed == [edited]


def test_edit_past_the_window_is_403_saying_so(reader_client, comment):
    Comment.objects.filter(pk=comment.pk).update(created=timezone.now() - timedelta(minutes=6))
    response = reader_client.post(edit_url(comment), {"body": "Too late"}, **JSON)
    assert response.status_code == 403
    assert response.json()["message"] == comment_services.MESSAGE_EDIT_WINDOW_OVER
    html = reader_client.post(edit_url(comment), {"body": "Too late"})
    assert html.status_code == 403
    assert "first 5 minutes" in html.content.decode()


def test_others_cannot_edit(client, editor, comment):
    client.force_login(editor)
    assert client.post(edit_url(comment), {"body": "Editor's words"}).status_code == 403
    assert client.get(edit_url(comment)).status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Original words"


def test_invalid_edit_shows_the_form_again(reader_client, comment):
    response = reader_client.post(edit_url(comment), {"body": "  "})
    assert response.status_code == 400
    assert "Write something before posting." in response.content.decode()
    json_response = reader_client.post(edit_url(comment), {"body": "  "}, **JSON)
    assert (json_response.status_code, json_response.json()["code"]) == (400, "invalid")


def test_edit_page_for_browsers_without_the_script(reader_client, comment):
    page = reader_client.get(edit_url(comment)).content.decode()
    assert "Original words" in page and "Edit your comment" in page


def test_comments_of_hidden_posts_are_404(client, draft, author, reader):
    hidden = make_comment(draft, author)
    client.force_login(reader)
    assert client.post(delete_url(hidden)).status_code == 404
    assert client.get(edit_url(hidden)).status_code == 404


def test_post_page_offers_edit_and_delete_only_where_allowed(client, post, reader, author, editor):
    make_comment(post, reader, body="Reader's")
    client.force_login(author)
    others = client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment-edit"' not in others and 'class="comment-delete"' not in others
    assert 'class="comment-flag"' in others
    client.force_login(reader)
    own = client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment-edit"' in own and 'class="comment-delete"' in own
    client.force_login(editor)
    moderated = client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment-delete"' in moderated and 'class="comment-edit"' not in moderated


def test_post_page_marks_edited_comments(client, post, reader):
    comment = make_comment(post, reader)
    Comment.objects.filter(pk=comment.pk).update(edited=timezone.now())
    html = client.get(post.get_absolute_url()).content.decode()
    assert re.search(r'<span class="comment-edited" title="Edited [^"]+ UTC">\(edited\)</span>', html)


def test_other_users_may_only_flag(client, post, reader):
    make_comment(post, reader)
    client.force_login(make_user())
    page = client.get(post.get_absolute_url()).content.decode()
    assert 'class="comment-edit"' not in page and 'class="comment-delete"' not in page
    assert 'class="comment-flag"' in page


def test_anonymous_json_clients_get_401(client, comment):
    for url in (delete_url(comment), edit_url(comment)):
        response = client.post(url, {"body": "x"}, **JSON)
        assert (response.status_code, response.json()["code"]) == (401, "login_required")
