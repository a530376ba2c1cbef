"""The op table: each op's forward and its vector-Jacobian products, side by side.

An op is a function of numpy arrays (or Python scalars) that returns `(out, vjps)`, where
`vjps` holds one function per input mapping the output's gradient `g` to that input's gradient.
`@op(name, rule)` turns it into a function of Tensors that records a Node on the tape. The
engine calls a VJP only for inputs that require grad, sums broadcast axes back to the input's
shape and casts to the input's dtype (tensor.py, `_backward`), so the VJPs below are just math.
`rule` is the derivative in one line, shown by `draw_graph(show_vjp=True)`.
"""
import numpy as np

from . import tensor as _tensor
from .tensor import Tensor, _result

OPS = {}  # name -> (forward function, one-line derivative rule)


def _raise(name, args, err):
    shapes = ", ".join(str(np.shape(a._data if isinstance(a, Tensor) else a)) for a in args)
    hint = ("; broadcasting needs each trailing axis to be equal or 1: reshape an operand, e.g. "
            "b.reshape(-1, 1) for a column" if "broadcast" in str(err) else "")
    raise ValueError(f"{name}: {err} (input shapes: {shapes}){hint}") from None


def op(name, rule):
    """Register `fwd` in the table and return the function of Tensors that records it.

    The recording function is picked by the forward's signature (one, two or three operands,
    with or without options such as `axis`; options after `*` are keyword-only): every op is a
    hot path, and the per-op cost of the tape is what small models pay for.
    """
    def register(fwd):
        OPS[name] = (fwd, rule)
        operands = fwd.__code__.co_argcount - len(fwd.__defaults__ or ())

        def unary(x):
            if not isinstance(x, Tensor):
                return general(x)
            try:
                out, vjp = fwd(x._data)
            except ValueError as err:
                _raise(name, (x,), err)
            if x.requires_grad and _grad_enabled.get():
                return _result(out, name, (x,), (vjp,))
            return _result(out)

        def unary_with_options(x, *args, **kwargs):
            if not isinstance(x, Tensor):
                return general(x, *args, **kwargs)
            try:
                out, vjp = fwd(x._data, *args, **kwargs)
            except ValueError as err:
                _raise(name, (x,), err)
            if x.requires_grad and _grad_enabled.get():
                return _result(out, name, (x,), (vjp,))
            return _result(out)

        def binary(a, b):
            ta, tb = isinstance(a, Tensor), isinstance(b, Tensor)
            try:
                out, vjps = fwd(a._data if ta else a, b._data if tb else b)
            except ValueError as err:
                _raise(name, (a, b), err)
            if ((ta and a.requires_grad) or (tb and b.requires_grad)) and _grad_enabled.get():
                return _result(out, name, (a, b), vjps if type(vjps) is tuple else (vjps,))
            return _result(out)

        def ternary(a, b, c=None):  # linear(x, weight, bias): once per layer per step
            ta, tb, tc = isinstance(a, Tensor), isinstance(b, Tensor), isinstance(c, Tensor)
            inputs = (a, b) if c is None else (a, b, c)
            try:
                out, vjps = fwd(a._data if ta else a, b._data if tb else b, c._data if tc else c)
            except ValueError as err:
                _raise(name, inputs, err)
            if ((ta and a.requires_grad) or (tb and b.requires_grad)
                    or (tc and c.requires_grad)) and _grad_enabled.get():
                return _result(out, name, inputs, vjps)
            return _result(out)

        def general(*args, **kwargs):
            try:
                out, vjps = fwd(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
            except ValueError as err:
                _raise(name, args, err)
            if _grad_enabled.get():
                for a in args:
                    if isinstance(a, Tensor) and a.requires_grad:
                        return _result(out, name, args, vjps if type(vjps) is tuple else (vjps,))
            return _result(out)

        code = fwd.__code__
        if operands == 1:
            apply = unary if code.co_argcount == 1 else unary_with_options
        elif code.co_argcount == 2 and not code.co_kwonlyargcount:
            apply = binary
        elif code.co_argcount == 3 and not code.co_kwonlyargcount:
            apply = ternary
        else:
            apply = general
        apply.__name__ = apply.__qualname__ = name
        apply.__doc__ = fwd.__doc__
        return apply

    return register


_grad_enabled = _tensor._grad_enabled


def swap(a):
    """Transpose the last two axes (a matrix, or a batch of matrices)."""
    return a.swapaxes(-1, -2)


def _expand(g, ndim, axis, keepdims):
    """Give a reduction's gradient back the reduced axes (as size 1) so it broadcasts."""
    if keepdims or axis is None and g.ndim == ndim:
        return g
    if axis is None:
        return np.reshape(g, (1,) * ndim)
    return np.expand_dims(g, axis)


# -- binary, broadcasting ----------------------------------------------------------------------

def _identity(g):
    return g


def _negate(g):
    return -g


# VJPs that need nothing from the forward are shared, not made anew per call: fewer objects
# per op for the allocator and the garbage collector.
_ADD_VJPS, _SUB_VJPS = (_identity, _identity), (_identity, _negate)


@op("add", "da = g, db = g")
def add(a, b):
    return a + b, _ADD_VJPS


@op("sub", "da = g, db = -g")
def sub(a, b):
    return a - b, _SUB_VJPS


@op("mul", "da = g * b, db = g * a")
def mul(a, b):
    return a * b, (lambda g: g * b, lambda g: g * a)


@op("div", "da = g / b, db = -g * a / b^2")
def div(a, b):
    out = a / b
    return out, (lambda g: g / b, lambda g: -g * out / b)


@op("pow", "da = g * b * a^(b-1), db = g * a^b * log(a)")
def pow(a, b):
    """a ** b; the gradient for a tensor exponent b needs a > 0."""
    out = a ** b
    return out, (lambda g: g * b * a ** (b - 1), lambda g: g * out * np.log(a))


@op("matmul", "da = g @ b.T, db = a.T @ g")
def matmul(a, b):
    """a @ b as numpy: 1-D operands are promoted to matrices, leading axes broadcast."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs operands of at least one dimension; use * for scalars")
    try:
        out = a @ b
    except ValueError:
        if a.shape[-1] == (b.shape[0] if b.ndim == 1 else b.shape[-2]):
            raise ValueError(
                f"the batch axes of shapes {a.shape} and {b.shape} do not broadcast: "
                f"{a.shape[:-2]} and {b.shape[:-2]}") from None
        raise ValueError(
            f"shapes {a.shape} and {b.shape} are not aligned: the last axis of the first "
            f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
            f"axis of the second ({b.shape[0] if b.ndim == 1 else b.shape[-2]})") from None
    if a.ndim > 1 and b.ndim > 1:
        return out, (lambda g: g @ swap(b), lambda g: swap(a) @ g)
    # A 1-D operand is a row (left) or a column (right) whose extra axis is dropped from out.
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b

    def lift(g):
        g = np.asarray(g)
        g = g[..., None] if b.ndim == 1 else g
        return g[..., None, :] if a.ndim == 1 else g

    def da(g):
        ga = lift(g) @ swap(b2)
        return ga[..., 0, :] if a.ndim == 1 else ga

    def db(g):
        gb = swap(a2) @ lift(g)
        return gb[..., 0] if b.ndim == 1 else gb

    return out, (da, db)


@op("linear", "dx = g @ W, dW = g.T @ x, db = sum_rows(g)")
def linear(x, weight, bias=None):
    """x @ weight.T + bias, the affine map of nn.Linear: x (..., in), weight (out, in), bias (out,).

    One op instead of transpose, matmul and add: dW = g.T @ x comes out in weight's own layout
    (no transposed copy) and db = sum of g's rows needs no general unbroadcast.
    """
    out = x @ weight.T
    if bias is not None:
        out = out + bias
    if x.ndim == 2:
        return out, (lambda g: g @ weight, lambda g: g.T @ x, lambda g: g.sum(axis=0))
    x2 = x.reshape(-1, x.shape[-1])  # one sample, or extra batch axes: the rows are samples

    def rows(g):
        return g.reshape(-1, g.shape[-1])

    return out, (lambda g: g @ weight, lambda g: rows(g).T @ x2, lambda g: rows(g).sum(axis=0))


# -- unary, elementwise ------------------------------------------------------------------------

@op("neg", "dx = -g")
def neg(x):
    return -x, _negate


@op("exp", "dx = g * exp(x)")
def exp(x):
    out = np.exp(x)
    return out, lambda g: g * out


@op("log", "dx = g / x")
def log(x):
    return np.log(x), lambda g: g / x


@op("sqrt", "dx = g / (2 sqrt(x))")
def sqrt(x):
    out = np.sqrt(x)
    return out, lambda g: g / (2 * out)


@op("abs", "dx = g * sign(x)")
def abs(x):
    return np.abs(x), lambda g: g * np.sign(x)


@op("sigmoid", "dx = g * s * (1 - s)")
def sigmoid(x):
    """s = 1 / (1 + exp(-x)), computed from exp(-|x|) so that it never overflows."""
    e = np.exp(-np.abs(x))
    s = 1 / (1 + e)
    s = np.where(x >= 0, s, e * s)
    return s, lambda g: g * s * (1 - s)


@op("tanh", "dx = g * (1 - t^2)")
def tanh(x):
    t = np.tanh(x)
    return t, lambda g: g * (1 - t * t)


@op("relu", "dx = g * (x > 0)")
def relu(x):
    return np.maximum(x, 0), lambda g: g * (x > 0)


# -- reductions and the softmax family ---------------------------------------------------------

@op("sum", "dx = broadcast(g)")
def sum(x, axis=None, keepdims=False):
    return (np.sum(x, axis=axis, keepdims=keepdims),
            lambda g: np.broadcast_to(_expand(g, x.ndim, axis, keepdims), x.shape))


@op("mean", "dx = broadcast(g) / n")
def mean(x, axis=None, keepdims=False):
    out = np.mean(x, axis=axis, keepdims=keepdims)
    n = x.size // (out.size or 1) if x.size else 1  # `max` here is the op below, not builtins
    return out, lambda g: np.broadcast_to(_expand(g, x.ndim, axis, keepdims) / n, x.shape)


@op("max", "dx = g * [x == max] / #ties")
def max(x, axis=None, keepdims=False):
    """The gradient is split equally among tied maxima, as torch.amax."""
    m = np.max(x, axis=axis, keepdims=True)
    out = m if keepdims else np.squeeze(m, axis=axis) if axis is not None else m.reshape(())

    def vjp(g):
        mask = x == m
        return mask * (_expand(g, x.ndim, axis, keepdims) / mask.sum(axis=axis, keepdims=True))

    return out, vjp


@op("softmax", "dx = s * (g - sum(g * s))")
def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    return s, lambda g: s * (g - (g * s).sum(axis=axis, keepdims=True))


@op("log_softmax", "dx = g - softmax(x) * sum(g)")
def log_softmax(x, axis=-1):
    z = x - np.max(x, axis=axis, keepdims=True)
    out = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    return out, lambda g: g - np.exp(out) * g.sum(axis=axis, keepdims=True)


@op("logsumexp", "dx = g * softmax(x)")
def logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
    lse = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    out = lse if keepdims else np.squeeze(lse, axis=axis) if axis is not None else lse.reshape(())
    return out, lambda g: _expand(g, x.ndim, axis, keepdims) * np.exp(x - lse)


# -- shape -------------------------------------------------------------------------------------

@op("reshape", "dx = g.reshape(x.shape)")
def reshape(x, shape):
    return np.reshape(x, shape), lambda g: np.reshape(g, np.shape(x))


@op("transpose", "dx = g.transpose(inverse(axes))")
def transpose(x, axes=None):
    out = np.transpose(x, axes)
    inverse = None if axes is None else tuple(np.argsort([a % x.ndim for a in axes]))
    return out, lambda g: np.transpose(g, inverse)


@op("getitem", "dx = zeros, dx[idx] += g")
def getitem(x, idx):
    """x[idx], basic or integer-array indexing; repeated indices accumulate their gradients."""
    def vjp(g):
        dx = np.zeros_like(x)
        np.add.at(dx, idx, g)
        return dx

    return x[idx], vjp


# -- the Tensor surface: operators and methods are the ops above -------------------------------

def _flip(f):
    return lambda self, other: f(other, self)


def _axes(args):
    """reshape(2, 3) and reshape((2, 3)) both mean the tuple (2, 3)."""
    return tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else args


def _index(idx):
    if isinstance(idx, Tensor):
        return idx._data
    if isinstance(idx, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in idx)
    return idx


Tensor.__add__, Tensor.__radd__ = add, _flip(add)
Tensor.__sub__, Tensor.__rsub__ = sub, _flip(sub)
Tensor.__mul__, Tensor.__rmul__ = mul, _flip(mul)
Tensor.__truediv__, Tensor.__rtruediv__ = div, _flip(div)
Tensor.__pow__, Tensor.__rpow__ = pow, _flip(pow)
Tensor.__matmul__, Tensor.__rmatmul__ = matmul, _flip(matmul)
Tensor.__neg__ = neg
Tensor.__getitem__ = lambda self, idx: getitem(self, _index(idx))
Tensor.matmul = matmul
for _f in (exp, log, sqrt, abs, sigmoid, tanh, relu, sum, mean, max, softmax, log_softmax,
           logsumexp):
    setattr(Tensor, _f.__name__, _f)
Tensor.__abs__ = abs
Tensor.reshape = lambda self, *shape: reshape(self, _axes(shape))
Tensor.transpose = lambda self, *axes: transpose(self, _axes(axes) or None)
Tensor.T = property(lambda self: transpose(self))
