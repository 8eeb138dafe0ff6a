"""Preview: the comment as it will show, under the rules of posting, with nothing saved or spent."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from blog.comments.models import MESSAGE_COMMENT_EMPTY, MESSAGE_COMMENT_NUL
from blog.models import Comment, Post

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def preview_url(post: Post) -> str:
    return f"/blog/posts/{post.pk}/comments/preview/"


def test_the_script_gets_the_rendered_body_and_nothing_is_saved(reader_client, post):
    response = reader_client.post(preview_url(post), {"body": "**bold** <b>typed</b>"}, **JSON)
    assert response.status_code == 200
    assert response.json() == {"html": "<p><strong>bold</strong> &lt;b&gt;typed&lt;/b&gt;</p>"}
    assert not Comment.objects.exists()


def test_a_plain_form_gets_the_post_page_with_the_preview_and_its_text_kept(reader_client, post):
    response = reader_client.post(preview_url(post), {"body": "_soon_ posted"})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div class="comment-body"><p><em>soon</em> posted</p></div>' in page
    assert "_soon_ posted</textarea>" in page
    assert not Comment.objects.exists()


def test_without_a_preview_the_page_keeps_the_preview_box_hidden(reader_client, post):
    page = reader_client.get(post.get_absolute_url()).content.decode()
    assert 'id="comment-preview" class="comment-preview" aria-live="polite" hidden' in page


@pytest.mark.parametrize(("body", "message"), [("   ", MESSAGE_COMMENT_EMPTY), ("a\x00b", MESSAGE_COMMENT_NUL)])
def test_a_body_that_could_not_be_posted_cannot_be_previewed_either(reader_client, post, body, message):
    response = reader_client.post(preview_url(post), {"body": body}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "message": message, "errors": {"body": [message]}}
    page = reader_client.post(preview_url(post), {"body": body})
    assert page.status_code == 400 and message in page.content.decode()


def test_anonymous_readers_are_sent_to_log_in_or_get_401(client, post):
    response = client.post(preview_url(post), {"body": "Hi"})
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next=/blog/posts/{post.pk}/")
    assert client.post(preview_url(post), {"body": "Hi"}, **JSON).status_code == 401


def test_a_draft_cannot_be_previewed_on_as_it_cannot_be_commented_on(draft, author, reader):
    its_author, someone_else = Client(), Client()
    its_author.force_login(author)
    someone_else.force_login(reader)
    response = its_author.post(preview_url(draft), {"body": "Hi"}, **JSON)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert someone_else.post(preview_url(draft), {"body": "Hi"}, **JSON).status_code == 404


def test_only_post_is_allowed(reader_client, post):
    assert reader_client.get(preview_url(post)).status_code == 405


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_previews_spend_none_of_the_write_budget(reader_client, post):
    for _ in range(3):
        assert reader_client.post(preview_url(post), {"body": "draft"}, **JSON).status_code == 200
    assert reader_client.post(f"/blog/posts/{post.pk}/comments/", {"body": "posted"}, **JSON).status_code == 201


def test_a_preview_links_mentions_as_the_posted_comment_will(reader_client, post, author):
    response = reader_client.post(preview_url(post), {"body": f"Thanks @{author.username} and @nobody"}, **JSON)
    link = (
        f'<a href="/blog/users/{author.username}/" class="mention" rel="nofollow ugc noopener">@{author.username}</a>'
    )
    assert response.json() == {"html": f"<p>Thanks {link} and @nobody</p>"}
