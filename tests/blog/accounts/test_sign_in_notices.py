"""A sign-in from a device and address the account has not used tells its owner by email, through the worker."""

from __future__ import annotations

import re

import pytest
from django_tasks_db.models import DBTaskResult

from blog.accounts.sessions.services import SESSION_ID_KEY
from blog.models import EmailDelivery, UserSession
from blog.notifications.tasks import send_email_delivery
from tests.blog.accounts.browsers import FIREFOX_ON_LINUX, SAFARI_ON_IPHONE, browser, public_id_of
from tests.factories import make_user, make_verified_user

pytestmark = pytest.mark.django_db

SITE = "https://blog.example.org"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.BLOG_SITE_URL = SITE


def sign_in_notices() -> list[EmailDelivery]:
    return list(EmailDelivery.objects.filter(purpose=EmailDelivery.Purpose.SIGN_IN).order_by("id"))


def send_due_notices() -> None:
    """What the worker does for each sign-in email whose time has come."""
    for delivery in EmailDelivery.objects.filter(purpose="sign-in", status="pending"):
        send_email_delivery.call(delivery.pk)


def test_a_new_device_and_address_sends_an_email_with_the_sessions_link(mailoutbox, django_capture_on_commit_callbacks):
    user = make_verified_user("rita")
    browser(user, user_agent=FIREFOX_ON_LINUX, address="203.0.113.7")
    with django_capture_on_commit_callbacks(execute=True):
        phone = browser(user, user_agent=SAFARI_ON_IPHONE, address="198.51.100.4")
    [notice] = sign_in_notices()
    assert notice.user_session.public_id == public_id_of(phone)
    # Queued for the worker by id once the sign-in was committed, like every email here.
    assert [task.args_kwargs["args"] for task in DBTaskResult.objects.all()] == [[notice.pk]]
    send_due_notices()
    [message] = mailoutbox
    assert message.to == ["rita@example.com"]
    assert message.subject == "New sign-in to your account on asgi_blog"
    assert "Mobile Safari on iOS" in message.body and "198.51.100.4" in message.body
    sessions_link = re.search(rf"{SITE}(\S+)", message.body).group(1)
    assert sessions_link == "/accounts/sessions/"
    assert phone.get(sessions_link).status_code == 200


@pytest.mark.parametrize(
    ("user_agent", "address"),
    [(SAFARI_ON_IPHONE, "203.0.113.7"), (FIREFOX_ON_LINUX, "198.51.100.4")],
    ids=["new device, usual address", "usual device, new address"],
)
def test_either_half_of_the_pair_being_new_is_enough(user_agent, address):
    user = make_verified_user()
    browser(user, user_agent=FIREFOX_ON_LINUX, address="203.0.113.7")
    browser(user, user_agent=user_agent, address=address)
    assert len(sign_in_notices()) == 1


def test_a_known_device_and_address_sends_nothing_even_after_logging_out():
    user = make_verified_user()
    first = browser(user)
    first.post("/accounts/logout/")
    browser(user)
    # A newer version of the same browser is the same device.
    browser(user, user_agent=FIREFOX_ON_LINUX.replace("128.0", "140.0"))
    assert sign_in_notices() == []


def test_the_first_sign_in_of_an_account_sends_nothing():
    """Every pair is new the first time; an account verified before it ever signed in hears nothing of it."""
    browser(make_verified_user(), user_agent=SAFARI_ON_IPHONE)
    assert sign_in_notices() == []


def test_an_unverified_address_gets_nothing():
    user = make_user(email="unverified@example.com")
    browser(user, user_agent=FIREFOX_ON_LINUX)
    browser(user, user_agent=SAFARI_ON_IPHONE)
    assert sign_in_notices() == []


def test_an_address_changed_before_the_worker_sends_cancels_the_notice(mailoutbox):
    user = make_verified_user()
    browser(user, user_agent=FIREFOX_ON_LINUX)
    browser(user, user_agent=SAFARI_ON_IPHONE)
    user.verified_email = ""
    user.save(update_fields=["verified_email"])
    send_due_notices()
    assert mailoutbox == []
    assert [notice.status for notice in sign_in_notices()] == [EmailDelivery.Status.CANCELLED]


def test_sessions_signed_in_before_sign_ins_were_recorded_are_adopted_without_a_notice():
    """At the first deploy every open session is new to the records, but none is a new sign-in."""
    user = make_verified_user()
    laptop, phone = browser(user, user_agent=FIREFOX_ON_LINUX), browser(user, user_agent=SAFARI_ON_IPHONE)
    EmailDelivery.objects.all().delete()
    UserSession.objects.all().delete()
    for client in (laptop, phone):
        session = client.session
        del session[SESSION_ID_KEY]
        session.save()
        assert client.get("/blog/whoami/").status_code == 200
    assert UserSession.objects.filter(user=user).count() == 2
    assert sign_in_notices() == []
