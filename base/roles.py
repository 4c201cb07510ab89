"""Roles (README, "Who may do what"): operators act, viewers look.

The groups are kept by a data migration (and ``roles_sync`` after new models or
permissions appear); a user's role is the group they are in. Superusers can do
everything, as in Django.
"""

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction

from .audit import audit_record

OPERATOR = "Operator"
VIEWER = "Viewer"
ROLES = (OPERATOR, VIEWER)

# The apps an operator works in, every permission of them ...
OPERATOR_APPS = ("audiences", "flows", "campaigns", "messaging", "stream")
# ... but for these, which stay with administrators.
ADMIN_ONLY = {
    "messaging.add_channel",
    "messaging.delete_channel",
}
# And from other apps.
OPERATOR_EXTRA = {
    "api.view_apitoken",
    "api.add_apitoken",
    "console.view_auditentry",
}
VIEWER_APPS = OPERATOR_APPS + ("console",)


def _codes(permissions: "list[Permission]") -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def role_permissions() -> dict[str, set[str]]:
    """Each role's permissions, as "app_label.codename"."""
    everything = _codes(list(Permission.objects.select_related("content_type")))
    operator = {
        code
        for code in everything
        if code.split(".")[0] in OPERATOR_APPS and code not in ADMIN_ONLY
    } | (OPERATOR_EXTRA & everything)
    viewer = {
        code
        for code in everything
        if code.split(".")[0] in VIEWER_APPS and code.split(".")[1].startswith("view_")
    }
    return {OPERATOR: operator, VIEWER: viewer}


def user_role(user: User) -> str:
    """The user's role, "" for none (the first, should they be in both groups)."""
    names = set(user.groups.values_list("name", flat=True)) if user.pk else set()
    return next((role for role in ROLES if role in names), "")


def user_role_set(*, user: User, role: str, actor: Any = None) -> None:
    """Put ``user`` in the group of ``role`` and out of the other role's ("" takes
    them out of both), recorded in the audit trail when the role changes. A role
    lets its holder sign in to the console, so it makes them staff; taking it away
    leaves staff status as it was (untick "Active" to shut someone out)."""
    if role and role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: the roles are {', '.join(ROLES)}.")
    before = user_role(user)
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
        if role:
            group, _ = Group.objects.get_or_create(name=role)
            user.groups.add(group)
        if role and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        if before != role:
            audit_record(
                action="change",
                target=user,
                changes={"role": [before or "none", role or "none"]},
                actor=actor,
            )


def roles_sync(apps: object = global_apps) -> None:
    """Create the groups and give each exactly its role's permissions; whoever is
    in a role's group is staff (signs in to the console)."""
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0)
    by_code = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for name, codes in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([by_code[code] for code in sorted(codes)])
    User.objects.filter(groups__name__in=ROLES, is_staff=False).update(is_staff=True)
