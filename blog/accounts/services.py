"""The only code that creates accounts and sets or verifies their email address."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from blog.accounts.models import User
from blog.accounts.verification import verification_read
from blog.notifications.models import EmailDelivery
from blog.notifications.tasks import send_email_delivery_later

MESSAGE_NO_ADDRESS = "There is no address to verify: add one first."
MESSAGE_ALREADY_VERIFIED = "That address is verified already."
MESSAGE_VERIFICATION_EXPIRED = "This verification link has expired. Ask for a new one on your account page."
MESSAGE_VERIFICATION_INVALID = (
    "This verification link is not one we made, or it was cut short. Open it from the email again."
)
MESSAGE_VERIFICATION_STALE = (
    "This link was for an address that is no longer the account's. Use the link in the newest email we sent."
)

# At most one verification email per user per interval: changing the address back and forth, or
# pressing "send the link again", delays the next one instead of filling someone's inbox.
VERIFICATION_EMAIL_INTERVAL = timedelta(minutes=1)


def user_signup(*, username: str, password: str, email: str = "") -> User:
    """Create an ordinary account; the signup form has already checked the password. An address gets its link."""
    with transaction.atomic():
        user = User.objects.create_user(username=username, password=password, email=email)
        if email:
            verification_email_queue(user)
    return user


def user_email_change(*, user: User, email: str) -> User:
    """Set (or, with "", remove) the account's address; a new one is unverified until its link is followed."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if email == user.email:
            return user
        user.email = email
        user.save(update_fields=["email"])
        if email and not user.has_verified_email:
            verification_email_queue(user)
        else:
            verification_emails_withdraw(user)
    return user


def user_email_verification_resend(*, user: User) -> EmailDelivery:
    """Send the link for the current address again (one pending email per user: a waiting one is kept)."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.email:
            raise ValidationError(MESSAGE_NO_ADDRESS, code="no_address")
        if user.has_verified_email:
            raise ValidationError(MESSAGE_ALREADY_VERIFIED, code="already_verified")
        return verification_email_queue(user)


def user_email_verify(*, token: str) -> User:
    """Verify the address the link carries, if it is still the account's; raises ValidationError otherwise."""
    try:
        user_id, address = verification_read(token)
    except signing.SignatureExpired:
        raise ValidationError(MESSAGE_VERIFICATION_EXPIRED, code="expired") from None
    except signing.BadSignature:
        raise ValidationError(MESSAGE_VERIFICATION_INVALID, code="invalid") from None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first()
        if user is None or user.email != address:
            raise ValidationError(MESSAGE_VERIFICATION_STALE, code="stale")
        if user.verified_email != address:
            user.verified_email = address
            user.save(update_fields=["verified_email"])
    return user


def verification_email_queue(user: User) -> EmailDelivery:
    """Inside a transaction holding the user's row: the user's one pending verification email, for their
    current address. A waiting one takes the new address; a new one waits out VERIFICATION_EMAIL_INTERVAL
    after the last, and its task is enqueued on commit."""
    verifications = EmailDelivery.objects.filter(recipient=user, purpose=EmailDelivery.Purpose.VERIFICATION)
    # Locked: a worker that took it meanwhile (now sending) leaves it out, and a new one is made.
    pending = verifications.select_for_update().filter(status=EmailDelivery.Status.PENDING).order_by("-id").first()
    if pending is not None:
        if pending.address != user.email:
            pending.address = user.email
            pending.save(update_fields=["address"])
        return pending
    now = timezone.now()
    last = verifications.order_by("-created").values_list("created", flat=True).first()
    send_after = now if last is None else max(now, last + VERIFICATION_EMAIL_INTERVAL)
    delivery = EmailDelivery.objects.create(
        recipient=user, purpose=EmailDelivery.Purpose.VERIFICATION, address=user.email, send_after=send_after
    )
    transaction.on_commit(partial(send_email_delivery_later, delivery))
    return delivery


def verification_emails_withdraw(user: User) -> None:
    """No address left to verify (removed, or set back to the verified one): a waiting link would verify nothing."""
    EmailDelivery.objects.filter(
        recipient=user, purpose=EmailDelivery.Purpose.VERIFICATION, status=EmailDelivery.Status.PENDING
    ).update(status=EmailDelivery.Status.CANCELLED)
