"""One look for every plot in the course, and saving under ``figures/``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

from .paths import figures_dir, project_root

matplotlib.rcParams.update({
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
})


def save_figure(fig, name: str) -> Path:
    """Save ``fig`` as ``figures/<name>.png`` (no timestamp in the file, so reruns are byte-stable).

    Returns the path relative to the project when the figure lands inside it, so notebooks print the
    same thing on every machine."""
    path = figures_dir() / f"{name}.png"
    fig.savefig(path, metadata={"Software": None})
    try:
        return path.relative_to(project_root())
    except ValueError:
        return path


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


def power_curves(win_rates: Sequence[float], tie_rate: float, sizes: Sequence[int], *, mark: int | None = None):
    """Exact power of the two-sided sign test (5% level) against the number of comparisons, one curve per
    true win rate (ties as half, ties at ``tie_rate``); ``mark`` draws a dashed line at one size."""
    import matplotlib.pyplot as plt

    from .stats import sign_test_power

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
