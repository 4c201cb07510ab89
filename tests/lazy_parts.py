"""A console page as its browser shows it: the parts that come after the page
(base.lazy) fetched and put in their places."""

import re

from django.test import Client

SLOT = re.compile(
    r'<(span|div) class="lazy" data-lazy-url="([^"]+)" aria-busy="true">.*?</\1>',
    re.S,
)


def page_with_parts(client: Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code

    def part(found: re.Match[str]) -> str:
        answer = client.get(found.group(2).replace("&amp;", "&"))
        assert answer.status_code == 200, (found.group(2), answer.status_code)
        return answer.content.decode()

    return SLOT.sub(part, page.content.decode())
