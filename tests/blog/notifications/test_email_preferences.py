"""The preferences page, and the one-click unsubscribe link: a POST with no session or CSRF token, signed."""

from __future__ import annotations

import re

import pytest
from django.core import signing
from django.test import Client

from blog.models import NotificationPreferences
from blog.notifications.preference_views import MESSAGE_ADDRESS_NEEDED
from blog.notifications.unsubscribe import UNSUBSCRIBE_SALT, unsubscribe_token
from tests.factories import make_user, make_verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita():
    return make_verified_user("rita", "rita@example.com")


def channels(user) -> tuple[str, str, str]:
    preferences = NotificationPreferences.objects.get(user=user)
    return preferences.reply, preferences.mention, preferences.comment


def one_click(token: str):
    """As a mail client sends RFC 8058's one click: a fresh client, no cookies, CSRF checks on."""
    return Client(enforce_csrf_checks=True).post(
        f"/notifications/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}
    )


def test_one_click_unsubscribe_without_a_session_or_csrf_token_stops_every_email_kind(rita):
    NotificationPreferences.objects.create(user=rita, reply="email", mention="email", comment="email")
    response = one_click(unsubscribe_token(rita))
    assert response.status_code == 200
    assert channels(rita) == ("page", "page", "page")
    assert "/notifications/preferences/" in response.content.decode()


def test_unsubscribing_leaves_kinds_that_were_off_off(rita):
    """It stops email; it does not turn back on what the person had turned off."""
    NotificationPreferences.objects.create(user=rita, reply="email", mention="off", comment="page")
    one_click(unsubscribe_token(rita))
    assert channels(rita) == ("page", "off", "page")


def test_unsubscribing_a_user_with_the_defaults_stops_their_emails(rita):
    one_click(unsubscribe_token(rita))
    assert channels(rita) == ("page", "page", "page")


def test_opening_the_link_asks_first_and_changes_nothing(rita):
    """Mail scanners open links: a GET shows the button, only its POST unsubscribes."""
    response = Client().get(f"/notifications/unsubscribe/{unsubscribe_token(rita)}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'method="post"' in page and "Stop the emails" in page
    assert not NotificationPreferences.objects.filter(user=rita).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_token_is_refused_with_a_clear_page(rita, method):
    other = make_user("otto")
    token = unsubscribe_token(rita)
    payload, _, signature = token.rpartition(":")
    # Otto's id under Rita's signature, and a token signed for something else.
    forged = signing.dumps({"user": other.pk}, salt=UNSUBSCRIBE_SALT).rpartition(":")[0] + ":" + signature
    other_salt = signing.dumps({"user": other.pk}, salt="something-else")
    for bad in (forged, other_salt, payload, "nonsense"):
        response = getattr(Client(enforce_csrf_checks=True), method)(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "That unsubscribe link does not work" in response.content.decode()
    assert not NotificationPreferences.objects.exists()


def test_the_preferences_page_needs_a_login():
    response = Client().get("/notifications/preferences/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_preferences_page_shows_a_radio_choice_per_kind_with_the_current_one_checked(client, rita):
    client.force_login(rita)
    page = client.get("/notifications/preferences/").content.decode()
    checked = re.findall(r'<input type="radio" name="(\w+)" value="(\w+)"[^>]* checked>', page)
    assert checked == [("reply", "email"), ("mention", "email"), ("comment", "page")]  # the defaults
    for kind in ("reply", "mention", "comment"):
        for channel in ("page", "email", "off"):
            assert f'name="{kind}" value="{channel}"' in page
    assert MESSAGE_ADDRESS_NEEDED not in page


def test_saving_the_form_writes_the_preferences(client, rita):
    client.force_login(rita)
    response = client.post("/notifications/preferences/", {"reply": "off", "mention": "page", "comment": "email"})
    assert response.status_code == 302
    assert channels(rita) == ("off", "page", "email")
    assert "Your notification preferences are saved." in client.get(response["Location"]).content.decode()


def test_a_choice_that_is_not_a_channel_is_refused(client, rita):
    client.force_login(rita)
    response = client.post("/notifications/preferences/", {"reply": "pigeon", "mention": "page", "comment": "email"})
    assert response.status_code == 200
    assert not NotificationPreferences.objects.exists()


@pytest.mark.parametrize("email", ["", "unverified@example.com"])
def test_the_page_says_email_needs_a_verified_address(client, email):
    user = make_user("nobody", email=email)
    client.force_login(user)
    assert MESSAGE_ADDRESS_NEEDED in client.get("/notifications/preferences/").content.decode()
