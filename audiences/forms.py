from django import forms

from .importing.readers import SUPPORTED
from .models import AudienceGroup, ImportJob


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text=f"A {SUPPORTED} file. The first row is the header: CONTACT (the "
        "mobile number with its country code), then one column per custom-data "
        "variable, e.g. NOMBRE, MONTO, FECHA. Dates are written YYYY-MM-DD. Columns "
        "named NAME and EMAIL fill the contact's name and email."
    )
    group = forms.ModelChoiceField(
        queryset=AudienceGroup.objects.filter(kind=AudienceGroup.Kind.STATIC),
        help_text="The contacts of the file are added to this group.",
    )
    on_duplicate = forms.ChoiceField(
        label="Contacts already known",
        choices=ImportJob.OnDuplicate.choices,
        initial=ImportJob.OnDuplicate.UPDATE,
        widget=forms.RadioSelect,
        help_text="Updating merges the file's custom data into the contact's; an "
        "opt-out is never cleared.",
    )
    all_or_nothing = forms.BooleanField(
        required=False,
        label="All or nothing",
        help_text="Import nothing at all if any row is rejected.",
    )
