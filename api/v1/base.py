"""What every view of the API shares."""

from contextlib import AbstractContextManager
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.models import Contact
from audiences.phones import normalize_phone
from base.audit import acting_as


class Audited:
    """Changes made by the view are recorded in the audit trail as made by the key's
    user (the console's middleware sees only the session's user)."""

    _acting: AbstractContextManager[None] | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._acting = acting_as(request.user, label="API")
        self._acting.__enter__()

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if self._acting is not None:
            self._acting.__exit__(None, None, None)
            self._acting = None
        return super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]


def phone_normalized(raw: Any, field: str = "phone") -> str:
    """The phone in E.164, or a 400 naming the field and why."""
    try:
        return normalize_phone(raw or "")
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: exc.messages[0]}) from None


def contact_by_phone(raw: Any, field: str = "phone") -> Contact:
    phone = phone_normalized(raw, field)
    contact = Contact.objects.filter(phone=phone).first()
    if contact is None:
        raise exceptions.NotFound(f"No contact has the phone {phone}.")
    return contact


# The largest id a database row may have (a 64-bit integer): larger numbers are
# refused as input, never handed to the database (SQLite cannot take them).
ID_MAX = 2**63 - 1


class IdField(serializers.IntegerField):
    """The id of a row: a whole number from 1 to ID_MAX."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A filter on a row's id, bounded as IdField."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, min_value=1, max_value=ID_MAX, **kwargs)


def id_given(key: Any) -> int | None:
    """``key`` (a path's id) as a number, or None when it names no possible row."""
    text = str(key)
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= ID_MAX:
        return None
    return int(text)


def found_by_id(queryset: QuerySet[Any], key: Any, noun: str) -> Any:
    """The row of ``queryset`` with the id ``key``, or a 404 naming it ("No
    campaign has the id 5.")."""
    number = id_given(key)
    row = queryset.filter(pk=number).first() if number is not None else None
    if row is None:
        raise exceptions.NotFound(f"No {noun} has the id {key}.")
    return row


def form_problems(form: forms.BaseForm, prefix: str = "") -> dict[str, str]:
    """A console form's errors as the API's fields: each field's messages in one
    sentence; the form's own errors under non_field_errors."""
    return {
        (
            "non_field_errors" if name == NON_FIELD_ERRORS else f"{prefix}{name}"
        ): " ".join(str(message) for message in messages)
        for name, messages in form.errors.items()
    }


def refusal_problems(exc: DjangoValidationError) -> dict[str, str]:
    """A model's ValidationError as the API's fields."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": " ".join(exc.messages)}
    return {
        ("non_field_errors" if name == NON_FIELD_ERRORS else name): " ".join(messages)
        for name, messages in exc.message_dict.items()
    }
