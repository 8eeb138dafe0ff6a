"""Sends a covered user (blog/accounts/two_factor/policy.py) whose session has given no second factor where to give it.

Two places: the admin, whose every page is a staff power, is refused at its door here
(its logout aside); and a view that let a service's SecondFactorRequired through (publishing,
the moderation queue) answers with the way to the code page, or to enrolment for a user
who has not set it up, and back afterwards. JSON clients get 403 with the code
second_factor_required instead, as the socket's error frame says it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import markcoroutinefunction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from blog.accounts.two_factor import policy, selectors
from blog.accounts.two_factor.views import next_url_of, second_factor_redirect
from blog.failures import failure_from
from blog.http import wants_json


class SecondFactorMiddleware:
    async_capable = True
    sync_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], Awaitable[HttpResponse]]) -> None:
        self.get_response = get_response
        markcoroutinefunction(self)

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_admin_page(request.path):
            user = request.user
            if user.is_authenticated and user.is_staff and await policy.alacks_second_factor(user):
                enrolled = await selectors.ahas_second_factor(user)
                return second_factor_redirect(request, next_url=request.get_full_path(), enrolled=enrolled)
        return await self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Sync: Django calls it in a thread, for an exception a view raised."""
        if not isinstance(exception, policy.SecondFactorRequired):
            return None
        if wants_json(request):
            return JsonResponse(failure_from(exception).as_json(), status=403)
        enrolled = selectors.has_second_factor(request.user)
        return second_factor_redirect(request, next_url=come_back_to(request), enrolled=enrolled)


def is_admin_page(path: str) -> bool:
    return path.startswith(reverse("admin:index")) and path != reverse("admin:logout")


def come_back_to(request: HttpRequest) -> str:
    """A page to come back to once the code is given: this one for a GET; for a form, the page it was on."""
    if request.method in ("GET", "HEAD"):
        return request.get_full_path()
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return referer
    return next_url_of(request)
