"""Accounts cost nothing, so an address may create only a few of them in a while."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, override_settings

from blog.accounts.forms import SignupForm
from blog.models import User
from blog.process_cache import cache

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"
PASSWORD = "a-long-unusual-passphrase-42"


def sign_up(username: str, address: str = ADDRESS, password: str = PASSWORD):
    """Each signup from a browser of its own (a signup logs that browser in)."""
    return Client().post(
        "/accounts/signup/",
        {"username": username, "password1": password, "password2": password},
        REMOTE_ADDR=address,
    )


def test_the_default_is_five_an_hour():
    assert settings.BLOG_SIGNUP_RATE_LIMIT == (5, 3600)


def test_the_sixth_signup_from_one_address_is_refused_with_a_page_saying_when():
    assert [sign_up(f"user{number}").status_code for number in range(5)] == [302] * 5
    response = sign_up("user6")
    assert response.status_code == 429
    assert 3590 <= int(response["Retry-After"]) <= 3600
    page = response.content.decode()
    assert "Too many new accounts" in page
    assert "try again in 59\xa0minutes" in page or "try again in 1\xa0hour" in page
    assert not User.objects.filter(username="user6").exists()


def test_another_address_may_still_sign_up():
    for number in range(5):
        sign_up(f"user{number}")
    assert sign_up("newcomer", address="203.0.113.9").status_code == 302


def test_the_form_still_shows_to_a_limited_address():
    for number in range(5):
        sign_up(f"user{number}")
    assert Client().get("/accounts/signup/", REMOTE_ADDR=ADDRESS).status_code == 200


@override_settings(BLOG_SIGNUP_RATE_LIMIT=(1, 3600))
def test_a_refused_signup_is_refused_before_the_form_is_read(monkeypatch):
    """No validation and no password hashing for an address over its limit."""
    sign_up("first")
    validated = []
    real_full_clean = SignupForm.full_clean
    monkeypatch.setattr(SignupForm, "full_clean", lambda form: validated.append(form) or real_full_clean(form))
    assert sign_up("second").status_code == 429
    assert validated == []


@override_settings(BLOG_SIGNUP_RATE_LIMIT=(1, 3600))
def test_a_signup_that_creates_no_account_spends_nothing():
    assert sign_up("weak", password="123").status_code == 200  # refused by the password validators
    assert sign_up("strong").status_code == 302


@override_settings(BLOG_SIGNUP_RATE_LIMIT=None)
def test_no_limit_when_it_is_off():
    assert [sign_up(f"user{number}").status_code for number in range(8)] == [302] * 8


@override_settings(BLOG_SIGNUP_RATE_LIMIT=(1, 3600))
def test_signups_are_allowed_and_logged_while_the_cache_is_down(monkeypatch, caplog):
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "aget_many", cache_down)
    assert [sign_up(f"user{number}").status_code for number in range(2)] == [302, 302]
    assert "signup limit unavailable" in caplog.text
