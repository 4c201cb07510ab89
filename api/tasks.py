from celery import shared_task

from . import idempotency


@shared_task(name="api.tasks.forget_idempotency_keys")
def forget_idempotency_keys() -> int:
    """Idempotency keys older than API_IDEMPOTENCY_HOURS."""
    return idempotency.idempotent_requests_forget()
