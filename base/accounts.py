"""People's accounts as an administrator gives them: a role picked by name (README,
"Who may do what") rather than groups and raw permissions, and a sign-in that tells
an account without access so instead of calling its right password wrong."""

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from .roles import OPERATOR, VIEWER, user_role, user_role_set

ROLE_CHOICES = [
    ("", "No role (cannot use the console)"),
    (OPERATOR, "Operator: works with contacts, flows, campaigns and messages"),
    (VIEWER, "Viewer: looks at everything, changes nothing"),
]
ROLE_HELP = (
    "What this person may do in the console. A role is all it takes to sign in. "
    "Adding or deleting channels and managing users stay with administrators "
    "(superusers)."
)

NO_ACCESS = (
    "This account has no access to the console: an administrator gives it a role "
    "(Operator or Viewer) under Authentication › Users."
)


class RoleFormMixin(forms.ModelForm):
    """A user form's Role: saving puts the user in that role's group (and makes
    them staff, see base.roles.user_role_set)."""

    role = forms.ChoiceField(
        choices=ROLE_CHOICES, required=False, label="Role", help_text=ROLE_HELP
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = user_role(self.instance)
            if self.instance.is_superuser and not user_role(self.instance):
                # An administrator needs no role: say so, not "cannot use".
                role = self.fields["role"]
                assert isinstance(role, forms.ChoiceField)
                role.choices = [
                    ("", "None needed: an administrator (superuser) may do everything"),
                    *ROLE_CHOICES[1:],
                ]

    def _save_m2m(self) -> None:
        super()._save_m2m()  # type: ignore[misc]
        user: User = self.instance
        # The role picked; but groups changed in the advanced section (superusers)
        # win, and their role makes its holder staff too.
        picked = "role" in self.changed_data and "groups" not in self.changed_data
        role = self.cleaned_data["role"] if picked else user_role(user)
        if role or picked:
            user_role_set(user=user, role=role)


class RoleUserChangeForm(RoleFormMixin, UserChangeForm):
    pass


class RoleUserCreationForm(RoleFormMixin, AdminUserCreationForm):
    pass


class ConsoleAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in, saying so when the password is right but the account
    may not use the console (no role), rather than that the password is wrong."""

    def confirm_login_allowed(self, user: Any) -> None:
        if user.is_active and not user.is_staff:
            raise ValidationError(NO_ACCESS, code="no_access")
        super().confirm_login_allowed(user)
