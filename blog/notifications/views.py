"""The notifications list, marking them read, and following a post: small views over the services."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from blog.comments import cursors
from blog.failures import Failure, failure_from
from blog.http import bad_request_page, login_required_or_401, refused, wants_json
from blog.models import Notification
from blog.notifications import selectors as notification_selectors
from blog.notifications import services as notification_services
from blog.posts.views import post_url, visible_post_or_404

MESSAGE_BAD_NOTIFICATION_ID = "id must be a notification id (a positive whole number)."
MESSAGE_ALL_READ = "All your notifications are marked read."
MESSAGE_FOLLOWING = "You follow this post: new comments on it appear in your notifications."
MESSAGE_NOT_FOLLOWING = "You no longer follow this post."


@never_cache
@login_required_or_401
@require_GET
async def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first, a page at a time (?before=); JSON for clients that ask for it."""
    try:
        before = cursors.before_param(request.GET)
    except cursors.BadCursor as error:
        return bad_cursor(request, error)
    page = await notification_selectors.notifications_page(request.user, before=before)
    unread = await notification_selectors.aunread_count(request.user)
    if wants_json(request):
        found = [notification.as_json() for notification in page.notifications]
        return JsonResponse({"unread": unread, "notifications": found, "next_before": page.next_before})
    # The bell's count too: read once here, not again by the context processor.
    context = {"page": page, "unread_notifications": unread}
    return TemplateResponse(request, "notifications/list.html", context)


@login_required_or_401
@require_POST
async def notification_read(request: HttpRequest) -> HttpResponse:
    """All the user's notifications read, or the one named by `id`; every open page of theirs hears the count."""
    notification_id = None
    if request.POST.get("id"):
        try:
            notification_id = cursors.whole_number(
                request.POST["id"], lowest=1, highest=cursors.MAX_ID, message=MESSAGE_BAD_NOTIFICATION_ID
            )
        except cursors.BadCursor as error:
            return bad_cursor(request, error)
    try:
        unread = await sync_to_async(notification_services.notifications_mark_read)(
            user=request.user, notification_id=notification_id
        )
    except Notification.DoesNotExist as error:
        raise Http404(str(error)) from None
    if wants_json(request):
        return JsonResponse({"unread": unread})
    if notification_id is None:
        messages.success(request, MESSAGE_ALL_READ)
    return redirect(safe_next(request, reverse("notification_list")))


@login_required_or_401(come_back_to=post_url)
@require_POST
async def post_follow(request: HttpRequest, post_id: int) -> HttpResponse:
    """Follow (following=1, the default) or unfollow (following=0) a post."""
    post = await visible_post_or_404(request, post_id)
    following = request.POST.get("following", "1") != "0"
    try:
        await sync_to_async(notification_services.post_follow)(user=request.user, post=post, following=following)
    except PermissionDenied as error:
        return refused(request, failure_from(error))
    if wants_json(request):
        return JsonResponse({"following": following})
    messages.success(request, MESSAGE_FOLLOWING if following else MESSAGE_NOT_FOLLOWING)
    return redirect(post_url(post_id))


def bad_cursor(request: HttpRequest, error: cursors.BadCursor) -> HttpResponse:
    """400 saying what was wrong: `invalid` for JSON clients, as the comment pages answer, else a page."""
    if wants_json(request):
        return JsonResponse(Failure("invalid", str(error)).as_json(), status=400)
    return bad_request_page(request, str(error), back_url=reverse("notification_list"))


def safe_next(request: HttpRequest, default: str) -> str:
    """Where a form asked to go back to (?next= or the field next), if it is on this site."""
    target = request.POST.get("next") or request.GET.get("next")
    allowed = url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure())
    return target if target and allowed else default
