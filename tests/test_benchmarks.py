"""The benchmark's correctness comparisons (no timing assertions: timings are only reported)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
from benchmarks import baseline, engine, run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(run.MLPS))
def test_engine_step_equals_hand_written_numpy(name):
    errs, float32_kept = run.check_mlp(name, with_torch=False)
    assert errs["engine"] <= run.TOL
    assert float32_kept


@pytest.mark.parametrize("shape", [(1,), (1000,)])
def test_chain_gradient_equals_hand_written_numpy(shape):
    assert run.check_chain(shape, with_torch=False)["engine"] <= run.TOL


def test_hand_written_chain_gradient_against_finite_differences():
    x, eps = np.array([0.3, -0.7]), 1e-6
    _, g = baseline.chain(x, 10)
    fd = (baseline.chain(x + eps, 10)[0] - baseline.chain(x - eps, 10)[0]) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-7)


def test_hand_written_mlp_gradient_against_finite_differences():
    w = run.init_weights([3, 4, 2], seed=0)
    x, y = np.random.default_rng(0).standard_normal((5, 3)), np.array([0, 1, 1, 0, 1])
    ref = baseline.NumpyMLP(w, "tanh", "ce", lr=0.0, keep_grads=True)
    ref.step(x, y)
    W = w[0][0]
    eps, (i, j) = 1e-6, (2, 1)
    W[i, j] += eps
    up = baseline.NumpyMLP(w, "tanh", "ce", 0.0).step(x, y)
    W[i, j] -= 2 * eps
    down = baseline.NumpyMLP(w, "tanh", "ce", 0.0).step(x, y)
    assert abs(ref.gradients()[0][i, j] - (up - down) / (2 * eps)) < 1e-8


def test_check_catches_a_wrong_gradient(monkeypatch):
    right = baseline.chain
    def wrong(x, n):
        out, g = right(x, n)
        return out, g * 1.0001

    monkeypatch.setattr(baseline, "chain", wrong)
    assert run.check_chain((1,), with_torch=False)["engine"] > run.TOL


def test_hvp_agrees_with_differences_of_gradients_and_the_check_catches_a_wrong_one(
        monkeypatch):
    assert run.check_hvp() < 1e-6
    right = engine.EngineHVP.hvp
    monkeypatch.setattr(engine.EngineHVP, "hvp",
                        lambda self, x, y: [h * 1.001 for h in right(self, x, y)])
    assert run.check_hvp() > 1e-4


def test_quick_run_from_the_command_line(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--quick", "--dtype", "float64", "--json",
         str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    names = {r["workload"] for r in res["timings"]}
    assert {"mlp_digits", "mlp_wide", "tiny_moons", "op_overhead(1,)", "op_overhead(1000,)",
            "deep_chain 10^3", "hvp mlp_digits", "cnn_digits"} <= names
    hvp = res["checks"].pop("hvp")  # against finite differences: their own tolerance
    assert hvp["max_rel_err"]["engine"] < 1e-6
    assert all(v["max_rel_err"]["engine"] <= run.TOL for v in res["checks"].values())
    assert res["environment"]["numpy"] == np.__version__
    assert "engine/numpy" in proc.stdout and "mlp_wide" in proc.stdout


def test_cnn_hand_written_gradients_against_differences_and_the_engine_step_equals_them():
    """The numpy CNN step's gradients (every weight of a tiny net: 2 and 3 channels, 4 images)
    against central differences of its loss; then run's check: the engine's float64 step of
    the real net equals the numpy one (loss, gradients, weights, running statistics)."""
    from benchmarks import cnn
    w = cnn.init_weights(c1=2, c2=3, seed=1)
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, 1, 8, 8)), np.array([0, 3, 9, 3])
    ref = cnn.NumpyCNN(w, lr=0.0, keep_grads=True)
    ref.step(x, y)
    eps = 1e-6
    for a, g in zip(w, ref.gradients(), strict=True):
        fd = np.empty_like(a)
        for i in np.ndindex(a.shape):
            old = a[i]
            a[i] = old + eps
            up = cnn.NumpyCNN(w, 0.0).step(x, y)
            a[i] = old - eps
            down = cnn.NumpyCNN(w, 0.0).step(x, y)
            a[i] = old
            fd[i] = (up - down) / (2 * eps)
        np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-8)
    errs, float32_kept = run.check_cnn()
    assert errs["engine"] <= run.TOL
    assert float32_kept


@pytest.mark.parametrize("name", ["tiny_moons", "mlp_digits", "chain"])
def test_instruction_count_workloads_are_the_benchmark_step_on_both_sides(name):
    # benchmarks.instructions counts these steps under callgrind: they must run, and the two
    # sides must compute the same step (the count compares like with like)
    from benchmarks import instructions
    a = instructions.workload(name, "engine", np.float64)()
    b = instructions.workload(name, "numpy", np.float64)()
    if name == "chain":
        for u, v in zip(a, b):
            np.testing.assert_allclose(np.asarray(u), v, rtol=1e-10)
    else:
        np.testing.assert_allclose(float(a), float(b), rtol=1e-10)  # the same loss


def test_instruction_count_names_unknown_workloads():
    out = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "nope"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "unknown workload 'nope'" in out.stderr
