"""Where Flowcast's own requests may go: never inside.

A URL an operator enters and Flowcast itself requests (a webhook channel's url) could
otherwise point at this machine, its private network or a cloud's metadata service,
and the answer come back through the console. So only http and https are spoken, and
a host is refused when it is, or resolves to, an address that is loopback, private
(RFC 1918), link-local, unique-local, unspecified, multicast, reserved, carrier-grade
NAT, otherwise not public, an IPv4 one of those written inside IPv6, or a cloud
metadata service's.

Checked twice: when the URL is saved (``url_refusal``, with the name resolved then),
and when each connection is opened, on the addresses the name resolves to at that
moment (``OutboundResolver``, the resolver of every aiohttp session that sends:
messaging's providers, the event stream's endpoints), since a name can point
elsewhere by then (DNS rebinding). A name that does not resolve when saved is taken:
its connections are checked all the same.

``MESSAGING_OUTBOUND_ALLOW`` (comma-separated host names, addresses and networks,
empty by default) lets the ones it names through anyway: for development and tests,
whose receivers listen on 127.0.0.1.
"""

import ipaddress
import re
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import lru_cache

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings
from django.core.exceptions import ValidationError
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")
# The longest a URL being saved waits for its name to resolve.
RESOLVE_SECONDS = 3.0

