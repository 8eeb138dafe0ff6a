"""The search page, /search/?q=: a form, and a page of published posts that match."""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from blog.cache_control import shared_when_anonymous
from blog.search import selectors
from blog.search.forms import SearchForm


@shared_when_anonymous
@require_GET
async def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    if not form.is_valid():
        return TemplateResponse(request, "search/search.html", {"form": form}, status=400)
    query = form.cleaned_data["q"]
    context: dict[str, object] = {"form": form, "query": query, "max_results": selectors.MAX_RESULTS}
    if query:
        context.update(await sync_to_async(results_page)(query, request.GET.get("page")))
    return TemplateResponse(request, "search/search.html", context)


def results_page(query: str, page_number: str | None) -> dict[str, object]:
    """Sync, in one thread: the count, the page of posts, their snippets (no query of their own)."""
    paginator = Paginator(selectors.matching_posts(query), settings.BLOG_POSTS_PER_PAGE)
    page = paginator.get_page(page_number)
    return {"page": page, "hits": [selectors.hit(post, query) for post in page.object_list]}
