"""kombu's filesystem transport (the embedded broker), with atomic message files.

kombu writes a message file in place: a worker listing the folder at that moment can
take the file while it is still empty and die on it ("Unrecoverable error:
JSONDecodeError", celery/kombu#1551) — seen here under load with web, worker and beat
on one machine. Here a message is written under a temporary name the readers ignore,
then renamed into place, which is atomic on one filesystem.
"""

import logging
import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    # (kombu's own type stubs disagree on this method's signature)
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"  # not "<queue>.msg": readers skip it
        try:
            with open(partial, "wb", buffering=0) as out:
                out.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        while True:
            try:
                return super()._get(queue)
            except ValueError:
                # A file some earlier writer left half-written: it is removed by
                # now; losing it beats a worker that dies on it at every start.
                logger.error("skipped an unreadable message file in queue %s", queue)


class Transport(filesystem.Transport):
    Channel = Channel
