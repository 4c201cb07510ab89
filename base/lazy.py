"""Parts of a console page that come after it (base/static/base/lazy.js): what takes
long to count on big tables is fetched from its own address once the page is shown,
so the page answers at once and says what it is still counting."""

from django import forms
from django.utils.html import format_html
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
