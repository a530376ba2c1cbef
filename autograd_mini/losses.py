"""The losses, as PyTorch defines them: the checks every caller gets, then the math.

Each public function (`F.cross_entropy`, `F.mse_loss`, ...) checks its inputs here, in one
place, so that `nn`'s loss modules only wrap it: dtypes, shapes (errors are `ShapeError`, both
a ValueError and a RuntimeError), labels in range, probabilities in [0, 1]. Errors name the
loss, the shapes and the fix. Then it calls a fused primitive of this table (cross_entropy,
binary_cross_entropy, binary_cross_entropy_with_logits, mse_loss: numerically stable, one node)
or composes primitives (nll_loss, l1_loss, huber_loss, smooth_l1_loss). Like every VJP of the
table, the fused ones are differentiable again.

`reduction`: "mean" (over all per-element losses; over samples for cross_entropy and nll_loss,
weighted as PyTorch), "sum" or "none" (the per-element losses). A target may be an ndarray, a
list or a Tensor; a float target that requires grad gets its gradient, as in PyTorch.
"""
import math
import warnings

import numpy as np

from .primitives import (abs, exp, log, log1p, log_softmax, maximum, primitive, sigmoid,
                         softmax, where)
from .tape import ShapeError
from .tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


class LabelError(ValueError, IndexError):
    """A class label out of range: a ValueError for numpy habits, an IndexError for PyTorch's."""


def _first(mask):
    """The index of the first True of a boolean array, as a tuple of ints (for messages)."""
    return tuple(int(i) for i in np.argwhere(mask)[0])


# -- the fused primitives ----------------------------------------------------------------------

def _reduce(losses, reduction):
    if reduction == "mean":  # sum / n: ndarray.mean's Python layer is slow
        n = losses.size
        return losses.sum() / n if n else losses.sum() * np.nan  # empty: nan, as PyTorch
    if reduction == "sum":
        return losses.sum()
    return losses


def _scale(g, n, reduction):
    """d(reduced)/d(per-element losses) contracted with g: g / n for mean, else g."""
    return g / max(n, 1) if reduction == "mean" else g


def _class_axis(z):
    return 1 if z.ndim > 1 else 0


