"""The differentiable ops as functions: `F.sigmoid(x)`, `F.matmul(a, b)`, `F.sum(x, dim=0)`.

The primitives and compositions, grouped as in compositions/ (each group re-exports its
primitives), matmul and linear, and the losses (losses.py).
"""
from .compositions import *  # noqa: F401,F403
from .compositions import __all__ as _compositions
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .primitives import linear, matmul

__all__ = _compositions + [
    "linear", "matmul", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cross_entropy", "huber_loss", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss"]
