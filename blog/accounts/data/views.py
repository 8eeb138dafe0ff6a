"""The "Your data" pages: download a copy of the account."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from blog.accounts.data import selectors


@never_cache
@login_required
@require_GET
async def account_data(request: HttpRequest) -> HttpResponse:
    """What the download holds, and its button."""
    return TemplateResponse(request, "accounts/data.html", {"account": await request.auser()})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
async def account_data_export(request: HttpRequest) -> HttpResponse:
    """The account as a JSON file (its format in the README), saved by the browser rather than shown."""
    user = await request.auser()
    document = await sync_to_async(selectors.account_export)(user)
    body = json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"asgi_blog-{user.get_username()}-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
