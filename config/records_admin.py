from django.http import HttpRequest

from .admin_actions import KnownActionsOnly


class RecordAdmin(KnownActionsOnly):
    """The admin of a record the product writes (messages, journeys, runs, the audit
    trail): looked at, never added, edited or deleted by hand. Records go with what
    they belong to (a campaign, a contact)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
