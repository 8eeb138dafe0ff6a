from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings
from django.urls import reverse

from blog.comments.models import MESSAGE_COMMENT_EMPTY
from blog.models import Comment, Post
from tests.factories import PASSWORD, make_comment, make_post, make_user

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def comments_url(post: Post) -> str:
    return reverse("blog:post_comments", args=[post.pk])


def test_root_redirects_to_the_blog(client):
    response = client.get("/")
    assert (response.status_code, response["Location"]) == (302, "/blog/")


def test_post_list_shows_published_posts_newest_first_paginated(client, author):
    posts = [make_post(author, title=f"Published {n}") for n in range(settings.BLOG_POSTS_PER_PAGE + 2)]
    make_post(author, published=False, title="Secret draft")
    page_one = client.get("/blog/").content.decode()
    assert "Secret draft" not in page_one
    assert page_one.index(posts[-1].title) < page_one.index(posts[-2].title)
    assert posts[0].title not in page_one
    assert 'href="?page=2"' in page_one
    page_two = client.get("/blog/?page=2").content.decode()
    assert posts[0].title in page_two and posts[1].title in page_two
    assert 'href="?page=1"' in page_two


def test_post_page_shows_comments_and_the_last_comment_id(client, post, reader):
    make_comment(post, reader, body="First comment")
    last = make_comment(post, reader, body="<b>second</b>")
    html = client.get(post.get_absolute_url()).content.decode()
    assert "First comment" in html
    assert "&lt;b&gt;second&lt;/b&gt;" in html
    assert f'data-last-comment-id="{last.pk}"' in html
    assert "Log in to comment" in html
    assert 'id="comment-form"' not in html


def test_post_page_has_the_comment_form_for_logged_in_users(reader_client, post):
    html = reader_client.get(post.get_absolute_url()).content.decode()
    assert 'id="comment-form"' in html
    # The link is only kept in a <template> for the script to show if the session ends.
    assert 'class="login-to-comment"' not in html.split('<template id="login-to-comment">')[0]


def test_draft_is_404_for_anonymous_readers_and_other_users(client, reader_client, draft):
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert reader_client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(comments_url(draft)).status_code == 404


def test_draft_is_visible_to_its_author_and_to_editors(client, draft, author, editor):
    for user in (author, editor):
        client.force_login(user)
        assert client.get(draft.get_absolute_url()).status_code == 200


def test_new_post_needs_login(client):
    response = client.get("/blog/posts/new/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/blog/posts/new/")


def test_writer_asking_to_publish_gets_a_draft(client, author):
    client.force_login(author)
    response = client.post("/blog/posts/new/", {"title": "Mine", "body": "Text", "status": "published"})
    post = Post.objects.get(title="Mine")
    assert response.status_code == 302 and response["Location"] == post.get_absolute_url()
    assert post.status == Post.Status.DRAFT and post.author == author


def test_editor_publishes_directly_and_sees_the_hint(client, editor):
    client.force_login(editor)
    assert "(you can publish)" in client.get("/blog/posts/new/").content.decode()
    client.post("/blog/posts/new/", {"title": "News", "body": "Text", "status": "published"})
    assert Post.objects.get(title="News").status == Post.Status.PUBLISHED


