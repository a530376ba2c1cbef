"""The differentiable ops as functions: `F.sigmoid(x)`, `F.matmul(a, b)`, `F.sum(x, axis=0)`."""
from .losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, mse_loss
from .ops import (abs, add, div, exp, getitem, linear, log, log_softmax, logsumexp, matmul, max,
                  mean, mul, neg, pow, relu, reshape, sigmoid, softmax, sqrt, sub, sum, tanh,
                  transpose)

__all__ = ["abs", "add", "div", "exp", "getitem", "linear", "log", "log_softmax", "logsumexp",
           "matmul", "max", "mean", "mul", "neg", "pow", "relu", "reshape", "sigmoid", "softmax",
           "sqrt", "sub", "sum", "tanh", "transpose", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss"]
