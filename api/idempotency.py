"""Idempotency keys: a write sent again with the same ``Idempotency-Key`` header (a
client retrying after a timeout) gets the first answer, and is not done twice.

The key's row is inserted first, in the write's own transaction: a concurrent
request with the same key waits on the unique index until the first commits, then
finds the row and answers what it stored. A refused write rolls back, key included:
the key may be sent again once the request is put right.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import Conflict
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
LONGEST_KEY = 255


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the request's path and its body as canonical JSON (keys sorted,
    no spaces): the same request however its JSON was laid out."""
    body = json.dumps(
        request.data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(f"{request.path}\n{body}".encode()).hexdigest()


def idempotency_key(request: Request) -> str:
    """The request's Idempotency-Key, or a 400 saying what is wrong with it."""
    key = request.headers.get(HEADER, "").strip()
    if not key:
        raise exceptions.ValidationError(
            {
                HEADER: "Send an Idempotency-Key header, a value unique to this "
                "request (a UUID, or your own id of what is sent): sent again "
                "with the same key, the request is answered as the first time and "
                "nothing is sent twice."
            }
        )
    if len(key) > LONGEST_KEY:
        raise exceptions.ValidationError(
            {HEADER: f"At most {LONGEST_KEY} characters; this one has {len(key)}."}
        )
    return key


def expiry(now: dt.datetime) -> dt.datetime:
    """Keys made before this are forgotten."""
    return now - dt.timedelta(hours=int(settings.API_IDEMPOTENCY_HOURS))


def _replay(kept: IdempotentRequest, fingerprint: str) -> Response:
    if kept.fingerprint != fingerprint:
        raise Conflict(
            "This Idempotency-Key was used for a different request; send a new key "
            "for a new request."
        )
    response = Response(kept.response, status=kept.status_code)
    response[REPLAYED] = "true"
    return response


def idempotent(
    request: Request, write: Callable[[str], tuple[int, dict[str, Any]]]
) -> Response:
    """Answer ``request`` by calling ``write(key)`` once per Idempotency-Key and
    user: the key's first request gets ``write``'s (status, body), kept with the
    key; the same key again with the same request gets that answer again, with the
    header Idempotent-Replayed: true; with another request, a 409. ``write`` runs
    in the transaction that keeps the key, and raises to refuse."""
    key = idempotency_key(request)
    fingerprint = request_fingerprint(request)
    user = request.user
    assert isinstance(user, User)
    now = timezone.now()
    with transaction.atomic():
        IdempotentRequest.objects.filter(
            user=user, key=key, created_at__lt=expiry(now)
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(
                    user=user, key=key, fingerprint=fingerprint, created_at=now
                )
        except IntegrityError:
            # Another request with this key, committed (waited for if it was
            # still running).
            kept = IdempotentRequest.objects.get(user=user, key=key)
            return _replay(kept, fingerprint)
        status, body = write(key)
        row.status_code, row.response = status, body
        row.save(update_fields=["status_code", "response"])
    return Response(body, status=status)


def idempotent_requests_forget(*, now: dt.datetime | None = None) -> int:
    """Delete the keys older than API_IDEMPOTENCY_HOURS; return how many."""
    deleted, _ = IdempotentRequest.objects.filter(
        created_at__lt=expiry(now or timezone.now())
    ).delete()
    return deleted
