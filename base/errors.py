from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .roles import OPERATOR, VIEWER


def _role_reason(request: HttpRequest) -> str:
    """Why the signed-in user's role refuses, in that role's terms."""
    user = request.user
    if getattr(user, "is_superuser", False):
        # Nothing is refused to a superuser's role: what refused is the record.
        return (
            "This is not allowed on this record as it is now; nothing was changed. "
            "Go back and reload the page to see its current state."
        )
    roles = (
        set(user.groups.values_list("name", flat=True))
        if user.is_authenticated
        else set()
    )
    if OPERATOR in roles:
        return (
            "Your role, Operator, does not allow this action: adding or deleting "
            "channels, and managing users and their roles, stay with administrators. "
            "Ask an administrator if you need it done."
        )
    if VIEWER in roles:
        return (
            "Your role does not allow this action. Viewers can look at everything but "
            "change nothing; ask an administrator if you need to act."
        )
    return (
        "Your account has no role: an administrator gives it the Operator role (to "
        "act) or the Viewer role (to look) under Authentication › Users."
    )


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A refusal in the console's own look, saying why and the way back."""
    context = {
        **admin.site.each_context(request),
        "title": "Not allowed",
        "reason": str(exception) or _role_reason(request),
    }
    return render(request, "403.html", context, status=403)
