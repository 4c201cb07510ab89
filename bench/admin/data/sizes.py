"""How big each part of the installation is, from --contacts and --messages."""

from dataclasses import dataclass

SMALL_GROUPS = 10
TINY_GROUPS = 3000
SMALL_CAMPAIGNS = 40
PENDING_CAMPAIGNS = 8
SMALL_RUNS = 250


@dataclass
class Sizes:
    contacts: int
    messages: int

    @property
    def big_runs(self) -> int:
        """Runs to the whole base: about four fifths of the messages."""
        return max(1, self.messages * 4 // 5 // self.contacts)

    @property
    def small_size(self) -> int:
        """Members of a small group: the rest of the messages over the small runs."""
        rest = self.messages - self.big_runs * self.contacts
        return max(1, min(self.contacts // SMALL_GROUPS, rest // SMALL_RUNS))
