"""The content library in the admin: message templates (edited as new versions)
and the media library (uploaded images and the URLs to copy)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from base.auditing import AuditedAdmin
from base.outbound import http_url

from .media import (
    MediaRefused,
    MediaUploadLimit,
    media_asset_delete,
    media_asset_prepare,
    media_check,
    media_public_url,
    media_upload_limit_install,
    media_users,
    size_text,
)
from .models import Channel
from .templates import MediaAsset, MessageTemplate, TemplateVersion
from .templating import (
    TemplateRefused,
    template_current,
    template_kind_problem,
    template_users,
    template_version_add,
    text_check,
)

VERSION_FIELDS = ["body", "media", "media_url"]
LIMIT = "_flowcast_media_upload_limit"


class MessageTemplateForm(forms.ModelForm):
    """The template and its current text; a changed text is saved as its next
    version (templating.template_version_add)."""

    channel_kind = forms.ChoiceField(
        label="For channels of kind",
        choices=[("", "any kind"), *Channel.Kind.choices],
        required=False,
        help_text=MessageTemplate._meta.get_field("channel_kind").help_text,
    )
    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "Hola {{NOMBRE}}, …"}),
        help_text="{{NOMBRE}} is replaced by the contact's custom data NOMBRE; "
        "{{PHONE}}, {{NAME}} and {{EMAIL}} also work; {{NOMBRE|cliente}} says "
        "cliente to contacts without one. Saving a changed text writes a new version: "
        "published flows keep sending the version they were published with, and show "
        "'unpublished changes' until they are published again.",
    )
    # A field, not Form.media (the metaclass takes it out of the class).
    media = forms.ModelChoiceField(  # type: ignore[assignment]
        queryset=MediaAsset.objects.all(),
        required=False,
        label="Image of the media library",
        help_text="Sent with the text (optional); or give a URL below, not both.",
    )
    media_url = forms.URLField(
        label="Or image or media URL",
        required=False,
        assume_scheme="https",
        validators=[http_url],
        help_text="An image, video or file the provider downloads (optional).",
    )

    class Meta:
        model = MessageTemplate
        fields = ["name", "channel_kind", "channel", "description"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        current = template_current(self.instance) if self.instance.pk else None
        if current is not None:
            self.initial.update(
                body=current.body, media=current.media_id, media_url=current.media_url
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check = text_check(data.get("body") or "")
        for error in check.errors:
            self.add_error("body", error)
        self.warnings = check.warnings
        if data.get("media") and data.get("media_url"):
            self.add_error(
                "media_url", "Give either an image of the library or a URL, not both."
            )
        kind, channel = data.get("channel_kind") or "", data.get("channel")
        problem = template_kind_problem(kind)
        if problem:
            self.add_error("channel_kind", problem)
        elif channel is not None and kind and channel.kind != kind:
            self.add_error(
                "channel",
                f"Channel {channel.name} is a {channel.get_kind_display()} channel, "
                "not of the kind chosen above.",
            )
        return data


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "number",
        "body",
        "media",
        "media_url",
        "created_at",
        "created_by",
    )
    verbose_name_plural = "versions (newest first; never changed once written)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TemplateVersion]:
        return (
            super()
            .get_queryset(request)
            .select_related("template", "media", "created_by")
        )

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MessageTemplate)
class MessageTemplateAdmin(AuditedAdmin):
    form = MessageTemplateForm
    list_display = [
        "name",
        "channel_kind",
        "channel",
        "current_version",
        "description",
        "updated_at",
    ]
    list_filter = ["channel_kind"]
    list_select_related = ["channel"]
    search_fields = ["name", "description"]
    inlines = [TemplateVersionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[MessageTemplate]:
        return super().get_queryset(request).annotate(newest=Max("versions__number"))

    @admin.display(description="current version", ordering="newest")
    def current_version(self, template: MessageTemplate) -> str:
        newest = getattr(template, "newest", None)
        return f"v{newest}" if newest else "no text yet"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:  # type: ignore[override]
        fields = ["name", "channel_kind", "channel", "description"]
        if obj is not None and not self.has_change_permission(request, obj):
            return fields  # read only: the versions below show the text
        return fields + VERSION_FIELDS

    def save_related(
        self, request: HttpRequest, form: Any, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        data = form.cleaned_data
        try:
            version = template_version_add(
                template=form.instance,
                body=data["body"],
                media=data.get("media"),
                media_url=data.get("media_url") or "",
                actor=request.user,  # type: ignore[arg-type]
            )
        except TemplateRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        if version is not None and version.number > 1:
            self.message_user(
                request,
                f"The text is saved as version {version.number}. Flows published "
                "with an older version keep sending it until they are published again.",
            )
        for warning in form.warnings:
            self.message_user(request, warning, messages.WARNING)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        # In words ("Flow Welcome, step 2 (working copy)") rather than the steps'
        # own names; published versions, which name it in their JSON, too.
        used = [found for template in objs for found in template_users(template)]
        return deleted, counts, perms, used or list(protected)


class MediaAssetForm(forms.ModelForm):
    class Meta:
        model = MediaAsset
        fields = ["name", "file"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.upload_problem = ""

    def clean_file(self) -> Any:
        upload = self.cleaned_data.get("file")
        if upload is not None and self.instance.pk is None:
            try:
                media_check(upload)
            except MediaRefused as exc:
                raise forms.ValidationError(str(exc)) from None
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.upload_problem:
            # The file was dropped as it streamed in: say why, not "required".
            self.errors.pop("file", None)
            self.add_error("file", self.upload_problem)
        return data


@admin.register(MediaAsset)
class MediaAssetAdmin(AuditedAdmin):
    form = MediaAssetForm
    list_display = ["thumbnail", "name", "filename", "content_type", "size_shown"]
    list_display_links = ["thumbnail", "name"]
    list_filter = ["content_type"]
    list_select_related = ["created_by"]
    search_fields = ["name", "filename", "sha256"]
    readonly_fields = [
        "thumbnail",
        "public_url",
        "filename",
        "content_type",
        "size_shown",
        "sha256",
        "created_at",
        "created_by",
        "used_by",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:  # type: ignore[override]
        if obj is None:
            return ["name", "file"]
        return ["name", *self.readonly_fields]

    @admin.display(description="image")
    def thumbnail(self, asset: MediaAsset) -> str:
        return format_html(
            '<img src="{}" alt="{}" style="max-width:120px;max-height:80px">',
            asset.path,
            asset.name,
        )

    @admin.display(description="URL to copy")
    def public_url(self, asset: MediaAsset) -> str:
        url = media_public_url(asset)
        note = (
            ""
            if url.startswith(("http://", "https://"))
            else " Set FLOWCAST_PUBLIC_URL so that providers can fetch it."
        )
        return format_html(
            '<input type="text" readonly size="80" value="{}" '
            'aria-label="URL of the image">{}',
            url,
            note,
        )

    @admin.display(description="size", ordering="size")
    def size_shown(self, asset: MediaAsset) -> str:
        return size_text(asset.size)

    @admin.display(description="used by")
    def used_by(self, asset: MediaAsset) -> str:
        return "; ".join(media_users(asset)) or "nothing yet"

    def _with_limit(self, request: HttpRequest, view: Any, *args: Any) -> HttpResponse:
        # The upload is bounded as it streams in, by a handler set before the body
        # is read: the CSRF check, which reads it, comes after (csrf_exempt on the
        # views keeps the admin site and the middleware from checking first;
        # changeform_view checks).
        setattr(request, LIMIT, media_upload_limit_install(request))
        response: HttpResponse = view(request, *args)
        return response

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self._with_limit(request, super().add_view, form_url, extra_context)

    add_view.csrf_exempt = True  # type: ignore[attr-defined]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        return self._with_limit(
            request, super().change_view, object_id, form_url, extra_context
        )

    change_view.csrf_exempt = True  # type: ignore[attr-defined]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change, **kwargs)
        limit: MediaUploadLimit | None = getattr(request, LIMIT, None)

        class Bounded(form_class):  # type: ignore[valid-type,misc]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                # Read once the body is: the handler says why it dropped a file.
                self.upload_problem = limit.problem if limit is not None else ""

        return Bounded

    def save_model(
        self, request: HttpRequest, obj: MediaAsset, form: Any, change: bool
    ) -> None:
        if not change:
            media_asset_prepare(obj, form.cleaned_data["file"])
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms, protected = super().get_deleted_objects(objs, request)
        used = [found for asset in objs for found in media_users(asset)]
        return deleted, counts, perms, used or list(protected)

    def delete_model(self, request: HttpRequest, obj: MediaAsset) -> None:
        media_asset_delete(asset=obj, actor=request.user)  # type: ignore[arg-type]

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[MediaAsset]
    ) -> None:
        for asset in queryset:
            media_asset_delete(asset=asset, actor=request.user)  # type: ignore[arg-type]
