"""The sessions page: every sign-in listed, last seen kept lazily, and any of your own sessions ended at once."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from blog.accounts.sessions import services as session_services
from blog.models import UserSession
from tests.blog.accounts.browsers import SAFARI_ON_IPHONE, browser, public_id_of, signed_in
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

STORES = ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cache"]


@pytest.fixture(params=STORES, ids=["database", "cache"])
def session_store(request, settings):
    """Each test that ends sessions runs against both stores the settings offer (BLOG_SESSION_STORE)."""
    settings.SESSION_ENGINE = request.param
    return request.param


def listed_ids(client: Client) -> list[str]:
    page = client.get("/accounts/sessions/")
    assert page.status_code == 200
    return re.findall(r'data-session-id="([^"]+)"', page.content.decode())


def test_a_sign_in_is_listed_with_its_device_address_and_this_device_marked(session_store):
    user = make_user()
    laptop = browser(user)
    phone = browser(user, user_agent=SAFARI_ON_IPHONE, address="198.51.100.4")
    page = laptop.get("/accounts/sessions/").content.decode()
    assert "Firefox on Linux" in page and "203.0.113.7" in page
    assert "Mobile Safari on iOS" in page and "198.51.100.4" in page
    assert page.count("This device") == 1
    current_row = re.search(r'<tr class="session session-current" data-session-id="([^"]+)"', page)
    assert current_row.group(1) == public_id_of(laptop) != public_id_of(phone)


def test_the_page_never_shows_a_session_key():
    user = make_user()
    laptop, phone = browser(user), browser(user)
    page = laptop.get("/accounts/sessions/").content.decode()
    for client in (laptop, phone):
        assert client.cookies[settings.SESSION_COOKIE_NAME].value not in page


def test_the_page_lists_only_your_own_sessions_and_needs_a_login():
    user, stranger = make_user(), make_user()
    mine = browser(user)
    browser(stranger)
    assert listed_ids(mine) == [public_id_of(mine)]
    assert Client().get("/accounts/sessions/").status_code == 302


def test_signing_out_another_session_logs_it_out_at_once(session_store):
    user = make_user()
    laptop, phone = browser(user), browser(user)
    phone_id = public_id_of(phone)
    response = laptop.post(f"/accounts/sessions/{phone_id}/end/")
    assert response.status_code == 302
    assert not signed_in(phone)
    assert signed_in(laptop)
    assert listed_ids(laptop) == [public_id_of(laptop)]
    assert UserSession.objects.get(public_id=phone_id).ended is not None


def test_signing_out_everywhere_else_keeps_this_device_only(session_store):
    user = make_user()
    laptop, phone, tablet = browser(user), browser(user), browser(user)
    stranger = browser(make_user())
    response = laptop.post("/accounts/sessions/end-others/", follow=True)
    assert b"Your 2 other sessions are signed out." in response.content
    assert signed_in(laptop) and signed_in(stranger)
    assert not signed_in(phone) and not signed_in(tablet)


def test_no_one_can_end_someone_elses_session(session_store):
    user, attacker = make_user(), make_user()
    victim = browser(user)
    intruder = browser(attacker)
    response = intruder.post(f"/accounts/sessions/{public_id_of(victim)}/end/")
    assert response.status_code == 404
    assert signed_in(victim)


def test_ending_needs_a_post():
    user = make_user()
    laptop, phone = browser(user), browser(user)
    assert laptop.get(f"/accounts/sessions/{public_id_of(phone)}/end/").status_code == 405
    assert laptop.get("/accounts/sessions/end-others/").status_code == 405
    assert signed_in(phone)


def test_signing_out_this_device_from_the_list_is_a_logout():
    user = make_user()
    laptop = browser(user)
    row = public_id_of(laptop)
    laptop.post(f"/accounts/sessions/{row}/end/")
    assert not signed_in(laptop)
    assert UserSession.objects.get(public_id=row).ended is not None


def test_logout_ends_the_record_too():
    laptop = browser(make_user())
    row = public_id_of(laptop)
    laptop.post("/accounts/logout/")
    assert UserSession.objects.get(public_id=row).ended is not None


def test_a_session_that_expired_in_its_store_is_not_listed(session_store):
    user = make_user()
    laptop, phone = browser(user), browser(user)
    phone_id = public_id_of(phone)
    phone.session.delete()  # as the store's own expiry would
    assert listed_ids(laptop) == [public_id_of(laptop)]
    assert UserSession.objects.get(public_id=phone_id).ended is not None


def test_last_seen_is_written_at_most_once_a_minute(monkeypatch):
    laptop = browser(make_user(), address="203.0.113.7")
    row = UserSession.objects.get(public_id=public_id_of(laptop))
    clock = [session_services.time.time()]
    monkeypatch.setattr(session_services.time, "time", lambda: clock[0])

    laptop.get("/blog/whoami/", REMOTE_ADDR="203.0.113.99")
    assert UserSession.objects.get(pk=row.pk).last_seen == row.last_seen  # within the minute: no write

    clock[0] += session_services.SESSION_SEEN_INTERVAL.total_seconds()
    laptop.get("/blog/whoami/", REMOTE_ADDR="203.0.113.99")
    seen = UserSession.objects.get(pk=row.pk)
    assert seen.last_seen > row.last_seen
    assert seen.address == "203.0.113.99"


def test_a_session_from_before_the_records_is_adopted_on_its_next_request():
    user = make_user()
    laptop = browser(user)
    UserSession.objects.all().delete()
    session = laptop.session
    del session[session_services.SESSION_ID_KEY]
    session.save()
    assert laptop.get("/blog/whoami/").status_code == 200
    row = UserSession.objects.get(user=user)
    assert public_id_of(laptop) == row.public_id
    assert row.session_key == laptop.cookies[settings.SESSION_COOKIE_NAME].value


def test_the_record_follows_the_session_when_a_password_change_cycles_its_key(session_store):
    user = make_user()
    laptop, phone = browser(user), browser(user)
    key_before = laptop.cookies[settings.SESSION_COOKIE_NAME].value
    response = laptop.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    key_after = laptop.cookies[settings.SESSION_COOKIE_NAME].value
    assert key_after != key_before
    assert UserSession.objects.get(public_id=public_id_of(laptop)).session_key == key_after
    assert not signed_in(phone)  # a new password ends the other sessions, as before
    assert listed_ids(laptop) == [public_id_of(laptop)]


def test_the_session_id_is_not_the_session_key():
    laptop = browser(make_user())
    row = UserSession.objects.get(public_id=public_id_of(laptop))
    assert row.public_id != row.session_key
    assert laptop.session[SESSION_KEY]  # still signed in; the id is beside, not instead of, the login


def test_old_sign_ins_are_forgotten_after_the_history_window(settings):
    user = make_user()
    kept, ended_long_ago, unseen_long_ago = (browser(user) for _ in range(3))
    old = timezone.now() - timedelta(days=settings.BLOG_SIGN_IN_HISTORY_DAYS + 1)
    UserSession.objects.filter(public_id=public_id_of(ended_long_ago)).update(ended=old)
    UserSession.objects.filter(public_id=public_id_of(unseen_long_ago)).update(last_seen=old)
    call_command("prune_sign_ins", stdout=StringIO())
    assert list(UserSession.objects.values_list("public_id", flat=True)) == [public_id_of(kept)]
