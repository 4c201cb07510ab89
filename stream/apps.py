from django.apps import AppConfig


class StreamConfig(AppConfig):
    """The outgoing event stream: what happened (a message delivered, a reply, an
    opt-out, a run or an import finished), posted to the endpoints operators
    subscribe, signed as Standard Webhooks says. Below every app that emits: they
    call stream.emitting inside their own transactions."""

    name = "stream"
    verbose_name = "Event stream"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .emitting import subscribed_types_forget
        from .models import Endpoint

        for signal in (post_save, post_delete):
            signal.connect(subscribed_types_forget, sender=Endpoint, weak=False)
