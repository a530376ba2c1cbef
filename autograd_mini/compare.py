"""Compare hand-derived gradients with the ones backward computed, parameter by parameter.

    report = compare_gradients({"W1": dW1, "b1": db1}, model)   # or a second dict of arrays
    print(report)        # aligned table: name, shape, max abs error, max rel error, ok
    assert report.ok, report
"""
from dataclasses import dataclass

import numpy as np

from .tensor import Tensor


@dataclass(frozen=True)
class GradientComparison:
    """One parameter: `max_abs_err` = max|m - a|, `max_rel_err` = max|m - a| / max|a|."""

    name: str
    shape: tuple
    max_abs_err: float
    max_rel_err: float
    ok: bool


class GradientReport:
    """The result of `compare_gradients`: `.rows` (one GradientComparison each), `.ok` (all pass).

    `str(report)` is an aligned table; `report[name]` is one row.
    """

    def __init__(self, rows, rtol, atol):
        self.rows = list(rows)
        self.rtol, self.atol = rtol, atol
        self.ok = all(r.ok for r in self.rows)

    def __getitem__(self, name):
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"compare_gradients report: no parameter named {name!r}; "
                       f"have {[r.name for r in self.rows]}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def __str__(self):
        head = ("parameter", "shape", "max abs err", "max rel err", "ok")
        body = [(r.name, str(r.shape), f"{r.max_abs_err:.3e}", f"{r.max_rel_err:.3e}",
                 "PASS" if r.ok else "FAIL") for r in self.rows]
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        align = ["<", "<", ">", ">", "<"]
        lines = ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()
                 for row in [head] + body]
        lines.insert(1, "  ".join("-" * w for w in widths))
        verdict = "all match" if self.ok else f"{sum(not r.ok for r in self.rows)} mismatch(es)"
        lines.append(f"{verdict} (pass: |manual - autodiff| <= {self.atol:g} + "
                     f"{self.rtol:g} * |autodiff| everywhere)")
        return "\n".join(lines)

    def __repr__(self):
        return f"<GradientReport ok={self.ok} rows={len(self.rows)}>\n{self}"


def _as_mapping(side, what):
    """name -> array. A Module (anything with named_parameters()) gives each parameter's .grad;
    on the autodiff side a Tensor value also stands for its .grad."""
    if hasattr(side, "named_parameters"):
        side = dict(side.named_parameters())
    if not hasattr(side, "keys"):
        raise TypeError(f"compare_gradients: {what} must be a mapping name -> array or have "
                        f"named_parameters(), got {type(side).__name__}")
    out = {}
    for name, v in side.items():
        if isinstance(v, Tensor):
            if what == "autodiff":
                if v.grad is None:
                    raise ValueError(
                        f"compare_gradients: autodiff parameter {name!r} has no .grad; call "
                        f"loss.backward() first (and check that {name!r} requires grad and is "
                        f"used by the loss)")
                v = v.grad
            else:
                v = v.data
        out[name] = np.asarray(v)
    return out


def compare_gradients(manual, autodiff, names=None, rtol=1e-6, atol=1e-9):
    """Compare `manual` gradients (name -> array) with `autodiff` gradients.

    `autodiff` is a mapping name -> array (or -> Tensor, whose .grad is used), or an
    `nn.Module` / anything with `named_parameters()` whose `.grad`s backward has filled.
    `names` selects and orders the parameters (default: every name of `manual`). An entry
    passes when |manual - autodiff| <= atol + rtol * |autodiff| element-wise (numpy.allclose)
    and both are finite. Shapes must match exactly: a column bias (n, 1) against an nn bias
    (n,) is an error, not a silent broadcast. Returns a GradientReport.
    """
    m, a = _as_mapping(manual, "manual"), _as_mapping(autodiff, "autodiff")
    names = list(m) if names is None else list(names)
    if not names:
        raise ValueError("compare_gradients: nothing to compare (no names)")
    for side, d in (("manual", m), ("autodiff", a)):
        missing = [n for n in names if n not in d]
        if missing:
            raise KeyError(f"compare_gradients: {side} has no gradient for {missing}; it has "
                           f"{sorted(d)}. Pass names= to compare a subset, or rename the keys")
    rows = []
    for n in names:
        mn, an = m[n], a[n]
        if mn.shape != an.shape:
            raise ValueError(
                f"compare_gradients: {n!r} has shape {mn.shape} in manual but {an.shape} in "
                f"autodiff; bring the manual gradient to the parameter's layout first (e.g. "
                f".ravel() for a column bias, .T for an in x out weight)")
        mn, an = mn.astype(np.float64), an.astype(np.float64)
        with np.errstate(invalid="ignore"):
            diff = np.abs(mn - an)
            finite = bool(np.all(np.isfinite(mn)) and np.all(np.isfinite(an)))
            abs_err = float(diff.max()) if diff.size else 0.0
            scale = float(np.abs(an).max()) if an.size else 0.0
            rel_err = abs_err / scale if scale > 0 else (0.0 if abs_err == 0 else np.inf)
            ok = finite and bool(np.all(diff <= atol + rtol * np.abs(an)))
        if not finite:
            abs_err = rel_err = float("nan")
        rows.append(GradientComparison(n, tuple(an.shape), abs_err, rel_err, ok))
    return GradientReport(rows, rtol, atol)
