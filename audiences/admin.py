from pathlib import Path
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportExportMixin

from base.audit import audit_record
from base.auditing import AuditedAdmin
from config.paginators import CappedPaginator

from .erasure import contacts_delete, contacts_footprint
from .forms import ContactForm, ImportForm
from .importing import ImportRefused, import_job_cancel, import_job_create
from .importing.jobs import import_job_confirm
from .models import (
    AudienceGroup,
    Contact,
    GroupRule,
    ImportJob,
    Membership,
    Variable,
)
from .phones import PHONE_LIKE, contact_search
from .resources import ContactResource
from .tasks import analyse_import, apply_import


class MembershipInline(admin.TabularInline):
    """The contact's groups: each shown as a link, removed with its checkbox; new
    ones chosen by search. A membership is not edited into another group."""

    model = Membership
    extra = 0
    fields = ["group", "added_at"]
    readonly_fields = ["added_at"]
    autocomplete_fields = ["group"]
    verbose_name = "group membership"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        # Each row's title names its contact and group.
        return super().get_queryset(request).select_related("contact", "group")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Saved rows are shown read-only, their group a link read with the row: a
        # search box per row looked its group up again, one query a group (50
        # groups, 50 queries).
        return False


class GroupFilter(admin.SimpleListFilter):
    """Contacts of a group, static or dynamic."""

    title = "group"
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in AudienceGroup.objects.values_list("pk", "name")
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> QuerySet[Contact]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        group = AudienceGroup.objects.filter(pk=int(value)).first()
        if group is None:
            return queryset.none()
        return queryset.filter(pk__in=group.members().values("pk"))


