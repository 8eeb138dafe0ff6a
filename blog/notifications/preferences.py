"""How a person hears of each kind of notification: the read and the two writes (the preferences
page and the one-click unsubscribe).

Beside services.py, which writes the notifications themselves: a preference applies from the
next notification on, and the email worker reads it again when it sends (deliveries.py).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from blog.accounts.models import User
from blog.notifications.models import Channel, NotificationKind, NotificationPreferences

MESSAGE_NOT_A_CHANNEL = "Choose page, email or off for each kind of notification."


def preferences_of(user: User) -> NotificationPreferences:
    """The user's preferences; the defaults (unsaved) for a user who never changed them."""
    preferences = NotificationPreferences.objects.filter(user=user).first()
    return preferences if preferences is not None else NotificationPreferences(user=user)


def notification_preferences_update(*, user: User, channels: dict[str, str]) -> NotificationPreferences:
    """Set the channel of each kind given (NotificationKind value → Channel value); the others stay."""
    for kind, channel in channels.items():
        if kind not in NotificationKind.values or channel not in Channel.values:
            raise ValidationError(MESSAGE_NOT_A_CHANNEL, code="not_a_channel")
    with transaction.atomic():
        preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
        for kind, channel in channels.items():
            setattr(preferences, kind, channel)
        preferences.save()
    return preferences


def notification_emails_stop(*, user_id: int) -> NotificationPreferences | None:
    """Every kind heard of by email is heard of in the page instead; None for a user who is gone.

    Page, not off: unsubscribing stops the email, not the notifications the person still sees.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    with transaction.atomic():
        preferences, _ = NotificationPreferences.objects.select_for_update().get_or_create(user=user)
        for kind in NotificationKind.values:
            if preferences.channel(kind) == Channel.EMAIL:
                setattr(preferences, kind, Channel.PAGE)
        preferences.save()
    return preferences
