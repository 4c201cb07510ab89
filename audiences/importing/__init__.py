"""Bulk import of contacts from TSV, CSV, XLS and XLSX files (SPEC A4)."""

from .jobs import (
    import_job_analyse,
    import_job_apply,
    import_job_cancel,
    import_job_create,
)
from .refusals import ImportRefused
from .sheet import UnreadableFile

__all__ = [
    "ImportRefused",
    "UnreadableFile",
    "import_job_analyse",
    "import_job_apply",
    "import_job_cancel",
    "import_job_create",
]
