"""Where the files being imported are kept, from upload until their job is over."""

import shutil
import uuid
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from audiences.models import ImportJob


def import_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def import_file_store(upload: UploadedFile, name: str) -> Path:
    """Write an uploaded file in a folder of its own under import_dir(); return its
    path, which keeps the suffix of ``name`` (the readers go by it)."""
    folder = import_dir() / uuid.uuid4().hex
    folder.mkdir(parents=True)
    path = folder / f"upload{Path(name).suffix.lower()}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def import_file_remove(job: ImportJob) -> None:
    """Delete an uploaded file once its job is over (files given by path are kept)."""
    path = Path(job.file_path)
    if import_dir() in path.parents:
        shutil.rmtree(path.parent, ignore_errors=True)
