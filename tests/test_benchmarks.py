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
def test_engine_and_compiled_steps_equal_hand_written_numpy(name):
    errs, float32_kept = run.check_mlp(name, with_torch=False)
    assert errs["engine"] <= run.TOL
    assert errs["compiled"] <= run.TOL
    assert float32_kept


@pytest.mark.parametrize("shape", [(1,), (1000,)])
def test_chain_gradient_equals_hand_written_numpy(shape):
    errs = run.check_chain(shape, with_torch=False)
    assert errs["engine"] <= run.TOL
    assert errs["compiled"] <= run.TOL


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


def wrong_after_the_trace(monkeypatch):
    """autograd_mini.compile made to return a step whose program calls (every call after a
    signature's first, which is the trace) give the first param a gradient 1.0001 times too
    large: what the compiled side's checks must catch."""
    import autograd_mini
    right = autograd_mini.compile

    def compile_wrong(fn, params=None):
        step, params = right(fn, params=params), list(params)

        def wrong(*args):
            traced = len(step.signatures)
            loss = step(*args)
            if len(step.signatures) == traced:
                params[0].grad *= 1.0001
            return loss

        wrong.signatures = step.signatures
        return wrong

    monkeypatch.setattr(autograd_mini, "compile", compile_wrong)


@pytest.mark.parametrize("name", ["tiny_moons", "mlp_digits"])
def test_compiled_check_catches_a_wrong_gradient(monkeypatch, name):
    wrong_after_the_trace(monkeypatch)
    errs, _ = run.check_mlp(name, with_torch=False)
    assert errs["compiled"] > run.TOL
    assert errs["engine"] <= run.TOL


def test_compiled_chain_check_catches_a_wrong_gradient(monkeypatch):
    wrong_after_the_trace(monkeypatch)
    errs = run.check_chain((1,), with_torch=False)
    assert errs["compiled"] > run.TOL
    assert errs["engine"] <= run.TOL


def test_compiled_cnn_check_catches_a_wrong_gradient(monkeypatch):
    wrong_after_the_trace(monkeypatch)
    errs, _ = run.check_cnn()
    assert errs["compiled"] > run.TOL
    assert errs["engine"] <= run.TOL


def test_compiled_checks_run_the_program_on_values_it_was_not_traced_on(monkeypatch):
    """A program that kept its trace's batch (relu's masks, the one-hot of the labels) would
    pass a check that traced and ran on one batch: the checks trace on other values."""
    from benchmarks import compiled
    seen = []
    right = compiled.prepare
    monkeypatch.setattr(compiled, "prepare",
                        lambda program, model, params, calls: seen.append(calls)
                        or right(program, model, params, calls))
    models, batches = run.mlp_sides("tiny_moons", np.float64, False, run.reversed_rows)
    x, y = batches[0]
    (tx, ty), = seen[0]
    assert not np.array_equal(tx, x) and not np.array_equal(ty, y)
    assert tx.shape == x.shape and ty.shape == y.shape


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
        [sys.executable, "-m", "benchmarks.run", "--quick", "--dtype", "float64", "--clock", "cpu",
         "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert res["clock"] == "cpu" and "(cpu clock)" in proc.stdout
    names = {r["workload"] for r in res["timings"]}
    assert {"mlp_digits", "mlp_wide", "tiny_moons", "op_overhead(1,)", "op_overhead(1000,)",
            "deep_chain 10^3", "hvp mlp_digits", "cnn_digits"} <= names
    hvp = res["checks"].pop("hvp")  # against finite differences: their own tolerance
    assert hvp["max_rel_err"]["engine"] < 1e-6
    assert all(v["max_rel_err"][side] <= run.TOL for v in res["checks"].values()
               for side in ("engine", "compiled"))
    assert res["environment"]["numpy"] == np.__version__
    assert "engine/numpy" in proc.stdout and "mlp_wide" in proc.stdout
    assert "compiled/numpy" in proc.stdout
    rows = {r["workload"]: r for r in res["timings"]}
    for name in names - {"hvp mlp_digits"}:  # H v is not compiled: it differentiates twice
        assert rows[name]["compiled_ratio"] > 0 and rows[name]["build_seconds"] > 0
        assert rows[name]["build_eager_steps"] == pytest.approx(
            rows[name]["build_seconds"] / rows[name]["seconds"]["engine"])
    assert res["memory"]["mlp_wide float64"]["compiled"] > 0


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
    assert errs["compiled"] <= run.TOL
    assert float32_kept


@pytest.mark.parametrize("name", ["tiny_moons", "mlp_digits", "chain"])
def test_instruction_count_workloads_are_the_benchmark_step_on_every_side(name):
    # benchmarks.instructions counts these steps under callgrind: they must run, and the
    # sides must compute the same step (the count compares like with like)
    from benchmarks import instructions
    a, c, b = (instructions.workload(name, side, np.float64)()
               for side in ("engine", "compiled", "numpy"))
    if name == "chain":
        for u, v in zip(a, b):
            np.testing.assert_allclose(np.asarray(u), v, rtol=1e-10)
        np.testing.assert_allclose(c[0], b[0].sum(), rtol=1e-10)  # the sum of the output
        np.testing.assert_allclose(c[1], b[1], rtol=1e-10)
    else:
        np.testing.assert_allclose(float(a), float(b), rtol=1e-10)  # the same loss
        np.testing.assert_allclose(float(c), float(b), rtol=1e-10)


def test_instruction_count_names_unknown_workloads():
    out = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "nope"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 2 and "unknown workload 'nope'" in out.stderr
