"""The moderation queue page (GET /moderation/): held, hidden and flagged comments, oldest first.

The page works without JavaScript (each decision is a plain form to blog/moderation/views.py
that comes back here); its script (static/blog/moderation.js) keeps it live over
/ws/moderation/ with the same entries, so the page, the JSON and the frames never disagree.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from blog.accounts.two_factor import policy as two_factor_policy
from blog.http import login_required_or_401, wants_json
from blog.moderation import policy, selectors


@never_cache
@login_required_or_401
@require_GET
async def moderation_queue(request: HttpRequest) -> HttpResponse:
    if not await policy.ais_moderator(request.user):
        raise PermissionDenied("Only moderators can see the moderation queue.")
    if await two_factor_policy.alacks_second_factor(request.user):
        raise two_factor_policy.SecondFactorRequired()
    items = await selectors.aqueue_items()
    if wants_json(request):
        return JsonResponse({"items": items})
    # The entries as JSON has them, with their time as a datetime for the template's date filter.
    shown = [{**item, "created_at": datetime.fromisoformat(item["created"])} for item in items]
    return TemplateResponse(request, "moderation/queue.html", {"items": shown, "queue_limit": selectors.QUEUE_LIMIT})
