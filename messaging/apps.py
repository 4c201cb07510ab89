from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Messaging"

    def ready(self) -> None:
        from audiences.consent import opt_out_listeners
        from audiences.erasure import contact_rows_by_column, contact_rows_register
        from audiences.suppressing import suppression_listeners

        from .channels import channel_user_finders
        from .models import Message
        from .optouts import opt_out_note
        from .suppressed import suppression_heard
        from .templating import templates_for_channel

        # A deleted contact's messages go with it; audiences cannot name them.
        contact_rows_register(contact_rows_by_column(Message, "messages"))
        # A STOP stops the messages workers hold for the contact, just before sending.
        if opt_out_note not in opt_out_listeners:
            opt_out_listeners.append(opt_out_note)
        # A suppressed address skips what waits for it, and stops what workers hold.
        if suppression_heard not in suppression_listeners:
            suppression_listeners.append(suppression_heard)
        # A template written for one channel keeps it.
        if templates_for_channel not in channel_user_finders:
            channel_user_finders.append(templates_for_channel)
