"""Download my data: one JSON file of everything the account holds, and nothing of anyone else's."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts.data.selectors import EXPORT_FORMAT, EXPORT_VERSION, account_export
from blog.comments import services as comment_services
from blog.models import Comment, CommentLike, Flag, Follow, NotificationPreferences, User
from tests.blog.accounts.browsers import FIREFOX_ON_LINUX, browser
from tests.blog.accounts.two_factor.helpers import enrol, verified_client
from tests.factories import make_comment, make_notification, make_post, make_reply, make_user, make_verified_user

pytestmark = pytest.mark.django_db

EXPORT_URL = "/accounts/data/export/"


@pytest.fixture
def rita(editor):
    """An account with a row in every section, and a neighbour with rows of their own."""
    rita = make_verified_user("rita", first_name="Rita", last_name="Levi", editor=True)
    other = make_user("other")
    published = make_post(rita, title="Rita's post")
    make_post(rita, published=False, title="Rita's draft")
    make_post(other, title="Other's post")
    edited = make_comment(published, rita, body="First words")
    comment_services.comment_edit(comment=edited, actor=rita, body="Second words")
    make_comment(published, rita, body="Held back", status=Comment.Status.PENDING)
    make_comment(published, rita, body="Refused", status=Comment.Status.REJECTED)
    others_comment = make_comment(published, other, body="Other's words")
    make_notification(rita, others_comment)
    make_notification(other, edited)
    NotificationPreferences.objects.create(user=rita, comment="off")
    Follow.objects.create(user=rita, post=published)
    Follow.objects.create(user=other, post=published)
    Flag.objects.create(comment=others_comment, user=rita, reason="spam")
    Flag.objects.create(comment=edited, user=other, reason="abuse")
    CommentLike.objects.create(comment=others_comment, user=rita)
    CommentLike.objects.create(comment=edited, user=other)
    published.tags.set(["django", "async"])
    make_post(other, title="Other's tagged post").tags.set(["secret-tag"])
    return rita


def signed_in(user: User) -> tuple[Client, str]:
    """A browser that signed in through the login form, so its sign-in is on record."""
    client = browser(user, user_agent=FIREFOX_ON_LINUX, address="203.0.113.7")
    return client, client.cookies[settings.SESSION_COOKIE_NAME].value


def download(browser: Client, method: str = "post") -> dict:
    response = getattr(browser, method)(EXPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="asgi_blog-')
    return json.loads(response.content)


def test_the_file_has_every_section_with_the_accounts_rows(rita):
    browser, _ = signed_in(rita)
    data = download(browser)
    assert (data["format"], data["version"]) == (EXPORT_FORMAT, EXPORT_VERSION) == ("asgi_blog-account-export", 1)
    assert abs(timezone.now() - datetime.fromisoformat(data["exported"])) < timedelta(minutes=1)
    profile = data["profile"]
    assert profile["username"] == "rita"
    assert (profile["email"], profile["verified_email"]) == ("rita@example.com", "rita@example.com")
    assert (profile["first_name"], profile["last_name"]) == ("Rita", "Levi")
    assert profile["last_login"] is not None and profile["date_joined"] is not None
    assert profile["groups"] == ["Editors"]
    assert "blog.publish_post" in profile["permissions"]
    assert profile["two_factor"] is False
    assert [(post["title"], post["status"]) for post in data["posts"]] == [
        ("Rita's post", "published"),
        ("Rita's draft", "draft"),
    ]
    assert [(c["body"], c["status"]) for c in data["comments"]] == [
        ("Second words", "published"),
        ("Held back", "pending"),
        ("Refused", "rejected"),
    ]
    [earlier] = data["comments"][0]["earlier_versions"]
    assert earlier["body"] == "First words"
    [notification] = data["notifications"]
    assert (notification["kind"], notification["actor"]) == ("reply", "other")
    assert data["notification_preferences"] == {"reply": "email", "mention": "email", "comment": "off", "saved": True}
    assert [(f["post_title"], f["following"]) for f in data["follows"]] == [("Rita's post", True)]
    assert [(f["reason"], f["cleared"]) for f in data["flags"]] == [("spam", None)]
    assert [post["tags"] for post in data["posts"]] == [["async", "django"], []]
    [like] = data["likes"]
    assert like["comment"] == Comment.objects.get(body="Other's words").pk
    [session] = data["sessions"]
    assert (session["device"], session["address"], session["ended"]) == ("Firefox on Linux", "203.0.113.7", None)


def test_no_session_key_nor_anyone_elses_data_is_in_the_file(rita):
    browser, key = signed_in(rita)
    _, others_key = signed_in(User.objects.get(username="other"))
    text = browser.get(EXPORT_URL).content.decode()
    assert key not in text and others_key not in text
    assert "session_key" not in text
    for others in ("Other's post", "Other's words", "abuse", "secret-tag"):
        assert others not in text
    assert "password" not in text and rita.password not in text


def test_a_new_account_gets_every_section_empty_and_the_default_preferences(client):
    client.force_login(make_user("newcomer"))
    data = download(client, "get")
    for section in ("posts", "comments", "notifications", "follows", "flags"):
        assert data[section] == []
    [this_browser] = data["sessions"]  # the sign-in that asked
    assert this_browser["ended"] is None
    assert data["notification_preferences"]["saved"] is False


def test_the_export_reads_a_fixed_number_of_queries_whatever_the_accounts_size(
    rita, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Bounded: no query per row (a comment's earlier versions are read with all the others')."""
    rita = User.objects.get(pk=rita.pk)
    with django_assert_num_queries(14):
        account_export(rita)
    post = make_post(rita)
    for n in range(5):
        top = make_comment(post, rita, body=f"More {n}")
        make_reply(top, rita)
        comment_services.comment_edit(comment=top, actor=rita, body=f"Edited {n}")
        Follow.objects.create(user=rita, post=make_post(rita))
        make_post(rita).tags.set([f"tag-{n}", "more"])
        CommentLike.objects.create(comment=make_comment(post, make_user()), user=rita)
    rita = User.objects.get(pk=rita.pk)
    with django_assert_num_queries(14):
        assert len(account_export(rita)["comments"]) == 3 + 10


@pytest.mark.parametrize("path", ["/accounts/data/", EXPORT_URL])
def test_login_is_required(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_file_is_never_cached(rita):
    browser, _ = signed_in(rita)
    for path in ("/accounts/data/", EXPORT_URL):
        cache_control = browser.get(path)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control


def test_the_account_page_links_to_the_download_and_the_deletion(rita):
    browser, _ = signed_in(rita)
    page = browser.get("/accounts/").content.decode()
    assert 'href="/accounts/data/"' in page and 'href="/accounts/delete/"' in page
    data_page = browser.get("/accounts/data/").content.decode()
    assert f'action="{EXPORT_URL}"' in data_page


def test_two_factor_sign_in_is_said_to_be_on_without_its_secret_or_codes(rita):
    recovery_codes = enrol(rita)
    text = verified_client(rita).get(EXPORT_URL).content.decode()
    assert json.loads(text)["profile"]["two_factor"] is True
    assert TOTPDevice.objects.get(user=rita).key not in text
    for code in recovery_codes:
        assert code not in text
