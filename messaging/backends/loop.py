"""The process's event loop for HTTP sends: moved to base.loop, which the event
stream's deliveries (stream) share. Kept so that older imports still work."""

from base.loop import send_loop, submit, wait_for  # noqa: F401