def _per_sample(g, z, reduction):
    """The upstream gradient of cross_entropy, one value per sample, with z's class axis
    inserted so that it broadcasts against z: (N, d...) -> (N, 1, d...)."""
    axis = _class_axis(z)
    shape = z.shape
    n = math.prod(shape)  # not z.size: z is a Tensor with create_graph=True
    g = _scale(g, n // shape[axis] if n else 0, reduction)
    if reduction == "none":
        return g.reshape(shape[:axis] + (1,) + shape[axis + 1:])
    return g


def _onehot_of(labels, z):
    """Integer labels as one-hot rows along z's class axis, in z's dtype (a constant)."""
    axis = _class_axis(z)
    return _onehot(labels, classes=z.shape[axis], dtype=z.dtype, axis=axis)


def _onehot(labels, *, classes, dtype, axis):
    """Integer labels as one-hot rows along `axis`, in `dtype`."""
    column = labels.reshape(labels.shape[:axis] + (1,) + labels.shape[axis:])
    return (column == np.arange(classes).reshape((-1,) + (1,) * (labels.ndim - axis))).astype(
        dtype)


def _is_labels(target):
    return target.dtype.kind in "iu"


def _ce_dz(g, z, target, _, *, reduction):
    s = softmax(z, axis=_class_axis(z))
    if _is_labels(target):  # sum(q) = 1
        return _per_sample(g, z, reduction) * (s - _onehot_of(target, z))
    return _per_sample(g, z, reduction) * (s * target.sum(axis=_class_axis(z), keepdims=True)
                                           - target)


def _ce_dq(g, z, target, _, *, reduction):
    return -_per_sample(g, z, reduction) * log_softmax(z, axis=_class_axis(z))


@primitive("cross_entropy", "dz = g * (softmax(z) * sum(q) - q) / N, "
           "dq = -g * log_softmax(z) / N  (z = input, q = target)",
           _ce_dz, _ce_dq)
def _cross_entropy(input, target, *, reduction="mean"):
    """Per sample: -sum_c q_c log_softmax(z)_c over the class axis (1; 0 for input (C,)), where
    q = onehot(target) for integer labels (target: input's shape without the class axis), else
    q = target (input's shape). "mean" is over the samples. Its callers check the inputs.

    log_softmax(z) = (z - max z) - log(sum(exp(z - max z))), so logits of +-1000 stay finite;
    the gradient is softmax(z) - q (times sum(q) in general).
    """
    single = input.ndim == 1
    z = input[None] if single else input  # (N, C, d...)
    t = target[None] if single else target
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    if _is_labels(t):
        # -log_softmax at the label only: log(sum(exp z)) - z[label]
        if z.ndim == 2:
            picked = z[np.arange(len(t)), t]
        else:
            picked = np.take_along_axis(z, t[:, None], axis=1)[:, 0]
        losses = lse - picked
    else:
        losses = -(t * (z - lse[:, None])).sum(axis=1)
    return _reduce(losses[0] if single else losses, reduction)


def _cross_entropy_at_labels(shifted, sums, labels, *, reduction="mean"):
    """cross_entropy of logits z (N, C) at integer labels, from shifted = z - max z and
    sums = sum(exp(shifted)) over the classes (N, 1): log(sums) - shifted[label], reduced. The
    numbers of _cross_entropy; compile writes this where the backward's softmax(z) = exp(shifted)
    / sums shares the exponentials with the forward, as a person writes it."""
    return _reduce(np.log(sums[:, 0]) - shifted[np.arange(len(labels)), labels], reduction)


def _mse_of_difference(d, *, reduction="mean"):
    """mse_loss from d = input - target: d * d, reduced. The numbers of _mse_loss; compile
    writes this where the backward's x - y is d, computed once."""
    return _reduce(d * d, reduction)


_TINY = 1e-12
_EXP_M100 = np.exp(-100.0)  # log(max(p, e^-100)) = max(log p, -100): PyTorch's clamp of the logs


@primitive("binary_cross_entropy",
           "dp = g * ((1 - y) / max(1 - p, 1e-12) - y / max(p, 1e-12)) / N, "
           "dy = g * (log(1 - p) - log(p)) / N  (p = input, y = target)",
           lambda g, p, y, _, *, reduction: _scale(g, math.prod(p.shape), reduction) * (
               (1 - y) / maximum(1 - p, _TINY) - y / maximum(p, _TINY)),
           lambda g, p, y, _, *, reduction: _scale(g, math.prod(p.shape), reduction) * (
               log(maximum(1 - p, _EXP_M100)) - log(maximum(p, _EXP_M100))))
def _binary_cross_entropy(input, target, *, reduction="mean"):
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


@primitive("binary_cross_entropy_with_logits",
           "dx = g * (sigmoid(x) - y) / N, dy = -g * x / N  (x = input, y = target)",
           lambda g, x, y, _, *, reduction: _scale(g, math.prod(x.shape), reduction)
           * (sigmoid(x) - y),
           lambda g, x, y, _, *, reduction: -_scale(g, math.prod(x.shape), reduction) * x)
def _binary_cross_entropy_with_logits(input, target, *, reduction="mean"):
    """BCE of sigmoid(x), as max(x, 0) - x y + log(1 + exp(-|x|)): never overflows."""
    x, y = input, target
    return _reduce(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))), reduction)


@primitive("mse_loss", "dx = 2 g (x - y) / N, dy = -2 g (x - y) / N  (x = input, y = target)",
           lambda g, x, y, _, *, reduction: 2 * _scale(g, math.prod(x.shape), reduction) * (x - y),
           lambda g, x, y, _, *, reduction: -2 * _scale(g, math.prod(x.shape), reduction) * (x - y))
def _mse_loss(input, target, *, reduction="mean"):
    """(x - y)^2, reduced (mean over all elements by default, as PyTorch)."""
    d = input - target
    return _reduce(d * d, reduction)


# -- checks ------------------------------------------------------------------------------------

