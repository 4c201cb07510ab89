"""Where the arrows of the flow picture run: steps sit on a grid of boxes, and each
arrow is a polyline of horizontal and vertical segments that keep to the gaps
between rows and between columns, so it never crosses a step's box.

An arrow leaves its step through the bottom (the ways out side by side), runs in the
gap under the step's row, and enters its target through the top (the ways in side by
side). When the target is not on the next row (a loop back, a way that skips rows,
a way to a step on the same row) it climbs or falls in a gap between columns.
"""

from collections import Counter
from dataclasses import dataclass

Point = tuple[int, int]
Place = tuple[int, int]  # (column, row)


@dataclass(frozen=True)
class Grid:
    box_w: int
    box_h: int
    gap_x: int
    gap_y: int
    margin: int

    def corner(self, place: Place) -> Point:
        """The top left corner of the box at ``place``."""
        column, row = place
        return (
            self.margin + column * (self.box_w + self.gap_x),
            self.margin + row * (self.box_h + self.gap_y),
        )


def _spread(start: int, size: int, index: int, count: int) -> int:
    """The ``index``-th of ``count`` points spread evenly inside ``size``."""
    return start + size * (index + 1) // (count + 1)


def routes(
    grid: Grid, places: dict[int, Place], ways: list[tuple[int, int]]
) -> list[list[Point]]:
    """One polyline per (source, target) of ``ways``, in their order; each starts
    on the bottom side of its source's box and ends on the top side of its
    target's."""
    out_count = Counter(source for source, _ in ways)
    in_count = Counter(target for _, target in ways)
    out_seen: Counter[int] = Counter()
    in_seen: Counter[int] = Counter()
    # How many arrows already climb or fall in each gap between columns, named by
    # the column on its left: each gets a lane of its own.
    lanes: Counter[int] = Counter()
    lane_room = max(1, (grid.gap_x - 12) // 6)
    lines = []
    for source, target in ways:
        (sx, sy), (tx, ty) = grid.corner(places[source]), grid.corner(places[target])
        exit_index = out_seen[source]
        out_seen[source] += 1
        entry_index = in_seen[target]
        in_seen[target] += 1
        ex = _spread(sx, grid.box_w, exit_index, out_count[source])
        ey = sy + grid.box_h
        nx = _spread(tx, grid.box_w, entry_index, in_count[target])
        (s_column, s_row), (t_column, t_row) = places[source], places[target]
        # Runs under the source's row and over the target's row keep to two bands of
        # the gap between rows, the ways out and in each a little apart.
        below = ey + 8 + 6 * ((exit_index + s_column) % 3)
        above = ty - 10 - 6 * (entry_index % 3)
        if t_row == s_row + 1:
            lines.append([(ex, ey), (ex, below), (nx, below), (nx, ty)])
            continue
        if t_row > s_row and t_column < s_column:
            gap = s_column - 1  # falls on the left of its source
        elif t_row > s_row:
            gap = s_column  # falls on the right of its source
        else:
            gap = max(s_column, t_column)  # goes back round the right
        lane = grid.corner((gap, 0))[0] + grid.box_w + 8 + 6 * (lanes[gap] % lane_room)
        lanes[gap] += 1
        lines.append(
            [
                (ex, ey),
                (ex, below),
                (lane, below),
                (lane, above),
                (nx, above),
                (nx, ty),
            ]
        )
    return lines


def polyline_path(points: list[Point]) -> str:
    """SVG path data through ``points``, without the points that add no turn."""
    kept = [points[0]]
    for point, after in zip(points[1:], [*points[2:], None], strict=True):
        if point == kept[-1]:
            continue
        if after is not None and (
            kept[-1][0] == point[0] == after[0] or kept[-1][1] == point[1] == after[1]
        ):
            continue
        kept.append(point)
    return "M" + " L".join(f"{x},{y}" for x, y in kept)
