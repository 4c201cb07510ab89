import functools

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import BaseBackend, Bounce, DeliveryError, Receipt

__all__ = ["BaseBackend", "Bounce", "DeliveryError", "Receipt", "get_backend"]


def get_backend(kind: str) -> BaseBackend:
    """Return the backend configured for channel kind ``kind`` in MESSAGING_BACKENDS."""
    try:
        dotted_path = settings.MESSAGING_BACKENDS[kind]
    except KeyError:
        raise ImproperlyConfigured(
            f"No messaging backend for {kind!r} channels"
        ) from None
    return _backend(dotted_path)


@functools.lru_cache(maxsize=32)
def _backend(dotted_path: str) -> BaseBackend:
    # Backends keep no per-message state: one instance per process will do.
    backend: BaseBackend = import_string(dotted_path)()
    return backend
