"""The messages the worker sends, built from what is true when they are sent.

Plain text, with absolute links from BLOG_SITE_URL (a worker has no request to take the host
from). Every notifications email carries a one-click unsubscribe link, in its text and in the
List-Unsubscribe headers of RFC 2369 and RFC 8058, so mail clients can offer their own button.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.text import Truncator

from blog.accounts.models import User, UserSession
from blog.accounts.verification import VERIFICATION_MAX_AGE, verification_token
from blog.notifications.models import Notification, NotificationKind
from blog.notifications.unsubscribe import unsubscribe_token

SITE_NAME = "asgi_blog"
# Enough of a comment to know what it says; the link leads to the rest.
EXCERPT_MAX_CHARACTERS = 200

WHAT_HAPPENED = {
    NotificationKind.REPLY: "{actor} replied to your comment on “{title}”",
    NotificationKind.MENTION: "{actor} mentioned you on “{title}”",
    NotificationKind.COMMENT: "{actor} commented on “{title}”",
}


def absolute_url(path: str) -> str:
    return f"{settings.BLOG_SITE_URL}{path}"


def unsubscribe_url(user: User) -> str:
    return absolute_url(reverse("notification_unsubscribe", args=[unsubscribe_token(user)]))


def what_happened(notification: Notification) -> str:
    actor = notification.actor.get_username() if notification.actor is not None else "Someone"
    return WHAT_HAPPENED[NotificationKind(notification.kind)].format(actor=actor, title=notification.post.title)


def excerpt(text: str) -> str:
    """The comment's text on one line, cut at EXCERPT_MAX_CHARACTERS."""
    return Truncator(" ".join(text.split())).chars(EXCERPT_MAX_CHARACTERS)


def notifications_subject(notifications: list[Notification]) -> str:
    if len(notifications) == 1:
        return what_happened(notifications[0])
    return f"{len(notifications)} new notifications on {SITE_NAME}"


def notifications_message(*, user: User, notifications: list[Notification]) -> EmailMessage:
    """One email telling of all of them (actor, post and comment loaded), to the user's verified address."""
    unsubscribe = unsubscribe_url(user)
    items = [
        {
            "what": what_happened(notification),
            "excerpt": excerpt(notification.comment.body),
            "url": absolute_url(notification.comment.permalink()),
        }
        for notification in notifications
    ]
    body = render_to_string(
        "notifications/email/notifications.txt",
        {
            "user": user,
            "items": items,
            "site_name": SITE_NAME,
            "preferences_url": absolute_url(reverse("notification_preferences")),
            "unsubscribe_url": unsubscribe,
        },
    )
    return EmailMessage(
        subject=notifications_subject(notifications),
        body=body,
        to=[user.verified_email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            # RFC 3834: no vacation replies to a machine.
            "Auto-Submitted": "auto-generated",
        },
    )


def verification_message(*, user: User, address: str) -> EmailMessage:
    """The link that verifies `address` for `user`, valid VERIFICATION_MAX_AGE."""
    body = render_to_string(
        "accounts/email/verification.txt",
        {
            "user": user,
            "address": address,
            "site_name": SITE_NAME,
            "verify_url": absolute_url(reverse("email_verify", args=[verification_token(user, address)])),
            "valid_days": VERIFICATION_MAX_AGE.days,
        },
    )
    return EmailMessage(
        subject=f"Verify your email address on {SITE_NAME}",
        body=body,
        to=[address],
        headers={"Auto-Submitted": "auto-generated"},
    )


def sign_in_message(*, user: User, user_session: UserSession) -> EmailMessage:
    """A sign-in from a device and address the account had not used: where, when, and the way to end it."""
    body = render_to_string(
        "accounts/email/sign_in.txt",
        {
            "user": user,
            "user_session": user_session,
            "site_name": SITE_NAME,
            "sessions_url": absolute_url(reverse("account_sessions")),
            "password_url": absolute_url(reverse("password_change")),
        },
    )
    return EmailMessage(
        subject=f"New sign-in to your account on {SITE_NAME}",
        body=body,
        to=[user.verified_email],
        headers={"Auto-Submitted": "auto-generated"},
    )
