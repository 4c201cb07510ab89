"""The audit trail: every state change, import, export, publish and setting change.

Business functions call ``audit_record``; the acting user comes from the argument, or
else from the request or background job being served (``acting_as``), so callers deep
in a background job need not pass it along.
"""

import contextlib
import contextvars
import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.fields.files import FieldFile

from .models import AuditEntry

# (user or None, label): who the current request or job acts for.
_acting: contextvars.ContextVar[tuple[Any, str]] = contextvars.ContextVar(
    "flowcast_acting", default=(None, "system")
)
# Values that say nothing to an operator, or that change on every save.
SKIPPED_FIELDS = {"updated_at", "password", "last_login", "digest"}


@contextlib.contextmanager
def acting_as(user: Any = None, label: str = "") -> Iterator[None]:
    """Record changes made inside the block as done by ``user`` if signed in (a
    request's lazy user is only looked at when something is recorded), else by
    ``label``: "system: campaign tick", "anonymous"."""
    token = _acting.set((user, label or "system"))
    try:
        yield
    finally:
        _acting.reset(token)


def _actor(explicit: Any) -> tuple[Any, str]:
    user, label = _acting.get()
    if explicit is not None and getattr(explicit, "pk", None):
        user = explicit
    if user is not None and getattr(user, "is_authenticated", False):
        # A request's user is a lazy object: the row needs the real one.
        real = getattr(user, "_wrapped", user)
        return real, user.get_username()
    return None, label


def plain(value: Any) -> Any:
    """A value as the trail stores it (JSON): model instances by their name."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, FieldFile):  # an uploaded file: where it is kept
        return value.name or ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The object's editable values, by field name, as the trail stores them."""
    names = fields or [
        field.name
        for field in obj._meta.concrete_fields
        if not field.primary_key and field.name not in SKIPPED_FIELDS
    ]
    values: dict[str, Any] = {}
    for name in names:
        field = obj._meta.get_field(name)
        if getattr(field, "hides_value", False):
            # A secret (its ciphertext): the trail says that it changed, not to what.
            value = getattr(obj, name)
            values[name] = "(hidden) " + _fingerprint(value) if value else ""
        elif isinstance(field, models.ForeignKey):
            # By name, as the operator knew it; None when empty.
            related = getattr(obj, name) if getattr(obj, field.attname) else None
            values[name] = str(related) if related is not None else None
        else:
            values[name] = plain(getattr(obj, name))
    return values


def _fingerprint(value: Any) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()[:8]


def changes_between(
    before: dict[str, Any], after: dict[str, Any]
) -> dict[str, list[Any]]:
    """{field: [before, after]} for each value that differs."""
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name) and name not in SKIPPED_FIELDS
    }


def audit_record(
    *,
    action: str,
    target: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
    note: str = "",
    actor: Any = None,
    target_repr: str = "",
) -> AuditEntry:
    """Add one entry to the trail and return it."""
    user, label = _actor(actor)
    return AuditEntry.objects.create(
        actor=user,
        actor_label=label[:150],
        action=action,
        target_type=(
            ContentType.objects.get_for_model(target, for_concrete_model=False)
            if target is not None
            else None
        ),
        target_id=str(target.pk) if target is not None else "",
        target_repr=(target_repr or (str(target) if target is not None else ""))[:200],
        changes=changes or {},
        note=note,
    )
