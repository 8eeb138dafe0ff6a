"""Work the worker (`manage.py db_worker`) does outside any request: sending one email.

Tasks take ids, never model instances: the arguments are JSON in a database row, and the
row they name may have changed (or gone) by the time the worker picks them up.
"""

from __future__ import annotations

from django.tasks import task

from blog.notifications import deliveries
from blog.notifications.models import EmailDelivery


@task()
def send_email_delivery(delivery_id: int) -> str:
    """Send one EmailDelivery if it is still pending and due; returns the status it was left in."""
    return deliveries.email_delivery_send(delivery_id=delivery_id, enqueue_retry=send_email_delivery_later)


def send_email_delivery_later(delivery: EmailDelivery) -> None:
    """Queue the delivery's task for its send_after. Call it on commit, once the row it names exists."""
    send_email_delivery.using(run_after=delivery.send_after).enqueue(delivery.pk)
