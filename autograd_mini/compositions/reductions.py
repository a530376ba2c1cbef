"""Reductions along axes, the softmax family, and max/min with PyTorch's return types."""
import builtins
from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..tape import result
from ..tensor import Tensor
from ._args import _axis, _check_dims, _one_dim, _reduce_args
from .shape import unsqueeze


def sum(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Sum over `dim` (all elements by default). d/dx = g broadcast back."""
    dim, keepdim = _reduce_args("sum", input, dim, keepdim, axis, keepdims)
    return P.sum(input, axis=dim, keepdims=keepdim)


def mean(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """sum / n over `dim`. d/dx = g / n broadcast back."""
    dim, keepdim = _reduce_args("mean", input, dim, keepdim, axis, keepdims)
    return P.mean(input, axis=dim, keepdims=keepdim)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values over `dim`; the gradient is split equally among ties."""
    dim, keepdim = _reduce_args("amax", input, dim, keepdim, axis, keepdims)
    return P.amax(input, axis=dim, keepdims=keepdim)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values over `dim`: -amax(-x)."""
    return -amax(-input if isinstance(input, Tensor) else -np.asarray(input), dim, keepdim,
                 axis=axis, keepdims=keepdims)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest value (of the flattened tensor without `dim`): an integer Tensor."""
    dim, keepdim = _reduce_args("argmax", input, dim, keepdim, axis, keepdims)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return result(np.argmax(x, axis=dim, keepdims=keepdim and dim is not None).astype(np.int64))


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest value: an integer Tensor."""
    dim, keepdim = _reduce_args("argmin", input, dim, keepdim, axis, keepdims)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return result(np.argmin(x, axis=dim, keepdims=keepdim and dim is not None).astype(np.int64))


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether any element (along `dim`) is nonzero: a bool Tensor."""
    dim, keepdim = _reduce_args("any", input, dim, keepdim, axis, keepdims)
    return result(np.any(np.asarray(input), axis=dim, keepdims=keepdim))


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether all elements (along `dim`) are nonzero: a bool Tensor."""
    dim, keepdim = _reduce_args("all", input, dim, keepdim, axis, keepdims)
    return result(np.all(np.asarray(input), axis=dim, keepdims=keepdim))


ReturnTypes = namedtuple("values_indices", ["values", "indices"])


def _select(name, pick, input, dim, keepdim, axis, keepdims):
    """max/min: without a dim the extreme value (ties share the gradient); with a dim the named
    tuple (values, indices), the gradient going to the selected index, as PyTorch."""
    if isinstance(dim, Tensor):  # max(x, other), as PyTorch: the elementwise maximum
        if pick is np.argmax:
            return P.maximum(input, dim)
        return -P.maximum(-input, -dim)
    if dim is None and axis is None:
        if keepdim or keepdims:
            raise TypeError(f"{name}(): keepdim needs a dim")
        return (amax if pick is np.argmax else amin)(input)
    dim, keepdim = _reduce_args(name, input, dim, keepdim, axis, keepdims)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    if x.ndim == 0:  # PyTorch: dim 0 of a 0-d tensor selects the value itself, at index 0
        return ReturnTypes(P.getitem(input, idx=()), result(np.zeros((), np.int64)))
    if not isinstance(dim, int):
        raise TypeError(f"{name}(): dim must be one int, got {dim!r}; use amax/amin for several")
    idx = pick(x, axis=dim)
    where = list(np.indices(idx.shape, sparse=True))
    where.insert(dim, idx)
    values = P.getitem(input, idx=tuple(where))
    if keepdim:
        values, idx = unsqueeze(values, dim), np.expand_dims(idx, dim)
    return ReturnTypes(values, result(idx.astype(np.int64)))


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """max(x): the largest value. max(x, dim): (values, indices) along dim, as PyTorch."""
    return _select("max", np.argmax, input, dim, keepdim, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """min(x): the smallest value. min(x, dim): (values, indices) along dim, as PyTorch."""
    return _select("min", np.argmin, input, dim, keepdim, axis, keepdims)


def softmax(input, dim=None, *, axis=None):
    """exp(x) / sum(exp(x)) along `dim` (the last axis by default)."""
    return P.softmax(input, axis=_one_dim("softmax", input, _axis("softmax", dim, axis)))


def log_softmax(input, dim=None, *, axis=None):
    """x - logsumexp(x) along `dim` (the last axis by default)."""
    return P.log_softmax(input, axis=_one_dim("log_softmax", input,
                                              _axis("log_softmax", dim, axis)))


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over `dim`, shifted by the max so it never overflows."""
    dim, keepdim = _reduce_args("logsumexp", input, dim, keepdim, axis, keepdims)
    return P.logsumexp(input, axis=dim, keepdims=keepdim)


__all__ = ["sum", "mean", "amax", "amin", "argmax", "argmin", "any", "all", "max", "min",
           "softmax", "log_softmax", "logsumexp"]
METHODS = __all__
