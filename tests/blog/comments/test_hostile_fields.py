"""No field crashes a view: hostile comment fields over HTTP get 400 with a message, never 500."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from blog.comments.models import MESSAGE_CLIENT_ID_NUL, MESSAGE_CLIENT_ID_TOO_LONG, MESSAGE_COMMENT_NUL
from blog.models import Comment
from tests.factories import make_comment

JSON = {"HTTP_ACCEPT": "application/json"}
NESTED = "[" * 30_000 + "]" * 30_000
FORM = "application/x-www-form-urlencoded"

# (field, value, the field the error is reported on, a message it carries or None for any)
HOSTILE_FORM_FIELDS = [
    ("body", "x\x00", "body", MESSAGE_COMMENT_NUL),
    ("body", NESTED, "body", None),
    ("body", "", "body", None),
    ("client_id", "x\x00", "client_id", MESSAGE_CLIENT_ID_NUL),
    ("client_id", "x" * 70, "client_id", MESSAGE_CLIENT_ID_TOO_LONG),
]
IDS = ["body-nul", "body-nested", "body-empty", "client-id-nul", "client-id-70-chars"]


def comments_url(post) -> str:
    return reverse("blog:post_comments", args=[post.pk])


@pytest.mark.parametrize(("field", "value", "reported_on", "message"), HOSTILE_FORM_FIELDS, ids=IDS)
def test_hostile_comment_fields_from_a_json_client_get_400_with_the_field_and_message(
    reader_client, post, field, value, reported_on, message
):
    response = reader_client.post(comments_url(post), {"body": "Hi", field: value}, **JSON)
    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "invalid"
    assert list(answer["errors"]) == [reported_on]
    assert answer["message"] == (message or answer["errors"][reported_on][0])
    assert not Comment.objects.exists()


@pytest.mark.parametrize(("field", "value", "reported_on", "message"), HOSTILE_FORM_FIELDS, ids=IDS)
def test_hostile_comment_fields_from_a_browser_form_get_400_with_a_message(
    reader_client, post, field, value, reported_on, message
):
    response = reader_client.post(comments_url(post), {"body": "Hi", field: value})
    assert response.status_code == 400
    if message:
        assert message in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize("accept", [JSON, {}], ids=["json-client", "browser"])
def test_a_json_body_is_not_a_comment_and_gets_400(reader_client, post, accept):
    """The endpoint reads forms; any JSON (nested, NUL, any type) finds no body there."""
    for value in [NESTED, None, True, 1.5, -1, 2**70, [], {}, "x\u0000", "\ud800", "x" * 70]:
        payload = json.dumps({"body": "@"}).replace('"@"', NESTED) if value is NESTED else json.dumps({"body": value})
        response = reader_client.post(comments_url(post), payload, content_type="application/json", **accept)
        assert response.status_code == 400, value
    assert not Comment.objects.exists()


def test_bytes_that_are_not_utf8_are_read_as_text_not_a_crash(reader_client, post):
    """A lone surrogate cannot travel in UTF-8; its bytes arrive as replacement characters."""
    response = reader_client.post(comments_url(post), b"body=%ED%A0%80&client_id=%FF", content_type=FORM, **JSON)
    assert response.status_code == 201
    comment = Comment.objects.get()
    assert (comment.body, comment.client_id) == ("\ufffd" * 3, "\ufffd")


@pytest.mark.parametrize(
    ("value", "message"), [("x\x00", MESSAGE_COMMENT_NUL), (NESTED, None), ("", None)], ids=["nul", "nested", "empty"]
)
@pytest.mark.parametrize("accept", [JSON, {}], ids=["json-client", "browser"])
def test_hostile_edits_get_400_with_a_message(reader_client, post, reader, value, message, accept):
    comment = make_comment(post, reader, body="Mine")
    response = reader_client.post(reverse("blog:comment_edit", args=[comment.pk]), {"body": value}, **accept)
    assert response.status_code == 400
    if accept:
        assert response.json()["code"] == "invalid"
        assert response.json()["message"] == (message or response.json()["errors"]["body"][0])
    elif message:
        assert message in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Mine"
