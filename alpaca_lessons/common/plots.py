"""One look for every plot in the course, and saving under ``figures/``.

The course's look (``COURSE_STYLE``) is applied explicitly, never by importing this module: every function
here draws or saves inside ``course_style()``, and a notebook cell that draws with matplotlib directly can
use ``with course_style(): ...`` itself. Outside it ``matplotlib.rcParams`` stay as the user set them.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

from alpaca_lessons.common.atomic import atomic_write
from alpaca_lessons.common.paths import figures_dir, project_root

COURSE_STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.prop_cycle": matplotlib.cycler(color=["#3b6ea8", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#2e4057"]),
}

_Function = TypeVar("_Function", bound=Callable[..., Any])


@contextmanager
def course_style() -> Iterator[None]:
    """Draw (or save) with the course's look inside the block; the style's own settings come back after it.

    Only the keys of ``COURSE_STYLE`` are restored, not every rcParam as ``matplotlib.rc_context`` would: the
    notebook's inline backend sets itself up (interactive mode on) the first time a figure is made, and
    restoring everything would undo that, so no later figure would be shown."""
    saved = {key: matplotlib.rcParams[key] for key in COURSE_STYLE}
    matplotlib.rcParams.update(COURSE_STYLE)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def _styled(function: _Function) -> _Function:
    """Run a plotting function inside ``course_style()``."""

    @functools.wraps(function)
    def styled(*args: Any, **kwargs: Any) -> Any:
        with course_style():
            return function(*args, **kwargs)

    return styled  # type: ignore[return-value]


def _finish(fig, ax, title: str):
    """Title the axes (when a title is given), tighten the layout, and hand the figure back."""
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig

@_styled
def save_figure(fig, name: str, folder: str | Path | None = None) -> Path:
    """Save ``fig`` as ``<folder>/<name>.png``, by default under ``figures/`` (no timestamp in the file, so
    reruns are byte-stable).

    Returns the path relative to the project when the figure lands inside it, so notebooks print the
    same thing on every machine."""
    target = Path(folder) if folder is not None else figures_dir()
    png = io.BytesIO()
    fig.savefig(png, format="png", metadata={"Software": None})
    path = atomic_write(target / f"{name}.png", png.getvalue())
    try:
        return path.relative_to(project_root())
    except ValueError:
        return path


@_styled
def histograms(series: dict[str, Sequence[float]], *, bins: int = 30, xlabel: str = "", title: str = ""):
    """Side-by-side histograms, one panel per named series; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(series), figsize=(4 * len(series), 3), squeeze=False)
    for ax, (label, values) in zip(axes[0], series.items(), strict=True):
        ax.hist(values, bins=bins, color="#3b6ea8", alpha=0.85)
        ax.set_title(label)
        ax.set_xlabel(xlabel)
    axes[0][0].set_ylabel("count")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