def _data(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _float_input(name, input, target):
    x = _data(input)
    if x.dtype.kind != "f":
        raise ValueError(
            f"{name}: input must be floating point, got dtype {x.dtype} (input shape {x.shape}, "
            f"target shape {np.shape(_data(target))}); convert it, e.g. x.astype(np.float64)")
    return x


def _as_dtype(target, t, dtype):
    """The target in the input's float dtype (float32 stays float32): a Tensor stays a Tensor
    (a differentiable cast), anything else becomes an ndarray."""
    if t.dtype == dtype:
        return target if isinstance(target, Tensor) else t
    if isinstance(target, Tensor) and target.requires_grad:
        return target.to(dtype)
    return t.astype(dtype)


def _elementwise(name, input, target, reduction, same_size):
    """Checks shared by the elementwise losses; returns the target in the input's dtype.

    `same_size`: what a target of another shape gets, as PyTorch: "warn" (then broadcast),
    or the message of the ShapeError to raise.
    """
    _check_reduction(name, reduction)
    x = _float_input(name, input, target)
    t = _data(target)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name}: target must be numeric, got dtype {t.dtype} (input shape "
                         f"{x.shape}, target shape {t.shape})")
    if t.shape != x.shape:
        fix = (f"reshape one of them, e.g. target.reshape{x.shape}" if t.size == x.size else
               "pass a target of the input's shape")
        if same_size == "warn":
            try:
                np.broadcast_shapes(x.shape, t.shape)
            except ValueError:
                raise ShapeError(f"{name}: the target's shape {t.shape} does not broadcast "
                                 f"against the input's shape {x.shape}; {fix}") from None
            warnings.warn(
                f"{name}: Using a target size {t.shape} that is different to the input size "
                f"{x.shape}. This will likely lead to incorrect results due to broadcasting. "
                f"Please ensure they have the same size: {fix}", UserWarning, stacklevel=3)
        else:
            raise ShapeError(f"{name}: {same_size.format(t=t.shape, x=x.shape)}; {fix}")
    return _as_dtype(target, t, x.dtype)


def _labels(name, input, target, ignore_index):
    """Check integer class labels against the input (N, C, d...) or (C,): shape and range.
    Returns (labels ndarray, mask of the non-ignored ones or None when none is ignored)."""
    x = _data(input)
    t = _data(target)
    axis = 1 if x.ndim > 1 else 0
    c = x.shape[axis]
    want = x.shape[:axis] + x.shape[axis + 1:]
    if t.shape != want:
        fix = (f"; pass them as a vector, e.g. target.reshape({want[0]})"
               if t.size == x.shape[0] and x.ndim == 2 else "")
        raise ShapeError(
            f"{name}: class labels must have shape {want} (the input's shape {x.shape} without "
            f"the class axis {axis}), got target shape {t.shape}{fix}")
    if not t.size:
        return t, None
    # one reduction checks both ends: as unsigned integers, negative labels are huge
    if (t.view(f"u{t.itemsize}") if t.dtype.kind == "i" else t).max() < c:
        # all valid; some are ignored only if ignore_index is a class
        if 0 <= ignore_index < c:
            keep = t != ignore_index
            return t, (None if keep.all() else keep)
        return t, None
    keep = t != ignore_index
    bad = ((t < 0) | (t >= c)) & keep
    if bad.any():
        where_ = _first(bad)
        raise LabelError(
            f"{name}: label {t[where_]} at index {where_} is out of range: labels must be in "
            f"[0, {c}) for {c} classes (input shape {x.shape}, target shape {t.shape}), or equal "
            f"ignore_index={ignore_index} to skip a sample")
    return t, keep


def _class_weight(name, weight, x):
    """The per-class weight as an ndarray of the input's dtype (a constant: PyTorch computes
    no gradient for it either)."""
    c = x.shape[1 if x.ndim > 1 else 0]
    w = _data(weight)
    if w.shape != (c,):
        raise ShapeError(f"{name}: weight must have one entry per class, shape ({c},) for input "
                         f"shape {x.shape}, got shape {w.shape}")
    if w.dtype.kind not in "biuf":
        raise ValueError(f"{name}: weight must be numeric, got dtype {w.dtype}")
    return w.astype(x.dtype, copy=False)


