"""Settings for benchmark workers: production settings, every channel kind sent
through a backend that does nothing, so the figures are Flowcast's own cost."""

from config.settings import *  # noqa: F403

MESSAGING_BACKENDS = dict.fromkeys(MESSAGING_BACKENDS, "bench.noop.NoopBackend")  # noqa: F405
