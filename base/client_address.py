"""The address a request came from, seen through FLOWCAST_TRUSTED_PROXIES proxies.

Each proxy appends the address it was reached from to X-Forwarded-For, so with N
trusted proxies in front of Django the client's address is the N-th entry from the
right: whatever the client wrote into the header itself sits further left and is never
read. With no trusted proxy (the default) the header is ignored altogether.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's address, for sign-in throttling (django-axes'
    AXES_CLIENT_IP_CALLABLE); REMOTE_ADDR when the header is missing or shorter than
    the trusted proxies would have made it, which only a misconfiguration does."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies: int = settings.FLOWCAST_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
    ]
    if len(forwarded) < proxies:
        return remote
    appended = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(appended))
    except ValueError:
        return remote
