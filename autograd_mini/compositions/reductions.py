"""Reductions along axes, the softmax family, scans, sorting, and max/min with PyTorch's return
types.

Primitives of this group (primitives.py): sum, mean, amax, softmax, log_softmax, logsumexp, prod,
cumsum. Everything else here is a composition with no VJP of its own: var and std are the mean
of squared deviations, norm a sum of powers, cumprod and logcumsumexp scans of mul and logaddexp,
and every (values, indices) op (max(dim), sort, topk, cummax, median) picks its values with a
getitem at indices computed by numpy, so the gradient goes to the selected elements. First and
higher derivatives come from the primitives for free.
"""
import builtins
import math
import warnings
from collections import namedtuple

import numpy as np

from .. import primitives as P
from ..tape import ShapeError, result
from ..tensor import Tensor
from ._args import _axis, _check_dims, _one_dim, _reduce_args, shape_of
from . import elementwise as E
from .shape import unsqueeze


def _data(input):
    return input._data if isinstance(input, Tensor) else np.asarray(input)


def _tensor(input):
    """Operands that are not Tensors as constant Tensors, so that operators work on them."""
    return input if isinstance(input, Tensor) else Tensor(np.asarray(input))


ReturnTypes = namedtuple("values_indices", ["values", "indices"])


def _cast(input, dtype):
    """input in `dtype` first (PyTorch's dtype= of reductions): a float cast is differentiable."""
    return input if dtype is None else E.to(input, dtype)