def _along_classes(w, x):
    """A per-class vector shaped to broadcast against x along its class axis."""
    return w.reshape((-1,) + (1,) * (x.ndim - (1 if x.ndim > 1 else 0) - 1))


# -- the public functions ----------------------------------------------------------------------

def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross entropy of logits, as torch.nn.functional.cross_entropy.

    input: logits (N, C), (N, C, d1, ...) (classes on axis 1) or (C,). target: integer class
    labels of the input's shape without axis 1 (() for (C,)), or class probabilities of the
    input's shape. Per sample, with logp = log_softmax(input, 1) and eps = label_smoothing:
      labels:        l = (1 - eps) * (-w[y] logp[y]) + eps / C * sum_c (-w[c] logp[c]),
                     0 where y == ignore_index;
      probabilities: l = -sum_c w[c] q[c] logp[c], q = (1 - eps) p + eps / C.
    "mean" divides the sum by sum(w[y]) over the non-ignored labels (by the number of samples
    for probabilities). `weight` (C,): a constant per-class rescaling. d/dz = softmax(z) sum(q) - q.
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    x = _float_input(name, input, target)
    if x.ndim == 0:
        raise ShapeError(f"{name}: input must have at least one dimension: logits (N, C), "
                         f"(N, C, d1, ...) or (C,), got a 0-d input")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    t = _data(target)
    if t.dtype.kind in "iu":
        labels, keep = _labels(name, x, t, ignore_index)
        if weight is None and not label_smoothing and keep is None:
            return _cross_entropy(input, labels, reduction=reduction)  # the common case, fused
        return _weighted_labels(_cross_entropy, input, x, labels, keep, weight, reduction,
                                label_smoothing, name)
    if t.dtype.kind != "f":
        raise ValueError(f"{name}: target must be integer class labels or float class "
                         f"probabilities, got dtype {t.dtype} (input shape {x.shape}, target "
                         f"shape {t.shape})")
    if t.shape != x.shape:
        axis = 1 if x.ndim > 1 else 0
        hint = (" (float labels? pass integer class labels, e.g. target.astype(np.int64))"
                if t.shape == x.shape[:axis] + x.shape[axis + 1:] else
                f"; for class labels pass integers of shape {x.shape[:axis] + x.shape[axis + 1:]}")
        raise ShapeError(f"{name}: class probabilities must have the input's shape {x.shape}, "
                         f"got target shape {t.shape}{hint}")
    q = _as_dtype(target, t, x.dtype)
    if label_smoothing:
        q = q * (1 - label_smoothing) + label_smoothing / x.shape[1 if x.ndim > 1 else 0]
    if weight is not None:
        q = q * _along_classes(_class_weight(name, weight, x), x)
    return _cross_entropy(input, q, reduction=reduction)


def _weighted_labels(loss, input, x, labels, keep, weight, reduction, smoothing, name):
    """Class labels with weights, ignored samples or smoothing, as the constant distribution
    q = keep * ((1 - eps) w[y] onehot(y) + eps / C * w): `loss(input, q)` per sample, and
    "mean" divides by sum(w[y]) over the kept samples (PyTorch's rule)."""
    c = x.shape[1 if x.ndim > 1 else 0]
    w = None if weight is None else _class_weight(name, weight, x)
    safe = labels if keep is None else np.where(keep, labels, 0)
    wy = np.ones(labels.shape, x.dtype) if w is None else w[safe]
    if keep is not None:
        wy = wy * keep
    axis = 1 if x.ndim > 1 else 0
    q = _onehot_of(safe, x) * np.expand_dims(wy * (1 - smoothing), axis)
    if smoothing:
        spread = np.full(c, smoothing / c, x.dtype) if w is None else w * (smoothing / c)
        mask = np.ones(labels.shape, x.dtype) if keep is None else keep.astype(x.dtype)
        q = q + _along_classes(spread, x) * np.expand_dims(mask, axis)
    if reduction != "mean":
        return loss(input, q, reduction=reduction)
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: 0 / 0 = nan, as PyTorch
        return loss(input, q, reduction="sum") / float(wy.sum())


