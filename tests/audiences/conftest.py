from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from audiences.importing import import_job_analyse, import_job_apply, import_job_create
from audiences.models import AudienceGroup, ImportJob


@pytest.fixture(autouse=True)
def _imports_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def group(db: None) -> AudienceGroup:
    return AudienceGroup.objects.create(name="Customers")


@pytest.fixture
def run_import(group: AudienceGroup) -> Callable[..., ImportJob]:
    """Analyse a file and, when it is ready, apply it, as the console does."""

    def run(path: Path, *, apply: bool = True, **options: Any) -> ImportJob:
        job = import_job_create(source=path, group=group, **options)
        job = import_job_analyse(job_id=job.pk)
        if apply and job.status == ImportJob.Status.READY:
            job = import_job_apply(job_id=job.pk)
        return job

    return run