def sum(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """Sum over `dim` (all elements by default), after a cast to `dtype` if given (integer and
    bool tensors sum to int64, as PyTorch and numpy). d/dx = g broadcast back."""
    dim, keepdim = _reduce_args("sum", input, dim, keepdim, axis, keepdims)
    out = P.sum(_cast(input, dtype), axis=dim, keepdims=keepdim)
    return _cast(out, dtype)  # numpy sums small integers as 64-bit ones


def mean(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """sum / n over `dim`, after a cast to `dtype` if given. d/dx = g / n broadcast back. An
    integer or bool tensor needs a float dtype=, as PyTorch (RuntimeError otherwise)."""
    dim, keepdim = _reduce_args("mean", input, dim, keepdim, axis, keepdims)
    input = _cast(input, dtype)
    if _data(input).dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer the output dtype: the input must be a "
                           f"floating point tensor, got dtype {_data(input).dtype}; convert it "
                           f"(x.float(), x.double()) or pass dtype=, e.g. "
                           f"x.mean(dtype=np.float64)")
    return P.mean(input, axis=dim, keepdims=keepdim)


def amax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values over `dim`; the gradient is split equally among ties."""
    dim, keepdim = _reduce_args("amax", input, dim, keepdim, axis, keepdims)
    return P.amax(input, axis=dim, keepdims=keepdim)


def amin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values over `dim`: -amax(-x), so ties share the gradient equally. Integer and
    bool tensors (never differentiable) are reduced directly: -x wraps for unsigned integers."""
    if _data(input).dtype.kind not in "fc":
        dim, keepdim = _reduce_args("amin", input, dim, keepdim, axis, keepdims)
        return result(np.min(_data(input), axis=dim, keepdims=keepdim))
    return -amax(-input if isinstance(input, Tensor) else -np.asarray(input), dim, keepdim,
                 axis=axis, keepdims=keepdims)


def argmax(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the largest value (of the flattened tensor without `dim`; the first of ties): an
    integer Tensor. keepdim=True without a dim keeps every axis as size 1, as PyTorch 2."""
    dim, keepdim = _reduce_args("argmax", input, dim, keepdim, axis, keepdims)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return result(np.argmax(x, axis=dim, keepdims=keepdim).astype(np.int64))


def argmin(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index of the smallest value (the first of ties): an integer Tensor, as argmax."""
    dim, keepdim = _reduce_args("argmin", input, dim, keepdim, axis, keepdims)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    return result(np.argmin(x, axis=dim, keepdims=keepdim).astype(np.int64))


def any(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether any element (along `dim`) is nonzero: a bool Tensor."""
    dim, keepdim = _reduce_args("any", input, dim, keepdim, axis, keepdims)
    return result(np.any(np.asarray(input), axis=dim, keepdims=keepdim))


def all(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Whether all elements (along `dim`) are nonzero: a bool Tensor."""
    dim, keepdim = _reduce_args("all", input, dim, keepdim, axis, keepdims)
    return result(np.all(np.asarray(input), axis=dim, keepdims=keepdim))


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


def softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """exp(x) / sum(exp(x)) along `dim` (the last axis by default); input cast to `dtype` first."""
    input = _cast(input, dtype)
    return P.softmax(input, axis=_one_dim("softmax", input, _axis("softmax", dim, axis)))


def log_softmax(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """x - logsumexp(x) along `dim` (the last axis by default); input cast to `dtype` first."""
    input = _cast(input, dtype)
    return P.log_softmax(input, axis=_one_dim("log_softmax", input,
                                              _axis("log_softmax", dim, axis)))


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over `dim`, shifted by the max so it never overflows."""
    dim, keepdim = _reduce_args("logsumexp", input, dim, keepdim, axis, keepdims)
    return P.logsumexp(input, axis=dim, keepdims=keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=None):
    """The product over one `dim` (all elements by default), after a cast to `dtype` if given.
    d/dx_k = g * prod_{j != k} x_j, exact with zeros in the input (the primitive's VJP
    multiplies instead of dividing)."""
    dim, keepdim = _reduce_args("prod", input, dim, keepdim, axis, keepdims)
    input = _cast(input, dtype)
    if isinstance(dim, tuple):
        raise TypeError(f"prod(): dim must be one int, as PyTorch, got {dim}; reduce one dim at "
                        f"a time: x.prod({dim[-1]}).prod({dim[0]})")
    return P.prod(input, axis=dim, keepdims=keepdim)


# -- variance, standard deviation, norms -------------------------------------------------------

def _var_args(name, input, dim, unbiased, keepdim, correction, axis, keepdims):
    """PyTorch's two signatures: var(x, dim, *, correction=1, keepdim) and the legacy
    var(x, unbiased) / var(x, dim, unbiased, keepdim), unbiased=True meaning correction=1."""
    if isinstance(dim, bool):  # var(x, False): the legacy var(input, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None:
        if correction is not None:
            raise TypeError(f"{name}(): got both unbiased= and correction=; pass correction= "
                            f"only (unbiased=True is correction=1, False is correction=0)")
        correction = int(unbiased)
    dim, keepdim = _reduce_args(name, input, dim, keepdim, axis, keepdims)
    shape = shape_of(input)
    dims = range(len(shape)) if dim is None else (dim,) if isinstance(dim, int) else dim
    n = math.prod(shape[d] for d in dims)
    correction = 1 if correction is None else correction
    if n - correction <= 0:  # PyTorch: inf or nan, and a warning
        warnings.warn(f"{name}(): degrees of freedom n - correction = {n} - {correction} <= 0; "
                      f"the result is inf or nan", RuntimeWarning, stacklevel=3)
    return dim, keepdim, n - correction


def _var_mean(name, input, dim, unbiased, keepdim, correction, axis, keepdims):
    """sum((x - mean)^2) / (n - correction) over `dim`, and the mean (kept dims)."""
    dim, keepdim, dof = _var_args(name, input, dim, unbiased, keepdim, correction, axis, keepdims)
    x = _tensor(input)
    mean = P.mean(x, axis=dim, keepdims=True)
    d = x - mean
    with np.errstate(divide="ignore", invalid="ignore"):  # dof <= 0 was warned about
        var = P.sum(d * d, axis=dim, keepdims=keepdim) / builtins.max(dof, 0)
    return var, (mean if keepdim else P.reshape(mean, shape=var.shape))


def _sqrt0(v):
    """sqrt(v) with gradient 0 at v = 0 instead of inf * 0 = nan, as PyTorch's std and norm
    (their backward masks the zero results). The inner where keeps sqrt's own VJP finite."""
    zero = v == 0
    return P.where(zero, 0, P.sqrt(P.where(zero, 1, v)))


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """sum((x - mean(x))^2) / (n - correction) over `dim` (all elements by default),
    correction=1 by default (Bessel's), as PyTorch; also the legacy unbiased= keyword."""
    return _var_mean("var", input, dim, unbiased, keepdim, correction, axis, keepdims)[0]


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None):
    """sqrt(var(x)), arguments as var. The gradient is 0 where std is 0 (constant input), as
    PyTorch."""
    return _sqrt0(_var_mean("std", input, dim, unbiased, keepdim, correction, axis, keepdims)[0])


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
             keepdims=None):
    """(var, mean) over `dim`, arguments as var: a tuple, as torch.var_mean."""
    return _var_mean("var_mean", input, dim, unbiased, keepdim, correction, axis, keepdims)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
             keepdims=None):
    """(std, mean) over `dim`, arguments as var: a tuple, as torch.std_mean."""
    v, m = _var_mean("std_mean", input, dim, unbiased, keepdim, correction, axis, keepdims)
    return _sqrt0(v), m


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None, *, axis=None,
         keepdims=None):
    """The vector p-norm (sum |x|^p)^(1/p) over `dim` (all elements by default), as torch.norm:
    p="fro" (the default) and 2 are sqrt(sum x^2), 1 is sum |x|, inf is max |x| (ties share the
    gradient), -inf min |x|, 0 counts the nonzeros (gradient 0). At a zero vector, and at the
    zeros of x for 0 < p < 1, the gradient is 0 (PyTorch's subgradient), not nan. The nuclear norm (p="nuc") needs an SVD: not supported."""
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm(): p={p!r} is not supported; use p='fro', a number, inf or "
                             f"-inf (the nuclear norm needs an SVD, which the engine lacks)")
        p = 2
    if out is not None:
        raise TypeError("norm(): out= is not supported; use the returned tensor")
    dim, keepdim = _reduce_args("norm", input, dim, keepdim, axis, keepdims)
    x = _tensor(_cast(input, dtype))
    a = P.abs(x)
    if p == math.inf:
        return P.amax(a, axis=dim, keepdims=keepdim)
    if p == -math.inf:
        return amin(a, dim, keepdim)
    if p == 0:
        return P.sum(P.sign(a), axis=dim, keepdims=keepdim)
    if p == 1:
        return P.sum(a, axis=dim, keepdims=keepdim)
    if p == 2:
        return _sqrt0(P.sum(x * x, axis=dim, keepdims=keepdim))
    if p < 1:  # d|x|^p/d|x| = p |x|^(p-1) is inf at 0 (nan after abs's 0): 0 there, as PyTorch
        az = _data(a) == 0
        s = P.sum(P.where(az, 0, P.where(az, 1, a) ** p), axis=dim, keepdims=keepdim)
    else:
        s = P.sum(a ** p, axis=dim, keepdims=keepdim)
    zero = s == 0  # the 1/p-th root with gradient 0 at 0, as sqrt above
    return P.where(zero, 0, P.where(zero, 1, s) ** (1 / p))


