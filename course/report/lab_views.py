"""The Lab page's evidence, written under docs/generated/: its figures (figures/lab-*.png, each
with its `figure-lab-*.md` include) and its generated sentences and tables (lab-*.md).

`course lab` calls `render_lab` after writing the data, and `course report` calls it too, so a
report keeps the lab's evidence. Like the report it redraws only when something changed: a
manifest (`.lab.json`) keeps the fingerprints of the lab files and of the code that draws them,
and while they match nothing is loaded (this module imports neither pandas nor matplotlib
until it draws). Before `course lab` has run, every include says so, and the page still builds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from course.paths import GENERATED_DIR, write_changed
from course.report.markdown import HEADER, image

MANIFEST = ".lab.json"
NOT_RUN = "*The lab has not been run yet: `course lab` runs it and writes this evidence.*\n"
DATA = ("lab.csv.gz", "lab-searches.csv", "lab-tables.csv", "lab-importance.csv", "lab-theory.csv",
        "lab-curves.csv.gz", "lab-fidelity.csv.gz", "lab-replays.csv")  # fmt: skip
HERE = Path(__file__).parent
CODE = tuple(HERE / f"{name}.py" for name in ("lab", "lab_text", "lab_figures", "lab_views",
                                              "figures", "markdown", "fidelity",
                                              "fidelity_figures"))  # fmt: skip
PACKAGES = ("matplotlib", "numpy", "pandas", "scipy")
# Every figure: its drawing function (in `lab_figures`, or the module named), and its alt text.
FIGURES = {
    "lab-regret": ("regret", "Mean regret against evaluations for every method, one panel per "
                   "table, with 95 % bootstrap bands"),
    "lab-ranks": ("ranks", "Average rank of each method over the tables against evaluations"),
    "lab-final": ("final_regret", "Final regret of every search at the lab budget, a box per "
                  "method, one panel per table"),
    "lab-normalised": ("normalised", "Final regret over each table's gap, every table pooled, a "
                       "box per method"),
    "lab-cd": ("critical_difference", "Critical-difference diagram of the methods' average "
               "ranks over the tables"),
    "lab-grid": ("grid_random", "Random search's regret against evaluations beside a whole grid "
                 "of the same size, one panel per table"),
    "lab-importance": ("importance", "Spearman correlation of fANOVA's shares with the true "
                       "shares, and how often its top hyperparameter is right, by trials"),
    "lab-importance-shares": ("importance_shares", "True against estimated importance shares "
                              "of every hyperparameter, one panel per table"),
    "lab-selection": ("selection", "Selection loss and optimism of every method, a dot per "
                      "table"),
    "lab-theory": ("theory", "Random search's measured best observed value against the closed "
                   "form, in half-widths of its 95 % interval"),
    "lab-fidelity-regret": ("fidelity_figures.regret", "Mean regret against epochs spent on the "
                            "telecust curves, a line per replayed method, with 95 % bootstrap "
                            "bands"),
    "lab-fidelity-agreement": ("fidelity_figures.agreement", "Spearman correlation of the "
                               "configurations' ranking after each epoch with their final "
                               "ranking"),
    "lab-fidelity-curves": ("fidelity_figures.curves", "Median validation loss after each "
                            "epoch for each learning rate of the telecust curves"),
}  # fmt: skip
# Every include of sentences and tables: its writer (in `lab_text`, or the module named).
INCLUDES = {
    "lab-summary": "summary", "lab-tables": "tables_text", "lab-regret": "regret_text",
    "lab-ranks": "ranks_text", "lab-final": "final_text", "lab-friedman": "friedman_text",
    "lab-grid": "grid_text", "lab-importance": "importance_text",
    "lab-selection": "selection_text", "lab-theory": "theory_text", "lab-cost": "cost_text",
    "lab-fidelity": "fidelity.summary_text", "lab-fidelity-regret": "fidelity.regret_text",
    "lab-fidelity-agreement": "fidelity.agreement_text",
    "lab-fidelity-curves": "fidelity.curves_text",
}  # fmt: skip
FIDELITY = "fidelity"  # the multi-fidelity part's modules start so: they draw from its files


def fingerprints(generated: Path) -> dict[str, str | None]:
    """Each lab file's content hash (None where absent), and the drawing code's under "code"."""
    found: dict[str, str | None] = {}
    for name in DATA:
        path = generated / "data" / name
        found[name] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    versions = " ".join(f"{p}={metadata.version(p)}" for p in PACKAGES).encode()
    code = b"".join(path.read_bytes() for path in CODE) + versions
    found["code"] = hashlib.sha256(code).hexdigest()
    return found


def outputs() -> list[str]:
    """Every include the page pulls in, relative to docs/generated (the figures aside)."""
    return [f"{name}.md" for name in INCLUDES] + [f"figure-{name}.md" for name in FIGURES]


def _unavailable(lab_: Any) -> dict[str, str]:
    """The figures this lab's data cannot draw, with why."""
    from course.report import lab

    why = {}
    if lab.final_means(lab_).empty:
        why |= dict.fromkeys(("lab-ranks", "lab-cd"), "no table holds every method")
    if lab.grid_vs_random(lab_).empty:
        why["lab-grid"] = "the lab ran no grid or no random search"
    if lab.importance_summary(lab_).empty:
        why |= dict.fromkeys(("lab-importance", "lab-importance-shares"),
                             "the lab estimated no importance")  # fmt: skip
    if lab.theory_check(lab_).empty:
        why["lab-theory"] = "the lab has no closed-form points (no random search)"
    return why


