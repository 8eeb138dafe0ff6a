"""Login brute force: 5 failures in a row for one username from one address lock that pair out,
and many failures from one address, whatever the usernames, pause logins from that address."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client, override_settings
from django.utils import timezone

from blog.accounts import limits as address_limits
from blog.process_cache import cache
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def attempt(client, username, password, address="198.51.100.7"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def fail_times(client, count, username="reader", address="198.51.100.7"):
    """Fail `count` times; the attempt that reaches the limit is already answered with the lockout page."""
    statuses = [attempt(client, username, "wrong", address).status_code for _ in range(count)]
    assert all(status == 200 for status in statuses[:-1])
    return statuses[-1]


def test_five_failures_lock_out_even_the_right_password(client, reader):
    assert fail_times(client, 5) == 429
    response = attempt(client, "reader", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert client.get("/blog/whoami/").content.decode() == "You are browsing anonymously."


def test_four_failures_still_let_the_right_password_in(client, reader):
    assert fail_times(client, 4) == 200
    assert attempt(client, "reader", PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, reader):
    fail_times(client, 4)
    assert attempt(client, "reader", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    fail_times(client, 4)
    assert attempt(client, "reader", PASSWORD).status_code == 302


def test_other_users_and_other_addresses_are_unaffected(client, reader, author):
    fail_times(client, 5, username="reader")
    assert attempt(client, "author", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    assert attempt(client, "reader", PASSWORD, address="203.0.113.9").status_code == 302


def test_forwarded_for_header_does_not_change_the_address(client, reader):
    """Only REMOTE_ADDR counts (asgi_blog/proxy.py sets it from a trusted proxy's X-Forwarded-For)."""
    fail_times(client, 5)
    response = client.post(
        "/accounts/login/",
        {"username": "reader", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="203.0.113.50",
    )
    assert response.status_code == 429


@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_limit_is_configurable(client, reader):
    fail_times(client, 2)
    assert attempt(client, "reader", PASSWORD).status_code == 429


def test_the_lockout_ends_after_the_cool_off(client, reader):
    cool_off = settings.AXES_COOLOFF_TIME
    assert cool_off == timedelta(minutes=15)
    fail_times(client, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert attempt(client, "reader", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert attempt(client, "reader", PASSWORD).status_code == 302


@pytest.fixture
def hashing(monkeypatch):
    """Every password hash computed (a check, or the dummy hash for an unknown username)."""
    calls = []
    real_encode = MD5PasswordHasher.encode

    def counting_encode(self, password, salt):
        calls.append(password)
        return real_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting_encode)
    return calls


def fail_from(address, count, client=None):
    """`count` failed logins from one address, each with a username of its own."""
    client = client or Client()
    statuses = [attempt(client, f"nobody{number}", "wrong", address).status_code for number in range(count)]
    assert statuses == [200] * count


def test_the_default_is_twenty_failures_in_fifteen_minutes():
    assert settings.BLOG_LOGIN_ADDRESS_FAILURE_LIMIT == (20, 900)


def test_twenty_failures_with_twenty_usernames_pause_the_address_even_for_the_right_password(client, reader, hashing):
    fail_from("198.51.100.7", 20)
    hashed_before = len(hashing)
    response = attempt(client, "reader", PASSWORD)
    assert response.status_code == 429
    assert 890 <= int(response["Retry-After"]) <= 900
    assert "many failed attempts to log in from your address" in response.content.decode()
    assert len(hashing) == hashed_before, "the refused login computed a password hash"
    assert client.get("/blog/whoami/").content.decode() == "You are browsing anonymously."


def test_logins_are_hashed_until_the_limit(client, reader, hashing):
    """The spy sees hashing: without it the test above would prove nothing."""
    fail_from("198.51.100.7", 19)
    hashed_before = len(hashing)
    assert attempt(client, "reader", PASSWORD).status_code == 302
    assert len(hashing) > hashed_before


def test_a_paused_address_does_not_lock_out_the_usernames_it_tries(client, reader):
    """Refused before authentication, so django-axes counts nothing against the real user."""
    fail_from("198.51.100.7", 20)
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        assert attempt(client, "reader", PASSWORD).status_code == 429
    assert not AccessAttempt.objects.filter(username="reader").exists()


def test_another_address_still_logs_in(client, reader):
    fail_from("198.51.100.7", 20)
    assert attempt(client, "reader", PASSWORD, address="203.0.113.9").status_code == 302


def test_a_success_does_not_forgive_the_address(client, reader):
    """Otherwise an attacker would log in to an account of their own to start counting again."""
    fail_from("198.51.100.7", 19)
    assert attempt(client, "reader", PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    fail_from("198.51.100.7", 1)
    assert attempt(client, "reader", PASSWORD).status_code == 429


def test_the_admin_login_is_refused_before_hashing_too(reader, hashing):
    fail_from("198.51.100.7", 20)
    hashed_before = len(hashing)
    response = Client().post("/admin/login/", {"username": "reader", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 200  # the admin's own "wrong credentials" form
    assert len(hashing) == hashed_before


def test_admin_login_failures_count_for_the_address(client, reader):
    admin = Client()
    for number in range(20):
        admin.post("/admin/login/", {"username": f"nobody{number}", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")
    assert attempt(client, "reader", PASSWORD).status_code == 429


@override_settings(BLOG_LOGIN_ADDRESS_FAILURE_LIMIT=(2, 1))
def test_the_address_may_try_again_once_its_failures_expire(client, reader):
    fail_from("198.51.100.7", 2)
    assert attempt(client, "reader", PASSWORD).status_code == 429
    deadline = time.monotonic() + 5
    while (status := attempt(client, "reader", PASSWORD).status_code) == 429:
        assert time.monotonic() < deadline, "the address was never let back in"
        time.sleep(0.05)
    assert status == 302


@override_settings(BLOG_LOGIN_ADDRESS_FAILURE_LIMIT=None)
def test_no_address_limit_when_it_is_off(client, reader):
    fail_from("198.51.100.7", 25)
    assert attempt(client, "reader", PASSWORD).status_code == 302


def test_a_login_already_on_its_way_when_the_limit_is_reached_is_refused_before_hashing(
    client, reader, hashing, monkeypatch
):
    """The view looked before the last failure landed; the first authentication backend looks again."""
    fail_from("198.51.100.7", 20)
    real_retry_after = address_limits.login_failures_retry_after
    looks = []

    def first_look_is_stale(request):
        looks.append(request)
        return 0 if len(looks) == 1 else real_retry_after(request)

    monkeypatch.setattr(address_limits, "login_failures_retry_after", first_look_is_stale)
    hashed_before = len(hashing)
    response = attempt(client, "reader", PASSWORD)
    assert response.status_code == 429
    assert len(hashing) == hashed_before
    assert len(looks) == 2  # the view's, then the backend's


@override_settings(BLOG_LOGIN_ADDRESS_FAILURE_LIMIT=(1, 900))
def test_logins_are_allowed_and_logged_while_the_cache_is_down(client, reader, monkeypatch, caplog):
    def cache_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", cache_down)
    fail_from("198.51.100.7", 2)
    assert attempt(client, "reader", PASSWORD).status_code == 302
    assert "login address limit unavailable" in caplog.text