# -- scans along one dim -----------------------------------------------------------------------

def _along(name, input, dim, axis, fn):
    """fn(input, d) along one dim d (required, as PyTorch); a 0-d input is a vector of one."""
    dim = _axis(name, dim, axis)
    if dim is None:
        raise TypeError(f"{name}(): missing the dim argument, which PyTorch requires: "
                        f"{name}(x, dim=0), or {name}(x.reshape(-1), 0) for the flattened tensor")
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}(): dim must be one int, got {dim!r}")
    shape = shape_of(input)
    d = _check_dims(name, dim, len(shape), shape)
    if shape:
        return fn(input, d)
    out = fn(P.reshape(input, shape=(1,)), 0)
    if isinstance(out, tuple):
        return type(out)(*(P.reshape(o, shape=()) for o in out))
    return P.reshape(out, shape=())


def cumsum(input, dim=None, *, dtype=None, axis=None):
    """Running sums along `dim`: out_k = sum_{j <= k} x_j (after a cast to `dtype` if given).
    d/dx = reversed cumsum of g."""
    return _along("cumsum", _cast(input, dtype), dim, axis, lambda x, d: P.cumsum(x, axis=d))


def cumprod(input, dim=None, *, dtype=None, axis=None):
    """Running products along `dim` (after a cast to `dtype` if given): a scan of mul in log2(n)
    steps, exact with zeros in the input (to every order: only mul and indexing are
    differentiated)."""
    input = _cast(input, dtype)
    def run(x, d):
        if _data(x).dtype.kind not in "fc":  # integers: never differentiable
            return result(np.cumprod(_data(x), axis=d))
        return P.scan(x, d, P.mul, 1)
    return _along("cumprod", input, dim, axis, run)


def _logaddexp(a, b):
    """log(exp(a) + exp(b)), shifted by the larger so that it never overflows. The shift is a
    constant: the value does not depend on it, so neither do the derivatives."""
    m = np.maximum(_data(a), _data(b))
    m = np.where(np.isfinite(m), m, 0)  # both -inf: no shift (the result is -inf)
    return m + P.log(P.exp(a - m) + P.exp(b - m))


def logcumsumexp(input, dim=None, *, axis=None):
    """log(cumsum(exp(x))) along `dim`, without overflow or underflow: a scan of logaddexp
    (log2(n) steps), so each step is shifted by its own larger operand."""
    return _along("logcumsumexp", input, dim, axis,
                  lambda x, d: P.scan(_tensor(x), d, _logaddexp, -np.inf))


def _take(input, idx, dim):
    """input's elements at `idx` along `dim` (numpy's take_along_axis) as one getitem: the
    gradient goes to the selected elements, repeated ones accumulating."""
    where = list(np.indices(idx.shape, sparse=True))
    where[dim] = idx
    return P.getitem(input, idx=tuple(where))


def _picked(input, idx, dim):
    return ReturnTypes(_take(input, idx, dim), result(idx.astype(np.int64)))


