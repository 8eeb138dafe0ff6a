"""The sessions page: where you are signed in, and signing a lost device out."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import alogout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from blog.accounts.models import UserSession
from blog.accounts.sessions import services as session_services

MESSAGE_SESSION_ENDED = "That session is signed out."
MESSAGE_OTHERS_ENDED = {0: "You were signed in nowhere else.", 1: "Your one other session is signed out."}
MESSAGE_MANY_ENDED = "Your {count} other sessions are signed out."


@never_cache
@login_required
@require_GET
async def session_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    sessions = await sync_to_async(session_services.sessions_open)(user=user)
    current = await request.session.aget(session_services.SESSION_ID_KEY)
    context = {
        "sessions": sessions,
        "current_id": current,
        "others": sum(1 for row in sessions if row.public_id != current),
    }
    return TemplateResponse(request, "accounts/sessions.html", context)


@login_required
@require_POST
async def session_end(request: HttpRequest, session_id: str) -> HttpResponse:
    if session_id == await request.session.aget(session_services.SESSION_ID_KEY):
        # This device: a logout like the menu's, so the browser gets a fresh anonymous session.
        await alogout(request)
        return redirect(settings.LOGOUT_REDIRECT_URL)
    try:
        await sync_to_async(session_services.session_end)(user=request.user, public_id=session_id)
    except UserSession.DoesNotExist as missing:
        raise Http404(session_services.MESSAGE_NO_SUCH_SESSION) from missing
    messages.success(request, MESSAGE_SESSION_ENDED)
    return redirect("account_sessions")


@login_required
@require_POST
async def sessions_end_others(request: HttpRequest) -> HttpResponse:
    count = await sync_to_async(session_services.sessions_end_others)(
        user=request.user, current_key=request.session.session_key
    )
    messages.success(request, MESSAGE_OTHERS_ENDED.get(count) or MESSAGE_MANY_ENDED.format(count=count))
    return redirect("account_sessions")