@_styled
def binned_histograms(series: dict[str, dict[str, Sequence[float]]], *, xlabel: str = "", title: str = "",
                      density: bool = True):
    """Overlaid histograms from counts already binned (``{"edges": [...], "counts": [...]}`` per series), so a
    committed result can be drawn without its raw values; ``density`` scales each to a share per bin."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for label, hist in series.items():
        counts = list(hist["counts"])
        total = sum(counts) if density else 1
        ax.stairs([c / total for c in counts], hist["edges"], label=f"{label} (n={sum(counts):,})", linewidth=1.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of instructions" if density else "count")
    ax.legend(frameon=False)
    return _finish(fig, ax, title)


@_styled
def sunburst(ax, tree: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str = "",
             min_label_degrees: float = 3.0) -> None:
    """A two-ring sunburst on ``ax``: the inner ring the parents, the outer ring each parent's children,
    every wedge sized by its value (a parent spans its children). Labels run along the radius and stay
    upright; wedges narrower than ``min_label_degrees`` go unlabelled."""
    import numpy as np
    from matplotlib.patches import Wedge

    total = sum(value for _, children in tree for _, value in children)
    colors = matplotlib.colormaps["tab20"].resampled(max(len(tree), 1))
    inner, middle, outer = 0.28, 0.62, 1.0
    angle = 90.0  # start at the top, go clockwise like a clock

    def label(text: str, mid: float, radius: float, size: float) -> None:
        theta = np.deg2rad(mid)
        along = ((mid + 180) % 360) - 180  # the radius's direction in [-180, 180)
        upright = along if -90 <= along <= 90 else along - 180  # flip the left half so text never reads upside down
        ax.text(radius * np.cos(theta), radius * np.sin(theta), text, rotation=upright,
                ha="center", va="center", fontsize=size, rotation_mode="anchor")

    for k, (parent, children) in enumerate(tree):
        span = 360.0 * sum(v for _, v in children) / total
        color = np.array(colors(k))
        ax.add_patch(Wedge((0, 0), middle, angle - span, angle, width=middle - inner, facecolor=color,
                           edgecolor="white", linewidth=1))
        if span >= min_label_degrees:
            label(parent, angle - span / 2, (inner + middle) / 2, 8)
        child_angle = angle
        for j, (child, value) in enumerate(children):
            child_span = 360.0 * value / total
            shade = color * 0.55 + 0.45 if j % 2 == 0 else color * 0.35 + 0.65
            ax.add_patch(Wedge((0, 0), outer, child_angle - child_span, child_angle, width=outer - middle,
                               facecolor=np.clip(shade, 0, 1), edgecolor="white", linewidth=0.6))
            if child_span >= min_label_degrees:
                label(child, child_angle - child_span / 2, (middle + outer) / 2, 6.5)
            child_angle -= child_span
        angle -= span
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)


@_styled
def sunbursts(trees: dict[str, Sequence[tuple[str, Sequence[tuple[str, float]]]]], *, size: float = 6.0):
    """One sunburst per named tree, side by side; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(trees), figsize=(size * len(trees), size), squeeze=False)
    for ax, (title, tree) in zip(axes[0], trees.items(), strict=True):
        sunburst(ax, tree, title=title)
    fig.tight_layout()
    return fig


@_styled
def training_curves(logs: dict[str, Sequence[dict]], *, title: str = ""):
    """Loss per optimizer step for each named training log (records with ``step`` and ``loss``), and the
    learning rate of the first log on a second axis."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for label, log in logs.items():
        ax.plot([r["step"] for r in log], [r["loss"] for r in log], label=label, linewidth=1.5)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (nats per target token)")
    first = next(iter(logs.values()))
    lr_axis = ax.twinx()
    lr_axis.plot([r["step"] for r in first], [r["lr"] for r in first], color="#999999", linewidth=1, linestyle=":")
    lr_axis.set_ylabel("learning rate (dotted)")
    lr_axis.grid(False)
    ax.legend(frameon=False)
    return _finish(fig, ax, title)


@_styled
def stacked_bars(rows: dict[str, dict[str, float]], *, limits: dict[str, float] | None = None, xlabel: str = "",
                 title: str = ""):
    """Horizontal bars, one per row, stacked from its parts (e.g. GiB by kind of memory); ``limits`` draws
    a tick at each row's capacity."""
    import matplotlib.pyplot as plt

    labels = list(rows)
    parts = list(dict.fromkeys(p for row in rows.values() for p in row))
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(labels) + 1.2))
    left = [0.0] * len(labels)
    for part in parts:
        values = [rows[label].get(part, 0.0) for label in labels]
        ax.barh(labels, values, left=left, label=part)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, label in enumerate(labels):
        if limits and label in limits:
            ax.plot([limits[label]] * 2, [y - 0.4, y + 0.4], color="black", linewidth=2)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.legend(frameon=False, ncol=len(parts), loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8)
    if title:
        ax.set_title(title, pad=24)
    fig.tight_layout()
    return fig


