"""The "Your data" pages: download a copy of the account, or delete it."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.contrib.auth import alogout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from blog.accounts.data import selectors, services
from blog.accounts.data.forms import AccountDeleteForm


@never_cache
@login_required
@require_GET
async def account_data(request: HttpRequest) -> HttpResponse:
    """What the download holds and what deletion does, with the two buttons."""
    user = await request.auser()
    has_posts = await services.posts_of(user).aexists()
    return TemplateResponse(request, "accounts/data.html", {"account": user, "has_posts": has_posts})


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


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
async def account_delete(request: HttpRequest) -> HttpResponse:
    """The password and "I understand" (and, for an author, who takes the posts), then the deletion and a logout."""
    user = await request.auser()
    heirs = services.post_heirs(user)
    has_posts = await services.posts_of(user).aexists()
    form = AccountDeleteForm(request.POST or None, heirs=heirs, has_posts=has_posts)
    if request.method == "POST" and await sync_to_async(form.is_valid)():
        try:
            await sync_to_async(services.account_delete)(
                user=user, password=form.cleaned_data["password"], posts_to=form.heir()
            )
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            await alogout(request)
            return redirect("account_deleted")
    context = {"form": form, "account": user, "has_posts": has_posts}
    return TemplateResponse(request, "accounts/delete.html", context)


@require_GET
async def account_deleted(request: HttpRequest) -> HttpResponse:
    """Where a deleted account's browser lands, logged out: what went, and what stays."""
    return TemplateResponse(request, "accounts/deleted.html")
