"""Who may call what: the caller's role (Operator, Viewer) through Django's model
permissions, which the console checks too.

A view names the permission of each of its actions in ``permission_codes``
(``{"list": "audiences.view_contact", ...}``); actions it does not name take their
model's: list and retrieve view, create add, update change, destroy delete.
"""

from typing import Any

from django.contrib.auth.models import Permission
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

DEFAULT_VERBS = {
    "list": "view",
    "retrieve": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}


def required_permission(view: Any, request: Request) -> str | tuple[str, ...] | None:
    codes: dict[str, str | tuple[str, ...]] = getattr(view, "permission_codes", {})
    action = getattr(view, "action", None) or str(request.method).lower()
    if action in codes:
        return codes[action]
    if request.method in codes:
        return codes[str(request.method)]
    queryset = getattr(view, "queryset", None)
    verb = DEFAULT_VERBS.get(action)
    if queryset is None or verb is None:
        return None
    meta = queryset.model._meta
    return f"{meta.app_label}.{verb}_{meta.model_name}"


def permission_name(code: str) -> str:
    app_label, _, codename = code.partition(".")
    found = (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("name", flat=True)
        .first()
    )
    return found or code


class RolePermissions(BasePermission):
    """Signed in (a key or a console session), and holding the action's permission."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method not in getattr(view, "allowed_methods", ()):
            return True  # the view answers 405, naming the methods it has
        code = required_permission(view, request)
        if code is None:
            # An action without a permission is a mistake: refuse rather than open.
            self.message = "This action is not open to any role."
            return False
        codes = (code,) if isinstance(code, str) else code
        missing = [one for one in codes if not request.user.has_perm(one)]
        if not missing:
            return True
        names = " and ".join(f"'{permission_name(one)}'" for one in missing)
        plural = "s" if len(missing) > 1 else ""
        self.message = (
            f"This user may not do this (needs the permission{plural} {names})."
        )
        return False
