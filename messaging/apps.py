from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from audiences.erasure import contact_rows_by_column, contact_rows_register

        from .models import Message

        # A deleted contact's messages go with it; audiences cannot name them.
        contact_rows_register(contact_rows_by_column(Message, "messages"))
