"""A session ended by any path reaches the sockets that only read, without waiting for a write."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from blog import events
from blog.models import Comment, User
from tests.blog.accounts.browsers import browser, public_id_of
from tests.factories import PASSWORD, editors_group, make_comment, make_user
from tests.realtime.conftest import logged_in_client

pytestmark = pytest.mark.django_db(transaction=True)

PUSH_TIMEOUT = 1  # seconds: revocation must reach open sockets within a second
NEW_PASSWORD = "a-brand-new-long-password"


async def reading_socket(sockets, post, user):
    """A socket of its own browser session that never writes; also returns that browser."""
    client = await sync_to_async(logged_in_client)(user)
    socket, hello = await sockets.connect(post.pk, session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert hello["user"] == user.get_username()
    return socket, client


async def session_ended_is_pushed(socket, within: float = PUSH_TIMEOUT) -> None:
    assert await socket.receive_json_from(timeout=within) == {"type": "session.ended"}


async def test_logout_through_the_admin_is_pushed(sockets, post):
    staff = await sync_to_async(make_user)("staffer", is_staff=True)
    socket, admin_browser = await reading_socket(sockets, post, staff)
    response = await sync_to_async(admin_browser.post)("/admin/logout/")
    assert response.status_code == 302  # to LOGOUT_REDIRECT_URL
    await session_ended_is_pushed(socket)


async def test_set_password_and_save_in_code_is_pushed(sockets, post, reader):
    socket, _ = await reading_socket(sockets, post, reader)

    def change_password():
        user = User.objects.get(pk=reader.pk)
        user.set_password(NEW_PASSWORD)
        user.save()

    await sync_to_async(change_password)()
    await session_ended_is_pushed(socket)


async def test_password_set_in_the_admin_is_pushed(sockets, post, reader):
    chief = await sync_to_async(User.objects.create_superuser)("chief", password=PASSWORD)
    admin_browser = await sync_to_async(logged_in_client)(chief)
    socket, _ = await reading_socket(sockets, post, reader)
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    response = await sync_to_async(admin_browser.post)(f"/admin/blog/user/{reader.pk}/password/", form)
    assert response.status_code == 302
    await session_ended_is_pushed(socket)


async def test_password_reset_confirm_is_pushed(sockets, post, reader):
    socket, _ = await reading_socket(sockets, post, reader)

    def reset_password():
        uid = urlsafe_base64_encode(force_bytes(reader.pk))
        token = default_token_generator.make_token(User.objects.get(pk=reader.pk))
        stranger = Client()  # the reset happens in a browser that is not logged in
        form_page = stranger.get(f"/accounts/reset/{uid}/{token}/")
        assert form_page.status_code == 302
        done = stranger.post(form_page.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert done.status_code == 302

    await sync_to_async(reset_password)()
    await session_ended_is_pushed(socket)


async def test_deactivation_by_a_plain_save_is_pushed(sockets, post, reader):
    socket, _ = await reading_socket(sockets, post, reader)

    def deactivate():
        user = User.objects.get(pk=reader.pk)
        user.is_active = False
        user.save()

    await sync_to_async(deactivate)()
    await session_ended_is_pushed(socket)


async def test_deleting_the_user_is_pushed(sockets, post, reader):
    socket, _ = await reading_socket(sockets, post, reader)
    await (await User.objects.aget(pk=reader.pk)).adelete()
    await session_ended_is_pushed(socket)


async def test_a_session_that_expires_while_its_socket_only_reads_ends_at_expiry(sockets, post, reader):
    client = await sync_to_async(logged_in_client)(reader)

    def expire_soon():
        session = client.session
        session.set_expiry(2)
        session.save()
        return session.session_key

    key = await sync_to_async(expire_soon)()
    expires = (await sync_to_async(client.session.get_expiry_date)()).replace(microsecond=0)
    socket, hello = await sockets.connect(post.pk, session_key=key)
    assert hello["user"] == "reader"
    await session_ended_is_pushed(socket, within=2 + PUSH_TIMEOUT + 2)
    assert timezone.now() >= expires, "the session ended before it expired"


async def test_a_permission_granted_after_connect_is_used_by_the_socket(sockets, post, reader, author):
    """The socket reloads its user at each write, so a new permission counts without reconnecting."""
    comment = await sync_to_async(make_comment)(post, author)
    socket, hello = await sockets.connect(post.pk, user=reader)
    assert hello["can_moderate"] is False
    await sync_to_async(reader.groups.add)(await sync_to_async(editors_group)())  # Editors may delete any comment

    await socket.send_json_to({"type": "comment.delete", "id": comment.pk, "client_id": "moderate"})
    frames = [await socket.receive_json_from() for _ in range(2)]
    assert {frame["type"] for frame in frames} == {"comment.deleted", "comment.ack"}
    assert not await Comment.objects.aexists()


def test_logout_ends_the_session_before_its_sockets_are_told(reader, monkeypatch):
    """logout() deletes the session after its signal: a socket re-checking at once must not find it alive."""
    client = logged_in_client(reader)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    session_alive_when_told = []

    def record(event):
        if isinstance(event, events.UserSessionsChanged):
            session_alive_when_told.append(Session.objects.filter(session_key=key).exists())

    monkeypatch.setattr(events, "_handlers", [record])
    client.post("/accounts/logout/")
    assert session_alive_when_told == [False]


@pytest.mark.parametrize(
    "store",
    ["django.contrib.sessions.backends.db", "django.contrib.sessions.backends.cache"],
    ids=["database", "cache"],
)
async def test_a_session_signed_out_from_another_loses_its_socket_within_a_second(
    sockets, post, reader, settings, store
):
    settings.SESSION_ENGINE = store
    laptop, phone = await sync_to_async(browser)(reader), await sync_to_async(browser)(reader)
    laptop_socket, _ = await sockets.connect(post.pk, session_key=laptop.cookies[settings.SESSION_COOKIE_NAME].value)
    phone_socket, _ = await sockets.connect(post.pk, session_key=phone.cookies[settings.SESSION_COOKIE_NAME].value)
    phone_id = await sync_to_async(public_id_of)(phone)

    response = await sync_to_async(laptop.post)(f"/accounts/sessions/{phone_id}/end/")
    assert response.status_code == 302
    await session_ended_is_pushed(phone_socket)
    assert await laptop_socket.receive_nothing(timeout=0.3), "the session that ended the other stays signed in"


async def test_signing_out_everywhere_else_reaches_every_other_socket(sockets, post, reader):
    laptop, phone, tablet = [await sync_to_async(browser)(reader) for _ in range(3)]
    keys = [client.cookies[settings.SESSION_COOKIE_NAME].value for client in (laptop, phone, tablet)]
    laptop_socket, phone_socket, tablet_socket = [(await sockets.connect(post.pk, session_key=key))[0] for key in keys]

    await sync_to_async(laptop.post)("/accounts/sessions/end-others/")
    await session_ended_is_pushed(phone_socket)
    await session_ended_is_pushed(tablet_socket)
    assert await laptop_socket.receive_nothing(timeout=0.3)
