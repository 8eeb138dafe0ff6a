"""Reads about a user's second factor: whether it is on, their devices, and which device a session names.

A user has two-factor sign-in on when they have a confirmed authenticator-app device (TOTP);
their recovery codes are the tokens of one static device beside it.
"""

from __future__ import annotations

from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts.models import User


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


async def ahas_second_factor(user: User) -> bool:
    return await TOTPDevice.objects.filter(user=user, confirmed=True).aexists()


async def arecovery_codes_left(user: User) -> int:
    return await StaticToken.objects.filter(device__user=user, device__confirmed=True).acount()


def app_device(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("id").first()


def recovery_device(user: User) -> StaticDevice | None:
    return StaticDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


def session_device(user: User, persistent_id: object) -> Device | None:
    """Sync: the device a session stores (django_otp.DEVICE_ID_SESSION_KEY), if it is still this user's and
    confirmed; as OTPMiddleware checks it over HTTP. No query when the session stores none."""
    if not isinstance(persistent_id, str) or not persistent_id:
        return None
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != user.pk or not device.confirmed:
        return None
    return device
