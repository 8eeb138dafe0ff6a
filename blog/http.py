"""What every view of the blog answers the same way: JSON or a page, login or 401, refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from blog.comments.services import MESSAGE_LOGIN_REQUIRED
from blog.failures import Failure

View = Callable[..., Awaitable[HttpResponse]]


def wants_json(request: HttpRequest) -> bool:
    return request.get_preferred_type(["text/html", "application/json"]) == "application/json"


def login_required_or_401(view: View | None = None, *, come_back_to: Callable[..., str] | None = None):
    """@login_required for browsers; JSON clients get 401 and a login_required code instead.

    After logging in, browsers come back to `come_back_to(<the view's URL arguments>)`, or to this URL.
    """

    def decorate(view: View) -> View:
        @wraps(view)
        async def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.user.is_authenticated:
                return await view(request, *args, **kwargs)
            if wants_json(request):
                return JsonResponse(Failure("login_required", MESSAGE_LOGIN_REQUIRED).as_json(), status=401)
            return redirect_to_login(come_back_to(*args, **kwargs) if come_back_to else request.get_full_path())

        return wrapper

    return decorate(view) if view is not None else decorate


def bad_request_page(request: HttpRequest, message: str, *, back_url: str) -> HttpResponse:
    """400 for a browser that asked for a page with a malformed address, saying what was wrong."""
    context = {"message": message, "back_url": back_url}
    return TemplateResponse(request, "blog/bad_request.html", context, status=400)


def with_retry_after(response: HttpResponse, failure: Failure) -> HttpResponse:
    """A 429 says when to come back, for clients that retry on their own."""
    if failure.code == "rate_limited":
        response["Retry-After"] = str(failure.extra["retry_after"])
    return response


def refused(request: HttpRequest, failure: Failure) -> HttpResponse:
    """A refusal outside the post page: JSON for JSON clients, a short page for browsers."""
    if wants_json(request):
        response = JsonResponse(failure.as_json(), status=failure.http_status)
    else:
        response = TemplateResponse(request, "blog/refused.html", {"failure": failure}, status=failure.http_status)
    return with_retry_after(response, failure)