@_styled
def mask_figure(mask, *, title: str = ""):
    """A boolean attention mask (query rows, key columns) as an image: filled where attention is allowed."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    ax.imshow(mask, cmap="Blues", interpolation="nearest")
    ax.set_xlabel("key position")
    ax.set_ylabel("query position")
    ax.grid(False)
    return _finish(fig, ax, title)


@_styled
def power_curves(win_rates: Sequence[float], tie_rate: float, sizes: Sequence[int], *, mark: int | None = None):
    """Exact power of the two-sided sign test (5% level) against the number of comparisons, one curve per
    true win rate (ties as half, ties at ``tie_rate``); ``mark`` draws a dashed line at one size."""
    import matplotlib.pyplot as plt

    from alpaca_lessons.common.stats import sign_test_power

    fig, ax = plt.subplots(figsize=(6, 3))
    for rate in win_rates:
        p_win = 0.5 + (rate - 0.5) / (1 - tie_rate)
        ax.plot(sizes, [sign_test_power(round(n * (1 - tie_rate)), p_win) for n in sizes],
                label=f"true win rate {rate:.0%}")
    if mark is not None:
        ax.axvline(mark, color="grey", linestyle="--", label=f"{mark} comparisons")
    ax.axhline(0.8, color="grey", linewidth=0.5)
    ax.set(xlabel="comparisons (ties included)", ylabel="power of the sign test")
    ax.legend()
    return fig


@_styled
def novelty_benchmark_figure(results: dict[str, Any]):
    """Elapsed time against pool size for rouge-score's filter and the fast one, from the results
    ``benchmarks/novelty_benchmark.py`` writes; log scale. The reference is also extrapolated to
    the full run by its measured time per pair (its cost is proportional to the pairs it scores).
    Series points are ``[pool size, seconds, pairs scored so far]``."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    prefix, full = results["prefix"], results["full"]

    def draw(points: list[list[float]], label: str, **style: Any) -> None:
        points = [p for p in points if p[1] > 0]  # a log axis has no 0
        ax.plot([p[0] for p in points], [p[1] for p in points], label=label, **style)

    reference = prefix["series"]["reference"]
    per_pair = reference[-1][1] / reference[-1][2]
    draw(reference, "rouge-score (reference), measured", color="#d1495b", linewidth=2)
    draw([[p[0], p[2] * per_pair, p[2]] for p in full["series"]],
         "rouge-score, extrapolated from its time per pair", color="#d1495b", linestyle="--")
    draw(prefix["series"]["fast"], "fast filter, the same prefix", color="#3b6ea8", linewidth=2)
    draw(full["series"], f"fast filter, all {full['candidates']:,} candidates", color="#3b6ea8", linestyle=":")
    ax.set_yscale("log")
    ax.set_xlabel("pool size (instructions)")
    ax.set_ylabel("elapsed time (s)")
    ax.set_title("Exact ROUGE-L novelty filter: time to grow the pool")
    ax.legend()
    fig.tight_layout()
    return fig


@_styled
def gpu_benchmark_figure(throughput: Sequence[dict[str, Any]], memory: Sequence[dict[str, Any]]):
    """Useful tokens/s by batching (MFU on each bar) beside the memory estimate against the measured peaks:
    the ``throughput`` and ``memory`` parts of ``benchmarks/gpu_finetune.py``'s results
    (``training.gpu_benchmark.part``); rows with an ``error`` are left out."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    done = [r for r in throughput if "error" not in r]
    bars = left.barh([r["name"] for r in done], [r["tokens_per_s"] for r in done], color="#4C72B0")
    for bar, row in zip(bars, done, strict=True):
        if row["mfu"] is not None:
            left.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {row['mfu']:.1%} MFU", va="center")
    left.invert_yaxis()
    left.set_xlabel("useful (non-pad) tokens per second")
    left.set_title("throughput by batching")
    positions = range(len(memory))
    right.barh([p - 0.2 for p in positions], [m["predicted_mib"] / 1024 for m in memory], height=0.4,
               label="estimate", color="#DD8452")
    right.barh([p + 0.2 for p in positions], [m["measured_mib"] / 1024 for m in memory], height=0.4,
               label="measured peak", color="#55A868")
    right.set_yticks(list(positions), [m["name"] for m in memory], fontsize=8)
    right.invert_yaxis()
    right.set_xlabel("GiB")
    right.set_title("memory: estimate vs torch.cuda peak")
    right.legend(loc="lower right")
    fig.tight_layout()
    return fig
