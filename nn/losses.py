"""Loss modules, as torch.nn: each holds its options and calls the engine's functional loss
(autograd_mini/losses.py), which checks the inputs and does the math.

Each takes `(input, target)`; the target may be an ndarray, a list or a Tensor (a float target
that requires grad gets its gradient, as in PyTorch). `reduction`: "mean" (default), "sum" or
"none". A class `weight` may be a Tensor or an ndarray; it is a constant, as in PyTorch.
"""
from autograd_mini import functional as F

from .module import Module


class _Loss(Module):
    def __init__(self, reduction="mean"):
        super().__init__()
        if reduction not in ("mean", "sum", "none"):  # at construction, not at the first call
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or 'none', "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self):
        return f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction="mean"):
        if isinstance(weight, str):  # CrossEntropyLoss("sum"): the first parameter is weight
            raise TypeError(f"{type(self).__name__}: the first parameter is the class weight, "
                            f"got {weight!r}; pass reduction={weight!r} by keyword")
        super().__init__(reduction)
        self.weight = weight


class MSELoss(_Loss):
    """(input - target)^2, averaged over all elements by default: F.mse_loss."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """|input - target|, averaged over all elements by default: F.l1_loss."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """0.5 d^2 where |d| < delta, else delta (|d| - delta / 2), d = input - target:
    F.huber_loss."""

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        self.delta = delta

    def extra_repr(self):
        return f"reduction={self.reduction!r}, delta={self.delta}"

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2, d = input - target:
    F.smooth_l1_loss."""

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        self.beta = beta

    def extra_repr(self):
        return f"reduction={self.reduction!r}, beta={self.beta}"

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    """-w (y log p + (1 - y) log(1 - p)) on probabilities p in [0, 1], logs clamped at -100:
    F.binary_cross_entropy. `weight` (optional, as PyTorch's first parameter): w, broadcast to
    the input's shape, rescaling each element's loss."""

    def forward(self, input, target):
        if self.weight is None:
            return F.binary_cross_entropy(input, target, reduction=self.reduction)
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """BCELoss of sigmoid(input), computed stably from the logits:
    F.binary_cross_entropy_with_logits. `weight` as BCELoss's; `pos_weight` (one value per
    class, broadcast along the last dim) multiplies the positive term y log sigmoid(x), to
    trade recall against precision, as PyTorch."""

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__(weight, reduction)
        self.pos_weight = pos_weight

    def forward(self, input, target):
        extra = {}
        if self.weight is not None:
            extra["weight"] = self.weight
        if self.pos_weight is not None:
            extra["pos_weight"] = self.pos_weight
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction,
                                                  **extra)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits (N, C), (N, C, d1, ...) or (C,) against integer class labels or
    class probabilities, with PyTorch's weight, ignore_index and label_smoothing:
    F.cross_entropy."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def extra_repr(self):
        extra = "" if not self.label_smoothing else f", label_smoothing={self.label_smoothing}"
        return f"reduction={self.reduction!r}{extra}"

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities (N, C), (N, C, d1, ...) or (C,) against
    integer class labels, with PyTorch's weight and ignore_index: F.nll_loss."""

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)
