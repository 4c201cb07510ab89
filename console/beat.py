"""The beat scheduler's public path, as deployments name it
(``celery -A config beat --scheduler console.beat:HeartbeatScheduler``)."""

from base.beat import HeartbeatScheduler

__all__ = ["HeartbeatScheduler"]