def _nll(input, q, *, reduction):
    """-sum_c q_c x_c over the class axis: a composition, linear in x."""
    per = -(input * q).sum(axis=_class_axis(_data(input)))
    return per if reduction == "none" else per.sum()


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log likelihood of log-probabilities, as torch.nn.functional.nll_loss.

    input: log-probabilities (N, C), (N, C, d1, ...) (classes on axis 1) or (C,); target:
    integer class labels of the input's shape without axis 1. Per sample l = -w[y] input[y],
    0 where y == ignore_index; "mean" divides the sum by sum(w[y]) over the non-ignored.
    nll_loss(log_softmax(z, 1), y) == cross_entropy(z, y). d/dinput = -w[y] at the label.
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    x = _float_input(name, input, target)
    if x.ndim == 0:
        raise ShapeError(f"{name}: input must have at least one dimension: (N, C), "
                         f"(N, C, d1, ...) or (C,), got a 0-d input")
    t = _data(target)
    if t.dtype.kind not in "iu":
        raise ValueError(f"{name}: target must be integer class labels, got dtype {t.dtype} "
                         f"(input shape {x.shape}, target shape {t.shape}); e.g. "
                         f"target.astype(np.int64)")
    labels, keep = _labels(name, x, t, ignore_index)
    if not isinstance(input, Tensor):
        input = Tensor(x)
    return _weighted_labels(_nll, input, x, labels, keep, weight, reduction, 0.0, name)


def _weight(name, weight, x, same_shape=False):
    """A per-element weight of the losses, in the input's dtype (a Tensor stays one): it must
    broadcast to the input's shape, or have it (same_shape, as PyTorch's regression losses)."""
    w = _data(weight)
    if w.dtype.kind not in "biuf":
        raise ValueError(f"{name}: weight must be numeric, got dtype {w.dtype}")
    if same_shape and w.shape != x.shape:
        raise ValueError(f"{name}: weights and input must have the same size: weight shape "
                         f"{w.shape}, input shape {x.shape}")
    try:
        if np.broadcast_shapes(w.shape, x.shape) != x.shape:
            raise ValueError
    except ValueError:
        raise ShapeError(f"{name}: a weight of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}") from None
    return _as_dtype(weight, w, x.dtype)


def _weighted(losses, w, reduction, mean_by_weight=False):
    """The per-element losses times w, reduced ("mean" over the elements, or divided by the sum
    of the weights for PyTorch's weighted mse_loss and l1_loss)."""
    losses = losses * w
    if reduction == "mean" and mean_by_weight:
        return losses.sum() / (w.sum() if isinstance(w, Tensor) else float(np.sum(w)))
    return _reduced(losses, reduction)


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """-w (y log p + (1 - y) log(1 - p)) on probabilities p in [0, 1], logs clamped at -100, as
    torch.nn.functional.binary_cross_entropy; `weight` w (default 1) broadcasts to the input's
    shape, "mean" is over the elements. The target must have the input's shape, and p outside
    [0, 1] or NaN raises ValueError. d/dp = w (p - y) / (p (1 - p))."""
    name = "binary_cross_entropy"
    y = _elementwise(name, input, target, reduction,
                     "Using a target size {t} that is different to the input size {x} is "
                     "not supported (PyTorch raises too). Please ensure they have the same size")
    p = _data(input)
    if p.size and not (p.min() >= 0 and p.max() <= 1):
        nan = np.isnan(p)
        if nan.any():
            first = _first(nan)
            raise ValueError(
                f"{name}: the input contains {int(nan.sum())} NaN value(s), the first at index "
                f"{first} (input shape {p.shape}); all elements of input should be between 0 "
                f"and 1: look for a division by zero or a log of a negative number upstream")
        bad = (p < 0) | (p > 1)
        first = _first(bad)
        raise ValueError(
            f"{name}: all elements of input should be between 0 and 1, got {p[first]} at index "
            f"{first} (values in [{p.min()}, {p.max()}], input shape {p.shape}); for raw "
            f"scores (logits) use binary_cross_entropy_with_logits (nn.BCEWithLogitsLoss)")
    if weight is None:
        return _binary_cross_entropy(input, y, reduction=reduction)
    w = _weight(name, weight, p)
    return _weighted(_binary_cross_entropy(input, y, reduction="none"), w, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None):
    """binary_cross_entropy(sigmoid(x), y), computed stably from the logits x, as
    torch.nn.functional.binary_cross_entropy_with_logits. d/dx = sigmoid(x) - y.

    pos_weight q (broadcast along the last dim, one per class) weighs the positive term:
    l = -w (q y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))), which is the plain loss plus
    (q - 1) y softplus(-x), softplus(-x) = max(-x, 0) + log1p(exp(-|x|)) never overflowing.
    `weight` w (default 1) broadcasts to the input's shape; "mean" is over the elements."""
    name = "binary_cross_entropy_with_logits"
    y = _elementwise(name, input, target, reduction,
                     "Target size {t} must be the same as input size {x}")
    if weight is None and pos_weight is None:
        return _binary_cross_entropy_with_logits(input, y, reduction=reduction)
    x = _data(input)
    losses = _binary_cross_entropy_with_logits(input, y, reduction="none")
    if pos_weight is not None:
        q = _weight(name + " (pos_weight)", pos_weight, x)
        softplus = maximum(-input, 0) + log1p(exp(-abs(input)))
        losses = losses + (q - 1) * y * softplus
    return _weighted(losses, 1 if weight is None else _weight(name, weight, x), reduction)


