"""compare_gradients: hand-derived gradients against backward's, as a report table."""
import numpy as np
import pytest

import autograd_mini
from autograd_mini import Tensor, compare_gradients


def _linear_sigmoid(rng):
    """loss = sum(sigmoid(x @ W + b)); closed form: dW = x.T @ s(1-s), db = sum_rows s(1-s)."""
    x = rng.standard_normal((5, 3))
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = Tensor(rng.standard_normal(2), requires_grad=True)
    (x @ W + b).sigmoid().sum().backward()
    s = 1 / (1 + np.exp(-(x @ W.data + b.data)))
    ds = s * (1 - s)
    return {"W": x.T @ ds, "b": ds.sum(0)}, {"W": W, "b": b}


class _Module:
    """Anything with named_parameters() counts as a module."""

    def __init__(self, params):
        self.params = params

    def named_parameters(self):
        return iter(self.params.items())


def test_exported_from_package():
    assert autograd_mini.compare_gradients is compare_gradients
    assert "compare_gradients" in autograd_mini.__all__


def test_matching_gradients_pass_with_tensors_arrays_and_modules(rng):
    manual, params = _linear_sigmoid(rng)
    for autodiff in (params, {k: p.grad for k, p in params.items()}, _Module(params)):
        report = compare_gradients(manual, autodiff)
        assert report.ok
        assert [r.name for r in report] == ["W", "b"]
        assert report["W"].shape == (3, 2) and report["b"].shape == (2,)
        assert report["W"].max_abs_err < 1e-14 and report["b"].max_rel_err < 1e-14


def test_failing_case_is_reported_per_parameter(rng):
    manual, params = _linear_sigmoid(rng)
    manual["b"] = manual["b"] * 1.01  # a 1% slip in one hand derivation
    report = compare_gradients(manual, params)
    assert not report.ok
    assert report["W"].ok and not report["b"].ok
    assert report["b"].max_rel_err == pytest.approx(0.01, rel=1e-6)
    assert report["b"].max_abs_err == pytest.approx(0.01 * np.abs(params["b"].grad).max())
    text = str(report)
    assert "FAIL" in text and "PASS" in text and "1 mismatch" in text


def test_table_is_aligned(rng):
    manual, params = _linear_sigmoid(rng)
    manual = {"layer.0.weight": manual["W"], "b": manual["b"]}
    params = {"layer.0.weight": params["W"], "b": params["b"]}
    lines = str(compare_gradients(manual, params)).splitlines()
    header, rule, rows = lines[0], lines[1], lines[2:4]
    assert set(rule) == {"-", " "}
    gaps = [i for i, ch in enumerate(rule) if ch == " "]  # the column separators
    for line in [header] + rows:
        assert all(line[i] == " " for i in gaps if i < len(line)), line
    # numbers are right-aligned: each ends in the last column of its dash run
    ends = [i for i, ch in enumerate(rule) if ch == "-" and rule[i + 1:i + 2] in ("", " ")]
    assert all(r[ends[2]] != " " and r[ends[3]] != " " for r in rows)


def test_names_select_and_order(rng):
    manual, params = _linear_sigmoid(rng)
    report = compare_gradients(manual, params, names=["b"])
    assert [r.name for r in report] == ["b"]


def test_tolerances_are_used(rng):
    manual, params = _linear_sigmoid(rng)
    manual["W"] = manual["W"] + 1e-7
    assert not compare_gradients(manual, params, rtol=0, atol=1e-9).ok
    assert compare_gradients(manual, params, rtol=0, atol=1e-6).ok


def test_missing_name_is_a_clear_error(rng):
    manual, params = _linear_sigmoid(rng)
    with pytest.raises(KeyError, match=r"autodiff has no gradient for \['c'\]"):
        compare_gradients({**manual, "c": np.zeros(1)}, params)
    with pytest.raises(KeyError, match=r"manual has no gradient for \['W'\]"):
        compare_gradients({"b": manual["b"]}, params, names=["W", "b"])


def test_shape_mismatch_is_a_clear_error(rng):
    manual, params = _linear_sigmoid(rng)
    manual["b"] = manual["b"][:, None]  # a column bias, as in the documents
    with pytest.raises(ValueError, match=r"'b' has shape \(2, 1\) in manual but \(2,\)"):
        compare_gradients(manual, params)


def test_parameter_without_grad_is_a_clear_error(rng):
    manual, params = _linear_sigmoid(rng)
    params["W"].grad = None
    with pytest.raises(ValueError, match="'W' has no .grad; call loss.backward"):
        compare_gradients(manual, params)


def test_nan_fails(rng):
    manual, params = _linear_sigmoid(rng)
    manual["W"] = manual["W"] * np.nan
    report = compare_gradients(manual, params)
    assert not report.ok and np.isnan(report["W"].max_abs_err)


def test_manual_vs_autodiff_example_passes_and_shows_the_errata():
    import pathlib
    import subprocess
    import sys
    script = pathlib.Path(__file__).parent.parent / "examples" / "manual_vs_autodiff.py"
    out = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    for label in ("F2.1", "F3.8/F3.9", "F3.10", "F3.11", "F4.10/F4.11"):
        assert f"{label}" in out.stdout
    assert out.stdout.count("as printed (erratum)") == 5
    assert "FAIL" in out.stdout and "all closed forms and corrected formulas agree" in out.stdout
