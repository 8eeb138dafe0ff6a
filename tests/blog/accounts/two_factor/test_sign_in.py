"""Signing in with two-factor sign-in on: the code after the password, recovery codes, and the lockouts
that wrong codes count toward as wrong passwords do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts.two_factor.sign_in import PENDING_SESSION_KEY
from tests.blog.accounts.two_factor.helpers import (
    code_step,
    enrol,
    fresh_code,
    password_step,
    session_device_id,
    whoami,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ANONYMOUS = "You are browsing anonymously."


@pytest.fixture
def recovery_codes(reader):
    return enrol(reader)


def test_the_password_alone_does_not_log_in(client, reader, recovery_codes):
    response = password_step(client, "reader")
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/code/")
    assert whoami(client) == ANONYMOUS
    assert client.get("/accounts/").status_code == 302  # still sent to log in
    page = client.get("/accounts/login/code/")
    assert "Your password was right" in page.content.decode()


def test_a_right_code_logs_in_and_verifies_the_session(client, reader, recovery_codes):
    password_step(client, "reader", next="/accounts/")
    response = code_step(client, fresh_code(reader))
    assert (response.status_code, response["Location"]) == (302, "/accounts/")
    assert whoami(client) == "You are logged in as reader."
    assert session_device_id(client) == TOTPDevice.objects.get(user=reader).persistent_id
    assert PENDING_SESSION_KEY not in client.session


def test_remember_me_is_kept_through_the_code_step(client, reader, recovery_codes):
    password_step(client, "reader")
    code_step(client, fresh_code(reader))
    assert client.session.get_expire_at_browser_close()
    client.post("/accounts/logout/")
    password_step(client, "reader", remember_me="on")
    code_step(client, recovery_codes[0])
    assert not client.session.get_expire_at_browser_close()


def test_a_wrong_code_does_not_log_in(client, reader, recovery_codes):
    password_step(client, "reader")
    response = code_step(client, "123456")
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert whoami(client) == ANONYMOUS


def test_a_recovery_code_works_once(client, reader, recovery_codes):
    password_step(client, "reader")
    response = code_step(client, recovery_codes[0].upper())  # as typed from a printout: case does not matter
    assert response.status_code == 302
    assert whoami(client) == "You are logged in as reader."
    assert not StaticToken.objects.filter(token=recovery_codes[0]).exists()
    assert StaticToken.objects.count() == 9

    client.post("/accounts/logout/")
    password_step(client, "reader")
    response = code_step(client, recovery_codes[0])
    assert "That code is not right" in response.content.decode()
    assert whoami(client) == ANONYMOUS


def test_a_used_app_code_does_not_work_twice(client, reader, recovery_codes):
    code = fresh_code(reader)
    password_step(client, "reader")
    assert code_step(client, code).status_code == 302
    client.post("/accounts/logout/")
    password_step(client, "reader")
    assert "That code is not right" in code_step(client, code).content.decode()


def test_the_code_step_expires(client, reader, recovery_codes):
    password_step(client, "reader")
    session = client.session
    session[PENDING_SESSION_KEY]["until"] = (timezone.now() - timedelta(seconds=1)).timestamp()
    session.save()
    response = code_step(client, fresh_code(reader))
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert whoami(client) == ANONYMOUS


def test_the_code_step_without_a_password_goes_back_to_the_login(client, reader, recovery_codes):
    response = code_step(client, fresh_code(reader))
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/")
    assert whoami(client) == ANONYMOUS


def test_users_without_it_log_in_with_the_password_alone(client, author):
    response = password_step(client, "author")
    assert (response.status_code, response["Location"]) == (302, "/blog/")
    assert whoami(client) == "You are logged in as author."


def test_the_admin_login_refuses_an_account_with_it_on(client, recovery_codes, reader):
    reader.is_staff = True
    reader.save(update_fields=["is_staff"])
    response = client.post("/admin/login/", {"username": "reader", "password": "correct-horse-battery-staple"})
    assert response.status_code == 200
    assert "log in on the site&#x27;s login page" in response.content.decode()
    assert whoami(client) == ANONYMOUS


# Wrong codes and the lockouts.


def test_wrong_codes_lock_the_username_out_as_wrong_passwords_do(client, reader, recovery_codes):
    password_step(client, "reader")
    statuses = [code_step(client, "000000").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]
    attempt = AccessAttempt.objects.get(username="reader")
    assert attempt.failures_since_start == 5
    assert "000000" not in attempt.post_data  # the code is kept out of the record, as a password is
    # Locked out: even a right code is refused, unchecked (a recovery code: the app's device is also
    # throttled by django-otp after the wrong codes, which would hide a missing lockout check), and so is
    # the password.
    response = code_step(client, recovery_codes[0])
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert whoami(client) == ANONYMOUS
    assert StaticToken.objects.filter(token=recovery_codes[0]).exists()
    assert password_step(client, "reader").status_code == 429


def test_wrong_passwords_and_wrong_codes_add_up(client, reader, recovery_codes):
    for _ in range(3):
        assert (
            client.post(
                "/accounts/login/", {"username": "reader", "password": "wrong"}, REMOTE_ADDR="198.51.100.7"
            ).status_code
            == 200
        )
    password_step(client, "reader")
    assert code_step(client, "000000").status_code == 200
    assert code_step(client, "000000").status_code == 429


def test_a_right_code_resets_the_count(client, reader, recovery_codes):
    password_step(client, "reader")
    for _ in range(4):
        code_step(client, "000000")
    # django-otp throttles the device after wrong codes: the right code waits out its delay.
    TOTPDevice.objects.update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert code_step(client, fresh_code(reader)).status_code == 302
    assert not AccessAttempt.objects.filter(username="reader").exists()


@override_settings(BLOG_LOGIN_ADDRESS_FAILURE_LIMIT=(3, 900))
def test_wrong_codes_count_toward_the_address_limit(client, reader, recovery_codes):
    password_step(client, "reader")
    assert [code_step(client, "000000").status_code for _ in range(3)] == [200, 200, 200]
    response = code_step(client, fresh_code(reader))
    assert response.status_code == 429
    assert 890 <= int(response["Retry-After"]) <= 900
    assert whoami(client) == ANONYMOUS
    # The address is paused for every username, as after wrong passwords.
    make_user("other")
    assert password_step(client, "other").status_code == 429
    assert password_step(client, "other", address="203.0.113.9").status_code == 302