class CountryFilter(admin.SimpleListFilter):
    """By country calling code, read off the E.164 number (an indexed prefix match)."""

    title = "country"
    parameter_name = "country"
    CODES = {
        "52": "Mexico (+52)",
        "1": "USA / Canada (+1)",
        "57": "Colombia (+57)",
        "54": "Argentina (+54)",
        "55": "Brazil (+55)",
        "56": "Chile (+56)",
        "51": "Peru (+51)",
        "34": "Spain (+34)",
        "44": "United Kingdom (+44)",
        "49": "Germany (+49)",
        "33": "France (+33)",
        "86": "China (+86)",
        "91": "India (+91)",
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(self.CODES.items())

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> QuerySet[Contact]:
        if self.value() in self.CODES:
            return queryset.filter(phone__startswith=f"+{self.value()}")
        return queryset


@admin.register(Contact)
class ContactAdmin(ImportExportMixin, AuditedAdmin):
    paginator = CappedPaginator  # millions of rows: never counted in full
    # Sorted by what the indexes serve: a million contacts sorted by email or date
    # read them all.
    sortable_by = ("phone",)
    form = ContactForm
    list_display = ["phone", "name", "email", "opted_out_at", "created_at"]
    list_filter = [
        ("opted_out_at", admin.EmptyFieldListFilter),
        GroupFilter,
        CountryFilter,
    ]
    search_fields = ["=phone", "name", "email", "data__icontains"]
    search_help_text = (
        "A phone number finds its contact at once; other words search names, "
        "emails and custom data."
    )
    readonly_fields = [
        "custom_data",
        "opted_out_at",
        "opt_out_source",
        "created_at",
        "updated_at",
        "timeline",
    ]
    fields = ["phone", "name", "email", "data", *readonly_fields]
    inlines = [MembershipInline]
    show_full_result_count = False
    list_per_page = 50
    resource_classes = [ContactResource]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Django would list every message and journey, and refuse for want of
        # permissions on them that nobody has: say what goes, in numbers.
        contacts = list(objs)
        footprint = contacts_footprint(
            Contact.objects.filter(pk__in=[c.pk for c in contacts])
        )
        shown = [format_html("Contact: {}", contact) for contact in contacts[:100]]
        if len(contacts) > 100:
            shown.append(format_html("… and {} more contacts", len(contacts) - 100))
        if footprint.opted_out:
            shown.append(
                format_html(
                    "{} of them opted out: the opt-out goes with the contact, so "
                    "imported again it would receive messages.",
                    footprint.opted_out,
                )
            )
        counts = {
            "contacts": footprint.contacts,
            "messages": footprint.messages,
            "journeys": footprint.journeys,
            "group memberships": footprint.memberships,
        }
        return shown, {k: v for k, v in counts.items() if v}, set(), []

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        contacts_delete(contacts=Contact.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> None:
        contacts_delete(contacts=queryset, actor=request.user)

    @admin.display(description="custom data, typed")
    def custom_data(self, contact: Contact) -> str:
        if not contact.data:
            return "-"
        kinds = dict(
            Variable.objects.filter(name__in=list(contact.data)).values_list(
                "name", "kind"
            )
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    name,
                    value,
                    Variable.Kind(kinds[name]).label if name in kinds else "-",
                )
                for name, value in contact.data.items()
            ),
        )
        return format_html(
            "<table><thead><tr><th>Variable</th><th>Value</th><th>Type</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    def get_export_data(
        self, file_format: Any, request: HttpRequest, queryset: Any, **kwargs: Any
    ) -> Any:
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        audit_record(
            action="export",
            target_repr="contacts",
            note=f"{queryset.count()} contacts as {file_format.get_title()}",
        )
        return data

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if obj is None or not request.user.has_perm("messaging.view_message"):
            fields.remove("timeline")
        return fields

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Contact], search_term: str
    ) -> tuple[QuerySet[Contact], bool]:
        # A phone number: looked up by the unique index alone. Or'ed with the text
        # searches it would read all the contacts.
        if PHONE_LIKE.match(search_term.strip()):
            # A number that is no valid phone matches no contact; or'ed with the
            # text searches it would read them all.
            return contact_search(queryset, search_term, field="phone"), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="timeline")
    def timeline(self, contact: Contact) -> str:
        from console.views.timeline import SHOWN, contact_timeline

        return render_to_string(
            "admin/audiences/contact/timeline.html",
            {"events": contact_timeline(contact), "shown": SHOWN},
        )

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The Import button: upload a file, then follow its job's page.

        Replaces django-import-export's own view, which holds the whole file in
        memory; the button, its URL and its permission stay the library's.
        """
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = import_job_create(
                    source=form.cleaned_data["file"],
                    group=form.cleaned_data["group"],
                    new_group=form.cleaned_data["new_group"],
                    on_duplicate=form.cleaned_data["on_duplicate"],
                    all_or_nothing=form.cleaned_data["all_or_nothing"],
                    actor=request.user,  # type: ignore[arg-type]
                )
            except ImportRefused as exc:
                form.add_error(None, str(exc))
            else:
                # celery-types does not know DjangoTask.delay_on_commit.
                analyse_import.delay_on_commit(job.pk)  # type: ignore[attr-defined]
                return HttpResponseRedirect(
                    reverse("admin:audiences_importjob_change", args=[job.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import contacts",
            "form": form,
        }
        return TemplateResponse(request, "admin/audiences/contact/import.html", context)


class GroupRuleInline(admin.TabularInline):
    model = GroupRule
    extra = 1
    verbose_name = "condition"


@admin.register(AudienceGroup)
class AudienceGroupAdmin(AuditedAdmin):
    list_display = ["name", "kind", "member_count", "description", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]
    readonly_fields = ["members_found", "preview"]
    fields = ["name", "description", "kind", "match", *readonly_fields]
    inlines = [GroupRuleInline]
    # On the add page a script shows Match and the conditions for a dynamic kind.
    change_form_template = "admin/audiences/audiencegroup/change_form.html"
    PREVIEW = 20

    def _is_static(self, group: AudienceGroup | None) -> bool:
        return group is not None and group.kind == AudienceGroup.Kind.STATIC

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if self._is_static(obj):
            # The saved kind decides: a static group has neither match nor conditions.
            fields.remove("match")
        return fields

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return [] if self._is_static(obj) else super().get_inlines(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AudienceGroup]:
        return super().get_queryset(request).order_by("name")

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # Members counted for the page's groups only, in one query: annotated on
        # the queryset, every list, count and autocomplete counted all of them.
        changelist = super().get_changelist_instance(request)
        static = [g.pk for g in changelist.result_list if self._is_static(g)]
        counts = dict(
            Membership.objects.filter(group__in=static)
            .values_list("group")
            .annotate(n=Count("*"))
            .order_by()
        )
        for group in changelist.result_list:
            group.shown_members = counts.get(group.pk, 0)
        return changelist

    @admin.display(description="members")
    def member_count(self, group: AudienceGroup) -> str:
        if group.kind == AudienceGroup.Kind.DYNAMIC:
            return "counted on its page"
        return f"{getattr(group, 'shown_members', 0):,}"

    @staticmethod
    def _member_count(group: AudienceGroup) -> int:
        if group.kind == AudienceGroup.Kind.STATIC:
            # The memberships alone (an index-only count), not joined to contacts.
            return Membership.objects.filter(group=group).count()
        return group.members().count()

    @admin.display(description="members")
    def members_found(self, group: AudienceGroup) -> str:
        if group.pk is None:
            return "-"
        url = reverse("admin:audiences_contact_changelist")
        return format_html(
            '{} contacts — <a href="{}?group={}">see them all</a>',
            f"{self._member_count(group):,}",
            url,
            group.pk,
        )

    @admin.display(description="first members")
    def preview(self, group: AudienceGroup) -> str:
        if group.pk is None:
            return "Save the group to see who is in it."
        contacts = group.members().order_by("pk")[: self.PREVIEW]
        if not contacts:
            return "Nobody matches yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (c.phone, c.name, ", ".join(f"{k}={v}" for k, v in c.data.items()))
                for c in contacts
            ),
        )
        return format_html(
            "<table><thead><tr><th>Phone</th><th>Name</th><th>Custom data</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )


@admin.register(Variable)
class VariableAdmin(AuditedAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "group",
        "status",
        "rows_read",
        "created",
        "updated",
        "rows_rejected",
        "created_at",
    ]
    list_filter = ["status", "group"]
    list_select_related = ["group"]
    search_fields = ["file_name", "group__name"]
    fields = readonly_fields = (
        "file",
        "group",
        "existing_contacts",
        "all_or_nothing_said",
        "status",
        "created_by",
        "created_at",
        "finished_at",
    )
    change_form_template = "admin/audiences/importjob/change_form.html"
    RUNNING = (
        ImportJob.Status.QUEUED,
        ImportJob.Status.ANALYSING,
        ImportJob.Status.APPLYING,
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        # A worker is reading or writing a running job; it goes once it is over.
        if isinstance(obj, ImportJob) and obj.status in self.RUNNING:
            return False
        return super().has_delete_permission(request, obj)

    def _may_import(self, request: HttpRequest) -> bool:
        return request.user.has_perm("audiences.import_contact")

    @admin.display(description="file")
    def file(self, job: ImportJob) -> str:
        return job.file_name

    @admin.display(description="existing contacts")
    def existing_contacts(self, job: ImportJob) -> str:
        if job.on_duplicate == ImportJob.OnDuplicate.IGNORE:
            return "left as they are"
        return "updated"

    @admin.display(description="all or nothing")
    def all_or_nothing_said(self, job: ImportJob) -> str:
        if job.all_or_nothing:
            return "yes: one rejected row refuses the whole file"
        return "no"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/apply/", view(self.apply_view), name="audiences_import_apply"
            ),
            path(
                "<int:pk>/cancel/",
                view(self.cancel_view),
                name="audiences_import_cancel",
            ),
            path(
                "<int:pk>/rejected/",
                view(self.rejected_view),
                name="audiences_import_rejected",
            ),
            *super().get_urls(),
        ]

    def job_actions(self, request: HttpRequest, job: ImportJob) -> list[dict[str, Any]]:
        """The buttons of the job's page: url, label, and optionally primary and
        confirm (a question asked before posting)."""
        if not self._may_import(request):
            return []
        actions: list[dict[str, Any]] = []
        if job.status == ImportJob.Status.READY:
            actions.append(
                {
                    "url": reverse("admin:audiences_import_apply", args=[job.pk]),
                    "label": f"Import {job.rows_valid:,} contacts",
                    "primary": True,
                }
            )
        if job.status in (
            ImportJob.Status.QUEUED,
            ImportJob.Status.ANALYSING,
            ImportJob.Status.READY,
        ):
            actions.append(
                {
                    "url": reverse("admin:audiences_import_cancel", args=[job.pk]),
                    "label": "Cancel import",
                    "confirm": "Cancel this import? Nothing of it will be kept.",
                }
            )
        return actions

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        job = context.get("original")
        if job is not None:
            # Status, buttons and refreshing all from this one read of the job: a
            # second read could see the worker's next step and draw, say, "Ready to
            # import" with no Import button and no refresh.
            context["job"] = job
            context["job_actions"] = self.job_actions(request, job)
            context["in_progress"] = job.status in self.RUNNING
            context["percent"] = round(job.progress * 100)
            context["contacts_url"] = (
                reverse("admin:audiences_contact_changelist") + f"?group={job.group_id}"
            )
        return super().render_change_form(request, context, *args, **kwargs)

    def apply_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._posted_job(request, pk)
        try:
            job = import_job_confirm(job_id=job.pk, actor=request.user)  # type: ignore[arg-type]
        except ImportRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            apply_import.delay_on_commit(job.pk)  # type: ignore[attr-defined]
            self.message_user(
                request,
                f"Importing {job.rows_valid:,} contacts into {job.group}; this page "
                "refreshes until they are in.",
            )
        return self._back(job)

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = self._posted_job(request, pk)
        try:
            import_job_cancel(job_id=job.pk, actor=request.user)  # type: ignore[arg-type]
        except ImportRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request, "The import is cancelled; nothing of it is kept."
            )
        return self._back(job)

    def rejected_view(self, request: HttpRequest, pk: int) -> FileResponse:
        if not self._may_import(request):
            raise PermissionDenied
        job = get_object_or_404(ImportJob, pk=pk)
        if not job.rejects_path or not Path(job.rejects_path).is_file():
            raise Http404("This import has no rejected rows.")
        name = f"{Path(job.file_name).stem}-rejected.csv"
        return FileResponse(
            Path(job.rejects_path).open("rb"), as_attachment=True, filename=name
        )

    def _posted_job(self, request: HttpRequest, pk: int) -> ImportJob:
        if not self._may_import(request) or request.method != "POST":
            raise PermissionDenied
        return get_object_or_404(ImportJob, pk=pk)

    def _back(self, job: ImportJob) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:audiences_importjob_change", args=[job.pk])
        )
