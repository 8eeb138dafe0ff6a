"""Users with two-factor sign-in on, real codes for them (computed with pyotp, not django-otp), and sessions."""

from __future__ import annotations

import time
from base64 import b32encode

import pyotp
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from asgi_blog.settings import parse_required_second_factor
from blog.accounts.two_factor import services
from blog.models import User
from tests.factories import PASSWORD


def require(settings, value: str) -> None:
    """BLOG_REQUIRE_2FA as the environment would give it (the test run's default is "off")."""
    settings.BLOG_REQUIRE_2FA = parse_required_second_factor(value)


def enrol(user: User) -> list[str]:
    """Turn two-factor sign-in on for the user as the enrolment page does; their recovery codes."""
    device = services.totp_enrolment_start(user=user)
    _, codes = services.totp_enrolment_confirm(user=user, code=code_at(device, time.time()))
    return codes


def code_at(device: TOTPDevice, when: float) -> str:
    return pyotp.TOTP(b32encode(device.bin_key).decode(), interval=device.step).at(when)


def fresh_code(user: User) -> str:
    """A code the user's app shows, not used yet: the current time step's, or the next one's once that is used
    (django-otp accepts one step either side, and each step once)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    now_step = int(time.time()) // device.step
    step = max(now_step, device.last_t + 1)
    assert step <= now_step + 1, "no unused code within the tolerance: wait for the next step"
    return code_at(device, step * device.step)


def password_step(client: Client, username: str, *, address: str = "198.51.100.7", **fields: str):
    return client.post("/accounts/login/", {"username": username, "password": PASSWORD, **fields}, REMOTE_ADDR=address)


def code_step(client: Client, code: str, *, address: str = "198.51.100.7", **fields: str):
    return client.post("/accounts/login/code/", {"code": code, **fields}, REMOTE_ADDR=address)


def verified_client(user: User) -> Client:
    """A browser whose session signed in with the user's app: as the code step leaves it."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def whoami(client: Client) -> str:
    return client.get("/blog/whoami/").content.decode()


def session_device_id(client: Client) -> str | None:
    return client.session.get(DEVICE_ID_SESSION_KEY)