def test_new_post_form_shows_errors(client, author):
    client.force_login(author)
    response = client.post("/blog/posts/new/", {"title": "", "body": "", "status": "draft"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Post.objects.exists()


def test_comment_list_json_after_an_id(client, post, reader):
    first, second = make_comment(post, reader, body="one"), make_comment(post, reader, body="two")
    data = client.get(comments_url(post), {"after": first.pk}).json()
    assert data == {"comments": [second.as_json()], "earlier": None, "last_id": second.pk, "more_replies": {}}
    assert client.get(comments_url(post)).json()["last_id"] == second.pk
    empty = {"comments": [], "earlier": None, "last_id": None, "more_replies": {}}
    assert client.get(comments_url(post), {"after": second.pk}).json() == empty


def test_comment_list_is_capped_at_200(client, post, reader):
    Comment.objects.bulk_create(Comment(post=post, author=reader, body=str(n)) for n in range(205))
    data = client.get(comments_url(post), {"after": 0}).json()
    assert len(data["comments"]) == 200
    assert data["last_id"] == data["comments"][-1]["id"]


def test_comment_list_rejects_a_bad_after(client, post):
    response = client.get(comments_url(post), {"after": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_comment_form_post_redirects_to_the_comment(reader_client, post, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = reader_client.post(comments_url(post), {"body": "Hello from HTTP"})
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/blog/posts/{post.pk}/#comment-{comment.pk}"
    assert comment.body == "Hello from HTTP"


def test_comment_json_post_returns_201_then_200_for_a_repeated_client_id(reader_client, post):
    first = reader_client.post(comments_url(post), {"body": "Hi", "client_id": "k1"}, **JSON)
    again = reader_client.post(comments_url(post), {"body": "Hi", "client_id": "k1"}, **JSON)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["comment"] == again.json()["comment"]
    assert first.json()["comment"]["client_id"] == "k1"
    assert Comment.objects.count() == 1


def test_invalid_comment_json_gets_400_with_the_services_message(reader_client, post):
    response = reader_client.post(comments_url(post), {"body": "   "}, **JSON)
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": MESSAGE_COMMENT_EMPTY,
        "errors": {"body": [MESSAGE_COMMENT_EMPTY]},
    }
    assert not Comment.objects.exists()


def test_invalid_comment_form_shows_the_page_again_with_the_error(reader_client, post):
    response = reader_client.post(comments_url(post), {"body": ""})
    assert response.status_code == 400
    assert MESSAGE_COMMENT_EMPTY in response.content.decode()


def test_anonymous_comment_goes_to_login_or_gets_401(client, post):
    response = client.post(comments_url(post), {"body": "Hi"})
    assert (response.status_code, response["Location"]) == (302, f"/accounts/login/?next=/blog/posts/{post.pk}/")
    response = client.post(comments_url(post), {"body": "Hi"}, **JSON)
    assert response.status_code == 401
    assert response.json()["code"] == "login_required"
    assert not Comment.objects.exists()


def test_comment_on_a_draft_is_forbidden_even_for_its_author(client, draft, author):
    client.force_login(author)
    response = client.post(comments_url(draft), {"body": "Hi"}, **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_comment_over_the_rate_limit_gets_429(reader_client, post):
    assert reader_client.post(comments_url(post), {"body": "1"}, **JSON).status_code == 201
    response = reader_client.post(comments_url(post), {"body": "2"}, **JSON)
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60
    html = reader_client.post(comments_url(post), {"body": "3"})
    assert html.status_code == 429
    assert "commenting too fast" in html.content.decode()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_an_edit_over_the_budget_gets_429_with_retry_after(reader_client, post, reader):
    comment = make_comment(post, reader, body="one")
    edit_url = reverse("blog:comment_edit", args=[comment.pk])
    assert reader_client.post(edit_url, {"body": "two"}, **JSON).status_code == 200
    response = reader_client.post(edit_url, {"body": "three"}, **JSON)
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) == response.json()["retry_after"] <= 60
    html = reader_client.post(edit_url, {"body": "three"})
    assert html.status_code == 429 and 1 <= int(html["Retry-After"]) <= 60
    assert "commenting too fast" in html.content.decode()
    comment.refresh_from_db()
    assert comment.body == "two"


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_a_deletion_over_the_budget_gets_429_with_retry_after(reader_client, post, reader):
    first, second = make_comment(post, reader), make_comment(post, reader)
    assert reader_client.post(reverse("blog:comment_delete", args=[first.pk]), **JSON).status_code == 200
    response = reader_client.post(reverse("blog:comment_delete", args=[second.pk]), **JSON)
    assert (response.status_code, response.json()["code"]) == (429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    html = reader_client.post(reverse("blog:comment_delete", args=[second.pk]))
    assert html.status_code == 429 and 1 <= int(html["Retry-After"]) <= 60
    assert Comment.objects.filter(pk=second.pk).exists()


@override_settings(BLOG_COMMENT_RATE_LIMIT=(1, 60))
def test_a_moderator_deletes_others_comments_over_http_without_limit(client, post, reader, editor):
    client.force_login(editor)
    for comment in [make_comment(post, reader) for _ in range(3)]:
        assert client.post(reverse("blog:comment_delete", args=[comment.pk]), **JSON).status_code == 200
    assert not Comment.objects.exists()


def test_comment_post_without_csrf_token_is_refused(post, reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    response = client.post(comments_url(post), {"body": "Hi"}, HTTP_ORIGIN="http://evil.example")
    assert response.status_code == 403
    assert not Comment.objects.exists()


def test_comment_post_with_csrf_token_is_accepted(post, reader):
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader)
    client.get(post.get_absolute_url())
    token = client.cookies["csrftoken"].value
    response = client.post(comments_url(post), {"body": "Hi", "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_whoami(client, reader):
    assert client.get("/blog/whoami/").content.decode() == "You are browsing anonymously."
    client.force_login(reader)
    assert client.get("/blog/whoami/").content.decode() == "You are logged in as reader."


def test_signup_creates_the_user_and_logs_them_in(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "newcomer", "password1": "a-fine-long-password", "password2": "a-fine-long-password"},
    )
    assert response.status_code == 302
    assert client.get("/blog/whoami/").content.decode() == "You are logged in as newcomer."


def test_signup_enforces_password_validators(client):
    response = client.post("/accounts/signup/", {"username": "weak", "password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()


def login(client: Client, username: str, **extra: str):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD, **extra})


def test_login_rotates_the_session_key(client, reader):
    client.get("/accounts/login/")
    session = client.session
    session["before-login"] = True
    session.save()
    before = session.session_key
    assert login(client, "reader").status_code == 302
    assert client.session.session_key != before


def test_login_without_remember_me_ends_with_the_browser(client, reader):
    login(client, "reader")
    assert client.session.get_expire_at_browser_close()
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == ""


def test_login_with_remember_me_lasts_two_weeks(client, reader):
    login(client, "reader", remember_me="on")
    assert not client.session.get_expire_at_browser_close()
    assert client.session.get_expiry_age() == 14 * 24 * 60 * 60
    assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 14 * 24 * 60 * 60


def test_wrong_password_shows_an_error(client, reader):
    response = client.post("/accounts/login/", {"username": "reader", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_post_only_and_ends_the_session(reader_client):
    assert reader_client.get("/accounts/logout/").status_code == 405
    reader_client.post("/accounts/logout/")
    assert reader_client.get("/blog/whoami/").content.decode() == "You are browsing anonymously."


def test_password_change_keeps_this_session_logged_in(reader_client):
    response = reader_client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "another-long-password", "new_password2": "another-long-password"},
    )
    assert response.status_code == 302
    assert reader_client.get("/blog/whoami/").content.decode() == "You are logged in as reader."


def test_password_reset_mails_a_working_link(client, reader):
    reader.email = "reader@example.com"
    reader.save()
    client.post("/accounts/password_reset/", {"email": "reader@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-password-1", "new_password2": "brand-new-password-1"},
    )
    assert response.status_code == 302
    reader.refresh_from_db()
    assert reader.check_password("brand-new-password-1")


def test_pages_send_a_nonce_based_content_security_policy(client, post):
    response = client.get(post.get_absolute_url())
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'nonce="{nonce}"' in response.content.decode()
    assert "script-src 'self' 'nonce-" in policy
    assert "'unsafe-inline'" not in policy


def test_pages_have_no_inline_script(client, post):
    """Every script is a file and carries the nonce."""
    html = client.get(post.get_absolute_url()).content.decode()
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts
    for tag in scripts:
        assert "nonce=" in tag and "src=" in tag


def test_navigation_offers_writing_only_to_logged_in_users(client, reader):
    assert "Log in to write" in client.get("/blog/").content.decode()
    client.force_login(reader)
    assert "Write a new post" in client.get("/blog/").content.decode()


def test_admin_is_for_staff_only(client, reader):
    staff_editor = make_user("chief", editor=True, is_staff=True)
    client.force_login(reader)
    assert client.get("/admin/").status_code == 302
    client.force_login(staff_editor)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/blog/post/").status_code == 200


def test_drafts_page_lists_own_drafts_or_all_for_editors(client, author, editor, reader, draft):
    others = make_post(reader, published=False, title="Reader's draft")
    client.force_login(author)
    html = client.get("/blog/drafts/").content.decode()
    assert draft.title in html and others.title not in html
    client.force_login(editor)
    html = client.get("/blog/drafts/").content.decode()
    assert draft.title in html and "Reader&#x27;s draft" in html


def test_editor_publishes_from_the_post_page(client, editor, draft):
    client.force_login(editor)
    assert "Publish this post" in client.get(draft.get_absolute_url()).content.decode()
    response = client.post(f"/blog/posts/{draft.pk}/publish/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published


def test_publishing_needs_the_permission_not_just_a_hidden_button(client, author, draft):
    client.force_login(author)
    assert "Publish this post" not in client.get(draft.get_absolute_url()).content.decode()
    assert client.post(f"/blog/posts/{draft.pk}/publish/").status_code == 403
    draft.refresh_from_db()
    assert not draft.is_published


def test_publishing_needs_a_login(client, draft):
    response = client.post(f"/blog/posts/{draft.pk}/publish/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_favicon_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (302, "/static/blog/favicon.svg")


@pytest.mark.parametrize("count", [5, 200])
def test_post_page_takes_a_fixed_small_number_of_queries(client, post, reader, django_assert_num_queries, count):
    Comment.objects.bulk_create(Comment(post=post, author=reader, body=f"#{n}") for n in range(count))
    # The post with its comment versions, then (cache cold) a page of comments with their authors and the count.
    with django_assert_num_queries(3):
        assert client.get(post.get_absolute_url()).status_code == 200
    client.force_login(reader)
    # The session, the user, the user's permissions (direct and through groups); while the page
    # renders, whether they follow the post and their unread notifications (the bell); the post and
    # page are cached (and the post says it has no held comments to look for).
    with django_assert_num_queries(6):
        assert client.get(post.get_absolute_url()).status_code == 200
