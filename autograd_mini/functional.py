"""The differentiable ops as functions: `F.sigmoid(x)`, `F.matmul(a, b)`, `F.sum(x, dim=0)`."""
from .compositions import (amax, amin, argmax, argmin, getitem, log_softmax, logsumexp, max,
                           mean, min, permute, reshape, softmax, sum, swapaxes, to, transpose,
                           unsqueeze)
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy,
                     huber_loss, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .primitives import (abs, add, div, exp, expand, linear, log, matmul, maximum, mul, neg, pow,
                         relu, sigmoid, sign, sqrt, sub, tanh, where)

__all__ = ["abs", "add", "amax", "amin", "argmax", "argmin", "div", "exp", "expand", "getitem",
           "linear", "log", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean", "min",
           "mul", "neg", "permute", "pow", "relu", "reshape", "sigmoid", "sign", "softmax",
           "sqrt", "sub", "sum", "swapaxes", "tanh", "to", "transpose", "unsqueeze", "where",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy",
           "mse_loss", "nll_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]
