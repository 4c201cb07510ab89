"""Roles (README, "Who may do what"): operators act, viewers look.

The groups are kept by a data migration (and ``roles_sync`` after new models or
permissions appear); a user's role is the group they are in. Superusers can do
everything, as in Django.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission

OPERATOR = "Operator"
VIEWER = "Viewer"

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


def roles_sync(apps: object = global_apps) -> None:
    """Create the groups and give each exactly its role's permissions."""
    for config in global_apps.get_app_configs():
        create_permissions(config, verbosity=0)
    by_code = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for name, codes in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set([by_code[code] for code in sorted(codes)])
