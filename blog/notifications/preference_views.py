"""The notification preferences page and the one-click unsubscribe link every notifications email carries."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from blog.notifications import preferences as preference_services
from blog.notifications.forms import PreferencesForm
from blog.notifications.unsubscribe import unsubscribe_user_id

MESSAGE_PREFERENCES_SAVED = "Your notification preferences are saved."
MESSAGE_ADDRESS_NEEDED = "Email goes only to a verified address: add or verify one on your account page."
MESSAGE_BAD_UNSUBSCRIBE_LINK = (
    "This unsubscribe link is not one we made, or it was cut short. "
    "Open the link from the email again, or change your notification preferences after logging in."
)


@login_required
@require_http_methods(["GET", "POST"])
async def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = await request.auser()
    preferences = await sync_to_async(preference_services.preferences_of)(user)
    form = PreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        await sync_to_async(preference_services.notification_preferences_update)(user=user, channels=form.channels())
        messages.success(request, MESSAGE_PREFERENCES_SAVED)
        return redirect("notification_preferences")
    context = {"form": form, "address_needed": MESSAGE_ADDRESS_NEEDED if not user.has_verified_email else None}
    return TemplateResponse(request, "notifications/preferences.html", context)


# The signed token is the authority, not a session: RFC 8058 mail clients post the link's
# "List-Unsubscribe=One-Click" body with no cookies and no CSRF token.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
async def notification_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (a link scanner's visit changes nothing); POST turns email off for every kind."""
    try:
        user_id = unsubscribe_user_id(token)
    except signing.BadSignature:
        return bad_unsubscribe_link(request)
    if request.method == "GET":
        return TemplateResponse(request, "notifications/unsubscribe.html", {"token": token})
    if await sync_to_async(preference_services.notification_emails_stop)(user_id=user_id) is None:
        return bad_unsubscribe_link(request)
    return TemplateResponse(request, "notifications/unsubscribed.html")


def bad_unsubscribe_link(request: HttpRequest) -> HttpResponse:
    context = {
        "title": "That unsubscribe link does not work",
        "message": MESSAGE_BAD_UNSUBSCRIBE_LINK,
        "next_url": reverse("notification_preferences"),
        "next_label": "Notification preferences",
    }
    return TemplateResponse(request, "bad_link.html", context, status=400)
