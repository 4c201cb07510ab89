from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "flows"
    verbose_name = "Flows"

    def ready(self) -> None:
        from audiences.erasure import contact_rows_by_column, contact_rows_register

        from .models import Journey

        # A deleted contact's journeys go with it, after its messages: messages
        # point at journeys, and the ORM's cascade from journeys would otherwise
        # read them all back.
        contact_rows_register(
            contact_rows_by_column(Journey, "journeys", after=("messages",))
        )
