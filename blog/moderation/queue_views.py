"""The moderation queue page (GET /moderation/)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from blog.http import login_required_or_401, wants_json
from blog.moderation import policy, selectors


@never_cache
@login_required_or_401
@require_GET
async def moderation_queue(request: HttpRequest) -> HttpResponse:
    if not await policy.ais_moderator(request.user):
        raise PermissionDenied("Only moderators can see the moderation queue.")
    items = await selectors.aqueue_items()
    if wants_json(request):
        return JsonResponse({"items": items})
    return JsonResponse({"items": items})
