"""BLOG_REQUIRE_2FA: who must have given a second factor before the admin, publishing, moderating and deleting
others' comments; the rest of the site is the same for them either way."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from blog.models import Comment, Post
from tests.blog.accounts.two_factor.helpers import code_step, enrol, fresh_code, require, verified_client
from tests.factories import make_comment, make_post, make_user
from tests.test_settings import PROJECT_ROOT, start_django

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}
ENROL = "/accounts/two-factor/"
CODE = "/accounts/login/code/"


@pytest.fixture
def staff(db):
    return make_user("staffer", is_staff=True, is_superuser=True)


@pytest.fixture
def publisher(db):
    """An Editor (publishes, moderates, deletes comments), not staff."""
    return make_user("publisher", editor=True)


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.wsgi_request._messages)


# The setting itself.


def test_the_default_covers_staff_and_publishers():
    environment = {key: value for key, value in os.environ.items() if key != "BLOG_REQUIRE_2FA"}
    environment.update(DJANGO_DEBUG="1", DJANGO_SETTINGS_MODULE="asgi_blog.settings")
    script = "import django; django.setup(); from django.conf import settings; print(sorted(settings.BLOG_REQUIRE_2FA))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "['publishers', 'staff']", result.stderr


@pytest.mark.parametrize("value", ["everyone", "staff,admins", "", "on", "off,staff"])
def test_a_bad_value_stops_the_start_naming_the_setting(value):
    result = start_django(DJANGO_DEBUG="1", BLOG_REQUIRE_2FA=value)
    assert result.returncode != 0
    assert "BLOG_REQUIRE_2FA must be 'staff,publishers', 'staff', 'publishers' or 'off'" in result.stderr


@pytest.mark.parametrize("value", ["staff,publishers", "publishers, staff", "staff", "off"])
def test_the_good_values_start(value):
    assert start_django(DJANGO_DEBUG="1", BLOG_REQUIRE_2FA=value).returncode == 0


# The admin.


def test_staff_without_it_are_sent_from_the_admin_to_set_it_up(settings, staff):
    require(settings, "staff")
    response = logged_in(staff).get("/admin/blog/post/")
    assert (response.status_code, response["Location"]) == (302, f"{ENROL}?next=%2Fadmin%2Fblog%2Fpost%2F")
    assert "must use two-factor sign-in" in messages_of(response)


def test_enrolled_staff_whose_session_gave_no_code_are_asked_for_one_and_sent_back(settings, staff):
    require(settings, "staff,publishers")
    enrol(staff)
    client = logged_in(staff)  # signed in before enrolling, say
    response = client.get("/admin/")
    assert (response.status_code, response["Location"]) == (302, f"{CODE}?next=%2Fadmin%2F")
    assert "enter a code" in messages_of(response)
    page = client.get(response["Location"])
    assert "needs two-factor sign-in" in page.content.decode()
    response = code_step(client, fresh_code(staff), next="/admin/")
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert client.get("/admin/").status_code == 200


def test_staff_with_a_verified_session_use_the_admin(settings, staff):
    require(settings, "staff")
    enrol(staff)
    assert verified_client(staff).get("/admin/blog/post/").status_code == 200


def test_the_admin_is_open_to_staff_when_the_setting_is_off(settings, staff):
    require(settings, "off")
    assert logged_in(staff).get("/admin/").status_code == 200


def test_the_admin_logout_is_not_held_back(settings, staff):
    require(settings, "staff")
    client = logged_in(staff)
    response = client.post("/admin/logout/")
    assert (response.status_code, response["Location"]) == (302, "/blog/")
    assert client.get("/blog/whoami/").content.decode() == "You are browsing anonymously."


# Publishing.


@pytest.fixture
def draft_by_publisher(publisher):
    return make_post(publisher, published=False, title="Waiting")


def publish(client, post):
    return client.post(f"/blog/posts/{post.pk}/publish/", HTTP_REFERER=f"http://testserver/blog/posts/{post.pk}/")


def test_an_unverified_publisher_is_sent_for_a_code_and_nothing_is_published(settings, publisher, draft_by_publisher):
    require(settings, "publishers")
    enrol(publisher)
    response = publish(logged_in(publisher), draft_by_publisher)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{CODE}?next=")
    assert "enter a code" in messages_of(response)
    draft_by_publisher.refresh_from_db()
    assert draft_by_publisher.status == Post.Status.DRAFT


def test_an_unverified_publisher_gets_403_as_json(settings, publisher, draft_by_publisher):
    require(settings, "publishers")
    response = logged_in(publisher).post(f"/blog/posts/{draft_by_publisher.pk}/publish/", **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"


def test_a_verified_publisher_publishes(settings, publisher, draft_by_publisher):
    require(settings, "staff,publishers")
    enrol(publisher)
    response = publish(verified_client(publisher), draft_by_publisher)
    assert response.status_code == 302
    draft_by_publisher.refresh_from_db()
    assert draft_by_publisher.status == Post.Status.PUBLISHED


@pytest.mark.parametrize("value", ["off", "staff"])
def test_publishers_are_not_held_back_when_the_setting_does_not_cover_them(
    settings, value, publisher, draft_by_publisher
):
    require(settings, value)
    publish(logged_in(publisher), draft_by_publisher)
    draft_by_publisher.refresh_from_db()
    assert draft_by_publisher.status == Post.Status.PUBLISHED


def test_staff_covered_by_staff_alone_need_it_to_publish_too(settings, staff, author):
    require(settings, "staff")
    draft = make_post(author, published=False)
    publish(logged_in(staff), draft)
    draft.refresh_from_db()
    assert draft.status == Post.Status.DRAFT


def test_writing_a_post_straight_to_published_is_refused_with_the_text_kept(settings, publisher):
    require(settings, "publishers")
    fields = {"title": "Straight out", "body": "Words kept.", "status": Post.Status.PUBLISHED}
    response = logged_in(publisher).post("/blog/posts/new/", fields)
    assert response.status_code == 403
    page = response.content.decode()
    assert "needs two-factor sign-in" in page and "Words kept." in page
    assert not Post.objects.exists()
    # A draft needs no second factor.
    response = logged_in(publisher).post("/blog/posts/new/", {**fields, "status": Post.Status.DRAFT})
    assert response.status_code == 302
    assert Post.objects.get().status == Post.Status.DRAFT


# Moderating and deleting others' comments.


@pytest.fixture
def held(post, reader):
    return make_comment(post, reader, body="Held words", status=Comment.Status.PENDING)


def test_an_unverified_covered_moderator_cannot_decide(settings, publisher, held):
    require(settings, "publishers")
    response = logged_in(publisher).post(f"/moderation/comments/{held.pk}/approve/", **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    held.refresh_from_db()
    assert held.status == Comment.Status.PENDING
    page = logged_in(publisher).post(f"/moderation/comments/{held.pk}/approve/")
    assert page.status_code == 403
    assert "needs two-factor sign-in" in page.content.decode()


def test_a_verified_moderator_decides(settings, publisher, held):
    require(settings, "publishers")
    enrol(publisher)
    response = verified_client(publisher).post(f"/moderation/comments/{held.pk}/approve/", **JSON)
    assert response.status_code == 200
    held.refresh_from_db()
    assert held.status == Comment.Status.PUBLISHED


def test_the_queue_page_sends_an_unverified_covered_moderator_for_a_code(settings, publisher):
    require(settings, "publishers")
    enrol(publisher)
    response = logged_in(publisher).get("/moderation/")
    assert (response.status_code, response["Location"]) == (302, f"{CODE}?next=%2Fmoderation%2F")
    assert verified_client(publisher).get("/moderation/").status_code == 200


def test_deleting_someone_elses_comment_needs_it_but_ones_own_does_not(settings, publisher, post, reader):
    require(settings, "publishers")
    theirs = make_comment(post, reader, body="Theirs")
    mine = make_comment(post, publisher, body="Mine")
    client = logged_in(publisher)
    response = client.post(f"/blog/comments/{theirs.pk}/delete/", **JSON)
    assert response.status_code == 403
    assert response.json()["code"] == "second_factor_required"
    assert Comment.objects.filter(pk=theirs.pk).exists()
    assert client.post(f"/blog/comments/{mine.pk}/delete/", **JSON).status_code == 200
    enrol(publisher)
    assert verified_client(publisher).post(f"/blog/comments/{theirs.pk}/delete/", **JSON).status_code == 200
    assert not Comment.objects.filter(pk=theirs.pk).exists()


def test_readers_are_never_asked(settings, reader_client, post):
    require(settings, "staff,publishers")
    response = reader_client.post(f"/blog/posts/{post.pk}/comments/", {"body": "Hello"}, **JSON)
    assert response.status_code in (200, 201)
