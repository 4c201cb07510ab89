"""The form of one flow step in the flow's admin page."""

from typing import Any

from django import forms
from django.forms.models import BaseInlineFormSet

from base.outbound import http_url

from .canvas import LAYOUT_FIELD, flow_canvas_place
from .models import FlowStep

# The fields each kind of step uses; position and kind are common to all.
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    FlowStep.Kind.SEND: (
        "channel",
        "template",
        "body",
        "media",
        "media_url",
        "next_step",
    ),
    FlowStep.Kind.WAIT: ("wait", "next_step"),
    FlowStep.Kind.BRANCH: (
        "condition_field",
        "condition_op",
        "condition_value",
        "yes_step",
        "no_step",
    ),
    FlowStep.Kind.REPLY: (
        "channel",
        "wait",
        "reply_test",
        "reply_words",
        "save_reply_as",
        "yes_step",
        "no_step",
        "timeout_step",
    ),
    FlowStep.Kind.GROUP: ("group_action", "group", "next_step"),
    FlowStep.Kind.END: (),
}

# The kind-specific fields in the order they are laid out, in groups that show
# together; a group serves every kind that uses its fields.
FIELD_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("Send or reply", ("channel",)),
    ("Send", ("template", "body", "media", "media_url")),
    ("Wait or reply", ("wait",)),
    ("Reply", ("reply_test", "reply_words", "save_reply_as")),
    ("Group", ("group_action", "group")),
    ("Send, wait or group", ("next_step",)),
    ("Branch", ("condition_field", "condition_op", "condition_value")),
    ("Branch or reply", ("yes_step", "no_step")),
    ("No reply", ("timeout_step",)),
]

KIND_SPECIFIC = [name for _, names in FIELD_GROUPS for name in names]


def group_kinds(fields: tuple[str, ...]) -> list[str]:
    """The kinds whose steps use ``fields``."""
    return [kind for kind, used in KIND_FIELDS.items() if fields[0] in used]


class FlowStepForm(forms.ModelForm):
    """A step; the fields its kind does not use are saved empty, whatever was typed
    in them before the kind changed (the page hides them)."""

    # Addresses typed without a scheme are https ones; the provider fetches it over
    # http or https only.
    media_url = FlowStep._meta.get_field("media_url").formfield(
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://…"}),
        validators=[http_url],
    )

    class Meta:
        model = FlowStep
        fields = ["position", "kind", *KIND_SPECIFIC]
        labels = {"body": "Text", "wait": "Wait for", "channel": "Channel"}
        widgets = {
            "body": forms.Textarea(
                attrs={"rows": 2, "cols": 40, "placeholder": "Hola {{NOMBRE}}, …"}
            ),
            "wait": forms.TextInput(attrs={"size": 10, "placeholder": "00:01:00"}),
            "condition_field": forms.TextInput(
                attrs={"size": 10, "placeholder": "MONTO"}
            ),
            "condition_value": forms.TextInput(attrs={"size": 10}),
            "reply_words": forms.TextInput(
                attrs={"size": 16, "placeholder": "PAGO, LISTO"}
            ),
            "save_reply_as": forms.TextInput(
                attrs={"size": 12, "placeholder": "RESPUESTA"}
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind not in KIND_FIELDS:
            return data
        for name in KIND_SPECIFIC:
            if name in KIND_FIELDS[kind] or name not in self.fields:
                continue
            # Hidden on the page: an error in it could be neither seen nor fixed.
            self.errors.pop(name, None)
            data[name] = self.fields[name].to_python("")  # the field's empty value
        if kind == FlowStep.Kind.SEND:
            if data.get("template") and (data.get("body") or "").strip():
                self.add_error(
                    "body",
                    "Give either the text or a template, not both: empty the text "
                    "to send the template.",
                )
            if data.get("media") and data.get("media_url"):
                self.add_error(
                    "media_url",
                    "Give either an image URL or an image of the media library, "
                    "not both.",
                )
        return data


class FlowStepFormSet(BaseInlineFormSet):
    """The steps of a flow; their channel, template and image lists are one read
    each, not one a step (groups are looked up as typed: an autocomplete)."""

    CACHED = ("channel", "template", "media")

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        cache: dict[str, list[Any]] = self.__dict__.setdefault("_choices", {})
        for name in self.CACHED:
            field = form.fields.get(name)
            if not isinstance(field, forms.ModelChoiceField):
                continue
            if name not in cache:
                cache[name] = list(field.iterator(field))
            field.choices = cache[name]

    def save(self, commit: bool = True) -> Any:
        saved = super().save(commit)
        if commit:
            # Where the canvas drew the steps, when it was on the page.
            flow_canvas_place(flow=self.instance, text=self.data.get(LAYOUT_FIELD, ""))
        return saved
