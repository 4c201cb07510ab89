"""A form field for small name → value mappings (custom data, channel settings),
edited as rows of two inputs instead of a JSON text box."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BLANK_ROWS = 3


class KeyValueWidget(forms.Widget):
    def __init__(self, name_label: str = "Name", value_label: str = "Value") -> None:
        super().__init__()
        self.name_label, self.value_label = name_label, value_label

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        # A stored mapping, or the rows as typed when the form comes back with an
        # error: what the operator typed is shown again, not lost.
        if isinstance(value, Mapping):
            rows = list(value.items())
        elif isinstance(value, list | tuple):
            rows = [(key, item) for key, item in value if key or item]
        else:
            rows = []
        rows += [("", "")] * BLANK_ROWS
        cells = format_html_join(
            "",
            '<tr><td><input type="text" name="{0}__name" value="{1}" '
            'aria-label="{4} {2}" size="18"></td>'
            '<td><input type="text" name="{0}__value" value="{3}" '
            'aria-label="{5} {2}" size="40"></td></tr>',
            (
                (name, key, index + 1, "" if item is None else item, self.name_label,
                 self.value_label)
                for index, (key, item) in enumerate(rows)
            ),
        )  # fmt: skip
        return format_html(
            '<table class="key-value"{}><thead><tr><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            flatatt({"id": (attrs or {}).get("id", "")}),
            self.name_label,
            self.value_label,
            cells,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[Any]:
        names = data.getlist(f"{name}__name") if hasattr(data, "getlist") else []
        values = data.getlist(f"{name}__value") if hasattr(data, "getlist") else []
        return list(zip(names, values, strict=False))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}__name" not in data


class KeyValueField(forms.Field):
    """Rows of (name, value); empty rows are dropped, a name given twice refused."""

    widget = KeyValueWidget

    def to_python(self, value: Any) -> dict[str, str]:
        if isinstance(value, Mapping):
            return {str(key): item for key, item in value.items()}
        result: dict[str, str] = {}
        for key, item in value or []:
            key, item = key.strip(), item.strip()
            if not key and not item:
                continue
            if not key:
                raise forms.ValidationError(f"The value {item!r} has no name.")
            if key in result:
                raise forms.ValidationError(f"{key!r} is given twice.")
            result[key] = item
        return result

    def prepare_value(self, value: Any) -> Any:
        return value
