"""What a Celery worker process does when it starts."""

import gc

from celery.signals import worker_process_init


def test_a_new_worker_process_freezes_what_it_loaded() -> None:
    """Start-up objects leave the garbage collector's passes (each full pass walked
    them all again, for every few thousand messages a worker loaded)."""
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        worker_process_init.send(sender=None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
