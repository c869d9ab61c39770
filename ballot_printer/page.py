"""Page primitives shared by every printed page: units, colours, the page sizes, the items a page
spec is made of (text, rectangles, lines, circles) and the Chinese line-breaking rule.

Pure values: a layout builds a `PageSpec` from these, and `render` draws it with reportlab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal

__all__ = [
    "BLACK",
    "MM",
    "NO_LINE_END",
    "NO_LINE_START",
    "NUMERALS",
    "WHITE",
    "Align",
    "Circle",
    "Color",
    "Line",
    "PageItem",
    "PageSize",
    "PageSpec",
    "Rect",
    "Text",
    "TextMeasure",
]

MM: Final = 72.0 / 25.4
Color = tuple[float, float, float]
TextMeasure = Callable[[str, float], float]
Align = Literal["left", "center", "right"]

BLACK: Final[Color] = (0.0, 0.0, 0.0)
WHITE: Final[Color] = (1.0, 1.0, 1.0)

# Section numbers of a notice or a form: 一、二、三、...
NUMERALS: Final = "一二三四五六七八九十"
# Lines may not start with these (Chinese line-breaking rule, 避头点).
NO_LINE_START: Final = frozenset("，。、；：？！”’）》」』·…")
NO_LINE_END: Final = frozenset("“‘（《「『")


class PageSize(Enum):
    """Paper sizes in points (portrait)."""

    A4 = (210 * MM, 297 * MM)
    A5 = (148 * MM, 210 * MM)

    @property
    def width(self) -> float:
        """Page width in points."""
        return float(self.value[0])

    @property
    def height(self) -> float:
        """Page height in points."""
        return float(self.value[1])


# --- page spec primitives -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """One line of text; `y` is the baseline."""

    x: float
    y: float
    text: str
    size: float
    align: Align = "left"
    color: Color = BLACK


@dataclass(frozen=True, slots=True)
class Rect:
    """A rectangle; `(x, y)` is the lower-left corner."""

    x: float
    y: float
    w: float
    h: float
    stroke: Color | None = BLACK
    fill: Color | None = None
    line_width: float = 0.8


@dataclass(frozen=True, slots=True)
class Line:
    """A straight line."""

    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.8
    color: Color = BLACK


@dataclass(frozen=True, slots=True)
class Circle:
    """A filled circle (used for the deputy band pattern)."""

    x: float
    y: float
    r: float
    fill: Color


PageItem = Text | Rect | Line | Circle


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A page: size and the items to draw, in drawing order."""

    width: float
    height: float
    items: tuple[PageItem, ...]
