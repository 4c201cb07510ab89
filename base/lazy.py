"""Parts of a console page that come after it (base/static/base/lazy.js): what takes
long to count on big tables is fetched from its own address once the page is shown,
so the page answers at once and says what it is still counting."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

LAZY_MEDIA = forms.Media(js=["base/lazy.js"])


def lazy_html(url: str, waiting: str, *, block: bool = False) -> SafeString:
    """A slot that shows ``waiting`` until the part at ``url`` replaces it."""
    tag = "div" if block else "span"
    return format_html(
        '<{} class="lazy" data-lazy-url="{}" aria-busy="true">{}</{}>',
        tag,
        url,
        waiting,
        tag,
    )


class LazyPartsMixin:
    """A ModelAdmin's parts of an object's page that count much (a campaign's
    audience and messages, a group's members), each at its own address
    (…/<id>/<part>/), fetched once the page is shown: at a million contacts each
    takes a second or more.

    The admin says what each part shows in ``lazy_parts``: part name -> function
    of (admin, object) -> its text or HTML."""

    lazy_parts: dict[str, Callable[[Any, Any], str]] = {}

    def get_urls(self) -> list[Any]:
        opts = self.opts  # type: ignore[attr-defined]
        site = self.admin_site  # type: ignore[attr-defined]
        parts = [
            path(
                f"<path:object_id>/{part}/",
                site.admin_view(self._part_view),
                {"part": part},
                name=f"{opts.app_label}_{opts.model_name}_{part}",
            )
            for part in self.lazy_parts
        ]
        return [*parts, *super().get_urls()]  # type: ignore[misc]

    def lazy_slot(
        self, obj: Any, part: str, waiting: str, *, block: bool = False
    ) -> str:
        """The slot of ``obj``'s ``part`` in its page (lazy_html)."""
        opts = self.opts  # type: ignore[attr-defined]
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{part}", args=[obj.pk])
        return lazy_html(url, waiting, block=block)

    def _part_view(
        self, request: HttpRequest, object_id: str, part: str
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            raise Http404(f"Nothing with id {object_id!r}.")
        if not self.has_view_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        # Parts are put in the page as HTML: a plain text is escaped here.
        return HttpResponse(conditional_escape(self.lazy_parts[part](self, obj)))