def _cumulative_extreme(name, ufunc, input, dim, axis):
    def run(t, d):
        x = _data(t)
        run_ext = ufunc.accumulate(x, axis=d)
        # Where the running extreme is taken: ties take the later index, and a nan is taken and
        # kept, as PyTorch (x >= running max, or x is nan)
        taken = (x == run_ext) | (x != x)
        pos = np.arange(x.shape[d]).reshape((-1,) + (1,) * (x.ndim - d - 1))
        return _picked(t, np.maximum.accumulate(np.where(taken, pos, 0), axis=d), d)
    return _along(name, input, dim, axis, run)


def cummax(input, dim=None, *, axis=None):
    """(values, indices) of the running maximum along `dim`, as PyTorch: among equal values the
    later index, a nan propagates; the gradient goes to the selected index."""
    return _cumulative_extreme("cummax", np.maximum, input, dim, axis)


def cummin(input, dim=None, *, axis=None):
    """(values, indices) of the running minimum along `dim`, as cummax."""
    return _cumulative_extreme("cummin", np.minimum, input, dim, axis)


# -- sorting -----------------------------------------------------------------------------------

def _argsort(x, d, descending):
    """Stable: equal elements keep their order, also descending; nan sorts as the largest (last
    ascending, first descending), as PyTorch. Descending: a stable ascending sort of the
    reversed axis, read backwards."""
    if not descending:
        return np.argsort(x, axis=d, kind="stable")
    rev = (slice(None),) * d + (slice(None, None, -1),)
    return (x.shape[d] - 1 - np.argsort(x[rev], axis=d, kind="stable"))[rev]


def sort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """(values, indices) sorted along `dim`, as PyTorch. Always stable (PyTorch promises the
    order of equal elements only with stable=True); the gradient goes back to the places the
    values came from."""
    return _along("sort", input, dim if axis is None else None, axis,
                  lambda x, d: _picked(x, _argsort(_data(x), d, descending), d))


def argsort(input, dim=-1, descending=False, stable=False, *, axis=None):
    """The indices that sort `input` along `dim` (sort's indices): an integer Tensor."""
    return sort(input, dim, descending, stable, axis=axis).indices


def topk(input, k, dim=-1, largest=True, sorted=True, *, axis=None):
    """(values, indices) of the k largest (or smallest) elements along `dim`, as PyTorch, in
    sorted order also with sorted=False (PyTorch leaves the order open then); among equal
    elements the lower indices; the gradient goes to the selected elements."""
    def run(x, d):
        n = x.shape[d]
        if not 0 <= k <= n:
            raise ShapeError(f"topk(): k={k} is out of range for dim {d} of size {n} (tensor "
                             f"shape {x.shape}); pass 0 <= k <= {n}")
        first = (slice(None),) * d + (slice(0, k),)
        return _picked(x, _argsort(_data(x), d, largest)[first], d)
    return _along("topk", input, dim if axis is None else None, axis, run)


def median(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The lower median (for an even count the smaller of the two middle values), as PyTorch; nan
    if the values hold a nan. median(x): the value, its gradient shared equally by the elements
    equal to it (as PyTorch's median()); median(x, dim): (values, indices), the gradient going
    to the selected index."""
    x = _data(input)
    if dim is None and axis is None:
        if keepdim or keepdims:
            raise TypeError("median(): keepdim needs a dim")
        if x.size == 0:
            raise ShapeError(f"median(): the tensor is empty (shape {x.shape}); it has no median")
        flat = np.sort(x.reshape(-1))  # nans last
        v = flat[-1] if flat[-1] != flat[-1] else flat[(flat.size - 1) // 2]
        if v != v:  # all the nans share the gradient
            return P.mean(P.getitem(input, idx=x != x))
        return P.amax(P.getitem(input, idx=x == v))  # exactly v; ties share the gradient

    dim = _axis("median", dim, axis)
    keepdim = _reduce_args("median", input, dim, keepdim, None, keepdims)[1]

    def run(t, d):
        a = _data(t)
        order = np.argsort(a, axis=d, kind="stable")  # nans last
        nans = (a != a).sum(axis=d, keepdims=True)
        pos = np.where(nans > 0, a.shape[d] - nans, (a.shape[d] - 1) // 2)  # the first nan
        picked = _picked(t, np.take_along_axis(order, pos, axis=d), d)
        if keepdim:
            return picked
        shape = picked.values.shape[:d] + picked.values.shape[d + 1:]
        return ReturnTypes(*(P.reshape(o, shape=shape) for o in picked))
    return _along("median", input, dim, None, run)


__all__ = ["sum", "mean", "amax", "amin", "argmax", "argmin", "any", "all", "max", "min",
           "softmax", "log_softmax", "logsumexp", "prod", "var", "std", "var_mean", "std_mean",
           "norm", "cumsum", "cumprod", "logcumsumexp", "cummax", "cummin", "sort", "argsort",
           "topk", "median"]
METHODS = [name for name in __all__ if name not in ("var_mean", "std_mean")]
