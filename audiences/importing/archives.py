"""XLSX, XLSM and ODS files are zip archives: checked before anything inflates them.

A few megabytes of zip can inflate to gigabytes (a zip bomb). The sizes the archive
records for its members are checked against IMPORT_MAX_INFLATED_BYTES first, and how
many times over each would inflate against MAX_RATIO; then
every member is inflated once, as a stream, counting what really comes out and
checking it against the recorded size and checksum, so an archive that lies about its
sizes is stopped at the size it claimed.
"""

import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings

from .sheet import UnreadableFile

CHUNK = 1 << 20
# Real workbooks inflate 5 to 20 times over; a zip bomb hundreds or thousands of
# times. A member past RATIO_FROM bytes may inflate at most MAX_RATIO times over.
MAX_RATIO = 100
RATIO_FROM = 8 << 20


def size_text(size: int) -> str:
    if size < 1 << 20:
        return f"{size:,} bytes"
    return f"{size / (1 << 20):,.0f} MB"


def archive_open(path: Path, kind: str) -> zipfile.ZipFile:
    """The archive at ``path``, whose recorded sizes are within the limit.

    Raises UnreadableFile when it is no zip archive, or would inflate past
    IMPORT_MAX_INFLATED_BYTES.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"This file is not an {kind} workbook, or it is damaged: it should be a "
            f"zip archive and is not one ({exc})."
        ) from None
    limit = settings.IMPORT_MAX_INFLATED_BYTES
    members = archive.infolist()
    total = sum(info.file_size for info in members)
    if total > limit:
        largest = max(members, key=lambda info: info.file_size)
        archive.close()
        raise UnreadableFile(
            f"This {kind} workbook would inflate to {size_text(total)} once unpacked "
            f"({largest.filename} alone {size_text(largest.file_size)}), more than "
            f"the {size_text(limit)} Flowcast unpacks (IMPORT_MAX_INFLATED_BYTES)."
        )
    for info in members:
        if info.file_size > RATIO_FROM and (
            info.file_size > MAX_RATIO * max(info.compress_size, 1)
        ):
            archive.close()
            raise UnreadableFile(
                f"This {kind} workbook looks like a zip bomb: {info.filename} would "
                f"inflate {info.file_size // max(info.compress_size, 1):,} times "
                f"over, from {size_text(info.compress_size)} to "
                f"{size_text(info.file_size)} (a real workbook inflates less than "
                f"{MAX_RATIO} times)."
            )
    return archive


def member_chunks(archive: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """The inflated bytes of member ``name``, a chunk at a time.

    Raises UnreadableFile when the member inflates to more or other bytes than the
    archive records for it (zipfile stops at the recorded size and checks the
    checksum), or past IMPORT_MAX_INFLATED_BYTES.
    """
    limit = settings.IMPORT_MAX_INFLATED_BYTES
    read = 0
    try:
        with archive.open(name) as stream:
            while chunk := stream.read(CHUNK):
                read += len(chunk)
                if read > limit:
                    raise UnreadableFile(
                        f"{name} inflates past the {size_text(limit)} Flowcast "
                        "unpacks (IMPORT_MAX_INFLATED_BYTES)."
                    )
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise UnreadableFile(
            f"The workbook is damaged: {name} does not inflate to the size and "
            f"checksum its archive records for it ({exc})."
        ) from None
    except NotImplementedError as exc:  # an unknown compression method
        raise UnreadableFile(f"{name} cannot be unpacked: {exc}.") from None


def archive_verify(
    archive: zipfile.ZipFile, scan: Callable[[str, Iterator[bytes]], None]
) -> None:
    """Inflate every member once, as a stream, checking its size and checksum;
    ``scan(name, chunks)`` consumes each member's chunks (and may look at them)."""
    for info in archive.infolist():
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise UnreadableFile(
                "The workbook is protected with a password: save it without one."
            )
        scan(info.filename, member_chunks(archive, info.filename))
