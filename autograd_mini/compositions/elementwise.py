"""Elementwise ops: casts, and the math functions composed from the primitives."""
import numpy as np

from .. import primitives as P
from ..tape import result
from ..tensor import Tensor

abs, exp, log, sqrt, sign, sigmoid, tanh, relu = (P.abs, P.exp, P.log, P.sqrt, P.sign,
                                                  P.sigmoid, P.tanh, P.relu)
add, sub, mul, div, pow, neg, maximum, where = (P.add, P.sub, P.mul, P.div, P.pow, P.neg,
                                               P.maximum, P.where)


def to(input, *args, dtype=None):
    """input as `dtype`: differentiable between float dtypes; otherwise a Tensor without grad.

    As PyTorch: `to(dtype)`, `to(other)` (other's dtype), `to("cpu")` and `to("cpu", dtype)`;
    a tensor that already has the dtype is returned itself."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
            if a != "cpu":
                raise RuntimeError(f"to(): device {a!r} is not available; numpy runs on the cpu")
        else:
            dtype = a
    if dtype is None:
        return input
    dtype = np.dtype(dtype)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    if dtype == x.dtype and isinstance(input, Tensor):
        return input
    if dtype.kind in "fc" and x.dtype.kind in "fc":
        return P.to(input, dtype=dtype)
    return result(x.astype(dtype))


__all__ = ["abs", "exp", "log", "sqrt", "sign", "sigmoid", "tanh", "relu", "add", "sub", "mul",
           "div", "pow", "neg", "maximum", "where", "to"]
METHODS = ["exp", "log", "sqrt", "sign", "sigmoid", "tanh", "relu", "add", "sub", "mul", "div",
           "pow", "neg", "abs", "to"]
