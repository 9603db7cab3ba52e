"""Geometry of the dashboard's charts, drawn as SVG by the templates.

No chart library and nothing from outside: the server computes each bar's place
in a 320-unit-wide ``viewBox`` (a phone's width, so 12-unit text reads as about 12 px
there and scales with the screen), and the template draws rectangles and
labels. Each chart's numbers are also given to the template as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: Width of every chart's viewBox.
WIDTH = 320


def _scale(value: float, largest: float, length: float) -> float:
    return 0.0 if largest <= 0 else round(length * value / largest, 2)


@dataclass(frozen=True)
class Column:
    """One vertical bar of a column chart."""

    label: Any  # a date for months (the template formats it in the reader's language)
    value: int
    x: float
    y: float
    width: float
    height: float

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def value_y(self) -> float:
        return round(self.y - 3, 2)


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    height: int
    baseline: float
    total: int

    @property
    def width(self) -> int:
        return WIDTH

    @property
    def label_y(self) -> float:
        return self.height - 5


def column_chart(labels: Sequence[Any], values: Sequence[int], *, height: int = 150
                 ) -> ColumnChart:
    """Columns side by side over the full width: room above for the value, below for the label."""
    top, bottom = 16, 20
    baseline = height - bottom
    slot = WIDTH / max(1, len(values))
    largest = max(values, default=0)
    columns = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = _scale(value, largest, baseline - top)
        columns.append(Column(
            label=label, value=value, x=round(index * slot + slot * 0.15, 2),
            y=round(baseline - bar, 2), width=round(slot * 0.7, 2), height=bar,
        ))
    return ColumnChart(columns=columns, height=height, baseline=baseline, total=sum(values))


@dataclass(frozen=True)
class Bar:
    """One horizontal bar, its label on the line above it and its value at its end."""

    label: Any
    value: int
    label_y: float
    y: float
    width: float
    value_x: float

    @property
    def value_y(self) -> float:
        return self.y + 11


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    bar_height: int

    @property
    def width(self) -> int:
        return WIDTH


#: Room kept right of the longest bar for its value.
VALUE_ROOM = 40
ROW = 34
BAR_HEIGHT = 14


def bar_chart(rows: Sequence[tuple[Any, int]]) -> BarChart:
    """Ranked or ordered horizontal bars: readable at any width, long labels included."""
    largest = max((value for _label, value in rows), default=0)
    bars = []
    for index, (label, value) in enumerate(rows):
        top = index * ROW
        width = _scale(value, largest, WIDTH - VALUE_ROOM)
        bars.append(Bar(label=label, value=value, label_y=top + 12, y=top + 16,
                        width=width, value_x=round(width + 4, 2)))
    return BarChart(bars=bars, height=max(ROW, len(rows) * ROW), bar_height=BAR_HEIGHT)


@dataclass(frozen=True)
class Segment:
    key: str  # the CSS class and the legend entry
    value: int
    x: float
    width: float


@dataclass(frozen=True)
class StackedBar:
    label: Any
    total: int
    label_y: float
    y: float
    segments: list[Segment]
    total_x: float

    @property
    def value_y(self) -> float:
        return self.y + 11


@dataclass(frozen=True)
class StackedBarChart:
    bars: list[StackedBar]
    keys: list[str]
    height: int
    bar_height: int

    @property
    def width(self) -> int:
        return WIDTH


def stacked_bar_chart(rows: Sequence[tuple[Any, Sequence[int]]], keys: Sequence[str]
                      ) -> StackedBarChart:
    """Horizontal bars split into parts (``keys``), all on one scale: the largest total."""
    largest = max((sum(values) for _label, values in rows), default=0)
    bars = []
    for index, (label, values) in enumerate(rows):
        top = index * ROW
        x = 0.0
        segments = []
        for key, value in zip(keys, values, strict=True):
            width = _scale(value, largest, WIDTH - VALUE_ROOM)
            segments.append(Segment(key=key, value=value, x=round(x, 2), width=width))
            x += width
        bars.append(StackedBar(label=label, total=sum(values), label_y=top + 12, y=top + 16,
                               segments=segments, total_x=round(x + 4, 2)))
    return StackedBarChart(bars=bars, keys=list(keys), height=max(ROW, len(rows) * ROW),
                           bar_height=BAR_HEIGHT)
