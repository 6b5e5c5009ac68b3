"""Figures sized for the book's content column, with text a reader can read.

Why this module exists: a figure drawn wider than the column is shrunk by the browser, and its
labels with it; at the default sizes several of the book's figures ended up with 5 to 7 pixel
text. `use_book_style` sets one set of sizes for every chapter (the column's width, fonts no
smaller than `MIN_FONT_PT`), and makes every figure a notebook shows, directly or through
myst-nb's `glue`, a PNG at `FIGURE_DPI` that records the size of its smallest text in pixels
(the PNG text chunk `SMALLEST_FONT_KEY`). The browser test reads that record and the size at
which the page draws the image, and fails a figure whose text is under 9 px on screen.
"""

from __future__ import annotations

import io

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

FIGURE_DPI = 100
"""Pixels per inch of the PNGs in the book."""
CONTENT_WIDTH_IN = 6.9
"""Width of the content column at 1280 px, in inches at `FIGURE_DPI` (the column is ~690 px)."""
MIN_FONT_PT = 8.0
"""Smallest font the book's style uses: 11 px at `FIGURE_DPI` when drawn at full size."""
SMALLEST_FONT_KEY = "Smallest-Font-Px"
"""PNG text chunk holding the height of the figure's smallest font, in image pixels."""
NO_DATA_COLOUR = "#ff00ff"
"""Colour for *no data* in images: magenta, which none of the book's colour maps contains."""

BOOK_RC = {
    "figure.figsize": (CONTENT_WIDTH_IN, 4.4),
    "figure.dpi": FIGURE_DPI,
    "savefig.dpi": FIGURE_DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 12,
}


def _drawable(fig: Figure) -> None:
    """Give ``fig`` a canvas that can draw, if it lost its own.

    `plt.close` leaves a closed figure with matplotlib's base canvas, which cannot render;
    the chapters close a figure before they glue it, so that it is shown only once.
    """
    if not hasattr(fig.canvas, "get_renderer"):
        FigureCanvasAgg(fig)


def smallest_font_pt(fig: Figure) -> float:
    """Size in points of the smallest visible, non-empty text of ``fig``."""
    _drawable(fig)
    fig.canvas.draw()  # tick labels exist only once the figure has been drawn
    sizes = [
        text.get_fontsize()
        for text in fig.findobj(Text)
        if text.get_visible() and text.get_text().strip() and _on_figure(text)
    ]
    return min(sizes) if sizes else float(matplotlib.rcParams["font.size"])


def _on_figure(text: Text) -> bool:
    """Whether the text is drawn at all (tick labels outside the axes' limits are not)."""
    renderer = text.figure.canvas.get_renderer() if text.figure is not None else None
    if renderer is None:
        return False
    box = text.get_window_extent(renderer)
    figure_box = text.figure.bbox
    return box.width > 0 and box.overlaps(figure_box)


def figure_png(fig: Figure) -> bytes:
    """``fig`` as PNG bytes at `FIGURE_DPI`, trimmed to its content, with its smallest font."""
    font_px = smallest_font_pt(fig) * FIGURE_DPI / 72
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="png",
        dpi=FIGURE_DPI,
        bbox_inches="tight",
        facecolor="white",
        metadata={SMALLEST_FONT_KEY: f"{font_px:.2f}"},
    )
    return buffer.getvalue()


def use_book_style() -> None:
    """Set the book's figure sizes and fonts, and show every figure through `figure_png`.

    Outside IPython only the sizes are set. Inside, the inline backend is resolved first (it
    registers its own PNG formatter and settings when it loads), then replaced.
    """
    import matplotlib.pyplot as plt

    plt.switch_backend(matplotlib.get_backend())
    matplotlib.rcParams.update(BOOK_RC)
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    formatter = shell.display_formatter.formatters["image/png"]
    formatter.for_type(Figure, figure_png)
