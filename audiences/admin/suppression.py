"""The suppression list: its entries, found by an address typed in full (only its
hash is kept), added by an operator, taken off with a warning."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from audiences.addresses import email_key, phone_key
from audiences.models import Contact, Suppression
from audiences.phones import normalize_phone
from audiences.suppressing import (
    address_suppress,
    address_suppressed,
    suppression_remove,
)
from config.admin_actions import KnownActionsOnly


def address_normal(kind: str, address: str) -> str:
    """``address`` as the list keys it: a phone in E.164, an email checked; raise
    ValidationError saying why not."""
    address = address.strip()
    if kind == Suppression.Address.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not an email address.") from None
        return address
    return normalize_phone(address)


class SuppressionAddForm(forms.ModelForm):
    address = forms.CharField(
        max_length=254,
        help_text="The phone number with its country code (+525500998877), or the "
        "email address. Only a hash of it is kept, with a hint to recognise it.",
    )

    class Meta:
        model = Suppression
        fields = ["address_kind", "address", "source"]
        help_texts = {
            "address_kind": "A phone entry stops SMS, WhatsApp and the console; an "
            "email entry stops email.",
            "source": "Why: the contact's request, a complaint, a ticket number.",
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, address = cleaned.get("address_kind"), cleaned.get("address")
        if not kind or not address:
            return cleaned
        try:
            address = address_normal(kind, address)
        except ValidationError as exc:
            self.add_error("address", exc)
            return cleaned
        cleaned["address"] = address
        found = address_suppressed(kind, address)
        if found is not None:
            self.add_error(
                "address",
                f"{address} is on the suppression list already, since "
                f"{found.created_at:%Y-%m-%d} ({found.get_reason_display()}"
                f"{': ' + found.source if found.source else ''}).",
            )
        return cleaned


@admin.register(Suppression)
class SuppressionAdmin(KnownActionsOnly):
    list_display = [
        "hint",
        "address_kind",
        "reason",
        "source",
        "created_at",
        "created_by",
    ]
    list_filter = ["address_kind", "reason"]
    list_select_related = ["created_by"]
    # Never searched as such: get_search_results hashes the address typed.
    search_fields = ["key"]
    search_help_text = (
        "Type a phone number (with its country code) or an email in full: only "
        "hashes are kept, so part of one finds nothing."
    )
    show_full_result_count = False
    list_per_page = 50

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = SuppressionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["address_kind", "address", "source"]
        return [
            "address_kind",
            "hint",
            "key",
            "reason",
            "source",
            "created_at",
            "created_by",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return self.get_fields(request, obj)

    def save_model(
        self, request: HttpRequest, obj: Any, form: Any, change: bool
    ) -> None:
        if change:
            return  # entries are not edited: taken off and added again
        kind, address = form.cleaned_data["address_kind"], form.cleaned_data["address"]
        address_suppress(
            kind=kind,
            address=address,
            reason=Suppression.Reason.OPERATOR,
            source=form.cleaned_data["source"],
            user=request.user,
        )
        entry = address_suppressed(kind, address)
        assert entry is not None
        obj.pk, obj.key, obj.hint = entry.pk, entry.key, entry.hint
        obj.reason, obj.created_at = entry.reason, entry.created_at

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Suppression], search_term: str
    ) -> tuple[QuerySet[Suppression], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            return queryset.filter(address_kind="email", key=email_key(term)), False
        try:
            phone = normalize_phone(term)
        except ValidationError:
            return queryset.none(), False
        return queryset.filter(address_kind="phone", key=phone_key(phone)), False

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        entries = list(objs)
        shown: list[Any] = [format_html("Entry: {}", entry) for entry in entries[:100]]
        if len(entries) > 100:
            shown.append(format_html("… and {} more", len(entries) - 100))
        shown.append(
            "Taken off the suppression list, these addresses may be messaged "
            "again by every campaign and flow that reaches their contacts. Do "
            "this only when the person asked to hear from you again."
        )
        perms = set()
        if not self.has_delete_permission(request):
            perms.add(self.opts.verbose_name)
        return shown, {"suppressed addresses": len(entries)}, perms, []

    def delete_model(self, request: HttpRequest, obj: Suppression) -> None:
        suppression_remove(entry=obj, source=f"taken off by {request.user}")

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Suppression]
    ) -> None:
        for entry in queryset:
            suppression_remove(entry=entry, source=f"taken off by {request.user}")


def contact_suppression(contact: Contact) -> str:
    """The contact's page: whether its phone and email are on the list, and why."""
    lines = []
    for kind, label, key in (
        (Suppression.Address.PHONE, "Phone", contact.phone_key),
        (Suppression.Address.EMAIL, "Email", contact.email_key),
    ):
        if not key:
            continue
        entry = Suppression.objects.filter(address_kind=kind, key=key).first()
        if entry is None:
            lines.append(format_html("{}: not suppressed", label))
        else:
            lines.append(
                format_html(
                    "{}: suppressed since {} — {}{}",
                    label,
                    f"{entry.created_at:%Y-%m-%d}",
                    entry.get_reason_display(),
                    f" ({entry.source})" if entry.source else "",
                )
            )
    return format_html("<br>".join(["{}"] * len(lines)), *lines) if lines else "-"
