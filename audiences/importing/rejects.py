"""The rejected rows of an import, as a CSV the operator can correct and import."""

import csv
import shutil
from pathlib import Path
from typing import IO, Any

from audiences.formulas import escape_formula

from .values import REPORT_COLUMNS, ContactRow, RowRejected, cell_text

PREVIEW = 100  # rejections kept on the job for the admin page


class RejectsFile:
    """The original cells of each rejected row, then its row number and reason.

    Written only once a row is rejected; ``preview`` keeps the first problems for the
    job's page. A part file (``with_header=False``) is one process's share of a file
    read on several cores, appended to the whole one afterwards.
    """

    def __init__(
        self, path: Path, header: list[str], *, with_header: bool = True
    ) -> None:
        self.path = path
        self.header = [cell for cell in header if cell.upper() not in REPORT_COLUMNS]
        self.with_header = with_header
        self.preview: list[dict[str, Any]] = []
        self.stream: IO[str] | None = None

    @property
    def written(self) -> bool:
        return self.stream is not None

    def _writer(self) -> Any:
        if self.stream is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.stream = self.path.open("w", newline="", encoding="utf-8")
            self.csv = csv.writer(self.stream)
            if self.with_header:
                self.csv.writerow([*self.header, *REPORT_COLUMNS])
        return self.csv

    def cells_of(self, row: ContactRow) -> list[Any]:
        """A valid row's values under the file's header, for rows rejected later."""
        # A header's case may differ from its variable's (nombre for NOMBRE).
        fields = {name.upper(): value for name, value in row.data.items()}
        fields.update(
            NAME=row.name,
            EMAIL=row.email,
            TIMEZONE=row.timezone,
            UNSUBSCRIBED="yes" if row.suppress else "",
        )
        return [row.phone] + [
            fields.get(title.upper(), "") for title in self.header[1:]
        ]

    def add(self, number: int, cells: list[Any], exc: RowRejected) -> None:
        # Cells are kept as the operator wrote them, but inert in a spreadsheet.
        texts = [escape_formula(cell_text(cell)) for cell in cells[: len(self.header)]]
        texts += [""] * (len(self.header) - len(texts))
        self._writer().writerow([*texts, number, str(exc)])
        for column, reason in exc.problems:
            if len(self.preview) < PREVIEW:
                self.preview.append({"row": number, "column": column, "reason": reason})

    def append(self, part: Path, preview: list[dict[str, Any]]) -> None:
        """Add a part file written by another process, and its preview."""
        if part.exists() and part.stat().st_size:
            self._writer()
            assert self.stream is not None
            self.stream.flush()
            with part.open(encoding="utf-8") as source:
                shutil.copyfileobj(source, self.stream)
        part.unlink(missing_ok=True)
        self.preview = sorted(self.preview + preview, key=lambda r: r["row"])[:PREVIEW]

    def remove(self) -> None:
        """Delete the file, and any part files left by processes that stopped."""
        self.close()
        self.path.unlink(missing_ok=True)
        for part in self.path.parent.glob(f"{self.path.stem}.part*"):
            part.unlink(missing_ok=True)

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.preview.sort(key=lambda r: r["row"])
