from typing import Any

from django import forms

from config.keyvalue import KeyValueField, KeyValueWidget

from .importing.readers import SUPPORTED
from .importing.values import typed_value
from .models import AudienceGroup, Contact, ImportJob, Variable


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


class ContactForm(forms.ModelForm):
    """A contact, its custom data edited as rows; values take their variable's type
    (numbers stay numbers, dates YYYY-MM-DD), as imports store them."""

    # A field named like Form.data: the form metaclass moves it to base_fields.
    data = KeyValueField(  # type: ignore[assignment]
        label="Custom data",
        required=False,
        widget=KeyValueWidget(name_label="Variable", value_label="Value"),
        help_text="Used in message templates: a row NOMBRE = Carlos fills {{NOMBRE}}. "
        "Clear a row's value to remove it. Numbers and dates (YYYY-MM-DD) keep their "
        "type for variables declared so under Custom-data variables.",
    )

    class Meta:
        model = Contact
        fields = ["phone", "name", "email", "data"]

    def clean_data(self) -> dict[str, Any]:
        rows: dict[str, str] = self.cleaned_data["data"]
        kinds = dict(
            Variable.objects.filter(name__in=list(rows)).values_list("name", "kind")
        )
        typed: dict[str, Any] = {}
        problems = []
        for name, value in rows.items():
            if value == "" or value is None:
                continue
            try:
                typed[name] = typed_value(value, kinds.get(name, Variable.Kind.TEXT))
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise forms.ValidationError(problems)
        return typed
