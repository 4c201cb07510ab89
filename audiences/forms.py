from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from base.zones import ZoneField
from config.keyvalue import KeyValueField, KeyValueWidget

from .importing.readers import SHEET_SUFFIXES, TEXT_SUFFIXES
from .importing.refusals import file_type_problem, new_group_problem
from .importing.values import typed_value
from .models import AudienceGroup, Contact, ImportJob, Variable


def _suffixes(suffixes: set[str]) -> str:
    return ", ".join(sorted(suffixes))


class ImportForm(forms.Form):
    file = forms.FileField(
        widget=forms.FileInput(
            attrs={"accept": ",".join(sorted(TEXT_SUFFIXES | SHEET_SUFFIXES))}
        ),
        help_text=f"Tab- or comma-separated text ({_suffixes(TEXT_SUFFIXES)}) or a "
        f"spreadsheet ({_suffixes(SHEET_SUFFIXES)}). The first row is the header: "
        "CONTACT (the mobile number with its country code; one without is read in "
        "the default country, and the preview says how many were), then one column "
        "per custom-data variable, e.g. NOMBRE, MONTO, FECHA. Dates are written "
        "YYYY-MM-DD. Columns named NAME and EMAIL fill the contact's name and email "
        "(without a NAME column, NOMBRE fills the name and stays custom data too); "
        "TIMEZONE its time zone (an IANA name such as America/Mexico_City; another "
        "value rejects the row). A column UNSUBSCRIBED with yes (sí, true, 1) puts "
        "the row's phone and email on the suppression list: the contact is "
        "imported but not messaged at those addresses.",
    )
    group = forms.ModelChoiceField(
        queryset=AudienceGroup.objects.filter(kind=AudienceGroup.Kind.STATIC),
        # Looked up as typed: thousands of groups listed made the page slow.
        widget=AutocompleteSelect(ImportJob._meta.get_field("group"), admin.site),
        required=False,
        help_text="The contacts of the file are added to this group: one of the "
        "static groups, or a new one, created when the contacts are imported (a "
        "refused or cancelled file leaves no group behind).",
    )
    new_group = forms.CharField(
        label="or a new group named",
        required=False,
        max_length=AudienceGroup._meta.get_field("name").max_length,
    )
    on_duplicate = forms.ChoiceField(
        label="Existing contacts",
        choices=[
            (ImportJob.OnDuplicate.UPDATE, "Update them"),
            (ImportJob.OnDuplicate.IGNORE, "Leave them as they are"),
        ],
        initial=ImportJob.OnDuplicate.UPDATE,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
        help_text="Contacts whose number is known already. Updating merges the "
        "file's custom data into the contact's; an opt-out is never cleared.",
    )
    all_or_nothing = forms.BooleanField(
        required=False,
        label="All or nothing",
        help_text="Import nothing at all if any row is rejected.",
    )

    def __init__(self, *args: Any, upload_problem: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if upload_problem:
            # The file was dropped as it came in: say why it is missing.
            self.fields["file"].error_messages["required"] = upload_problem

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if problem := file_type_problem(upload.name or ""):
            raise forms.ValidationError(problem)
        return upload

    def clean_new_group(self) -> str:
        name = " ".join(self.cleaned_data["new_group"].split())
        if name and (problem := new_group_problem(name)):
            raise forms.ValidationError(problem)
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "group" in cleaned and "new_group" in cleaned:
            if cleaned["group"] is None and not cleaned["new_group"]:
                self.add_error(
                    "group",
                    "Choose the group to add the contacts to, or name a new one.",
                )
            elif cleaned["group"] is not None and cleaned["new_group"]:
                self.add_error(
                    "new_group",
                    f"Either add the contacts to {cleaned['group'].name!r} or to a new "
                    "group, not both: clear one of the two.",
                )
        return cleaned


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
        fields = ["phone", "name", "email", "timezone", "data"]
        field_classes = {"timezone": ZoneField}

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
