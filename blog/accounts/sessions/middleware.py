"""Keeps each signed-in session's record in step with the session: last seen, and its key."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import async_only_middleware

from blog.accounts.sessions import services as session_services


@async_only_middleware
def session_record_middleware(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    """After blog.middleware.resolved_user_middleware, so request.user is resolved and the session loaded."""

    async def middleware(request: HttpRequest) -> HttpResponse:
        key_before = request.session.session_key
        if request.user.is_authenticated:
            await session_services.asession_seen(request, request.user)
        response = await get_response(request)
        if key_before and request.session.session_key != key_before:
            await session_services.asession_key_moved(request, key_before)
        return response

    return middleware
