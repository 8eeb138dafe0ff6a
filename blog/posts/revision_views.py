"""Editing a post, and what each edit of a published post changed, for every reader to see."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from blog.cache_control import shared_when_anonymous
from blog.posts import selectors as post_selectors
from blog.posts import services as post_services
from blog.posts.diffs import post_diff
from blog.posts.forms import PostEditForm
from blog.posts.views import visible_post_or_404

MESSAGE_SAVED = "Saved."
MESSAGE_SAVED_AND_TOLD = "Saved. Its readers see that it was updated, with a link to what changed."


@login_required
@require_http_methods(["GET", "POST"])
async def post_edit(request: HttpRequest, post_id: int) -> HttpResponse:
    post = await visible_post_or_404(request, post_id)
    if not await sync_to_async(post_services.may_edit)(post, request.user):
        raise PermissionDenied(post_services.MESSAGE_CANNOT_EDIT)
    initial = {"title": post.title, "body": post.body, "tags": await post_selectors.tags_of(post)}
    form = PostEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = await sync_to_async(post_services.post_edit)(post=post, actor=request.user, **form.cleaned_data)
        messages.success(request, MESSAGE_SAVED_AND_TOLD if saved.revised != post.revised else MESSAGE_SAVED)
        return redirect(saved)
    return TemplateResponse(request, "blog/post_edit.html", {"form": form, "post": post})


@shared_when_anonymous
@require_GET
async def post_changes(request: HttpRequest, post_id: int) -> HttpResponse:
    """Every edit of the post since it was published, newest first, each linking to its changes."""
    post = await visible_post_or_404(request, post_id)
    revisions = await post_selectors.revisions_of(post)
    return TemplateResponse(request, "blog/post_changes.html", {"post": post, "revisions": revisions})


@shared_when_anonymous
@require_GET
async def post_change(request: HttpRequest, post_id: int, revision_id: int) -> HttpResponse:
    """One edit: the version it replaced against the version it made, title and body."""
    post = await visible_post_or_404(request, post_id)
    found = await post_selectors.revision_and_next(post, revision_id)
    if found is None:
        raise Http404("No such change of this post.")
    revision, new_title, new_body = found
    diff = post_diff(old_title=revision.title, old_body=revision.body, new_title=new_title, new_body=new_body)
    context = {
        "post": post,
        "revision": revision,
        "diff": diff,
        "newest": new_title == post.title and new_body == post.body,
    }
    return TemplateResponse(request, "blog/post_change.html", context)
