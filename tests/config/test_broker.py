"""The embedded broker (kombu's filesystem transport) writes messages atomically."""

import builtins
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection


def test_a_message_file_is_never_visible_to_readers_while_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import config.celery  # noqa: F401  (puts Flowcast's transport behind filesystem://)

    seen_while_writing: list[list[str]] = []
    real_open = builtins.open

    class Watched:
        def __init__(self, file: Any) -> None:
            self.file = file

        def write(self, data: bytes) -> int:
            # What a worker listing the folder now would take for a message.
            seen_while_writing.append([p.name for p in tmp_path.glob("*.jobs.msg")])
            return int(self.file.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.file, name)

        def __enter__(self) -> "Watched":
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

    def watching_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        opened = real_open(file, mode, *args, **kwargs)
        return Watched(opened) if "w" in mode and str(tmp_path) in str(file) else opened

    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("jobs")
        monkeypatch.setattr(builtins, "open", watching_open)
        queue.put({"n": 1})
        monkeypatch.setattr(builtins, "open", real_open)

        assert seen_while_writing == [[]]
        message = queue.get(timeout=2)
        assert message.payload == {"n": 1}
        message.ack()
        queue.close()


def test_an_unreadable_message_file_is_skipped_not_fatal(tmp_path: Path) -> None:
    import config.celery  # noqa: F401

    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
    }
    with Connection("filesystem://", transport_options=options) as connection:
        queue = connection.SimpleQueue("later")
        (tmp_path / "0_left-empty.later.msg").write_bytes(b"")  # an old crash's file
        queue.put({"n": 2})

        message = queue.get(timeout=2)

        assert message.payload == {"n": 2}
        message.ack()
        queue.close()
