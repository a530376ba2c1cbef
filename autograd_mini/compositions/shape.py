"""Shape ops: views, axis permutations and indexing."""
import numpy as np

from .. import primitives as P
from ..tensor import Tensor
from ._args import AxisError, _check_dims, _shape_args


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


expand = P.expand

__all__ = ["reshape", "permute", "transpose", "swapaxes", "unsqueeze", "getitem", "expand"]
METHODS = ["reshape", "permute", "transpose", "swapaxes", "unsqueeze"]
