"""The worker's task: one email per delivery, never twice, retried with backoff, failed and logged after its tries."""

from __future__ import annotations

import logging
from datetime import timedelta
from smtplib import SMTPServerDisconnected

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from blog.models import EmailDelivery, Notification, NotificationPreferences
from blog.notifications import deliveries
from blog.notifications.tasks import send_email_delivery
from tests.factories import make_comment, make_email_delivery, make_notification, make_user, make_verified_user

pytestmark = pytest.mark.django_db

Status = EmailDelivery.Status


class RefusingBackend(BaseEmailBackend):
    """A mail server that is down: every send raises, as smtplib does when the connection drops."""

    def send_messages(self, messages: list) -> int:
        raise SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def smtp_down(settings):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.RefusingBackend"}}


@pytest.fixture
def recipient():
    return make_verified_user("rita", "rita@example.com")


@pytest.fixture
def delivery(recipient, post, author):
    """Rita's pending email, due now, telling of one reply by the author."""
    delivery = make_email_delivery(recipient)
    make_notification(recipient, make_comment(post, author, "Thanks for asking."), delivery=delivery)
    return delivery


def run(delivery: EmailDelivery) -> EmailDelivery:
    send_email_delivery.call(delivery.pk)
    delivery.refresh_from_db()
    return delivery


def test_a_due_delivery_is_sent_once_to_the_verified_address_and_marked_sent(delivery, mailoutbox):
    delivery = run(delivery)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["rita@example.com"]
    assert (delivery.status, delivery.address, delivery.attempts) == (Status.SENT, "rita@example.com", 0)
    assert delivery.sent is not None


def test_running_the_task_twice_sends_one_email(delivery, mailoutbox):
    run(delivery)
    run(delivery)
    assert len(mailoutbox) == 1


def test_a_delivery_left_sending_by_a_stopped_worker_is_not_sent_again(delivery, mailoutbox):
    """The message may have left before the worker stopped: never twice wins over never lost."""
    EmailDelivery.objects.filter(pk=delivery.pk).update(status=Status.SENDING)
    assert run(delivery).status == Status.SENDING
    assert mailoutbox == []


def test_a_task_that_runs_before_send_after_leaves_the_email_for_its_time(delivery, mailoutbox):
    EmailDelivery.objects.filter(pk=delivery.pk).update(send_after=timezone.now() + timedelta(minutes=5))
    assert run(delivery).status == Status.PENDING
    assert mailoutbox == []


def test_the_task_of_a_delivery_deleted_meanwhile_does_nothing(delivery, mailoutbox):
    delivery_id = delivery.pk
    delivery.delete()
    assert send_email_delivery.call(delivery_id) == "gone"
    assert mailoutbox == []


def test_notifications_made_while_it_waited_go_in_one_email(delivery, recipient, post, author, mailoutbox):
    NotificationPreferences.objects.create(user=recipient, comment="email")
    other = make_user("otto")
    make_notification(recipient, make_comment(post, other, "Me too."), kind="comment", delivery=delivery)
    make_notification(recipient, make_comment(post, author, "Hello @rita"), kind="mention", delivery=delivery)
    run(delivery)
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "3 new notifications on asgi_blog"
    for text in ("Thanks for asking.", "Me too.", "Hello @rita"):
        assert text in mailoutbox[0].body


def test_an_email_whose_notifications_were_all_read_is_cancelled(delivery, mailoutbox):
    Notification.objects.update(read=timezone.now())
    assert run(delivery).status == Status.CANCELLED
    assert mailoutbox == []


def test_read_notifications_are_left_out_of_the_email(delivery, recipient, post, author, mailoutbox):
    read = make_notification(recipient, make_comment(post, author, "Already seen."), delivery=delivery)
    Notification.objects.filter(pk=read.pk).update(read=timezone.now())
    run(delivery)
    assert "Thanks for asking." in mailoutbox[0].body
    assert "Already seen." not in mailoutbox[0].body


def test_an_email_about_a_post_unpublished_since_is_cancelled(delivery, post, mailoutbox):
    post.status = post.Status.DRAFT
    post.save()
    assert run(delivery).status == Status.CANCELLED
    assert mailoutbox == []


