"""Tensor factories as PyTorch's (`zeros`, `ones`, `randn`, `arange`, `tensor`) and the one
default random generator behind them, nn's initialisation and dropout (`manual_seed`).

Unlike PyTorch, float results are float64 unless `dtype=` says otherwise (numpy's default);
integer arguments to `tensor` and `arange` give int64, as PyTorch. `dtype=` takes numpy's
dtypes (`np.float32`, or `autograd_mini.float32`, which is the same object).
"""
import numpy as np

from .compositions.activations import _generator  # F.dropout's default: the same generator
from .tensor import Tensor

__all__ = ["manual_seed", "default_generator", "zeros", "ones", "randn", "arange", "tensor"]


def default_generator():
    """The numpy Generator used when no `generator=`/`rng=` is given: by randn, nn's layers
    and nn.init, nn.Dropout and F.dropout. `manual_seed` reseeds it in place."""
    return _generator


def manual_seed(seed):
    """Reseed the default generator (randn, nn's initialisation, Dropout, F.dropout), as
    `torch.manual_seed`: the numbers that follow are those of `np.random.default_rng(seed)`.
    Returns the generator."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: the seed must be an int, got {seed!r}")
    _generator.bit_generator.state = np.random.PCG64(int(seed)).state  # in place: one object
    return _generator


def as_generator(rng, what="rng"):
    """None (the default generator), an int seed (a new Generator) or a numpy Generator."""
    if rng is None:
        return _generator
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(rng)
    raise TypeError(f"{what} must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def _shape(size, what):
    """zeros(2, 3), zeros((2, 3)) and zeros([2, 3]) alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for n in size:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise TypeError(f"{what}: the size must be non-negative ints, e.g. {what}(2, 3) or "
                            f"{what}((2, 3)), got {size!r}")
    return tuple(int(n) for n in size)


def _dtype(dtype):
    return np.dtype(np.float64 if dtype is None else dtype)


def zeros(*size, dtype=None, requires_grad=False):
    """A tensor of zeros of the given size (float64 unless `dtype`)."""
    return Tensor(np.zeros(_shape(size, "zeros"), _dtype(dtype)), requires_grad=requires_grad)


def ones(*size, dtype=None, requires_grad=False):
    """A tensor of ones of the given size (float64 unless `dtype`)."""
    return Tensor(np.ones(_shape(size, "ones"), _dtype(dtype)), requires_grad=requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None):
    """Samples of N(0, 1) of the given size (float64 unless `dtype`), from `generator` (an int
    seed or a numpy Generator; default: the generator `manual_seed` reseeds)."""
    dtype = _dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"randn: normal samples need a floating point dtype, got {dtype}")
    values = as_generator(generator, "randn: generator").standard_normal(_shape(size, "randn"))
    return Tensor(values.astype(dtype, copy=False), requires_grad=requires_grad)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False):
    """start, start + step, ... up to end (excluded); arange(n) is 0 .. n-1. int64 when every
    argument is an int, float64 otherwise, unless `dtype`."""
    args = (start, step) if end is None else (start, end, step)
    if dtype is None:
        dtype = np.int64 if all(_is_int(a) for a in args) else np.float64
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad=False):
    """A new tensor holding a copy of `data` (a number, nested lists, an ndarray, a Tensor), as
    `torch.tensor`: Python ints give int64, Python floats float64, bools bool; an ndarray keeps
    its dtype unless `dtype`."""
    if isinstance(data, Tensor):
        data = data.data
    elif not isinstance(data, np.ndarray) and dtype is None:
        a = np.array(data)
        if a.dtype.kind in "iu":
            dtype = np.int64  # numpy's default int is int32 on Windows
    a = np.array(data, dtype=dtype)  # always a copy
    if a.dtype.kind not in "biufc":
        raise TypeError(f"tensor: data must be numeric (numbers, nested lists of them or an "
                        f"ndarray), got {type(data).__name__} of dtype {a.dtype}")
    return Tensor(a, requires_grad=requires_grad)
