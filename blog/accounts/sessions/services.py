"""The only code that records, touches and ends a user's sessions.

Each sign-in gets a UserSession row, and the session itself carries the row's public id
(SESSION_ID_KEY), so the row follows the session when its key changes (a password change
cycles it) and the session page knows which row is "this device". Ending a session deletes
it from the store SESSION_ENGINE names (database or cache), which logs it out over HTTP at
once, and publishes UserSessionsChanged: every socket of the user, on every process, checks
its own session again and the ended ones get session.ended (realtime/session_gate.py).

A sign-in from a device and address pair the account has not used before, on an account
that has signed in before, sends its verified address an email with a link to the sessions
page. It goes however the notification preferences are set: it is about the account's safety.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from blog import events
from blog.accounts.models import User, UserSession
from blog.accounts.sessions.devices import device_label, stored_address
from blog.network import client_address
from blog.notifications.models import EmailDelivery
from blog.notifications.tasks import send_email_delivery_later

# In the session: the public id of its UserSession row, and when the row's last_seen was last written.
SESSION_ID_KEY = "_blog_session_id"
SESSION_SEEN_KEY = "_blog_session_seen"
# last_seen is written at most this often: a write per request would double every page's writes.
SESSION_SEEN_INTERVAL = timedelta(minutes=1)

MESSAGE_NO_SUCH_SESSION = "There is no such session of yours: it may have ended already."
ENDED_REASON = "ended"


def session_store(session_key: str | None = None) -> SessionBase:
    """The store SESSION_ENGINE names; a key that is not a plausible session key (too short, empty)
    becomes None, read as anonymous."""
    return import_module(settings.SESSION_ENGINE).SessionStore(session_key)


def session_signin_record(*, request: HttpRequest, user: User, adopted: bool = False) -> UserSession:
    """Record the session login() has just made (its key is cycled already); maybe tell the owner by email.

    `adopted`: a session signed in before sessions were recorded, found at its next request. It is
    recorded the same way, but tells no one: it is not a new sign-in.
    """
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    with transaction.atomic():
        row = UserSession.objects.create(
            user=user,
            session_key=request.session.session_key or "",
            device=device_label(user_agent),
            user_agent=user_agent[: UserSession._meta.get_field("user_agent").max_length],
            address=stored_address(client_address(request)),
        )
        if not adopted:
            sign_in_notice_queue(row)
    request.session[SESSION_ID_KEY] = row.public_id
    request.session[SESSION_SEEN_KEY] = int(time.time())
    return row


def sign_in_notice_queue(row: UserSession) -> EmailDelivery | None:
    """Inside the sign-in's transaction: an email to the verified address when the device and address are new.

    The first sign-in of an account (its signup) tells nothing: every pair is new then.
    """
    user = row.user
    if not user.has_verified_email:
        return None
    earlier = UserSession.objects.filter(user=user).exclude(pk=row.pk)
    if not earlier.exists() or earlier.filter(device=row.device, address=row.address).exists():
        return None
    delivery = EmailDelivery.objects.create(
        recipient=user,
        purpose=EmailDelivery.Purpose.SIGN_IN,
        address=user.verified_email,
        send_after=timezone.now(),
        user_session=row,
    )
    transaction.on_commit(partial(send_email_delivery_later, delivery))
    return delivery


async def asession_seen(request: HttpRequest, user: User) -> None:
    """At most once a SESSION_SEEN_INTERVAL: the row's last_seen and latest address; adopt an unrecorded session."""
    session = request.session
    public_id = await session.aget(SESSION_ID_KEY)
    if public_id is None:
        # Signed in before sessions were recorded, or by a path that bypassed login().
        await sync_to_async(session_signin_record)(request=request, user=user, adopted=True)
        return
    now = int(time.time())
    if now - await session.aget(SESSION_SEEN_KEY, 0) < SESSION_SEEN_INTERVAL.total_seconds():
        return
    await UserSession.objects.filter(public_id=public_id, user=user).aupdate(
        last_seen=timezone.now(), address=stored_address(client_address(request))
    )
    await session.aset(SESSION_SEEN_KEY, now)


async def asession_key_moved(request: HttpRequest, old_key: str) -> None:
    """The session's key changed during a request (a password change cycles it): its row follows."""
    public_id = await request.session.aget(SESSION_ID_KEY)
    new_key = request.session.session_key
    if public_id is not None and new_key:
        await UserSession.objects.filter(public_id=public_id, session_key=old_key).aupdate(session_key=new_key)


def session_logged_out(*, session_key: str | None) -> None:
    """A logout (any path through django.contrib.auth): its row has ended."""
    if session_key:
        UserSession.objects.open().filter(session_key=session_key).update(ended=timezone.now())


def sessions_open(*, user: User) -> list[UserSession]:
    """The user's sessions still alive in their store, newest first; rows of sessions that expired are closed."""
    rows = list(UserSession.objects.open().filter(user=user).order_by("-signed_in"))
    alive = live_session_keys(row.session_key for row in rows)
    expired = [row.pk for row in rows if row.session_key not in alive]
    if expired:
        UserSession.objects.filter(pk__in=expired).update(ended=timezone.now())
    return [row for row in rows if row.session_key in alive]


def live_session_keys(keys: Iterable[str]) -> set[str]:
    """Those of `keys` whose sessions exist and have not expired in the configured store."""
    keys = [key for key in keys if key]
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store_class, "get_model_class"):  # the db and cached_db backends: the table is the truth
        model = store_class.get_model_class()
        rows = model.objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
        return set(rows.values_list("session_key", flat=True))
    store = store_class()
    return {key for key in keys if store.exists(key)}  # the cache forgets a session when it expires


def session_end(*, user: User, public_id: str) -> UserSession:
    """End one of the user's own sessions; UserSession.DoesNotExist for an id that is not one of their open ones."""
    with transaction.atomic():
        row = UserSession.objects.open().select_for_update().filter(user=user, public_id=public_id).first()
        if row is None:
            raise UserSession.DoesNotExist(MESSAGE_NO_SUCH_SESSION)
        _end([row], user=user)
    return row


def sessions_end_others(*, user: User, current_key: str | None) -> int:
    """End every session of the user but the one with `current_key`; returns how many ended."""
    with transaction.atomic():
        rows = list(UserSession.objects.open().select_for_update().filter(user=user).exclude(session_key=current_key))
        _end(rows, user=user)
    return len(rows)


def sessions_end_all(*, user: User, reason: str = ENDED_REASON) -> int:
    """End every session of the user (an account being deleted); returns how many ended."""
    with transaction.atomic():
        rows = list(UserSession.objects.open().select_for_update().filter(user=user))
        _end(rows, user=user, reason=reason)
    return len(rows)


def _end(rows: list[UserSession], *, user: User, reason: str = ENDED_REASON) -> None:
    if not rows:
        return
    # Deleted from the store first: a row marked ended over a session still alive would hide it.
    store = session_store()
    for row in rows:
        store.delete(row.session_key)
    UserSession.objects.filter(pk__in=[row.pk for row in rows]).update(ended=timezone.now())
    events.publish_on_commit(events.UserSessionsChanged(user_id=user.pk, reason=reason))


def sign_ins_prune(*, older_than: datetime) -> int:
    """Forget sign-ins that ended, or were last seen, before `older_than`: a device and address
    pair not used since then counts as new again. Returns how many went."""
    stale = Q(ended__lt=older_than) | Q(ended__isnull=True, last_seen__lt=older_than)
    deleted, _ = UserSession.objects.filter(stale).delete()
    return deleted
