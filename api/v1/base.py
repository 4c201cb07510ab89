"""What every view of the API shares."""

from contextlib import AbstractContextManager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
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
