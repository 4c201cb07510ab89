from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audiences.importing import (
    ImportRefused,
    import_job_analyse,
    import_job_apply,
    import_job_create,
)
from audiences.models import AudienceGroup, ImportJob


class Command(BaseCommand):
    help = (
        "Import contacts from a .tsv, .csv, .xls or .xlsx file into a group: the "
        "header is CONTACT, then one column per custom-data variable. Prints progress "
        "and the counts; exits non-zero when the file is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--group", required=True, help="name of the target group")
        parser.add_argument(
            "--on-duplicate",
            choices=["update", "ignore"],
            default="update",
            help="what to do with contacts that exist already (default: update)",
        )
        parser.add_argument(
            "--all-or-nothing",
            action="store_true",
            help="import nothing if any row is rejected",
        )
        parser.add_argument(
            "--create-group",
            action="store_true",
            help="create the group if missing, once the contacts are imported (a "
            "refused file leaves no group behind)",
        )

    def handle(self, *args: object, **options: object) -> None:
        name = str(options["group"])
        group = AudienceGroup.objects.filter(name=name).first()
        if group is None and not options["create_group"]:
            raise CommandError(
                f"There is no group named {name!r}; create it in the console or "
                "pass --create-group."
            )
        try:
            job = import_job_create(
                source=Path(str(options["file"])),
                group=group,
                new_group="" if group is not None else name,
                on_duplicate=str(options["on_duplicate"]),
                all_or_nothing=bool(options["all_or_nothing"]),
            )
        except ImportRefused as exc:
            raise CommandError(str(exc)) from None
        shown = [-1]

        def progress(job: ImportJob) -> None:
            step = int(job.progress * 10)
            if step > shown[0]:
                shown[0] = step
                self.stdout.write(
                    f"  {job.progress:4.0%}  {job.rows_read:,} rows read, "
                    f"{job.rows_rejected:,} rejected"
                )

        job = import_job_analyse(job_id=job.pk, on_progress=progress)
        self._report_rejections(job)
        if job.status != ImportJob.Status.READY:
            raise CommandError(job.error or f"Import {job.get_status_display()}.")
        job = import_job_apply(job_id=job.pk)
        if job.status != ImportJob.Status.DONE:
            raise CommandError(job.error or f"Import {job.get_status_display()}.")
        if group is None:
            self.stdout.write(f"Created the group {job.group_label!r}.")
        self.stdout.write(
            self.style.SUCCESS(
                f"{job.created:,} created, {job.updated:,} updated, "
                f"{job.unchanged:,} unchanged, {job.rows_rejected:,} rejected "
                f"— into group {job.group_label!r}."
            )
        )

    def _report_rejections(self, job: ImportJob) -> None:
        for rejection in job.rejections[:20]:
            self.stdout.write(
                f"  row {rejection['row']}, {rejection['column']}: "
                f"{rejection['reason']}"
            )
        if job.rows_rejected > 20:
            self.stdout.write(f"  ... and {job.rows_rejected - 20:,} more")
        if job.rows_rejected:
            self.stdout.write(f"  Rejected rows with their reasons: {job.rejects_path}")
