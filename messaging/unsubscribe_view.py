"""The unsubscribe page: /u/<token>, public (no sign-in), for the link in every
marketing email (messaging.unsubscribing).

GET only asks: mail scanners and link previews fetch links, and must not
unsubscribe anybody. POST unsubscribes, from the page's button or as a mail client's
one-click sends it (RFC 8058: "List-Unsubscribe=One-Click", without cookies, so
without a CSRF token; the signed token is what makes it the recipient's). A POST
does nothing else.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .unsubscribing import (
    TEXTS,
    LinkRefused,
    language_of,
    link_unsubscribe,
    texts,
    unsubscribe_link_read,
)

TEMPLATE = "messaging/unsubscribe.html"


def _page(request: HttpRequest, context: dict[str, str], status: int) -> HttpResponse:
    response = render(request, TEMPLATE, context, status=status)
    # The token is in the address: kept out of caches, referrers and indexes.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


def _asked_language(request: HttpRequest) -> str:
    """The first of the page's languages the browser asks for ("" for none)."""
    for part in request.headers.get("Accept-Language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in TEXTS:
            return code
    return ""


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    asked = language_of(_asked_language(request))
    try:
        link = unsubscribe_link_read(token, language=asked)
    except LinkRefused as exc:
        return _page(
            request,
            {"title": texts(asked)["refused_title"], "text": str(exc), "lang": asked},
            exc.status,
        )
    said = texts(link.language)
    if request.method == "POST":
        link_unsubscribe(link)
        return _page(
            request,
            {
                "title": said["done_title"],
                "text": said["done"].format(hint=link.hint),
                "lang": link.language,
            },
            200,
        )
    return _page(
        request,
        {
            "title": said["title"],
            "text": said["question"].format(hint=link.hint),
            "button": said["button"],
            "lang": link.language,
        },
        200,
    )
