"""Browsers of their own for the sessions tests: each signs in through the login form, as a person does."""

from __future__ import annotations

from django.test import Client

from blog.accounts.sessions import services as session_services
from tests.factories import PASSWORD

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def browser(user, *, user_agent: str = FIREFOX_ON_LINUX, address: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": user.get_username(), "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def signed_in(client: Client) -> bool:
    return client.get("/blog/whoami/").content.startswith(b"You are logged in")


def public_id_of(client: Client) -> str:
    """The opaque id the sessions page names this browser's session by."""
    return client.session[session_services.SESSION_ID_KEY]
