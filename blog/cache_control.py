"""Cache-Control for the whole site, decided in one place.

Views whose GET answer is the same for every anonymous reader say so with
@shared_when_anonymous; the middleware then sends
- `public, max-age=BLOG_PUBLIC_CACHE_SECONDS` on such a 200
  answer to an anonymous GET that sets no cookie;
- `private, no-store` on any answer to a logged-in user (drafts are only visible to
  them) or that sets a cookie (a session, a CSRF token for a form, messages);
and leaves other answers, and any that chose a Cache-Control of their own, alone.
It sits outside the session, CSRF and messages middleware, so it sees the cookies
they set on the way out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.decorators import async_only_middleware

View = Callable[..., Awaitable[HttpResponse]]
SHARED_WHEN_ANONYMOUS = "shared_when_anonymous"


def shared_when_anonymous(view: View) -> View:
    """Mark the view's answers as the same for every anonymous reader (the middleware decides)."""

    @wraps(view)
    async def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = await view(request, *args, **kwargs)
        setattr(response, SHARED_WHEN_ANONYMOUS, True)
        return response

    return wrapper


@async_only_middleware
def cache_control_middleware(
    get_response: Callable[[HttpRequest], Awaitable[HttpResponse]],
) -> Callable[[HttpRequest], Awaitable[HttpResponse]]:
    async def middleware(request: HttpRequest) -> HttpResponse:
        response = await get_response(request)
        if response.has_header("Cache-Control"):
            return response
        shareable = getattr(response, SHARED_WHEN_ANONYMOUS, False) and request.method == "GET"
        if response.cookies or await logged_in(request):
            patch_cache_control(response, private=True, no_store=True)
        elif shareable and response.status_code == 200:
            # SessionMiddleware adds Vary: Cookie (the user was looked up in the session), so a
            # shared cache never hands this to a reader who sends a session cookie.
            patch_cache_control(response, public=True, max_age=settings.BLOG_PUBLIC_CACHE_SECONDS)
        return response

    return middleware


async def logged_in(request: HttpRequest) -> bool:
    # auser() is set by AuthenticationMiddleware and cached once resolved; an answer given
    # before it ran (a redirect by CommonMiddleware) belongs to no user.
    auser = getattr(request, "auser", None)
    return auser is not None and (await auser()).is_authenticated
