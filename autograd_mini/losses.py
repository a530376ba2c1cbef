"""Fused, numerically stable losses as engine ops: each forward sits beside its VJPs.

Every loss takes `(prediction, target, *, reduction="mean")`; `reduction` is "mean" (over all
per-element losses; over rows for cross_entropy), "sum" or "none" (the per-element losses).
The target also gets a VJP, so it may be a Tensor that requires grad; `nn`'s losses pass it as
a constant. Input validation with friendly messages lives in `nn` (the loss modules).
"""
import numpy as np

from .ops import op


def _reduce(losses, reduction):
    """Reduce the per-element losses; also return g -> d(out)/d(losses) contracted with g."""
    if reduction == "mean":
        n = max(losses.size, 1)
        return losses.sum() / n, lambda g: g / n  # sum / n: ndarray.mean's Python layer is slow
    if reduction == "sum":
        return losses.sum(), lambda g: g
    if reduction == "none":
        return losses, lambda g: g
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


@op("cross_entropy", "dz = g * (softmax(z) * sum(p) - p), dp = -g * log_softmax(z)")
def cross_entropy(logits, target, *, reduction="mean"):
    """Per row: -sum(p * log_softmax(z)), where p = onehot(target) for integer labels.

    logits: (N, C) or (C,). target: integer labels of shape logits.shape[:-1], or probability
    rows of logits' shape. log_softmax(z) = (z - max z) - log(sum(exp(z - max z))), so logits
    of +-1000 stay finite; its gradient is softmax(z) - p (times sum(p) for general rows).
    """
    target = np.asarray(target)
    z = logits - np.max(logits, axis=-1, keepdims=True)
    e = np.exp(z)
    se = e.sum(axis=-1, keepdims=True)
    if target.dtype.kind in "iu":
        # -log_softmax at the label only: log(se) - z[label], picked by fancy indexing
        at = (np.arange(target.size), target.reshape(-1))  # (row, label) of each sample
        picked = z.reshape(-1, z.shape[-1])[at].reshape(target.shape)
        out, back = _reduce(np.log(se[..., 0]) - picked, reduction)

        def dz(g):
            d = e / se
            d.reshape(-1, d.shape[-1])[at] -= 1  # a view of d: the rows are contiguous
            d *= back(g)[..., None]
            return d

        return out, (dz, None)  # integer labels cannot require grad: no VJP is ever asked
    logp = z - np.log(se)
    out, back = _reduce(-(target * logp).sum(axis=-1), reduction)
    return out, (lambda g: back(g)[..., None] * (e / se * target.sum(axis=-1, keepdims=True)
                                                 - target),
                 lambda g: -back(g)[..., None] * logp)


@op("binary_cross_entropy",
    "dp = g * ((1 - y) / max(1 - p, 1e-12) - y / max(p, 1e-12)), dy = g * (log(1-p) - log p)")
def binary_cross_entropy(p, y, *, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) on probabilities p, logs clamped at -100 as PyTorch.

    The clamp keeps p = 0 or 1 exactly finite (at most 100 per element). The gradient is the
    exact derivative wherever p and 1 - p are >= 1e-12; there the denominators are clamped at
    1e-12 (as PyTorch clamps p (1 - p)), so a saturated wrong prediction gets a large finite
    push (-y * 1e12 at p = 0) instead of inf, or the clamp's own 0 on which learning stalls.
    """
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
        logp = np.maximum(np.log(p), -100)
        log1mp = np.maximum(np.log1p(-p), -100)
    out, back = _reduce(-(y * logp + (1 - y) * log1mp), reduction)
    return out, (lambda g: back(g) * ((1 - y) / np.maximum(1 - p, 1e-12)
                                      - y / np.maximum(p, 1e-12)),
                 lambda g: back(g) * (log1mp - logp))


@op("binary_cross_entropy_with_logits", "dx = g * (sigmoid(x) - y), dy = -g * x")
def binary_cross_entropy_with_logits(x, y, *, reduction="mean"):
    """BCE of sigmoid(x), as max(x, 0) - x y + log(1 + exp(-|x|)): never overflows."""
    e = np.exp(-np.abs(x))
    out, back = _reduce(np.maximum(x, 0) - x * y + np.log1p(e), reduction)

    def dx(g):
        s = np.where(x >= 0, 1, e) / (1 + e)  # sigmoid(x) from exp(-|x|)
        return back(g) * (s - y)

    return out, (dx, lambda g: -back(g) * x)


@op("mse_loss", "dx = 2 g (x - y), dy = -2 g (x - y)")
def mse_loss(x, y, *, reduction="mean"):
    """(x - y)^2, reduced (mean over all elements by default, as PyTorch)."""
    d = x - y
    out, back = _reduce(d * d, reduction)
    return out, (lambda g: (2 * back(g)) * d, lambda g: (-2 * back(g)) * d)
