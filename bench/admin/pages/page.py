"""One page to request, and what its requests found."""

import statistics
from dataclasses import dataclass, field
from typing import Any

BIG_TABLE = 100_000  # rows: a table this big gets its column sorts timed


@dataclass
class Page:
    name: str
    url: str
    kind: str = "page"  # changelist, page2, search, change, custom ...
    model_admin: Any = None
    term: str = ""  # a search's term, to check the plans of its queries
    pair: str = ""  # the change pages of a big and a small object share this
    status: int = 0
    error: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else 0.0
