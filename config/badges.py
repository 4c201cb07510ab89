"""A status as a coloured badge, the same on every admin page."""

from django.utils.html import format_html
from django.utils.safestring import SafeString


def badge(text: str, colour: str) -> SafeString:
    return format_html(
        '<span style="background:{};color:#fff;border-radius:10px;padding:2px 9px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        colour,
        text,
    )
