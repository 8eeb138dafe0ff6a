"""Moderators' decisions and readers' flags over HTTP: small views over blog/moderation/services.py.

Each answers JSON to a client that asks for it (the queue page's script) and otherwise
redirects a plain form back where it came from, with a message. The rights are
checked by the services; a reader who may not see the comment gets 404 here first.
"""

from __future__ import annotations

from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from blog.comments.models import Comment
from blog.failures import SERVICE_REFUSALS, Failure, failure_from
from blog.http import login_required_or_401, refused, wants_json, with_retry_after
from blog.moderation import services
from blog.moderation.models import Flag
from blog.posts import selectors as post_selectors
from blog.posts.models import Post

REASON_MAX_LENGTH = 500

MESSAGE_FLAGGED = "Thank you: a moderator will look at this comment."
MESSAGE_FLAGGED_AND_HIDDEN = "Thank you: the comment is hidden until a moderator looks at it."
DONE = {
    "approve": "Comment published.",
    "reject": "Comment rejected (or removed); its author is told.",
    "hide": "Comment hidden until a moderator decides.",
    "ban": "Account deactivated; its held comments were rejected.",
    "hold": "Saved: this author's comments are held for approval.",
    "release": "Saved: this author's comments are no longer always held.",
}


def back_to(request: HttpRequest) -> str:
    """Where a plain form returns: its `next` field if it is on this site, else the queue."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("moderation_queue")


def reason_of(request: HttpRequest) -> str:
    return request.POST.get("reason", "").strip()[:REASON_MAX_LENGTH]


async def decide(request: HttpRequest, done: str, service: Callable[..., object], **arguments: object) -> HttpResponse:
    try:
        await sync_to_async(service)(actor=request.user, **arguments)
    except SERVICE_REFUSALS as error:
        return refused(request, failure_from(error))
    if wants_json(request):
        return JsonResponse({"done": done, "message": DONE[done]})
    messages.success(request, DONE[done])
    return redirect(back_to(request))


@login_required_or_401
@require_POST
async def comment_approve(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Publish a held comment, restore a hidden one, or dismiss a published one's flags."""
    return await decide(request, "approve", services.comment_approve, comment_id=comment_id, reason=reason_of(request))


@login_required_or_401
@require_POST
async def comment_reject(request: HttpRequest, comment_id: int) -> HttpResponse:
    """Reject a held comment (optional `reason`, told to its author), or remove a hidden or flagged one."""
    return await decide(request, "reject", services.comment_reject, comment_id=comment_id, reason=reason_of(request))


@login_required_or_401
@require_POST
async def comment_hide(request: HttpRequest, comment_id: int) -> HttpResponse:
    return await decide(request, "hide", services.comment_hide, comment_id=comment_id, reason=reason_of(request))


@login_required_or_401
@require_POST
async def user_ban(request: HttpRequest, user_id: int) -> HttpResponse:
    return await decide(request, "ban", services.user_ban, user_id=user_id, reason=reason_of(request))


@login_required_or_401
@require_POST
async def user_hold(request: HttpRequest, user_id: int) -> HttpResponse:
    """`hold=1` holds every later comment of the author; `hold=0` stops."""
    hold = request.POST.get("hold", "1") != "0"
    return await decide(request, "hold" if hold else "release", services.user_hold_set, user_id=user_id, hold=hold)


@login_required_or_401
@require_http_methods(["GET", "POST"])
async def comment_flag(request: HttpRequest, comment_id: int) -> HttpResponse:
    """GET: the page that asks why (a reader without the script flags there too). POST: a reader's flag,
    with a `reason` (spam, abuse, off-topic or other); a refusal is said on that page, or as JSON."""
    comment = await Comment.objects.public().shown().select_related("author").filter(pk=comment_id).afirst()
    post = None if comment is None else await post_selectors.visible_post(request.user, comment.post_id)
    if post is None:
        raise Http404("No such comment.")
    if request.method == "GET":
        return flag_page(request, comment, post)
    reason = request.POST.get("reason", "")
    try:
        hidden = await sync_to_async(services.comment_flag)(comment_id=comment_id, user=request.user, reason=reason)
    except SERVICE_REFUSALS as error:
        failure = failure_from(error)
        if wants_json(request):
            return refused(request, failure)
        return with_retry_after(flag_page(request, comment, post, failure=failure, chosen=reason), failure)
    message = MESSAGE_FLAGGED_AND_HIDDEN if hidden else MESSAGE_FLAGGED
    if wants_json(request):
        return JsonResponse({"flagged": comment_id, "hidden": hidden, "message": message})
    messages.success(request, message)
    return redirect(f"{post.get_absolute_url()}#comment-{comment_id}" if not hidden else post.get_absolute_url())


def flag_page(
    request: HttpRequest, comment: Comment, post: Post, *, failure: Failure | None = None, chosen: str = ""
) -> TemplateResponse:
    context = {"comment": comment, "post": post, "reasons": Flag.Reason.choices, "chosen": chosen, "failure": failure}
    status = failure.http_status if failure is not None else 200
    return TemplateResponse(request, "moderation/flag.html", context, status=status)
