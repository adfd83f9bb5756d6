"""The course's plots: the style is applied explicitly (importing the module changes nothing), every
plotting function draws in it, and figures are saved byte-stable under the project."""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alpaca_lessons.common import plots  # noqa: E402


def test_importing_plots_leaves_rcparams_untouched():
    code = ("import matplotlib; before = dict(matplotlib.rcParams); import alpaca_lessons.common.plots; "
            "after = dict(matplotlib.rcParams); print(sorted(k for k in before if before[k] != after[k]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_course_style_applies_inside_and_restores_after():
    before = matplotlib.rcParams["axes.spines.top"], matplotlib.rcParams["savefig.dpi"]
    with plots.course_style():
        assert matplotlib.rcParams["axes.spines.top"] is False and matplotlib.rcParams["savefig.dpi"] == 120
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"][0] == "#3b6ea8"
    assert (matplotlib.rcParams["axes.spines.top"], matplotlib.rcParams["savefig.dpi"]) == before


def test_plotting_functions_draw_in_the_course_style_without_leaking_it():
    with matplotlib.rc_context({"axes.spines.top": True, "axes.grid": False}):
        fig = plots.histograms({"a": [1, 2, 2, 3]}, bins=3)
        ax = fig.axes[0]
        assert not ax.spines["top"].get_visible() and ax.xaxis.get_gridlines()[0].get_visible()
        assert matplotlib.rcParams["axes.spines.top"] is True  # the caller's setting is back
    plt.close(fig)


def test_figures_are_saved_under_the_project(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPACA_LESSONS_FIGURES", str(tmp_path))
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    first = plots.save_figure(fig, "t")
    content = first.read_bytes()
    plots.save_figure(fig, "t")
    assert first == tmp_path / "t.png" and first.read_bytes() == content  # byte-stable reruns
    plt.close(fig)


def test_novelty_benchmark_figure_draws_both_series():
    # Points are [pool size, seconds, pairs scored so far].
    results = {"prefix": {"series": {"reference": [[175, 0.0, 0], [275, 1.0, 22500], [375, 3.0, 55000]],
                                     "fast": [[175, 0.0, 0], [275, 0.01, 22500], [375, 0.02, 55000]]}},
               "full": {"candidates": 2000, "series": [[175, 0.0, 0], [1175, 0.5, 675000], [2175, 1.2, 2350000]]}}
    fig = plots.novelty_benchmark_figure(results)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert ax.get_yscale() == "log" and len(lines) == 4
    full = next(line for label, line in lines.items() if label.startswith("fast") and "2,000" in label)
    assert list(full.get_xdata()) == [1175, 2175]  # the zero-time start is left out on a log axis
    extrapolated = next(line for label, line in lines.items() if "extrapolated" in label)
    assert list(extrapolated.get_ydata()) == pytest.approx([675000 * 3.0 / 55000, 2350000 * 3.0 / 55000])
    plt.close(fig)


def test_gpu_benchmark_figure_shows_throughput_and_memory():
    throughput = [{"name": "padded 4", "tokens_per_s": 100.0, "mfu": 0.25}, {"name": "failed", "error": "oom"},
                  {"name": "packed 16", "tokens_per_s": 300.0, "mfu": None}]
    memory = [{"name": "bf16", "predicted_mib": 2048.0, "measured_mib": 1024.0}]
    fig = plots.gpu_benchmark_figure(throughput, memory)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_yticklabels()] == ["padded 4", "packed 16"]  # the failed row left out
    assert [p.get_width() for p in left.patches] == [100.0, 300.0]
    assert [t.get_text() for t in left.texts] == [" 25.0% MFU"]
    assert sorted(p.get_width() for p in right.patches) == [1.0, 2.0]  # GiB
    plt.close(fig)


def test_a_notebook_shows_every_course_figure(tmp_path):
    """In a real kernel with the inline backend, the second styled figure is shown too (restoring all rcParams
    after the first one once switched interactive mode off, and no later figure appeared)."""
    import nbformat
    from nbclient import NotebookClient

    draw = (f"from alpaca_lessons.common.plots import histograms, save_figure\n"
            f"save_figure(histograms({{'a': [1, 2, 3]}}), 'x', {str(tmp_path)!r})")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(draw) for _ in range(2)])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    shown = [[o for o in cell.outputs if "image/png" in o.get("data", {})] for cell in notebook.cells]
    assert [len(images) for images in shown] == [1, 1]
