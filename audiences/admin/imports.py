"""Import jobs: a file's progress, the go-ahead, a cancel, its rejected rows."""

from pathlib import Path
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse

from audiences.importing import ImportRefused, import_job_cancel
from audiences.importing.jobs import import_job_confirm
from audiences.models import ImportJob
from audiences.tasks import apply_import
from config.admin_actions import KnownActionsOnly


@admin.register(ImportJob)
class ImportJobAdmin(KnownActionsOnly):
    list_display = [
        "file_name",
        "group_shown",
        "status",
        "rows_read",
        "created",
        "updated",
        "rows_rejected",
        "created_at",
    ]
    list_filter = ["status", "group"]
    list_select_related = ["group"]
    search_fields = ["file_name", "group__name", "new_group"]
    fields = readonly_fields = (
        "file",
        "group_shown",
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

    @admin.display(description="group", ordering="group__name")
    def group_shown(self, job: ImportJob) -> str:
        return job.group_label

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
                if job.group_id is not None
                else ""
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
                f"Importing {job.rows_valid:,} contacts into {job.group_label}; this "
                "page refreshes until they are in.",
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
