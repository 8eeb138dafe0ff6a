from __future__ import annotations

from collections.abc import Awaitable, Callable

from django.http import HttpRequest, HttpResponse
from django.utils.decorators import async_only_middleware


@async_only_middleware
def resolved_user_middleware(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    """Load request.user with the async ORM before the view runs.

    Django's request.user is a lazy object that loads the session and user
    synchronously on first use, which async views and the templates they
    render must not do. Resolving it once here keeps both simple.
    """

    async def middleware(request: HttpRequest) -> HttpResponse:
        request.user = await request.auser()
        return await get_response(request)

    return middleware
