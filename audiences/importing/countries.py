"""Numbers an import read in the default country because they had no country code:
how many, and the first few as written, for the preview to say so."""

from typing import Any

from audiences.phones import region_named

from .values import ContactRow

SAMPLES = 2


class DefaultCountryNote:
    """Counts the rows whose number took the default country, keeping the first
    SAMPLES of them (row number, as written, as read)."""

    def __init__(self) -> None:
        self.count = 0
        self.samples: list[dict[str, Any]] = []

    def add(self, number: int, row: ContactRow) -> None:
        if not row.phone_without_country:
            return
        self.count += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(
                {"row": number, "written": row.phone_without_country, "read": row.phone}
            )

    def share(self) -> dict[str, Any]:
        """This process's count and samples, for the one that merges them."""
        return {"count": self.count, "samples": self.samples}

    def merge(self, other: dict[str, Any]) -> None:
        """Add another process's share."""
        self.count += other["count"]
        self.samples = sorted(self.samples + other["samples"], key=lambda s: s["row"])[
            :SAMPLES
        ]

    def as_dict(self) -> dict[str, Any]:
        """What the job keeps: the count, the country's name and the samples; empty
        when every number had its country code."""
        if not self.count:
            return {}
        return {"count": self.count, "country": region_named(), "samples": self.samples}