def mse_loss(input, target, *, reduction="mean", weight=None):
    """(x - y)^2, as torch.nn.functional.mse_loss: a target of another shape is broadcast
    with a UserWarning (PyTorch's). d/dx = 2 (x - y). `weight` (of the input's shape): the
    losses times it, and "mean" is sum(w l) / sum(w), as PyTorch."""
    y = _elementwise("mse_loss", input, target, reduction, "warn")
    if weight is None:
        return _mse_loss(input, y, reduction=reduction)
    w = _weight("mse_loss", weight, _data(input), same_shape=True)
    return _weighted(_mse_loss(input, y, reduction="none"), w, reduction, mean_by_weight=True)


def _reduced(losses, reduction):
    if reduction == "mean":
        return losses.mean() if losses.numel() else losses.sum() * np.nan  # empty: nan, as PyTorch
    return losses.sum() if reduction == "sum" else losses


def _diff(input, target):
    return (input if isinstance(input, Tensor) else Tensor(_data(input))) - target


def l1_loss(input, target, *, reduction="mean", weight=None):
    """|x - y|, as torch.nn.functional.l1_loss (a composition). d/dx = sign(x - y). `weight`
    (of the input's shape): the losses times it, and "mean" is sum(w l) / sum(w), as PyTorch."""
    y = _elementwise("l1_loss", input, target, reduction, "warn")
    if weight is None:
        return _reduced(abs(_diff(input, y)), reduction)
    w = _weight("l1_loss", weight, _data(input), same_shape=True)
    return _weighted(abs(_diff(input, y)), w, reduction, mean_by_weight=True)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = x - y, as
    torch.nn.functional.huber_loss (a composition). d/dx = d, or delta sign(d). `weight` (of the
    input's shape): the losses times it, "mean" over the elements (PyTorch's rule here)."""
    name = "huber_loss"
    if not delta > 0:
        raise ValueError(f"{name}: delta must be positive, got {delta}")
    y = _elementwise(name, input, target, reduction, "warn")
    d = _diff(input, y)
    a = abs(d)
    losses = where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    if weight is None:
        return _reduced(losses, reduction)
    return _weighted(losses, _weight(name, weight, _data(input), same_shape=True), reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = x - y (l1_loss for beta = 0),
    as torch.nn.functional.smooth_l1_loss (a composition). d/dx = d / beta, or sign(d)."""
    name = "smooth_l1_loss"
    if not beta >= 0:
        raise ValueError(f"{name}: beta must be non-negative, got {beta}")
    y = _elementwise(name, input, target, reduction, "warn")
    d = _diff(input, y)
    a = abs(d)
    if beta == 0:
        return _reduced(a, reduction)
    return _reduced(where(a < beta, (0.5 / beta) * d * d, a - 0.5 * beta), reduction)
