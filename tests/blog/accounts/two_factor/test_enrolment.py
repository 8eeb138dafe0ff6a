"""Turning two-factor sign-in on (QR code, secret, a real code, recovery codes shown once) and off."""

from __future__ import annotations

import re

import pyotp
import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.blog.accounts.two_factor.helpers import enrol, fresh_code, session_device_id
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

RECOVERY_CODE = re.compile(r"<li><code>([a-z2-7]{8})</code></li>")


def shown_secret(html: str) -> str:
    return re.search(r"data-secret>([A-Z2-7 ]+)</code>", html).group(1).replace(" ", "")


def test_the_page_shows_a_qr_code_of_the_otpauth_uri_and_the_secret(reader_client, reader):
    html = reader_client.get("/accounts/two-factor/").content.decode()
    device = TOTPDevice.objects.get(user=reader)
    assert not device.confirmed
    assert "<svg" in html and "<path" in html
    secret = shown_secret(html)
    assert device.config_url.startswith("otpauth://totp/asgi_blog%3Areader?")
    assert f"secret={secret}" in device.config_url
    # A reload shows the same secret: the app that scanned it stays right.
    assert shown_secret(reader_client.get("/accounts/two-factor/").content.decode()) == secret


def test_a_real_code_turns_it_on_and_shows_the_recovery_codes_once(reader_client, reader):
    secret = shown_secret(reader_client.get("/accounts/two-factor/").content.decode())
    response = reader_client.post(
        "/accounts/two-factor/confirm/", {"code": pyotp.TOTP(secret).now(), "password": PASSWORD}
    )
    assert response.status_code == 200
    codes = RECOVERY_CODE.findall(response.content.decode())
    assert len(codes) == 10 == len(set(codes))
    assert sorted(StaticToken.objects.filter(device__user=reader).values_list("token", flat=True)) == sorted(codes)
    assert TOTPDevice.objects.get(user=reader).confirmed
    # This session gave the code: it counts as verified.
    assert session_device_id(reader_client) == TOTPDevice.objects.get(user=reader).persistent_id

    page = reader_client.get("/accounts/two-factor/").content.decode()
    assert "is <strong>on</strong>" in page
    assert "10 unused recovery codes" in page
    assert not any(code in page for code in codes)
    account = reader_client.get("/accounts/").content.decode()
    assert not any(code in account for code in codes)


def test_a_wrong_code_does_not_turn_it_on(reader_client, reader):
    reader_client.get("/accounts/two-factor/")
    response = reader_client.post(
        "/accounts/two-factor/confirm/", {"code": "000000", "password": PASSWORD}, follow=True
    )
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.get(user=reader).confirmed
    assert not StaticToken.objects.exists()


def test_the_account_page_says_whether_it_is_on_and_links_to_it(reader_client, reader):
    assert re.search(r"Two-factor sign-in</dt>\s*<dd>\s*Off", reader_client.get("/accounts/").content.decode())
    enrol(reader)
    page = reader_client.get("/accounts/").content.decode()
    assert re.search(r"Two-factor sign-in</dt>\s*<dd>\s*On", page)
    assert 'href="/accounts/two-factor/"' in page


def test_removal_needs_the_right_password(reader_client, reader):
    enrol(reader)
    response = reader_client.post("/accounts/two-factor/remove/", {"password": "not-it"}, follow=True)
    assert "That password is not right" in response.content.decode()
    assert TOTPDevice.objects.filter(user=reader, confirmed=True).exists()

    response = reader_client.post("/accounts/two-factor/remove/", {"password": PASSWORD})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=reader).exists()
    assert not StaticToken.objects.exists()


def test_new_recovery_codes_need_the_password_and_replace_the_old(reader_client, reader):
    old = enrol(reader)
    response = reader_client.post("/accounts/two-factor/recovery-codes/", {"password": "not-it"}, follow=True)
    assert "That password is not right" in response.content.decode()
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(old)

    response = reader_client.post("/accounts/two-factor/recovery-codes/", {"password": PASSWORD})
    new = RECOVERY_CODE.findall(response.content.decode())
    assert len(new) == 10
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(new)
    assert not set(old) & set(new)


def test_wrong_passwords_on_the_removal_form_count_toward_the_lockout(reader_client, reader):
    enrol(reader)
    statuses = [
        reader_client.post(
            "/accounts/two-factor/remove/", {"password": "not-it"}, REMOTE_ADDR="198.51.100.7"
        ).status_code
        for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 302, 429]
    response = reader_client.post("/accounts/two-factor/remove/", {"password": PASSWORD}, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 429
    assert TOTPDevice.objects.filter(user=reader, confirmed=True).exists()


def test_a_user_with_it_on_gets_no_new_secret(reader_client, reader):
    enrol(reader)
    html = reader_client.get("/accounts/two-factor/").content.decode()
    assert "data-secret" not in html and "<svg" not in html
    assert TOTPDevice.objects.filter(user=reader).count() == 1
    assert fresh_code(reader)  # the enrolled device still takes codes


def test_turning_it_on_needs_the_password_too(reader_client, reader):
    """Whoever holds a session left open must not tie the account to their own app."""
    secret = shown_secret(reader_client.get("/accounts/two-factor/").content.decode())
    code = pyotp.TOTP(secret).now()
    for form, said in (
        ({"code": code}, "Enter the code your app shows and your password."),
        ({"code": code, "password": "not-the-password"}, "That password is not right: nothing was changed."),
    ):
        response = reader_client.post("/accounts/two-factor/confirm/", form, follow=True)
        assert said in response.content.decode()
        assert not TOTPDevice.objects.get(user=reader).confirmed
    assert not StaticToken.objects.exists()
