"""Loss modules: check the inputs, then call the engine's fused loss ops (autograd_mini/losses.py).

Each takes `(prediction, target)`. The target may be an ndarray, a list or a Tensor and is
treated as a constant (no gradient flows into it). `reduction`: "mean" (default), "sum" or
"none".
"""
import numpy as np

from autograd_mini import Tensor
from autograd_mini import functional as F

from .module import Module


def _array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"

    def _fail(self, msg, pred, target):
        raise ValueError(f"{type(self).__name__}: {msg} (prediction shape {np.shape(pred)}, "
                         f"target shape {np.shape(target)})")

    def _float_pair(self, pred, target):
        """Check the dtypes and that shapes are equal; return the target cast to pred's dtype."""
        p, t = _array(pred), _array(target)
        if p.dtype.kind != "f":
            self._fail(f"predictions must be floating point, got dtype {p.dtype}", p, t)
        if t.dtype.kind not in "biuf":
            self._fail(f"target must be numeric, got dtype {t.dtype}", p, t)
        if t.shape != p.shape:
            self._fail("prediction and target must have the same shape (no broadcasting: "
                       "(N, 1) against (N,) is a classic silent bug); reshape one of them", p, t)
        return p, t.astype(p.dtype, copy=False)


class MSELoss(_Loss):
    """mean((prediction - target)^2) over all elements (as PyTorch)."""

    def forward(self, pred, target):
        _, t = self._float_pair(pred, target)
        return F.mse_loss(pred, t, reduction=self.reduction)


class BCELoss(_Loss):
    """-(y log p + (1 - y) log(1 - p)) on probabilities p in [0, 1]; logs clamped at -100."""

    def forward(self, pred, target):
        p, t = self._float_pair(pred, target)
        if p.size and not (p.min() >= 0 and p.max() <= 1):
            self._fail(f"predictions must be probabilities in [0, 1], got values in "
                       f"[{p.min()}, {p.max()}]; for raw scores use BCEWithLogitsLoss", p, t)
        return F.binary_cross_entropy(pred, t, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """BCELoss of sigmoid(logits), computed stably from the logits."""

    def forward(self, logits, target):
        _, t = self._float_pair(logits, target)
        return F.binary_cross_entropy_with_logits(logits, t, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """-log_softmax(logits)[label], or -sum(p * log_softmax(logits)) for probability rows p.

    logits: (N, C) (or (C,) for one sample). target: integer class labels in [0, C) of shape
    (N,) (or ()), or float rows of shape (N, C) (one-hot or probabilities). "mean" averages
    over the N samples.
    """

    def forward(self, logits, target):
        z, t = _array(logits), _array(target)
        if z.dtype.kind != "f":
            self._fail(f"logits must be floating point, got dtype {z.dtype}", z, t)
        if z.ndim not in (1, 2):
            self._fail("logits must have shape (N, C), or (C,) for one sample", z, t)
        n_classes = z.shape[-1]
        if t.dtype.kind in "iu":
            if t.shape != z.shape[:-1]:
                self._fail(f"integer class labels must have shape {z.shape[:-1]}, one per row "
                           f"of logits", z, t)
            if t.size and (t.min() < 0 or t.max() >= n_classes):
                bad = t[(t < 0) | (t >= n_classes)].ravel()[0]
                self._fail(f"label {bad} is out of range: labels must be in [0, {n_classes})",
                           z, t)
        elif t.dtype.kind == "f":
            if t.shape != z.shape:
                hint = (" (float labels? pass integer class labels, e.g. "
                        "target.astype(np.int64))" if t.shape == z.shape[:-1] else "")
                self._fail("probability targets must have the logits' shape" + hint, z, t)
            t = t.astype(z.dtype, copy=False)
        else:
            self._fail(f"target must be integer class labels or float probability rows, "
                       f"got dtype {t.dtype}", z, t)
        return F.cross_entropy(logits, t, reduction=self.reduction)
