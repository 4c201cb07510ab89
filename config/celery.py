import gc
import os

from celery import Celery
from celery.signals import task_prerun, worker_process_init
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# "filesystem://" (the embedded broker) with atomic message files.
TRANSPORT_ALIASES["filesystem"] = "config.filesystem_broker:Transport"

app = Celery("flowcast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _drop_stale_connections(task: object = None, **_: object) -> None:
    """What Django does before each request: close connections that broke or
    outlived CONN_MAX_AGE, now that workers keep them across tasks. Not for a task
    run eagerly inside the caller (it may be inside the caller's transaction)."""
    from django.db import close_old_connections, connection

    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    if connection.in_atomic_block:
        return
    close_old_connections()


@worker_process_init.connect
def _freeze_startup_objects(**_: object) -> None:
    """Keep what the worker loaded at start-up (Django, Celery, the project's
    modules: ~100,000 objects) out of the garbage collector's passes. A chunk of
    messages creates thousands of objects that live until the chunk is sent; each
    time they pushed a full collection, it walked every start-up object again:
    10 µs a message, more than sending it through a fast provider."""
    gc.freeze()