# Cloud metadata services: names and addresses (AWS, Azure, GCP, DigitalOcean on
# 169.254.169.254, AWS's IPv6 one, Alibaba Cloud, Oracle Cloud).
METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
RFC_1918 = tuple(
    ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
CARRIER_GRADE_NAT = ipaddress.IPv4Network("100.64.0.0/10")
UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
# IPv6 addresses that carry an IPv4 one a gateway connects to (NAT64).
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# A host made of numbers that is not a dotted quad (2130706433, 0x7f.1, 0177.0.0.1,
# 127.1): resolvers read these as an address.
_NUMBERS = re.compile(r"(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?", re.I)


class OutboundRefused(Exception):
    """A request Flowcast does not make; the message says what and why."""


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is inside ("loopback (this machine)"); None for a public
    one."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata service's address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour
        if inner is None and address in NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if inner is not None:
            why = address_refusal(inner)
            if why:
                return f"{why}, written as IPv6"
    if address.is_unspecified:
        return "unspecified (0.0.0.0 or ::)"
    if address.is_loopback:
        return "loopback (this machine)"
    if address.is_link_local:
        return "link-local"
    if any(address in network for network in RFC_1918):
        return "private (RFC 1918)"
    if address in CARRIER_GRADE_NAT:
        return "carrier-grade NAT (100.64.0.0/10)"
    if address in UNIQUE_LOCAL:
        return "unique-local (fc00::/7)"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class AllowList:
    hosts: frozenset[str]
    networks: tuple[IPNetwork, ...]

    def allows_host(self, host: str) -> bool:
        return _host(host) in self.hosts

    def allows(self, address: IPAddress) -> bool:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


@lru_cache(maxsize=8)
def _allow_list(entries: tuple[str, ...]) -> AllowList:
    hosts: set[str] = set()
    networks: list[IPNetwork] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(_host(entry))
    return AllowList(frozenset(hosts), tuple(networks))


def allow_list() -> AllowList:
    """What MESSAGING_OUTBOUND_ALLOW lets through."""
    return _allow_list(tuple(settings.MESSAGING_OUTBOUND_ALLOW))


def _host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` is written as, None for a name; OutboundRefused for
    numbers that are not a dotted quad."""
    try:
        return ipaddress.ip_address(_host(host))
    except ValueError:
        pass
    if _NUMBERS.fullmatch(_host(host)):
        raise OutboundRefused(
            f"{host} is an address written as a number: give it as a dotted IPv4 "
            "address (a.b.c.d, in decimal) or as a name."
        )
    return None


def addresses_refusal(host: str, addresses: Iterable[str | IPAddress]) -> str | None:
    """Why a connection to ``host``, which resolved to ``addresses``, is not made;
    None when each of them is public or allowed."""
    allowed = allow_list()
    if allowed.allows_host(host):
        return None
    for found in addresses:
        address = ipaddress.ip_address(found)
        if allowed.allows(address):
            continue
        why = address_refusal(address)
        if why:
            where = (
                f"{address} is"
                if _host(host) == str(address)
                else f"{host} resolves to {address}, which is"
            )
            return f"{where} {why}: Flowcast does not send inside its own network."
    return None


def url_refusal(url: str, *, resolve: bool = True) -> str | None:
    """Why Flowcast does not request ``url``; None when it may (see _refusal).
    Without ``resolve`` (every send) the verdict is remembered, per allow-list."""
    if resolve:
        return _refusal(url, resolve=True)
    return _sending_refusal(url, tuple(settings.MESSAGING_OUTBOUND_ALLOW))


@lru_cache(maxsize=1024)
def _sending_refusal(url: str, allowed: tuple[str, ...]) -> str | None:
    return _refusal(url, resolve=False)


def _refusal(url: str, *, resolve: bool) -> str | None:
    """Why Flowcast does not request ``url``; None when it may.

    The scheme, an address written in the URL and a name that is one of this
    machine's or a metadata service's are judged; with ``resolve`` (saving) the
    name is looked up now too, and a name that does not resolve now is taken.
    Without it (sending) a name is judged on what it resolves to as each
    connection is opened (messaging.backends.http)."""
    try:
        parsed = URL(url.strip())
    except (TypeError, ValueError) as exc:
        return f"it is not a valid URL ({exc})."
    if parsed.scheme.lower() not in SCHEMES:
        kind = f"a {parsed.scheme}:// address" if parsed.scheme else "no address"
        return (
            f"it is {kind}, not http or https: Flowcast sends only over http:// and "
            "https://."
        )
    host = parsed.raw_host or ""
    if not host:
        return "it names no host."
    if allow_list().allows_host(host):
        return None
    try:
        address = literal_address(host)
    except OutboundRefused as exc:
        return str(exc)
    if address is not None:
        return addresses_refusal(host, [address])
    name = _host(host)
    if name == "localhost" or name.endswith(".localhost"):
        return (
            f"{host} is localhost, loopback (this machine): Flowcast does not send "
            "inside its own network."
        )
    if name in METADATA_NAMES:
        return (
            f"{host} is a cloud metadata service's name: Flowcast does not send "
            "inside its own network."
        )
    if not resolve:
        return None
    found = _resolved(name, parsed.port)
    if found is None:
        return None  # not resolvable now: each connection is checked when opened
    return addresses_refusal(host, found)


def _resolved(name: str, port: int | None) -> list[str] | None:
    """The addresses ``name`` resolves to, or None when it does not resolve within
    RESOLVE_SECONDS (a form being saved does not wait on a broken resolver)."""
    pool = ThreadPoolExecutor(max_workers=1)
    lookup = pool.submit(socket.getaddrinfo, name, port, type=socket.SOCK_STREAM)
    pool.shutdown(wait=False)  # a lookup that hangs ends on its own, unwaited
    try:
        found = lookup.result(timeout=RESOLVE_SECONDS)
    except (OSError, UnicodeError, FutureTimeout):
        return None
    return [str(info[4][0]) for info in found]


def http_url(value: str) -> None:
    """Validator of a URL another party fetches (a media URL, which the provider
    downloads): http or https only."""
    try:
        scheme = URL(value).scheme.lower()
    except (TypeError, ValueError):
        scheme = ""  # the URL field's own validator says what is wrong
    if value and scheme and scheme not in SCHEMES:
        raise ValidationError(
            f"{value} is not an http or https address: give one that starts with "
            "http:// or https://.",
            code="scheme",
        )


class OutboundResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name that resolves inside: the connector
    connects to the addresses this returns, so those are the ones checked, each
    time a connection is opened (a name rebound inside since it was saved is
    refused then)."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        why = addresses_refusal(host, [result["host"] for result in found])
        if why:
            raise OutboundRefused(why)
        return found

    async def close(self) -> None:
        await self._inner.close()
