from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from base.auditing import AuditedAdmin
from base.outbound import url_refusal
from base.zones import ZoneField
from config.admin_actions import KnownActionsOnly
from config.keyvalue import KeyValueField, KeyValueWidget
from config.object_actions import ObjectActionsMixin

from . import library_admin  # noqa: F401  (templates and media library)
from .channels import channel_users
from .credentials import (
    CREDENTIALS,
    channel_credentials_shown,
    channel_secret_ensure,
    channel_secret_rotate,
    channel_secret_shown,
    credentials_sealed,
)
from .models import Channel, InboundMessage

NEW_SECRET = "_flowcast_new_signing_secret"


class ChannelForm(forms.ModelForm):
    settings = KeyValueField(
        label="Provider settings",
        required=False,
        widget=KeyValueWidget(name_label="Setting", value_label="Value"),
        help_text="What the provider needs besides secrets (those go in the fields "
        "below, stored encrypted): SMS and WhatsApp take from (the sending number) or "
        "messaging_service_sid; webhooks take url. Any channel takes "
        "max_in_flight: how many of its messages may wait for the provider's "
        "answer at once, across all workers (default 50). Twilio accepts 100 "
        "concurrent API requests per account (error 20429 past that): share those "
        "100 among the channels of one account. For email it is the number of "
        "SMTP connections kept open.",
    )

    # Write-only: never filled in with what is stored; blank keeps it.
    account_sid = forms.CharField(
        label="Twilio account SID",
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text="SMS and WhatsApp channels. Leave blank to keep the one stored.",
    )
    auth_token = forms.CharField(
        label="Twilio auth token",
        required=False,
        max_length=256,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="SMS and WhatsApp channels; stored encrypted and never shown "
        "again. Leave blank to keep the one stored.",
    )
    forget_credentials = forms.BooleanField(
        label="Forget the stored credentials",
        required=False,
        help_text="Remove the account SID and auth token stored for this channel "
        "(what is typed above replaces them).",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        typed = [key for key in ("account_sid", "auth_token") if cleaned.get(key)]
        if typed and cleaned.get("kind") not in CREDENTIALS:
            for key in typed:
                self.add_error(
                    key, "Only SMS and WhatsApp channels take Twilio credentials."
                )
        return cleaned

    def save(self, commit: bool = True) -> Channel:
        channel: Channel = self.instance
        given = {
            key: self.cleaned_data.get(key) or ""
            for key in ("account_sid", "auth_token")
        }
        clear = bool(self.cleaned_data.get("forget_credentials"))
        if clear or any(given.values()):
            channel.credentials = credentials_sealed(channel, given, clear=clear)
        return super().save(commit)

    def clean_settings(self) -> dict[str, Any]:
        found: dict[str, Any] = self.cleaned_data.get("settings") or {}
        value = found.get("max_in_flight")
        if value not in (None, ""):
            try:
                cap = int(str(value))
            except ValueError:
                cap = 0
            if not 1 <= cap <= 1000:
                raise forms.ValidationError(
                    f"max_in_flight must be a whole number from 1 to 1000, not "
                    f"{value!r}."
                )
            found["max_in_flight"] = cap
        url = found.get("url")
        why = url_refusal(str(url)) if url not in (None, "") else None
        if why:
            raise forms.ValidationError(f"The url {url} is refused: {why}")
        return found

    def full_clean(self) -> None:
        super().full_clean()
        # Settings refused above never reach the channel, so its own check adds
        # "needs the URL" under the reason given already: one reason is said.
        said = self.errors.get("settings") if hasattr(self, "cleaned_data") else None
        if said and len(said) > 1 and " is refused: " in str(said[0]):
            self.errors["settings"] = said[:1]

    class Meta:
        model = Channel
        fields = [
            "name",
            "kind",
            "enabled",
            "active_from",
            "active_until",
            "timezone",
            "rate_per_second",
            "settings",
            "stop_keywords",
            "start_keywords",
            "help_keywords",
            "help_text",
        ]
        field_classes = {"timezone": ZoneField}


@admin.register(Channel)
class ChannelAdmin(AuditedAdmin, ObjectActionsMixin):
    form = ChannelForm
    readonly_fields = ["signing_secret_shown", "credentials_shown"]
    list_display = [
        "name",
        "kind",
        "enabled",
        "active_from",
        "active_until",
        "timezone",
    ]
    list_filter = ["kind", "enabled"]
    search_fields = ["name"]

    @admin.display(description="signing secret")
    def signing_secret_shown(self, channel: Channel) -> str:
        if channel.kind != Channel.Kind.WEBHOOK:
            return "—"
        return channel_secret_shown(channel) or (
            "none yet: one is made when the channel is saved"
        )

    @admin.display(description="stored credentials")
    def credentials_shown(self, channel: Channel) -> str:
        return channel_credentials_shown(channel) or "none"

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="messaging_channel_rotate_secret",
            ),
            *super().get_urls(),
        ]

    def object_actions(
        self, request: HttpRequest, channel: Channel
    ) -> list[dict[str, Any]]:
        if channel.kind != Channel.Kind.WEBHOOK or not self.has_change_permission(
            request, channel
        ):
            return []
        hours = settings.MESSAGING_SECRET_OVERLAP_HOURS
        return [
            {
                "url": reverse(
                    "admin:messaging_channel_rotate_secret", args=[channel.pk]
                ),
                "label": "Rotate signing secret",
                "confirm": "Make a new signing secret? It is shown once. The current "
                f"one still signs and is still accepted for {hours} hours.",
            }
        ]

    def rotate_secret_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        channel = get_object_or_404(Channel, pk=pk)
        if not self.has_change_permission(request, channel):
            raise PermissionDenied
        if request.method != "POST" or channel.kind != Channel.Kind.WEBHOOK:
            return HttpResponseRedirect(
                reverse("admin:messaging_channel_change", args=[pk])
            )
        return self._secret_page(
            request, channel, channel_secret_rotate(channel=channel)
        )

    def _secret_page(
        self, request: HttpRequest, channel: Channel, secret: str
    ) -> HttpResponse:
        """The new signing secret, shown this once: rendered in the answer to the
        POST that made it, never stored in a message or a session."""
        channel.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "channel": channel,
            "secret": secret,
            "previous_until": channel.previous_secret_until,
            "title": f"Signing secret of {channel.name}",
        }
        response = TemplateResponse(
            request, "admin/messaging/channel/signing_secret.html", context
        )
        response["Cache-Control"] = "no-store"
        return response

    def save_model(
        self, request: HttpRequest, obj: Channel, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # Shown by response_add / response_change, in the answer to this request.
        setattr(request, NEW_SECRET, channel_secret_ensure(channel=obj))

    def response_add(
        self, request: HttpRequest, obj: Channel, post_url_continue: str | None = None
    ) -> HttpResponse:
        secret = getattr(request, NEW_SECRET, None)
        if secret:
            return self._secret_page(request, obj, secret)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Channel) -> HttpResponse:
        secret = getattr(request, NEW_SECRET, None)
        if secret:  # it became a webhook channel
            return self._secret_page(request, obj, secret)
        return super().response_change(request, obj)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        # Django's collector would look for each channel's messages through the
        # whole messages table (it has no index on the channel); what protects a
        # channel is said by channel_users, and its replies are counted.
        channels = list(objs)
        protected = [used for channel in channels for used in channel_users(channel)]
        replies = InboundMessage.objects.filter(channel__in=channels).count()
        perms_needed = set()
        if replies and not self.admin_site.get_model_admin(
            InboundMessage
        ).has_delete_permission(request):
            perms_needed.add(str(InboundMessage._meta.verbose_name))
        deleted = [format_html("Channel: {}", channel) for channel in channels]
        counts = {"channels": len(channels), "replies": replies}
        return deleted, {k: v for k, v in counts.items() if v}, perms_needed, protected


@admin.register(InboundMessage)
class InboundMessageAdmin(KnownActionsOnly):
    """Replies, as providers reported them: read-only."""

    list_display = [
        "received_at",
        "channel",
        "sender",
        "contact",
        "body",
        "keyword",
        "opted_out",
        "taken_by_flow",
    ]
    list_filter = ["opted_out", "taken_by_flow", "channel"]
    list_select_related = ["channel", "contact"]
    search_fields = ["=sender", "body"]
    show_full_result_count = False
    fields = readonly_fields = (
        "received_at",
        "channel",
        "sender",
        "contact",
        "body",
        "provider_id",
        "keyword",
        "opted_out",
        "taken_by_flow",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


# The Inbox and teams, the frequency caps and the messages, in modules of their own.
from . import admin_inbox, caps_admin, message_admin  # noqa: E402, F401
