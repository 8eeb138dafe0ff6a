"""Login brute force: 5 failures in a row for one username from one address lock that pair out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

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
    """Only REMOTE_ADDR counts (daphne --proxy-headers sets it from a trusted proxy)."""
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
