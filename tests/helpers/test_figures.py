"""The book's figure style: sizes for the column, and the smallest font recorded in each PNG."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from helpers import figures


def _recorded_px(png: bytes) -> float:
    with Image.open(io.BytesIO(png)) as image:
        return float(image.text[figures.SMALLEST_FONT_KEY])


def test_smallest_font_is_recorded_in_image_pixels() -> None:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlabel("distance (m)", fontsize=12)
    ax.tick_params(labelsize=10)
    ax.text(0.5, 0.5, "small note", fontsize=6)
    try:
        assert figures.smallest_font_pt(fig) == 6
        assert _recorded_px(figures.figure_png(fig)) == pytest.approx(
            6 * figures.FIGURE_DPI / 72, abs=0.01
        )
    finally:
        plt.close(fig)


def test_text_outside_the_figure_or_empty_does_not_count() -> None:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.text(50, 50, "far away, not drawn", fontsize=3)  # data coordinates off the axes
    ax.set_title("")
    ax.tick_params(labelsize=11)
    try:
        assert figures.smallest_font_pt(fig) == 11
    finally:
        plt.close(fig)


def test_book_style_fits_the_column_with_legible_fonts() -> None:
    with matplotlib.rc_context():
        figures.use_book_style()  # outside IPython: the sizes only
        width, _ = matplotlib.rcParams["figure.figsize"]
        assert width * figures.FIGURE_DPI <= 700
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend()
        ax.set_xlabel("x (m)")
        try:
            px = _recorded_px(figures.figure_png(fig))
        finally:
            plt.close(fig)
    # At full width in a ~690 px column the smallest text is at least 9 px.
    assert px >= 9 * figures.FIGURE_DPI * width / 690


def test_a_closed_figure_can_still_be_glued() -> None:
    """The chapters close a figure, then glue it: it must still render, with its record."""
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_title("closed before it is shown", fontsize=7)
    ax.tick_params(labelsize=12)
    plt.close(fig)
    png = figures.figure_png(fig)
    assert _recorded_px(png) == pytest.approx(7 * figures.FIGURE_DPI / 72, abs=0.01)
