"""Date and time inputs that say their format, and refuse others by naming it.

The console reads dates year first (config/formats: DATE_INPUT_FORMATS), as it
shows them: "05/12/2026" could be May 12 or December 5, so it is refused with the
format to use rather than read one way silently. The console's admin uses these
widgets and fields for every date and time (console.views.apps).
"""

from typing import Any

from django import forms
from django.contrib.admin import widgets
from django.db import models

DATE_FORMAT = "YYYY-MM-DD"
TIME_FORMAT = "HH:MM"
DATE_EXAMPLE = "2026-12-31"
TIME_EXAMPLE = "20:00"
BAD_DATE = f"Enter the date as {DATE_FORMAT} (e.g. {DATE_EXAMPLE}), year first."
BAD_TIME = f"Enter the time as {TIME_FORMAT}, 24-hour (e.g. {TIME_EXAMPLE})."


def _with_placeholder(attrs: dict[str, Any] | None, text: str) -> dict[str, Any]:
    return {"placeholder": text, "title": text, **(attrs or {})}


class DateInput(widgets.AdminDateWidget):
    def __init__(self, attrs: dict[str, Any] | None = None, format: Any = None):
        super().__init__(_with_placeholder(attrs, DATE_FORMAT), format)


class TimeInput(widgets.AdminTimeWidget):
    def __init__(self, attrs: dict[str, Any] | None = None, format: Any = None):
        super().__init__(_with_placeholder(attrs, TIME_FORMAT), format)


class SplitDateTimeInput(widgets.AdminSplitDateTime):
    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        date, time = self.widgets
        date.attrs.update(_with_placeholder(None, DATE_FORMAT))
        time.attrs.update(_with_placeholder(None, TIME_FORMAT))


class DateField(forms.DateField):
    widget = DateInput
    default_error_messages = {"invalid": BAD_DATE}


class TimeField(forms.TimeField):
    widget = TimeInput
    default_error_messages = {"invalid": BAD_TIME}


class SplitDateTimeField(forms.SplitDateTimeField):
    widget = SplitDateTimeInput
    default_error_messages = {"invalid_date": BAD_DATE, "invalid_time": BAD_TIME}


def admin_defaults() -> dict[Any, dict[str, Any]]:
    """What the admin gives each kind of date and time model field, for
    ModelAdmin's FORMFIELD_FOR_DBFIELD_DEFAULTS."""
    return {
        models.DateTimeField: {
            "form_class": SplitDateTimeField,
            "widget": SplitDateTimeInput,
        },
        models.DateField: {"form_class": DateField, "widget": DateInput},
        models.TimeField: {"form_class": TimeField, "widget": TimeInput},
    }