def test_kinds_the_recipient_hears_of_in_the_page_are_left_out(delivery, recipient, post, author, mailoutbox):
    """New comments are page-only by default: a delivery made for a reply does not carry them."""
    make_notification(recipient, make_comment(post, author, "Just a comment."), kind="comment", delivery=delivery)
    run(delivery)
    assert "Thanks for asking." in mailoutbox[0].body
    assert "Just a comment." not in mailoutbox[0].body


def test_an_email_whose_kind_was_switched_to_the_page_since_is_cancelled(delivery, recipient, mailoutbox):
    NotificationPreferences.objects.create(user=recipient, reply="page")
    assert run(delivery).status == Status.CANCELLED
    assert mailoutbox == []


def test_an_email_to_an_address_no_longer_verified_is_cancelled(delivery, recipient, mailoutbox):
    recipient.email = "new@example.com"
    recipient.save(update_fields=["email"])
    assert run(delivery).status == Status.CANCELLED
    assert mailoutbox == []


def test_an_email_to_a_deactivated_account_is_cancelled(delivery, recipient, mailoutbox):
    recipient.is_active = False
    recipient.save(update_fields=["is_active"])
    assert run(delivery).status == Status.CANCELLED
    assert mailoutbox == []


def test_a_failed_send_goes_back_to_pending_later_and_enqueues_its_retry(
    delivery, smtp_down, django_capture_on_commit_callbacks
):
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = run(delivery)
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert "SMTPServerDisconnected" in delivery.last_error
    assert before + timedelta(minutes=1) <= delivery.send_after <= timezone.now() + timedelta(minutes=1)
    [retry] = DBTaskResult.objects.filter(task_path="blog.notifications.tasks.send_email_delivery")
    assert retry.args_kwargs == {"args": [delivery.pk], "kwargs": {}}
    assert retry.run_after == delivery.send_after


def test_the_backoff_doubles_and_is_capped():
    assert [deliveries.retry_delay(attempts).total_seconds() / 60 for attempts in range(1, 6)] == [1, 2, 4, 8, 16]
    assert deliveries.retry_delay(20) == deliveries.RETRY_MAX_DELAY


def test_each_retry_waits_longer(delivery, smtp_down):
    waits = []
    for _ in range(deliveries.MAX_ATTEMPTS - 1):
        started = timezone.now()
        delivery = run(delivery)
        waits.append(round((delivery.send_after - started).total_seconds() / 60))
        EmailDelivery.objects.filter(pk=delivery.pk).update(send_after=timezone.now())  # its time has come
    assert waits == [1, 2, 4, 8]


def test_after_the_last_try_it_is_failed_and_logged_as_an_error(delivery, smtp_down, caplog, mailoutbox):
    EmailDelivery.objects.filter(pk=delivery.pk).update(attempts=deliveries.MAX_ATTEMPTS - 1)
    with caplog.at_level(logging.ERROR, logger="blog.notifications.deliveries"):
        delivery = run(delivery)
    assert (delivery.status, delivery.attempts) == (Status.FAILED, deliveries.MAX_ATTEMPTS)
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    assert f"delivery={delivery.pk}" in caplog.records[0].getMessage()
    assert not DBTaskResult.objects.exists()  # no more retries


def test_a_failed_email_hands_its_notifications_to_the_next_one_made_while_it_was_sending(
    delivery, recipient, monkeypatch
):
    """One pending email per person: back to pending would be a second one, so they travel in the next."""
    first = Notification.objects.get(delivery=delivery)
    made = []

    def a_comment_arrives_then_the_server_drops(message, *args, **kwargs):
        # The notifying service sees no pending email (this one is sending) and starts the next.
        made.append(make_email_delivery(recipient, send_after=timezone.now() + timedelta(minutes=10)))
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(deliveries.EmailMessage, "send", a_comment_arrives_then_the_server_drops)
    delivery = run(delivery)
    [following] = made
    assert delivery.status == Status.CANCELLED
    assert f"moved to delivery {following.pk}" in delivery.last_error
    first.refresh_from_db()
    assert first.delivery_id == following.pk
    following.refresh_from_db()
    assert following.status == Status.PENDING