def _products(generated: Path) -> dict[str, Callable[[], str | bytes]]:
    """Every file to write, by path relative to `generated`, each made when called."""
    if not (generated / "data" / DATA[0]).is_file():  # nothing to load: pandas stays unloaded
        return {name: (lambda: HEADER + NOT_RUN) for name in outputs()}
    import importlib

    from course.report import fidelity, lab

    lab_ = lab.load(generated)
    assert lab_ is not None
    fid = fidelity.load(generated)

    def source(name: str, default: str) -> tuple[Callable[[Any], Any], Any]:
        """The function a writer or drawing names, and the data it takes."""
        module, _, function = name.rpartition(".")
        found = importlib.import_module(f"course.report.{module or default}")
        return getattr(found, function), fid if module.startswith(FIDELITY) else lab_

    def include(writer: str) -> Callable[[], str]:
        def write() -> str:
            function, data = source(writer, "lab_text")
            return HEADER + function(data)

        return write

    def figure(function: str) -> Callable[[], bytes]:
        def draw() -> bytes:
            from course.report import figures

            drawing, data = source(function, "lab_figures")
            return figures.png(drawing(data))

        return draw

    missing = _unavailable(lab_)
    made: dict[str, Callable[[], str | bytes]] = {}
    for name, writer in INCLUDES.items():
        if writer.startswith(FIDELITY) and fid is None:
            made[f"{name}.md"] = lambda: HEADER + fidelity.NOT_RUN
        else:
            made[f"{name}.md"] = include(writer)
    for name, (function, alt) in FIGURES.items():
        if function.startswith(FIDELITY) and fid is None:
            made[f"figure-{name}.md"] = lambda: HEADER + fidelity.NOT_RUN
            continue
        if name in missing:
            text = f"{HEADER}*No figure: {missing[name]}.*\n"
            made[f"figure-{name}.md"] = lambda text=text: text
            continue
        made[f"figures/{name}.png"] = figure(function)
        made[f"figure-{name}.md"] = lambda name=name, alt=alt: HEADER + image(name, alt)
    return made


def render_lab(generated: Path = GENERATED_DIR) -> list[Path]:
    """Write the Lab page's figures and includes where the lab files or the code changed;
    returns the files written (a file whose bytes are unchanged is not rewritten)."""
    now = fingerprints(generated)
    try:
        old = json.loads((generated / MANIFEST).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        old = {}
    if old.get("inputs") == now and all((generated / p).is_file()
                                        for p in old.get("outputs", [])):  # fmt: skip
        return []
    products = _products(generated)
    made = {name: make() for name, make in products.items()}  # all first: a failure writes none
    written = [generated / name for name, content in made.items()
               if write_changed(generated / name, content)]  # fmt: skip
    for stale in (generated / "figures").glob("lab-*.png"):
        if f"figures/{stale.name}" not in made:
            stale.unlink()  # from a lab that drew more
    manifest = {"_generated": "Written by `course lab` and `course report`: what the lab's "
                "evidence was drawn from.", "inputs": now, "outputs": sorted(made)}  # fmt: skip
    write_changed(generated / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return written
