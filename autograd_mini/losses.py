"""Fused, numerically stable losses as primitives: each forward sits beside its VJPs.

Every loss takes `(input, target, *, reduction="mean")`; `reduction` is "mean" (over all
per-element losses; over rows for cross_entropy), "sum" or "none" (the per-element losses).
The target also gets a VJP, so it may be a Tensor that requires grad; `nn`'s losses pass it as
a constant. Their VJPs, like every VJP of the table, are differentiable again.
"""
import numpy as np

from .primitives import log, log_softmax, maximum, primitive, sigmoid, softmax


def _reduce(losses, reduction):
    if reduction == "mean":
        return losses.sum() / max(losses.size, 1)  # sum / n: ndarray.mean's Python layer is slow
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _scale(g, n, reduction):
    """d(reduced)/d(per-element losses) contracted with g: g / n for mean, else g."""
    return g / max(n, 1) if reduction == "mean" else g


def _column(g):
    return g.reshape(g.shape + (1,))  # one gradient per row, against the row's C entries


def _onehot(target, classes, dtype):
    t = np.asarray(target)
    return (t[..., None] == np.arange(classes)).astype(dtype)


def _rows_of(target, logits):
    """The target as probability rows: one-hot rows for integer labels."""
    t = np.asarray(target)
    return _onehot(t, logits.shape[-1], logits.dtype) if t.dtype.kind in "iu" else target


def _ce_dz(g, z, target, _, *, reduction):
    p = _rows_of(target, z)
    n = z.size // z.shape[-1] if z.ndim else 1
    return _column(_scale(g, n, reduction)) * (softmax(z, axis=-1) * p.sum(axis=-1, keepdims=True)
                                               - p)


def _ce_dp(g, z, target, _, *, reduction):
    n = z.size // z.shape[-1] if z.ndim else 1
    return -_column(_scale(g, n, reduction)) * log_softmax(z, axis=-1)


@primitive("cross_entropy", "dz = g * (softmax(z) * sum(p) - p), dp = -g * log_softmax(z)",
           _ce_dz, _ce_dp)
def cross_entropy(input, target, *, reduction="mean"):
    """Per row: -sum(p * log_softmax(z)), where p = onehot(target) for integer labels.

    input: (N, C) or (C,) logits. target: integer labels of shape input.shape[:-1], or
    probability rows of input's shape. log_softmax(z) = (z - max z) - log(sum(exp(z - max z))),
    so logits of +-1000 stay finite; its gradient is softmax(z) - p (times sum(p) in general).
    """
    target = np.asarray(target)
    z = input - np.max(input, axis=-1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=-1))
    if target.dtype.kind in "iu":
        # -log_softmax at the label only: log(sum(exp z)) - z[label], by fancy indexing
        picked = np.take_along_axis(z, target[..., None], axis=-1)[..., 0]
        return _reduce(lse - picked, reduction)
    return _reduce(-(target * (z - lse[..., None])).sum(axis=-1), reduction)


_TINY = 1e-12
_EXP_M100 = np.exp(-100.0)  # log(max(p, e^-100)) = max(log p, -100): PyTorch's clamp of the logs


@primitive("binary_cross_entropy",
           "dp = g * ((1 - y) / max(1 - p, 1e-12) - y / max(p, 1e-12)), dy = g * (log(1-p) - log p)",
           lambda g, p, y, _, *, reduction: _scale(g, np.size(p), reduction) * (
               (1 - y) / maximum(1 - p, _TINY) - y / maximum(p, _TINY)),
           lambda g, p, y, _, *, reduction: _scale(g, np.size(p), reduction) * (
               log(maximum(1 - p, _EXP_M100)) - log(maximum(p, _EXP_M100))))
def binary_cross_entropy(input, target, *, reduction="mean"):
    """-(y log p + (1 - y) log(1 - p)) on probabilities p, logs clamped at -100 as PyTorch.

    The clamp keeps p = 0 or 1 exactly finite (at most 100 per element). The gradient is the
    exact derivative wherever p and 1 - p are >= 1e-12; there the denominators are clamped at
    1e-12 (as PyTorch clamps p (1 - p)), so a saturated wrong prediction gets a large finite
    push (-y * 1e12 at p = 0) instead of inf, or the clamp's own 0 on which learning stalls.
    """
    p, y = input, target
    return _reduce(-(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p)), reduction)


def _clamped_log(p):
    with np.errstate(divide="ignore"):  # log(0) = -inf, clamped just below
        return np.maximum(np.log(np.asarray(p)), -100)


@primitive("binary_cross_entropy_with_logits", "dx = g * (sigmoid(x) - y), dy = -g * x",
           lambda g, x, y, _, *, reduction: _scale(g, np.size(x), reduction) * (sigmoid(x) - y),
           lambda g, x, y, _, *, reduction: -_scale(g, np.size(x), reduction) * x)
def binary_cross_entropy_with_logits(input, target, *, reduction="mean"):
    """BCE of sigmoid(x), as max(x, 0) - x y + log(1 + exp(-|x|)): never overflows."""
    x, y = input, target
    return _reduce(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))), reduction)


@primitive("mse_loss", "dx = 2 g (x - y), dy = -2 g (x - y)",
           lambda g, x, y, _, *, reduction: 2 * _scale(g, np.size(x), reduction) * (x - y),
           lambda g, x, y, _, *, reduction: -2 * _scale(g, np.size(x), reduction) * (x - y))
def mse_loss(input, target, *, reduction="mean"):
    """(x - y)^2, reduced (mean over all elements by default, as PyTorch)."""
    d = input - target
    return _reduce(d * d, reduction)
