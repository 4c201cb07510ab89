"""Requesting a page: its status, its queries and its server time."""

import time
from typing import Any

from bench.admin.pages.page import Page

SLOW_FIRST_S = 3.0  # a page slower than this on its first request is timed twice


def get(client: Any, url: str) -> Any:
    response = client.get(url, secure=True)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def measure(client: Any, page: Page, repeat: int) -> None:
    """Once to warm up (templates, the content-type cache), once with the queries
    captured, then timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = get(client, page.url)
    first = time.perf_counter() - started
    page.status = response.status_code
    if response.exc_info:
        page.error = repr(response.exc_info[1])[:300]
    if page.status != 200:
        return
    with CaptureQueriesContext(connection) as captured:
        get(client, page.url)
    page.queries = list(captured.captured_queries)
    for _ in range(repeat if first < SLOW_FIRST_S else min(repeat, 2)):
        started = time.perf_counter()
        get(client, page.url)
        page.times.append(time.perf_counter() - started)
