"""The GPU benchmark script (run here in its CPU smoke mode) and gpu_benchmark, which reads its results."""

import importlib.util
import json
import sys
from pathlib import Path

import matplotlib
import pytest
import torch

from alpaca_lessons.common.plots import gpu_benchmark_figure
from alpaca_lessons.models.shapes import LLAMA_7B
from alpaca_lessons.training import gpu_benchmark
from alpaca_lessons.training.memory.estimate import GIB
from alpaca_lessons.training.memory.measure import GPU_CHECKS, Measurement

matplotlib.use("Agg")
SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_finetune.py"


def load_script():
    spec = importlib.util.spec_from_file_location("gpu_finetune", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return load_script()


@pytest.fixture(scope="module")
def smoke(script, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("gpu_smoke")
    out = folder / "results.json"
    assert script.main(["--smoke", "--parts", "correctness,throughput,projection", "--out", str(out),
                        "--work", str(folder / "work")]) == 0
    return json.loads(out.read_text())


@pytest.mark.slow
def test_smoke_run_measures_isolation_and_both_batchings_through_the_fsdp_entry_point(smoke):
    assert set(smoke["parts"]) == {"correctness", "throughput", "projection"}
    assert all(p["made"]["command"] and p["made"]["versions"]["torch"] for p in smoke["parts"].values())
    float32 = gpu_benchmark.part(smoke, "correctness")["float32"]
    exact = float32["attentions"]["sdpa"]
    assert exact["packed_vs_padded"] < 1e-5 and exact["packed_vs_alone"] < 1e-5
    assert float32["unmasked_packed_vs_alone"] > 1e-2  # without the mask, examples see each other
    padded, packed = gpu_benchmark.part(smoke, "throughput")
    assert (padded["name"], packed["name"]) == ("padded 4", "packed 16, sdpa")
    assert padded["pad_share"] > 0 and packed["pad_share"] == 0 and packed["tokens_per_s"] > 0
    assert packed["fsdp_units"] == {"LlamaDecoderLayer": 2, "LlamaForCausalLM": 1}
    assert packed["mfu"] is None and gpu_benchmark.part(smoke, "projection") == {}  # no GPU peak on a CPU


@pytest.mark.slow
def test_the_lesson_tables_and_figure_read_the_results(smoke, tmp_path):
    assert gpu_benchmark.made(smoke, "throughput").split(" · ")[1] == "CPU"
    assert gpu_benchmark.report(smoke)[0].startswith("Throughput of the training entry point")
    rows = gpu_benchmark.throughput_rows(smoke)
    assert len(rows) == 3 and rows[1].startswith("padded 4") and "  0%" in rows[2]
    assert len(gpu_benchmark.correctness_rows(smoke)) == 5  # header, float32 and bfloat16 on sdpa, 2 unmasked
    assert gpu_benchmark.memory_rows(smoke) == gpu_benchmark.memory_rows(smoke)[:1]  # memory not measured
    fig = gpu_benchmark_figure(gpu_benchmark.part(smoke, "throughput"), [])  # memory not measured
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["padded 4", "packed 16, sdpa"]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(smoke))
    assert gpu_benchmark.gpu_results(path) == smoke and gpu_benchmark.gpu_results(tmp_path / "absent") is None


def test_the_projection_scales_measured_mfu_to_llama_7b_and_alpacas_own_run(script):
    rows = [{"name": "packed", "mfu": 0.4, "mean_example_tokens": 140.0},
            {"name": "padded", "mfu": 0.025, "mean_example_tokens": 140.0}, {"name": "failed", "error": "x"}]
    found = script.projection(rows, dollars_per_gpu_hour=2.0)
    tokens = 52_002 * 3 * 140.0
    seconds = 6 * LLAMA_7B.parameters * tokens / (0.4 * 989e12)
    assert found["tokens"] == round(tokens)
    assert found["runs"][0]["h100_hours"] == pytest.approx(seconds / 3600, abs=0.05)
    assert found["runs"][0]["dollars"] == round(seconds / 3600 * 2.0)
    assert found["runs"][1]["h100_hours"] == pytest.approx(seconds * 16 / 3600, abs=0.05)  # 16x lower MFU
    # Alpaca's 3 hours on 8 A100s at 312 TFLOP/s each
    assert found["alpaca"]["implied_mfu"] == pytest.approx(6 * LLAMA_7B.parameters * tokens /
                                                           (3 * 3600 * 8 * 312e12), abs=1e-4)
    lines = gpu_benchmark.projection_rows({"parts": {"projection": {"result": found}}})
    assert "Alpaca: 3 h on 8 A100s = 24 A100-hours" in lines[-1]


def test_the_script_refuses_what_it_cannot_measure_here(script, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("checks the CPU refusals")
    for argv in (["--parts", "throughput"],  # no GPU: only a smoke run
                 ["--smoke"],  # the committed file is never written by a smoke run
                 ["--smoke", "--parts", "memory", "--out", str(tmp_path / "r.json")],
                 ["--smoke", "--parts", "speed", "--out", str(tmp_path / "r.json")]):
        with pytest.raises(SystemExit):
            script.main(argv)
    assert "unknown parts ['speed']" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_merging_a_part_keeps_the_others(script, tmp_path):
    path = tmp_path / "results.json"
    script.merge(path, {"memory": [1]}, "first")
    script.merge(path, {"trainer": {"steps": 3}}, "second")
    parts = json.loads(path.read_text())["parts"]
    assert parts["memory"]["result"] == [1] and parts["trainer"]["made"]["command"] == "second"


def test_the_memory_table_and_figure_show_estimate_against_measured():
    from alpaca_lessons.common.results import provenance

    setup = GPU_CHECKS["bf16 autocast, 16 x 512 tokens"]
    check = Measurement("bf16 autocast, 16 x 512 tokens", setup, 2 * GIB, 2.1 * GIB)
    results = {"parts": {"memory": {"made": provenance("test", ("torch",), device="GPU X"),
                                    "result": [check.to_dict()]}}}
    rows = gpu_benchmark.memory_rows(results)
    assert rows[1].split() == ["bf16", "autocast,", "16", "x", "512", "tokens", "2.00", "G", "2.10", "G", "-4.8%"]
    assert gpu_benchmark.report(results)[0].startswith("Memory estimate vs measured peak (")
    assert "GPU X" in gpu_benchmark.report(results)[0]
    fig = gpu_benchmark_figure([], gpu_benchmark.part(results, "memory"))
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["bf16 autocast, 16 x 512 tokens"]
