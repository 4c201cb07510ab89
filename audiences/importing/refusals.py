"""What an import refuses, and the words an operator reads for it."""

from pathlib import Path

from audiences.models import AudienceGroup, ImportJob

from .sheet import SHEET_SUFFIXES, SUPPORTED, TEXT_SUFFIXES


class ImportRefused(Exception):
    """The import cannot go ahead as asked; the text says why."""


def file_type_problem(file_name: str) -> str:
    """Why a file of this name cannot be imported, or "" when its type is read."""
    if Path(file_name).suffix.lower() in TEXT_SUFFIXES | SHEET_SUFFIXES:
        return ""
    return f"{file_name!r} is not a file type Flowcast reads; use one of: {SUPPORTED}."


def upload_size_problem(file_name: str, limit: int) -> str:
    """Why an upload larger than ``limit`` bytes was dropped."""
    return (
        f"{file_name!r} is larger than {limit:,} bytes, the most a contact file may "
        "be (IMPORT_MAX_UPLOAD_BYTES): it was not kept. Split it into smaller files, "
        "or ask for the limit to be raised."
    )


def new_group_problem(name: str) -> str:
    """Why a new group cannot take this name, or "" when it can."""
    name = " ".join(name.split())
    if not name:
        return "Give the new group a name."
    limit = AudienceGroup._meta.get_field("name").max_length or 0
    if len(name) > limit:
        return f"A group's name has at most {limit} characters."
    # Names differing only in case would be told apart by nobody in a list.
    taken = AudienceGroup.objects.filter(name__iexact=name).first()
    if taken is not None:
        return (
            f"There is already a group named {taken.name!r}: choose it from the list "
            "of groups, or give the new group another name."
        )
    return ""


def not_ready_problem(job: ImportJob) -> str:
    """Why the contacts of ``job`` cannot be imported (it is not READY)."""
    if job.status == ImportJob.Status.APPLYING:
        return (
            "The contacts of this import are being imported already; the page shows "
            "when they are in."
        )
    if job.status == ImportJob.Status.DONE:
        return "This import is done already: its contacts are in the group."
    return (
        f"This import is {job.get_status_display().lower()}; only an import that is "
        "ready can be imported."
    )
