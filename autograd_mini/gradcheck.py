"""gradcheck and gradgradcheck: the engine's gradients against central finite differences.

gradcheck compares the vector-Jacobian product u^T J that backward computes for `fn(*inputs)`
with (u^T (f(x + eps e_k) - f(x - eps e_k)) / (2 eps))_k, for every input that requires grad,
with an all-ones u and with random u's: a VJP that ignores the values of its upstream gradient
is right for ones only, and fails. gradgradcheck runs gradcheck on the first-order VJP itself,
(x, u) -> u^T J(x), recorded with create_graph=True: the derivative of the derivative.

Both leave the caller's `.grad` untouched (they use `autograd_mini.grad`, never `.backward`) and
the inputs' values unchanged. Use float64 inputs: in float32 the finite differences are too
coarse for these tolerances, and a warning says so.
"""
import warnings

import numpy as np

from .tape import enable_grad, grad, is_grad_enabled, no_grad
from .tensor import Tensor

N_RANDOM = 2  # random upstream gradients, besides the all-ones one


def _outputs(out, what):
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{what}: fn must return a Tensor (or a tuple of Tensors), got "
                            f"{type(o).__name__}")
    return outs


def _float32_note(diff, names, what):
    low = [names[i] for i, t in diff if t.dtype.kind == "f" and t.dtype.itemsize < 8]
    if not low:
        return ""
    note = (f"{', '.join(low)} {'is' if len(low) == 1 else 'are'} float32: float32 keeps about "
            f"7 significant digits, too few for finite differences at these tolerances, so a "
            f"failure may be float32's rounding rather than a wrong gradient; check in float64 "
            f"(x.double(), or Tensor(data, dtype=np.float64))")
    warnings.warn(f"{what}: {note}", UserWarning, stacklevel=4)
    return note


def _check(fn, inputs, eps, atol, rtol, what, names):
    inputs = list(inputs)
    diff = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError(f"{what}: no input requires grad; pass Tensors with requires_grad=True")
    note = _float32_note(diff, names, what)
    with enable_grad():
        outs = _outputs(fn(*inputs), what)
    rng = np.random.default_rng(0)
    upstreams = [("an all-ones upstream gradient", [np.ones(o.shape) for o in outs])] + [
        (f"random upstream gradient #{r + 1}", [rng.standard_normal(o.shape) for o in outs])
        for r in range(N_RANDOM)]

    # analytic: u^T J from the engine, for every upstream u
    xs = [t for _, t in diff]
    live = [j for j, o in enumerate(outs) if o.requires_grad]
    analytic = []
    for _, us in upstreams:
        if live:
            gs = grad([outs[j] for j in live], xs,
                      [Tensor(us[j].astype(outs[j].dtype)) for j in live],
                      retain_graph=True, allow_unused=True)
        else:
            gs = (None,) * len(xs)
        analytic.append([np.zeros(t.shape) if g is None else np.asarray(g.data, np.float64)
                         for g, t in zip(gs, xs)])

    # numeric: central differences, one pair of evaluations per element for all upstreams
    for n, (i, t) in enumerate(diff):
        x = t.data  # perturbed in place: element writes are untracked, so no version bump
        numeric = [np.zeros(x.shape) for _ in upstreams]
        with no_grad():
            for k in np.ndindex(x.shape):
                old = x[k]
                x[k] = old + eps
                plus = [np.asarray(o.data, np.float64) for o in _outputs(fn(*inputs), what)]
                x[k] = old - eps
                minus = [np.asarray(o.data, np.float64) for o in _outputs(fn(*inputs), what)]
                x[k] = old
                for num, (_, us) in zip(numeric, upstreams):
                    num[k] = sum(float(np.sum((p - m) * u)) for p, m, u in zip(plus, minus, us)
                                 ) / (2 * eps)
        for (desc, _), num, an in zip(upstreams, numeric, analytic):
            a = an[n]
            err = np.abs(a - num) - (atol + rtol * np.abs(num))
            if err.size and (np.any(err > 0) or not np.all(np.isfinite(a))):
                k = np.unravel_index(np.argmax(np.where(np.isfinite(err), err, np.inf)),
                                     err.shape)
                raise AssertionError(
                    f"{what}: gradient of {names[i]} (shape {x.shape}) disagrees with finite "
                    f"differences at index {tuple(int(j) for j in k)} with {desc}: "
                    f"analytic {float(a[k])!r}, numeric {float(num[k])!r} "
                    f"(eps={eps}, atol={atol}, rtol={rtol})" + (f"; {note}" if note else ""))
    return True


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check the VJPs of `fn(*inputs)` for every input that requires grad against central
    differences, with an all-ones and with random upstream gradients.

    `fn` returns a Tensor (or a tuple of Tensors). Returns True, or raises AssertionError naming
    the input, the worst index, the upstream gradient, and both values: it fails when
    |analytic - numeric| > atol + rtol * |numeric| anywhere. Float32 inputs get a warning.
    """
    inputs = list(inputs)
    return _check(fn, inputs, eps, atol, rtol, "gradcheck",
                  [f"input {i}" for i in range(len(inputs))])


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check second derivatives: gradcheck of (inputs, u) -> u^T J(inputs), the first-order VJP
    of `fn` recorded with create_graph=True, with respect to the inputs and to u.

    `grad_outputs` (one per output of fn) are the upstream gradients u of the first VJP; random
    by default. A backward that is right to first order but whose own derivative is wrong (a
    Function's backward built from an intermediate the forward computed, or from another wrong
    op) fails, naming the input, the worst index and both values.
    """
    inputs = list(inputs)
    n = len(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not diff:
        raise ValueError("gradgradcheck: no input requires grad; pass Tensors with "
                         "requires_grad=True")
    with enable_grad():
        outs = _outputs(fn(*inputs), "gradgradcheck")
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        grad_outputs = [rng.standard_normal(o.shape) for o in outs]
    elif isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outs):
        raise ValueError(f"gradgradcheck: fn has {len(outs)} outputs but {len(grad_outputs)} "
                         f"grad_outputs were given")
    us = [Tensor(np.array(u.data if isinstance(u, Tensor) else u, dtype=o.dtype),
                 requires_grad=True) for u, o in zip(grad_outputs, outs)]

    def first_vjp(*args):
        create = is_grad_enabled()  # recorded in the analytic pass, plain in the numeric one
        with enable_grad():
            o = _outputs(fn(*args[:n]), "gradgradcheck")
        xs = [args[i] for i in diff]
        live = [(oo, u) for oo, u in zip(o, args[n:]) if oo.requires_grad]
        gs = grad([oo for oo, _ in live], xs, [u for _, u in live], create_graph=create,
                  allow_unused=True) if live else (None,) * len(xs)
        return tuple(Tensor(np.zeros(x.shape, x.dtype)) if g is None else g
                     for g, x in zip(gs, xs))

    names = [f"input {i}" for i in range(n)] + [f"grad_outputs[{k}]" for k in range(len(us))]
    return _check(first_vjp, inputs + us, eps, atol, rtol, "gradgradcheck", names)
