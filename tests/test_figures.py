"""Figures readable where the site shows them: no text under 9 pt at the page's width, no PNG
shown at under half its pixels, nothing drawn off the canvas or under a legend, one colour per
search with the seed protocol grey, configurations named by their hyperparameters."""

from __future__ import annotations

import io
import re

import matplotlib.image
import matplotlib.legend
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from course.report import figures, render
from course.report.evidence import Evidence
from tests.conftest import ROOT

COMMITTED = ROOT / "docs" / "generated"


def _labelled(width: float, size: float) -> Figure:
    with plt.rc_context(figures.STYLE):
        fig, ax = plt.subplots(figsize=(width, 2.5), layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("the label under test", fontsize=size)
    return fig


def test_png_refuses_text_the_page_would_show_under_9_pt() -> None:
    with pytest.raises(figures.IllegibleFigure, match=r"'the label under test' is shown at 5"):
        figures.png(_labelled(figures.WIDTH, 5))
    # 10 pt, but on a figure three times the column's width: shrunk to a third on the page
    with pytest.raises(figures.IllegibleFigure, match=f"over {figures.MAX_PNG_PX} px") as error:
        figures.png(_labelled(3 * figures.WIDTH, 10))
    assert re.search(r"'the label under test' is shown at 3\.\d pt", str(error.value))
    data = figures.png(_labelled(figures.WIDTH, 9))  # the house style's smallest: accepted
    assert data.startswith(b"\x89PNG")
    assert figures.png_width(data) <= figures.MAX_PNG_PX


def test_shown_size_follows_the_column_and_the_dpi() -> None:
    column = figures.DISPLAY_PX
    assert figures.shown_pt(9, column, dpi=96) == 9  # 1:1, CSS's 96 px to the inch
    assert figures.shown_pt(9, 2 * column, dpi=96) == 4.5  # shrunk to the column
    assert figures.shown_pt(9, column // 2, dpi=96) == 9  # narrower: shown pixel for pixel
    assert figures.shown_pt(9, 2 * column, dpi=192) == 9


class Drawn:
    """One figure as `course report` draws it: the PNG, and what the Figure showed of its
    layout just before it was saved."""

    def __init__(self, data: bytes, nominal: tuple[float, float], covered: list[str]) -> None:
        self.data, self.nominal, self.covered = data, nominal, covered


def _covered(fig: Figure) -> list[str]:
    """Legends drawn over a plot area (any visible axes with its axis on, colour bars too)."""
    fig.canvas.draw()
    plots = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    return [f"{legend.texts[0].get_text()!r} over {ax.get_title()!r}"
            for legend in fig.findobj(matplotlib.legend.Legend)
            for ax in plots if legend.get_window_extent().overlaps(ax.bbox)]  # fmt: skip


@pytest.fixture(scope="module")
def evidence() -> Evidence:
    return Evidence.load(COMMITTED)


@pytest.fixture(scope="module")
def drawn(evidence: Evidence) -> dict[str, Drawn]:
    """Every figure the committed evidence has, drawn once through render's own plan."""
    real, found, now = figures.png, {}, {}

    def capture(fig: Figure) -> bytes:
        covered = _covered(fig)
        width, height = fig.get_size_inches() * figures.DPI
        now["figure"] = ((float(width), float(height)), covered)
        return real(fig)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(figures, "png", capture)
        for name, make in render._figures(evidence).items():
            data = make()
            found[name] = Drawn(data, *now["figure"])
    return found


def test_every_figure_saves_readable_and_at_most_twice_the_column(
    drawn: dict[str, Drawn],
) -> None:
    """`png` refused none (text under 9 pt as shown); each PNG is shown at half its pixels or
    more, stays small, is no larger than its canvas (nothing spilled off it) and is opaque."""
    assert {"paired", "scoreboard", "grid-search-cv-folds", "kt-hyperband-schedule"} <= set(drawn)
    pad = 2 * figures.PAD * figures.DPI + 2  # `png`'s crop padding, and a pixel of rounding
    for name, figure in drawn.items():
        width = figures.png_width(figure.data)
        height = int.from_bytes(figure.data[20:24], "big")
        assert width <= 2 * figures.DISPLAY_PX, name
        assert len(figure.data) < 250_000, name
        assert width <= figure.nominal[0] + pad and height <= figure.nominal[1] + pad, name
        pixels = matplotlib.image.imread(io.BytesIO(figure.data))  # opaque: the dark scheme
        assert pixels[..., 3].min() == 1.0, name  # shows black text on white, not on slate


def test_no_legend_covers_a_plot(drawn: dict[str, Drawn]) -> None:
    covered = {name: figure.covered for name, figure in drawn.items() if figure.covered}
    assert covered == {}


def test_one_colour_per_search_slug_and_the_seed_protocol_grey(evidence: Evidence) -> None:
    colours, styles = figures.colours(evidence), figures.styles(evidence)
    searches = evidence.searches
    assert set(colours) == set(searches["method"])
    seed = searches[searches["protocol"] == "seed"]
    assert not seed.empty and {colours[m] for m in seed["method"]} == {figures.SEED_GREY}
    clean = searches[searches["protocol"] == "clean"]
    by_slug = {slug: {colours[m] for m in rows["method"]} for slug, rows in clean.groupby("slug")}
    assert all(len(c) == 1 for c in by_slug.values())  # a slug's variants share its colour
    assert len({c for cs in by_slug.values() for c in cs}) == len(by_slug)  # no two slugs do
    assert figures.SEED_GREY not in {c for cs in by_slug.values() for c in cs}
    for _, rows in clean.groupby("slug"):  # ... and differ by line style
        assert len({styles[m]["ls"] for m in rows["method"]}) == len(rows)


def test_fold_spread_names_configurations_by_their_hyperparameters(evidence: Evidence) -> None:
    fig = figures.fold_spread(evidence, "grid-search-cv")
    ax = fig.axes[0]
    header = ax.texts[0].get_text()
    top, bottom = header.split("\n")
    above = {m.end(): m.group() for m in re.finditer(r"\S+", top)}  # right-aligned columns
    names = [above.get(m.end(), "") + m.group() for m in re.finditer(r"\S+", bottom)]
    assert names == evidence.tuned
    rows = [label.get_text() for label in ax.get_yticklabels()]
    trials = evidence.trials[evidence.trials["method"] == "grid-search-cv"]["trial"].nunique()
    assert len(rows) == trials and all(len(r.split()) == len(names) for r in rows)
    plt.close(fig)


def test_paired_is_one_triangle_of_the_clean_searches(evidence: Evidence) -> None:
    fig = figures.paired(evidence)
    ax = fig.axes[0]
    clean = list(evidence.searches.loc[evidence.searches["protocol"] == "clean", "method"])
    rows = [t.get_text() for t in ax.get_yticklabels()]
    columns = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == clean[1:] and columns == clean[:-1]
    cells = [t for t in ax.texts if re.fullmatch(r"[+-]\d+\.\d\*?", t.get_text())]
    assert len(cells) == len(clean) * (len(clean) - 1) // 2
    plt.close(fig)
