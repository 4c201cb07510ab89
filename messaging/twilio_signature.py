"""Twilio's X-Twilio-Signature, checked as twilio-python's RequestValidator checks it.

The signature is the HMAC-SHA1, keyed with the account's auth token, of the URL Twilio
called followed by each POST parameter's name and value, sorted. Twilio signs that URL
sometimes with the standard port (:443, :80) and sometimes without, so both forms are
tried, whichever one the URL here has.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import SplitResult, urlsplit

STANDARD_PORTS = {"https": 443, "http": 80}


def _values(value: str | Sequence[str]) -> list[str]:
    # A str is a sequence of str too: one value, not one per character.
    return [value] if isinstance(value, str) else sorted(set(value))


def twilio_signature(
    token: str, url: str, params: Mapping[str, str | Sequence[str]]
) -> str:
    """The signature Twilio sends for a POST of ``params`` (each name with its value,
    or all its values) to ``url``."""
    payload = url + "".join(
        name + value for name in sorted(params) for value in _values(params[name])
    )
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _netloc(parts: SplitResult, port: int | None) -> str:
    userinfo, at, host = parts.netloc.rpartition("@")
    if parts.port is not None:
        host = host.rpartition(":")[0]
    return userinfo + at + host + (f":{port}" if port is not None else "")


def url_forms(url: str) -> tuple[str, str]:
    """``url`` without a port, and with one (the standard port of its scheme unless
    it names another): the two forms Twilio may have signed."""
    parts = urlsplit(url)
    try:
        port = parts.port or STANDARD_PORTS.get(parts.scheme)
    except ValueError:  # not a port number: nothing to add or take away
        return url, url
    without = parts._replace(netloc=_netloc(parts, None)).geturl()
    with_port = parts._replace(netloc=_netloc(parts, port)).geturl()
    return without, with_port


def twilio_signature_verified(
    *, token: str, url: str, params: Mapping[str, str | Sequence[str]], given: str
) -> bool:
    """Whether ``given`` is Twilio's signature of a POST of ``params`` to ``url``,
    with the port or without. False without a token: nothing can be checked."""
    if not token or not given:
        return False
    return any(
        hmac.compare_digest(
            given.encode(), twilio_signature(token, form, params).encode()
        )
        for form in url_forms(url)
    )
