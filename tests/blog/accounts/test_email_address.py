"""An account's email address: given at signup or on the account page, verified by a signed expiring link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from blog.accounts import services as account_services
from blog.accounts.verification import VERIFICATION_MAX_AGE, VERIFICATION_SALT, verification_token
from blog.models import EmailDelivery, User
from blog.notifications.tasks import send_email_delivery
from tests.factories import PASSWORD, make_user, make_verified_user

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"
Status = EmailDelivery.Status


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.BLOG_SITE_URL = SITE


@pytest.fixture
def rita_client(client):
    client.force_login(make_user("rita"))
    return client


def rita() -> User:
    return User.objects.get(username="rita")


def verifications() -> list[tuple[str, str]]:
    return list(
        EmailDelivery.objects.filter(purpose=EmailDelivery.Purpose.VERIFICATION)
        .order_by("id")
        .values_list("address", "status")
    )


def send_due_verifications() -> None:
    """What the worker does for each verification email whose time has come."""
    for delivery in EmailDelivery.objects.filter(purpose="verification", status="pending"):
        send_email_delivery.call(delivery.pk)


def verify_link(message) -> str:
    return re.search(rf"{SITE}(/accounts/email/verify/\S+/)", message.body).group(1)


def test_signup_takes_an_optional_address_and_sends_it_a_link(client, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/signup/",
            {"username": "rita", "email": "Rita@Example.COM", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    assert (rita().email, rita().has_verified_email) == ("Rita@example.com", False)
    assert verifications() == [("Rita@example.com", Status.PENDING)]
    # Queued for the worker, by id, once the account was committed.
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["args"] == [EmailDelivery.objects.get().pk]
    send_due_verifications()
    [message] = mailoutbox
    assert message.to == ["Rita@example.com"]
    assert message.subject == "Verify your email address on asgi_blog"
    assert "within 3 days" in message.body
    assert Client().get(verify_link(message)).status_code == 302
    assert rita().has_verified_email


def test_signup_without_an_address_sends_nothing(client):
    client.post("/accounts/signup/", {"username": "rita", "password1": PASSWORD, "password2": PASSWORD})
    assert rita().email == ""
    assert verifications() == []


def test_the_account_page_needs_a_login():
    response = Client().get("/accounts/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_account_page_shows_the_address_and_whether_it_is_verified(client):
    user = make_verified_user("rita", "rita@example.com")
    client.force_login(user)
    page = client.get("/accounts/").content.decode()
    assert "rita" in page and "rita@example.com" in page and "(verified)" in page
    assert "Send the link again" not in page
    for link in ("/accounts/password_change/", "/notifications/preferences/"):
        assert f'href="{link}"' in page
    user.email = "new@example.com"
    user.save()
    page = client.get("/accounts/").content.decode()
    assert "new@example.com" in page and "(not verified)" in page and "Send the link again" in page


def test_setting_an_address_leaves_it_unverified_and_queues_its_link(rita_client, mailoutbox):
    response = rita_client.post("/accounts/", {"email": "rita@example.com"}, follow=True)
    assert "A link to verify rita@example.com is on its way." in response.content.decode()
    assert (rita().email, rita().verified_email) == ("rita@example.com", "")
    assert verifications() == [("rita@example.com", Status.PENDING)]
    send_due_verifications()
    assert Client().get(verify_link(mailoutbox[0])).status_code == 302
    assert rita().verified_email == "rita@example.com"


def test_changing_a_verified_address_unverifies_it_until_the_new_link_is_followed(client):
    user = make_verified_user("rita", "old@example.com")
    client.force_login(user)
    client.post("/accounts/", {"email": "new@example.com"})
    user.refresh_from_db()
    assert (user.email, user.has_verified_email) == ("new@example.com", False)


def test_changing_the_address_twice_keeps_one_pending_link_for_the_newest(rita_client):
    """Not more than one verification email waits per person: a waiting one follows the address."""
    rita_client.post("/accounts/", {"email": "first@example.com"})
    rita_client.post("/accounts/", {"email": "second@example.com"})
    assert verifications() == [("second@example.com", Status.PENDING)]


def test_removing_the_address_withdraws_its_waiting_link(rita_client):
    rita_client.post("/accounts/", {"email": "rita@example.com"})
    response = rita_client.post("/accounts/", {"email": ""}, follow=True)
    assert "Your email address is removed." in response.content.decode()
    assert rita().email == ""
    assert verifications() == [("rita@example.com", Status.CANCELLED)]


def test_a_link_for_an_address_changed_since_verifies_nothing(rita_client, mailoutbox):
    rita_client.post("/accounts/", {"email": "first@example.com"})
    send_due_verifications()
    EmailDelivery.objects.update(created=timezone.now() - timedelta(minutes=5))
    rita_client.post("/accounts/", {"email": "second@example.com"})
    response = Client().get(verify_link(mailoutbox[0]))
    assert response.status_code == 400
    assert escape(account_services.MESSAGE_VERIFICATION_STALE) in response.content.decode()
    assert rita().verified_email == ""


def test_the_worker_does_not_send_a_link_for_an_address_changed_before_its_turn(rita_client, mailoutbox):
    rita_client.post("/accounts/", {"email": "first@example.com"})
    User.objects.filter(username="rita").update(email="other@example.com")  # changed by another path
    send_due_verifications()
    assert mailoutbox == []
    assert verifications() == [("first@example.com", Status.CANCELLED)]


def test_a_link_is_accepted_until_it_expires_then_refused(monkeypatch):
    user = make_user("rita", email="rita@example.com")
    token = verification_token(user, "rita@example.com")
    made_at = signing.time.time()
    # The signature's timestamp is read with time.time(): move the clock the signing module sees.
    monkeypatch.setattr(signing.time, "time", lambda: made_at + VERIFICATION_MAX_AGE.total_seconds() + 2)
    response = Client().get(f"/accounts/email/verify/{token}/")
    assert response.status_code == 400
    assert account_services.MESSAGE_VERIFICATION_EXPIRED in response.content.decode()
    user.refresh_from_db()
    assert not user.has_verified_email
    monkeypatch.setattr(signing.time, "time", lambda: made_at + VERIFICATION_MAX_AGE.total_seconds() - 60)
    assert Client().get(f"/accounts/email/verify/{token}/").status_code == 302
    user.refresh_from_db()
    assert user.has_verified_email


def test_a_tampered_link_is_refused():
    user = make_user("rita", email="rita@example.com")
    other = make_user("otto", email="otto@example.com")
    token = verification_token(user, "rita@example.com")
    forged_payload = signing.dumps({"user": other.pk, "address": "otto@example.com"}, salt=VERIFICATION_SALT)
    forged = forged_payload.split(":")[0] + token[token.index(":") :]
    unsubscribe_salted = signing.dumps({"user": user.pk, "address": "rita@example.com"}, salt="another")
    for bad in (forged, unsubscribe_salted, token[:-2], "nonsense"):
        response = Client().get(f"/accounts/email/verify/{bad}/")
        assert response.status_code == 400
        assert account_services.MESSAGE_VERIFICATION_INVALID in response.content.decode()
    assert not User.objects.exclude(verified_email="").exists()


def test_following_the_link_while_logged_in_comes_back_to_the_account_page(rita_client):
    rita_client.post("/accounts/", {"email": "rita@example.com"})
    response = rita_client.get(f"/accounts/email/verify/{verification_token(rita(), 'rita@example.com')}/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/"
    assert "rita@example.com is verified." in response.content.decode()


def test_send_the_link_again_keeps_one_waiting_and_spaces_the_next(rita_client):
    rita_client.post("/accounts/", {"email": "rita@example.com"})
    rita_client.post("/accounts/email/resend/")
    assert verifications() == [("rita@example.com", Status.PENDING)]  # the waiting one is the link
    send_due_verifications()
    sent_at = EmailDelivery.objects.get().created
    rita_client.post("/accounts/email/resend/")
    assert verifications() == [("rita@example.com", Status.SENT), ("rita@example.com", Status.PENDING)]
    # Pressing it again at once does not send at once: a minute after the last.
    second = EmailDelivery.objects.order_by("id").last()
    assert second.send_after == sent_at + account_services.VERIFICATION_EMAIL_INTERVAL


def test_send_the_link_again_refuses_a_verified_address(client):
    client.force_login(make_verified_user("rita", "rita@example.com"))
    response = client.post("/accounts/email/resend/", follow=True)
    assert account_services.MESSAGE_ALREADY_VERIFIED in response.content.decode()
    assert verifications() == []


def test_password_reset_works_for_an_address_set_on_the_account_page(rita_client, mailoutbox):
    rita_client.post("/accounts/", {"email": "rita@example.com"})
    client = Client()
    client.post("/accounts/password_reset/", {"email": "rita@example.com"})
    [message] = mailoutbox
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "brand-new-password-1", "new_password2": "brand-new-password-1"},
    )
    assert response.status_code == 302
    assert rita().check_password("brand-new-password-1")
