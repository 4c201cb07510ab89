from django.apps import AppConfig


class AudiencesConfig(AppConfig):
    name = "audiences"
    verbose_name = "Audiences"

    def ready(self) -> None:
        from .erasure import contact_rows_by_column, contact_rows_register
        from .events import ContactEvent

        # A deleted contact's events go with it, in one statement before it.
        contact_rows_register(contact_rows_by_column(ContactEvent, "events"))
