"""The only code that writes a user's second factor: enrolment, recovery codes, removal, and checking a code.

Enrolment makes an unconfirmed authenticator-app device (TOTP) whose secret the user scans;
a right code from the app confirms it and makes RECOVERY_CODES single-use recovery codes
(django-otp's static tokens), which are returned once to be shown once. A code is checked
against the app's device when it is digits, else against the recovery codes (used up when
right); django-otp throttles each device after wrong codes. Who may do what (a signed-in
user, the password for removal) is for the views; the lockouts for wrong codes are in
blog/accounts/two_factor/sign_in.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django_otp import verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from blog.accounts.models import User
from blog.accounts.two_factor import selectors

RECOVERY_CODES = 10
APP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

MESSAGE_WRONG_CODE = "That code is not right (or it was used already). Try the newest code your app shows."
MESSAGE_ALREADY_ON = "Two-factor sign-in is on already."
MESSAGE_NOT_STARTED = "Start again: open the two-factor page to get a new secret."


def normalized_code(code: str) -> str:
    """As people type codes: spaces and dashes between the groups are not part of it, nor is case."""
    return "".join(code.split()).replace("-", "").lower()


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The user's device being set up: the one waiting for its first code, or a new one (a new secret)."""
    with transaction.atomic():
        if selectors.has_second_factor(user):
            raise ValidationError(MESSAGE_ALREADY_ON, code="already_on")
        device = selectors.app_device(user, confirmed=False)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
        device.user = user  # its otpauth URI names the user: read here, not later from async code
        return device


def totp_enrolment_confirm(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """A right code from the app turns two-factor sign-in on: the device, and new recovery codes to show once."""
    with transaction.atomic():
        if selectors.has_second_factor(user):
            raise ValidationError(MESSAGE_ALREADY_ON, code="already_on")
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            raise ValidationError(MESSAGE_NOT_STARTED, code="not_started")
        if not device.verify_token(normalized_code(code)):
            raise ValidationError(MESSAGE_WRONG_CODE, code="wrong_code")
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Any other device left waiting (another tab's secret) would only confuse later.
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return device, recovery_codes_replace(user=user)


def recovery_codes_replace(*, user: User) -> list[str]:
    """New recovery codes for the user, the old ones no longer valid: returned to be shown once."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def second_factor_remove(*, user: User) -> None:
    """Turn two-factor sign-in off: the app's device and the recovery codes go (a session verified with them no
    longer is)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


def second_factor_verify(*, user: User, code: str) -> Device | None:
    """The device that accepts this code from the user, or None. A right recovery code is used up."""
    code = normalized_code(code)
    if not code:
        return None
    device = selectors.app_device(user) if code.isdigit() else selectors.recovery_device(user)
    if device is None:
        return None
    # django-otp's verify_token locks the device's row, so two uses of one code cannot both succeed.
    return verify_token(user, device.persistent_id, code)
