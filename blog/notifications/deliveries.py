"""The only code that moves an EmailDelivery on: pending → sending → sent, or cancelled, or back to
pending to retry, and failed after MAX_ATTEMPTS.

Never twice is the rule that shapes it. The row is locked and must be pending and due; it is
marked `sending` and committed *before* the message leaves, and only a pending row is ever
sent. A worker killed between the two commits leaves the row `sending` for good: it is not
sent again, because the message may have left already, and the admin's email list shows it
(docs/deployment.md, "Email and the worker"). Losing one email that way is the price of never
sending one twice.

What an email says is gathered when it is sent, not when it was queued: notifications read
meanwhile, on posts unpublished since, of kinds whose preference is no longer email, or for an
address no longer verified are left out, and an email with nothing left is cancelled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone

from blog.notifications import emails
from blog.notifications.models import (
    Channel,
    EmailDelivery,
    Notification,
    NotificationPreferences,
)

logger = logging.getLogger(__name__)

# Tries per email, the first included: with the backoff below, the last is about a quarter of
# an hour after the first, long enough to ride out a mail server's restart.
MAX_ATTEMPTS = 5
RETRY_FIRST_DELAY = timedelta(minutes=1)
# The cap matters only if MAX_ATTEMPTS grows: the delays double (1, 2, 4, 8 minutes) up to it.
RETRY_MAX_DELAY = timedelta(hours=1)
# Kept short in last_error: enough to recognise the error, not a traceback.
LAST_ERROR_MAX_LENGTH = 500

Status = EmailDelivery.Status


def retry_delay(attempts: int) -> timedelta:
    """How long to wait before the next try after `attempts` failed ones (1, 2, 4, 8 … minutes, capped)."""
    return min(RETRY_FIRST_DELAY * 2 ** (attempts - 1), RETRY_MAX_DELAY)


def email_delivery_send(*, delivery_id: int, enqueue_retry: Callable[[EmailDelivery], None]) -> str:
    """Send the delivery if it is pending and due, and say which status it was left in.

    `enqueue_retry` queues the delivery's task again for its new send_after (after commit), when
    a send failed and tries are left; the task passes its own, so this module needs no queue.
    """
    with transaction.atomic():
        delivery = EmailDelivery.objects.select_for_update().select_related("recipient").filter(pk=delivery_id).first()
        if delivery is None:
            return "gone"
        if delivery.status != Status.PENDING:
            # Sent, being sent, failed or cancelled already: a second run of the task changes nothing.
            return delivery.status
        if delivery.send_after > timezone.now():
            # An early run (a duplicate task): the task queued for send_after sends it.
            return delivery.status
        message = delivery_message(delivery)
        if message is None:
            delivery.status = Status.CANCELLED
            delivery.save(update_fields=["status"])
            return delivery.status
        delivery.status = Status.SENDING
        delivery.address = message.to[0]
        delivery.save(update_fields=["status", "address"])
    # Committed as sending: from here on no other run touches it, whatever happens to this one.
    try:
        message.send()
    except Exception as error:
        return delivery_send_failed(delivery_id=delivery_id, error=error, enqueue_retry=enqueue_retry)
    EmailDelivery.objects.filter(pk=delivery_id, status=Status.SENDING).update(status=Status.SENT, sent=timezone.now())
    logger.info("email sent delivery=%s purpose=%s", delivery_id, delivery.purpose)
    return Status.SENT


def delivery_message(delivery: EmailDelivery) -> EmailMessage | None:
    """The message as it stands now, or None when there is nothing left to send."""
    recipient = delivery.recipient
    if not recipient.is_active:
        return None
    if delivery.purpose == EmailDelivery.Purpose.VERIFICATION:
        # Changed or verified since it was asked for: the link would verify nothing.
        if not delivery.address or delivery.address != recipient.email or recipient.has_verified_email:
            return None
        return emails.verification_message(user=recipient, address=delivery.address)
    if not recipient.has_verified_email:
        return None
    if delivery.purpose == EmailDelivery.Purpose.SIGN_IN:
        return emails.sign_in_message(user=recipient, user_session=delivery.user_session)
    notifications = list(still_to_tell(delivery))
    if not notifications:
        return None
    return emails.notifications_message(user=recipient, notifications=notifications)


def still_to_tell(delivery: EmailDelivery) -> list[Notification]:
    """Its notifications still unread, on visible posts, about comments still there, of kinds still emailed."""
    preferences = NotificationPreferences.objects.filter(user=delivery.recipient_id).first()
    if preferences is None:
        preferences = NotificationPreferences(user=delivery.recipient)
    notifications = (
        Notification.objects.unread()
        .visible()
        .filter(delivery=delivery, comment__deleted__isnull=True)
        .select_related("actor", "post", "comment")
        .order_by("id")
    )
    return [notification for notification in notifications if preferences.channel(notification.kind) == Channel.EMAIL]


def delivery_send_failed(*, delivery_id: int, error: Exception, enqueue_retry: Callable[[EmailDelivery], None]) -> str:
    """Count the failed try: back to pending for a later one, or failed (logged as an error) after the last."""
    with transaction.atomic():
        delivery = EmailDelivery.objects.select_for_update().get(pk=delivery_id)
        delivery.attempts += 1
        delivery.last_error = repr(error)[:LAST_ERROR_MAX_LENGTH]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Status.FAILED
            delivery.save(update_fields=["attempts", "last_error", "status"])
            logger.error(
                "email failed for good delivery=%s purpose=%s recipient=%s attempts=%s error=%s",
                delivery.pk,
                delivery.purpose,
                delivery.recipient_id,
                delivery.attempts,
                delivery.last_error,
            )
            return delivery.status
        delivery.status = Status.PENDING
        delivery.send_after = timezone.now() + retry_delay(delivery.attempts)
        try:
            with transaction.atomic():
                delivery.save(update_fields=["attempts", "last_error", "status", "send_after"])
        except IntegrityError:
            # New notifications made while it was sending started the recipient's next email
            # (one pending per person): they travel together in that one.
            return delivery_merge_into_pending(delivery)
        logger.warning(
            "email failed, will retry delivery=%s attempts=%s retry_at=%s error=%s",
            delivery.pk,
            delivery.attempts,
            delivery.send_after.isoformat(),
            delivery.last_error,
        )
        transaction.on_commit(partial(enqueue_retry, delivery))
        return delivery.status


def delivery_merge_into_pending(delivery: EmailDelivery) -> str:
    """Hand a failed notifications email's notifications to the recipient's pending one, and cancel it."""
    pending = EmailDelivery.objects.select_for_update().get(
        recipient=delivery.recipient_id, purpose=EmailDelivery.Purpose.NOTIFICATIONS, status=Status.PENDING
    )
    Notification.objects.filter(delivery=delivery).update(delivery=pending)
    delivery.status = Status.CANCELLED
    delivery.last_error = f"{delivery.last_error} (its notifications moved to delivery {pending.pk})"
    delivery.save(update_fields=["attempts", "last_error", "status"])
    logger.warning("email failed, joined the next one delivery=%s into=%s", delivery.pk, pending.pk)
    return delivery.status
