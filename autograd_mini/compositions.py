"""Ops composed from the primitives, with PyTorch's names, argument names and defaults.

Nothing here has a VJP of its own: first and higher derivatives come from the primitives for
free, which is the point of the engine. Each function is also the Tensor method of the same
name (`x.mean(1)` is `mean(x, 1)`).

Axis arguments: PyTorch's `dim=` / `keepdim=` or numpy's `axis=` / `keepdims=`, one or the
other (both at once is a TypeError).
"""
import builtins
from collections import namedtuple

import numpy as np

from . import primitives as P
from .tape import ShapeError, result
from .tensor import Tensor


class AxisError(ValueError, IndexError):
    """An axis out of range: a ValueError for numpy habits, an IndexError for PyTorch habits."""


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


# -- reductions --------------------------------------------------------------------------------

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


def _one_dim(name, input, dim):
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    return _check_dims(name, -1 if dim is None else dim, len(shape), shape) if shape else None


# -- shape -------------------------------------------------------------------------------------

def _shape_args(args):
    """reshape(2, 3) and reshape((2, 3)) both mean the tuple (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def reshape(input, *shape, **kwargs):
    """The same elements in a new shape (one entry may be -1): reshape(x, (2, 3)), x.reshape(2, 3)
    or reshape(x, shape=(2, 3))."""
    if kwargs:
        if shape or set(kwargs) != {"shape"}:
            raise TypeError(f"reshape(): takes the shape once, got {shape} and {kwargs}")
        shape = (kwargs["shape"],)
    return P.reshape(input, shape=_shape_args(shape))


def permute(input, *dims):
    """The axes reordered: out.shape[i] = input.shape[dims[i]]."""
    dims = _shape_args(dims)
    ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
    axes = _check_dims("permute", tuple(dims), ndim)
    if sorted(axes) != list(range(ndim)):
        raise AxisError(f"permute(): dims {dims} are not a permutation of the axes of a tensor "
                        f"of shape {np.shape(input._data if isinstance(input, Tensor) else input)}")
    return P.transpose(input, axes=axes)


def transpose(input, dim0, dim1):
    """Swap two axes (PyTorch's meaning; for numpy's permutation use permute)."""
    ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
    if ndim == 0:
        _check_dims("transpose", (dim0, dim1), 0)
        return P.transpose(input, axes=())
    dim0, dim1 = _check_dims("transpose", (dim0, dim1), ndim)
    dims = list(range(ndim))
    dims[dim0], dims[dim1] = dim1, dim0
    return P.transpose(input, axes=tuple(dims))


swapaxes = transpose


def unsqueeze(input, dim):
    """A new axis of size 1 at `dim`."""
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    dim = _check_dims("unsqueeze", dim, len(shape) + 1)
    return P.reshape(input, shape=shape[:dim] + (1,) + shape[dim:])


def getitem(input, idx):
    """input[idx]: basic, integer-array and boolean indexing (numpy's rules); the gradient of
    a repeated index accumulates."""
    if isinstance(idx, Tensor):
        idx = idx._data
    elif isinstance(idx, tuple):
        idx = tuple(i._data if isinstance(i, Tensor) else i for i in idx)
    elif isinstance(idx, list):
        idx = np.asarray(idx)
    try:
        return P.getitem(input, idx=idx)
    except IndexError as err:
        shape = np.shape(input._data if isinstance(input, Tensor) else input)
        raise AxisError(f"getitem: {err} (tensor shape {shape})") from None


def T(input):
    """All axes reversed."""
    return P.transpose(input, axes=tuple(range(np.ndim(input._data) - 1, -1, -1)))


def mT(input):
    """The last two axes swapped (a matrix, or a batch of them)."""
    return transpose(input, -2, -1)


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


__all__ = ["sum", "mean", "amax", "amin", "argmax", "argmin", "any", "all", "max", "min", "softmax",
           "log_softmax", "logsumexp", "reshape", "permute", "transpose", "swapaxes", "unsqueeze",
           "getitem", "to", "AxisError", "ShapeError"]
