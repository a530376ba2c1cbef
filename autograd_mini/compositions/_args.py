"""Argument handling shared by the compositions: axes (PyTorch's dim= / keepdim= or numpy's
axis= / keepdims=, one or the other) and shapes, with errors that say what to do."""
import builtins

import numpy as np

from ..tensor import Tensor


def shape_of(input):
    return np.shape(input._data if isinstance(input, Tensor) else input)


class AxisError(ValueError, IndexError):
    """An axis out of range: a ValueError for numpy habits, an IndexError for PyTorch habits."""


class ArgumentError(ValueError, RuntimeError):
    """An argument PyTorch refuses with a RuntimeError (repeated dims, not a permutation, shifts
    and dims of different lengths, a bad padding): a ValueError for numpy habits."""


def _axis(name, dim, axis):
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError(f"{name}(): got both dim= and axis=; pass one of them")
    return axis


def _keep(name, keepdim, keepdims):
    if keepdims is None:
        return keepdim
    if keepdim:
        raise TypeError(f"{name}(): got both keepdim= and keepdims=; pass one of them")
    return keepdims


def _check_dims(name, dims, ndim, shape=None):
    """Normalize `dims` (an int or a tuple) against `ndim`, with a clear error when out of range."""
    single = isinstance(dims, (int, np.integer))
    out = []
    for d in ((dims,) if single else dims):
        if not -builtins.max(ndim, 1) <= d < builtins.max(ndim, 1):
            raise AxisError(
                f"{name}(): dim {d} is out of range for a tensor of shape "
                f"{shape if shape is not None else ndim} (valid dims: {-builtins.max(ndim, 1)} "
                f"to {builtins.max(ndim, 1) - 1})")
        out.append(int(d) % ndim if ndim else 0)
    return out[0] if single else tuple(out)


def _reduce_args(name, input, dim, keepdim, axis, keepdims):
    dim = _axis(name, dim, axis)
    keepdim = _keep(name, keepdim, keepdims)
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    ndim = len(shape)
    if dim is not None:
        dim = _check_dims(name, dim, ndim, shape)
        if ndim == 0:  # PyTorch: dim 0 (or -1) of a 0-d tensor is the tensor itself
            dim = None
    return dim, bool(keepdim)


def _one_dim(name, input, dim):
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    return _check_dims(name, -1 if dim is None else dim, len(shape), shape) if shape else None


def _shape_args(args):
    """reshape(2, 3) and reshape((2, 3)) both mean the tuple (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
