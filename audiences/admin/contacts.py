"""Contacts: their list and page, import and export, deletion with what is theirs."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_protect
from import_export.admin import ImportExportMixin

from audiences.erasure import contacts_delete, contacts_footprint
from audiences.forms import ContactForm, ImportForm
from audiences.importing import ImportRefused, import_job_create
from audiences.importing.uploads import UploadLimit, upload_limit_install
from audiences.models import Contact, Membership, Variable
from audiences.phones import PHONE_LIKE, contact_search
from audiences.resources import ContactResource
from audiences.tasks import analyse_import
from audiences.variables import contacts_list_variables
from base.audit import audit_record
from base.auditing import AuditedAdmin
from config.paginators import CappedPaginator

from .filters import CountryFilter, GroupFilter
from .sections import ContactSection, contact_sections
from .suppression import contact_suppression


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


@admin.register(Contact)
class ContactAdmin(ImportExportMixin, AuditedAdmin):
    paginator = CappedPaginator  # millions of rows: never counted in full
    # Sorted by what the indexes serve: a million contacts sorted by email or date
    # read them all.
    sortable_by = ("phone",)
    form = ContactForm
    list_display = ["phone", "name_shown", "email", "opted_out_at", "created_at"]
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
        "suppressed",
        "opted_out_at",
        "opt_out_source",
        "created_at",
        "updated_at",
    ]
    fields = ["phone", "name", "email", "timezone", "data", *readonly_fields]
    inlines = [MembershipInline]
    show_full_result_count = False
    list_per_page = 50
    resource_classes = [ContactResource]

    def get_list_display(self, request: HttpRequest) -> Any:
        # The chosen variables' columns, read from each contact's data as the
        # page's one query loads it: no query per row.
        shown = _data_columns(tuple(contacts_list_variables()))
        return [*self.list_display[:3], *shown, *self.list_display[3:]]

    @admin.display(description="name")
    def name_shown(self, contact: Contact) -> str:
        # Contacts imported before NOMBRE filled the name show it all the same.
        return contact.name or str((contact.data or {}).get("NOMBRE") or "") or "-"

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
                    "{} of them opted out: their phone numbers and emails stay on "
                    "the suppression list, so imported again they are not "
                    "messaged at those addresses.",
                    footprint.opted_out,
                )
            )
        counts = {
            "contacts": footprint.contacts,
            **footprint.rows,
            "group memberships": footprint.memberships,
        }
        return shown, {k: v for k, v in counts.items() if v}, set(), []

    def delete_model(self, request: HttpRequest, obj: Contact) -> None:
        contacts_delete(contacts=Contact.objects.filter(pk=obj.pk), actor=request.user)

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> None:
        contacts_delete(contacts=queryset, actor=request.user)

    @admin.display(description="suppression list")
    def suppressed(self, contact: Contact) -> str:
        if contact.pk is None:
            return "-"
        return contact_suppression(contact)

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
        return [*super().get_fields(request, obj), *_section_rows(request, obj)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [
            *super().get_readonly_fields(request, obj),
            *_section_rows(request, obj),
        ]

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

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """The Import button: upload a file, then follow its job's page.

        Replaces django-import-export's own view, which holds the whole file in
        memory; the button, its URL and its permission stay the library's.
        """
        # Who may not import is refused before the body is read: nothing of
        # theirs is stored. The upload is bounded as it streams in, by a handler
        # set before the body is read: the CSRF check, which reads it, comes after
        # (csrf_exempt below keeps the admin and the middleware from checking
        # first).
        if not self.has_import_permission(request):
            raise PermissionDenied
        limit = upload_limit_install(request)
        return csrf_protect(self._import_view)(request, limit)

    import_action.csrf_exempt = True  # type: ignore[attr-defined]

    def _import_view(self, request: HttpRequest, limit: UploadLimit) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(
            request.POST or None,
            request.FILES or None,
            upload_problem=limit.problem,
        )
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


def _section_rows(
    request: HttpRequest, contact: Contact | None
) -> list[Callable[[Contact], str]]:
    """The registered sections the user may see, as read-only fields of a saved
    contact's page."""
    if contact is None:
        return []
    return [
        _section_row(section)
        for section in contact_sections()
        if request.user.has_perm(section.permission)
    ]


def _data_columns(names: tuple[str, ...]) -> list[Callable[[Contact], Any]]:
    return [_data_column(name) for name in names]


@functools.cache
def _data_column(name: str) -> Callable[[Contact], Any]:
    def column(contact: Contact) -> Any:
        return (contact.data or {}).get(name)  # None shows as "-"

    column.__name__ = f"data_{name}"  # the column's CSS class: column-data_NOMBRE
    return admin.display(description=name)(column)


# get_fields() and get_readonly_fields() must hand Django the same callable for a
# section: it tells the read-only fields among the fields by equality.
@functools.cache
def _section_row(section: ContactSection) -> Callable[[Contact], str]:
    def row(contact: Contact) -> str:
        return render_to_string(section.template, section.context(contact))

    row.__name__ = section.name  # the admin names the row's CSS class after it
    return admin.display(description=section.name)(row)
