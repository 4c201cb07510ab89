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
    return _address(forwarded[-proxies]) or remote


def _address(entry: str) -> str | None:
    """The address of an X-Forwarded-For entry as proxies write it ("1.2.3.4",
    "1.2.3.4:5555", "[2001:db8::1]:443", "2001:db8::1"), an IPv4 client seen over
    IPv6 (::ffff:1.2.3.4) as its IPv4 address; None for anything else."""
    if entry.startswith("["):
        entry = entry[1:].split("]", 1)[0]
    elif entry.count(":") == 1:
        entry = entry.split(":", 1)[0]  # IPv4 and its port
    try:
        address = ipaddress.ip_address(entry)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(address)
