"""The op table: each primitive's forward and one VJP per input, side by side.

A forward is a function of numpy arrays (or Python scalars): positional parameters are the
op's inputs, keyword-only ones its options (axis, shape...). Each VJP is a function of the
output's gradient `g`, the inputs, the output `out`, and the options, as in PyTorch's
`derivatives.yaml`: `sigmoid: dx = g * out * (1 - out)`. A VJP whose output parameter is not
named `out` does not keep the output alive.

The engine runs each VJP in one of two ways (tape.py). In first-order backward it gets ndarrays,
and the primitives it calls return ndarrays. With `create_graph=True` it gets the input Tensors
and the output Tensor, so every step is recorded and can be differentiated again. So a VJP uses
only the operators, methods common to ndarray and Tensor (`sum(axis=, keepdims=)`, `reshape`,
`swapaxes`, `shape`, `ndim`), comparisons (constants for the gradient) and primitives from this
table; it never closes over a value the forward computed, which would be a constant to a second
derivative. The engine calls a VJP only for inputs that require grad, sums broadcast axes back
to the input's shape, checks the shape and casts to the input's dtype, so the VJPs are just math.
`rule` is the derivative in one line, shown by `draw_graph(show_vjp=True)`.
"""
import builtins
import dis
import functools
import inspect
import math

import numpy as np

from .tape import ANOMALY, GRAD, RAW, ShapeError, _mode, check_forward, record, result
from .tensor import Tensor, _ndarray

OPS = {}  # name -> Primitive
_get_mode = _mode.get  # bound once: the wrapper's first call, on every op
_tracer = None  # set by compile.py while it traces (record is swapped for the recorded path)


class Primitive:
    """One row of the table: name, one-line rule, forward, VJPs (one per input)."""

    __slots__ = ("name", "rule", "fwd", "vjps", "needs_out", "joint", "reads")

    def __init__(self, name, rule, fwd, vjps, joint=None):
        self.name, self.rule, self.fwd, self.vjps, self.joint = name, rule, fwd, vjps, joint
        self.needs_out = builtins.any(
            v is not None and "out" in v.__code__.co_varnames[:v.__code__.co_argcount]
            for v in vjps)
        # reads[i]: the positions (inputs, then the output) whose values VJP i reads; the
        # engine checks only those for writes made after the op was recorded
        self.reads = tuple(() if v is None else _values_read(v) for v in vjps)

    def __repr__(self):
        return f"<primitive {self.name}: {self.rule}>"


_METADATA = frozenset(("shape", "ndim", "dtype"))


def _values_read(vjp):
    """The positions among a VJP's (inputs..., out) parameters whose values its code reads: a
    parameter that is used only as `x.shape`, `x.ndim` or `x.dtype` is not read (sum's x), and
    one used inside a nested function counts as read."""
    code = vjp.__code__
    params = code.co_varnames[1:code.co_argcount]  # after g: the inputs, then the output
    ins = list(dis.get_instructions(vjp))
    read = set()
    for k, ins_k in enumerate(ins):
        if ins_k.opname in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE") and ins_k.argval in params:
            nxt = ins[k + 1] if k + 1 < len(ins) else None
            if not (nxt is not None and nxt.opname in ("LOAD_ATTR", "LOAD_METHOD")
                    and nxt.argval in _METADATA):
                read.add(params.index(ins_k.argval))
    return tuple(sorted(read))


def _raise(name, args, err):
    shapes = ", ".join(str(np.shape(a._data if isinstance(a, Tensor) else a)) for a in args)
    hint = ("; broadcasting needs each trailing axis to be equal or 1: reshape an operand, e.g. "
            "b.reshape(-1, 1) for a column" if "broadcast" in str(err) else "")
    raise ShapeError(f"{name}: {err} (input shapes: {shapes}){hint}") from None


def _constant(a):
    """A non-Tensor operand: numpy scalars become Python scalars, so that numpy's weak promotion
    keeps a float32 tensor float32 beside them (as PyTorch)."""
    return a.item() if isinstance(a, np.generic) else a


_KIND = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # bool < integer < float < complex


def promote_types(a, b):
    """PyTorch's promote_types of two dtypes: numpy's within a kind, and across kinds (bool <
    integer < float) the dtype of the higher kind: int64 with float32 is float32 (numpy's
    float64)."""
    ka, kb = _KIND.get(a.kind, 3), _KIND.get(b.kind, 3)
    if ka == kb or ka == 3 or kb == 3:
        return np.promote_types(a, b)
    return a if ka > kb else b


def _promote(a, b):
    """PyTorch's promotion for two arrays of different dtypes: promote_types between operands of
    equal standing (both 0-d, or both with dimensions); beside an array with dimensions, a 0-d
    one decides the dtype only if it is of a higher kind (int32 + 0-d int64 stays int32,
    float32 * 0-d float64 stays float32, int64 * 0-d float32 is float32)."""
    if bool(a.ndim) == bool(b.ndim):
        dtype = promote_types(a.dtype, b.dtype)
    else:
        hi, lo = (a, b) if a.ndim else (b, a)
        higher = _KIND.get(lo.dtype.kind, 3) > _KIND.get(hi.dtype.kind, 3)
        dtype = promote_types(hi.dtype, lo.dtype) if higher else hi.dtype
    # a bool operand needs no cast: numpy gives the other's dtype, as PyTorch (g * mask)
    return (a if a.dtype == dtype or a.dtype.kind == "b" else a.astype(dtype),
            b if b.dtype == dtype or b.dtype.kind == "b" else b.astype(dtype))


_PUBLIC = {"x": "input", "a": "input", "b": "other"}  # the rules' names -> PyTorch's keywords


def primitive(name, rule, *vjps, promote=False, ufunc=None, names=None):
    """Register `fwd` with its VJPs and return the function of Tensors that records it.

    `promote`: a binary elementwise op, whose operands of different dtypes are promoted as
    PyTorch's (`_promote`).
    `ufunc`: the numpy ufunc that `fwd` is, called directly (a Python call less per op).
    The function takes its inputs by PyTorch's keywords: the rules' x, a and b are `input`,
    `input` and `other` (F.matmul(input=a, other=b)), or as `names` renames them (pow's b is
    `exponent`); the op table, draw_graph and the replay keep the rules' names.
    """
    def register(fwd):
        prim = OPS[name] = Primitive(name, rule, fwd, vjps)
        call = fwd if ufunc is None else ufunc
        sig = inspect.signature(fwd)
        public = {**_PUBLIC, **(names or {})}
        sig = sig.replace(parameters=[
            p.replace(name=public.get(p.name, p.name)) if p.kind is p.POSITIONAL_OR_KEYWORD
            else p for p in sig.parameters.values()])
        n = builtins.sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in sig.parameters.values())
        kwdefaults = fwd.__kwdefaults__ or {}
        kwkeys = kwdefaults.keys()

        def bind(args, opts):  # inputs given by keyword or left at their defaults: rare
            try:
                bound = sig.bind(*args, **opts)
            except TypeError as err:
                raise TypeError(f"{name}(): {err}") from None
            bound.apply_defaults()
            values = list(bound.arguments.values())
            return tuple(values[:n]), dict(zip(list(bound.arguments)[n:], values[n:]))

        @functools.wraps(fwd)
        def apply(*args, **opts):
            mode = _get_mode()
            if mode is not GRAD:  # one test on the recording path, as `mode is RAW` was
                if mode is RAW:  # inside a first-order VJP: arrays in, arrays out
                    return fwd(*args, **opts)
                if mode is ANOMALY:
                    return _checked(apply, name, args, opts)
            if len(args) != n or opts and not opts.keys() <= kwkeys:
                args, opts = bind(args, opts)
            elif kwdefaults:
                opts = {**kwdefaults, **opts} if opts else kwdefaults
            # The operands' arrays, and whether any requires grad; then the forward. Written
            # out for one and two operands: this runs once per op, the tape's hot path.
            try:
                if n == 2:
                    a, b = args
                    if isinstance(a, Tensor):
                        da, rg = a._data, a._rg
                    else:
                        da, rg = _constant(a), False
                    if isinstance(b, Tensor):
                        db, rg = b._data, rg or b._rg
                    else:
                        db = b if type(b) is float else _constant(b)
                    if promote and type(da) is _ndarray and type(db) is _ndarray \
                            and da.dtype is not db.dtype:
                        da, db = _promote(da, db)
                    saved = (da, db)
                    out = fwd(da, db, **opts) if opts else call(da, db)
                elif n == 1:
                    a = args[0]
                    if isinstance(a, Tensor):
                        da, rg = a._data, a._rg
                    else:
                        da, rg = _constant(a), False
                    saved = (da,)
                    out = fwd(da, **opts) if opts else call(da)
                else:
                    saved, rg = [], False
                    for a in args:
                        if isinstance(a, Tensor):
                            saved.append(a._data)
                            rg = rg or a._rg
                        else:
                            saved.append(_constant(a))
                    saved = tuple(saved)
                    out = fwd(*saved, **opts)
            except ValueError as err:
                _raise(name, args, err)
            if rg and mode:
                return record(out, prim, args, saved, opts or None)
            if _tracer is not None:  # compile's trace: every op is a line of the program
                return _tracer(out, prim, args, saved, opts)
            return result(out)

        apply.primitive = prim
        apply.__signature__ = sig
        return apply

    return register


def _checked(apply, name, args, opts):
    """Anomaly mode's path through an op: run it in plain grad mode, then note where the user's
    code made it and check its output (tape.check_forward)."""
    token = _mode.set(GRAD)
    try:
        out = apply(*args, **opts)
    finally:
        _mode.reset(token)
    return check_forward(out, name, args)


# -- helpers the VJPs share --------------------------------------------------------------------

def swap(a):
    """Transpose the last two axes (a matrix, or a batch of matrices), as the table's transpose:
    Tensor has no `swapaxes` method, so matmul's VJPs could not be differentiated again."""
    n = a.ndim
    return transpose(a, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _kept(shape, axis):
    """`shape` after a reduction over `axis` with keepdims=True."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _rows(a):
    """The samples of a batch as rows of a matrix: (..., k) -> (n, k)."""
    return a if a.ndim == 2 else a.reshape(-1, a.shape[-1])


# -- binary, broadcasting ----------------------------------------------------------------------

@primitive("add", "da = g, db = g", lambda g, a, b, _: g, lambda g, a, b, _: g, promote=True,
           ufunc=np.add)
def add(a, b):
    return a + b


@primitive("sub", "da = g, db = -g", lambda g, a, b, _: g, lambda g, a, b, _: -g, promote=True,
           ufunc=np.subtract)
def sub(a, b):
    return a - b


@primitive("mul", "da = g * b, db = g * a",
           lambda g, a, b, _: g * b,
           lambda g, a, b, _: g * a, promote=True, ufunc=np.multiply)
def mul(a, b):
    return a * b


@primitive("div", "da = g / b, db = -g * out / b",
           lambda g, a, b, _: g / b,
           lambda g, a, b, out: -g * out / b, promote=True, ufunc=np.true_divide)
def div(a, b):
    return a / b


def _pow_da(g, a, b, _):
    if isinstance(b, (int, float)):  # the usual constant exponent
        return g * b * a ** (b - 1) if b != 0 else g * 0
    return g * b * where(b == 0, 1, a) ** (b - 1)  # d/da a^0 = 0, also at a = 0


def _pow_db(g, a, b, out):
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, log(-1) = nan: as
        return g * where((a == 0) * (b >= 0), 0, out * log(a))  # PyTorch, without warnings


@primitive("pow", "da = g * b * a^(b-1), db = g * out * log(a)  (da: 0 where b = 0; db: 0 where "
                  "a = 0 and b >= 0)",
           _pow_da, _pow_db, promote=True, names={"b": "exponent"})
def pow(a, b):
    try:
        return a ** b
    except ValueError as err:  # not a shape error: PyTorch's RuntimeError, not ShapeError
        if "negative integer powers" not in str(err):
            raise  # a shape error: the wrapper's ShapeError
        raise RuntimeError(f"pow: {err} Make the base a float tensor, e.g. x.double() ** "
                           f"-1, or use 1 / x") from None


@primitive("maximum", "da = g * (1 - [a < b] - [a = b]/2), db likewise",
           lambda g, a, b, _: g * (1 - (a < b) - (a == b) * 0.5),
           lambda g, a, b, _: g * (1 - (b < a) - (a == b) * 0.5), promote=True, ufunc=np.maximum)
def maximum(a, b):
    """The larger of the two; ties split the gradient, and a NaN (either side) sends g to both,
    as PyTorch."""
    return np.maximum(a, b)


@primitive("where", "dinput = where(condition, g, 0), dother = where(condition, 0, g)",
           None,
           lambda g, cond, a, b, _: where(cond, g, 0),
           lambda g, cond, a, b, _: where(cond, 0, g))
def where(condition, input, other):
    """input where condition holds, other elsewhere (broadcasting all three); input and other
    promoted as PyTorch's."""
    if type(input) is _ndarray and type(other) is _ndarray and input.dtype is not other.dtype:
        input, other = _promote(input, other)
    return np.where(condition, input, other)


def _matmul_da(g, a, b, _):
    if b.ndim == 1:  # out dropped b's column axis: da = g (..., n) outer b (k,)
        return g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # out dropped a's row axis: da = b @ g, per batch
        r = b @ g.reshape(g.shape + (1,))
        return r.reshape(r.shape[:-1])
    return g @ swap(b)


def _matmul_db(g, a, b, _):
    if b.ndim == 1:  # out dropped b's column axis: db = a^T g, per batch (g * a if a is 1-D)
        if a.ndim == 1:
            return g * a
        r = swap(a) @ g.reshape(g.shape + (1,))
        return r.reshape(r.shape[:-1])
    if a.ndim == 1:  # db = a (k,) outer g (..., m)
        return a.reshape(-1, 1) * g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    return swap(a) @ g


@primitive("matmul", "da = g @ b.T, db = a.T @ g", _matmul_da, _matmul_db)
def matmul(a, b):
    """a @ b as numpy: 1-D operands are promoted to matrices, leading axes broadcast."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul needs operands of at least one dimension; use * for scalars")
    try:
        return a @ b
    except ValueError:
        if a.shape[-1] == (b.shape[0] if b.ndim == 1 else b.shape[-2]):
            raise ValueError(
                f"the batch axes of shapes {a.shape} and {b.shape} do not broadcast: "
                f"{a.shape[:-2]} and {b.shape[:-2]}") from None
        raise ValueError(
            f"shapes {a.shape} and {b.shape} are not aligned: the last axis of the first "
            f"({a.shape[-1]}) must equal the {'only' if b.ndim == 1 else 'second-to-last'} "
            f"axis of the second ({b.shape[0] if b.ndim == 1 else b.shape[-2]})") from None


@primitive("linear",
           "dx = g @ W, dW = g.T @ x, db = sum_rows(g)  (x = input, W = weight, b = bias)",
           lambda g, x, w, b, _: g @ w,
           lambda g, x, w, b, _: _rows(g).T @ _rows(x),
           lambda g, x, w, b, _: _rows(g).sum(axis=0) if b.ndim == 1 else g)
def linear(input, weight, bias=None):
    """input @ weight.T + bias, the affine map of nn.Linear: input (..., in), weight (out, in),
    bias (out,). One op instead of three: dW comes out in weight's own layout (no transposed
    copy)."""
    out = input @ weight.T
    return out if bias is None else out + bias


# -- unary, elementwise ------------------------------------------------------------------------

@primitive("neg", "dx = -g", lambda g, x, _: -g)
def neg(x):
    return -x


@primitive("exp", "dx = g * out", lambda g, x, out: g * out, ufunc=np.exp)
def exp(x):
    return np.exp(x)


@primitive("log", "dx = g / x", lambda g, x, _: g / x, ufunc=np.log)
def log(x):
    return np.log(x)


@primitive("sqrt", "dx = g / (2 out)", lambda g, x, out: g / (2 * out), ufunc=np.sqrt)
def sqrt(x):
    return np.sqrt(x)


@primitive("abs", "dx = g * sign(x)", lambda g, x, _: g * sign(x), ufunc=np.absolute)
def abs(x):
    return np.abs(x)


@primitive("sign", "dx = 0", lambda g, x, _: g * 0)
def sign(x):
    """-1, 0 or 1; 0 at NaN, as PyTorch (numpy gives NaN), so that abs's gradient is 0 there."""
    return np.where(x != x, 0, np.sign(x))


@primitive("sigmoid", "dx = g * out * (1 - out)", lambda g, x, out: g * out * (1 - out))
def sigmoid(x):
    """1 / (1 + exp(-x)), computed from exp(-|x|) so that it never overflows."""
    e = np.exp(-np.abs(x))
    s = 1 / (1 + e)
    return np.where(x >= 0, s, e * s)


@primitive("tanh", "dx = g * (1 - out^2)", lambda g, x, out: g * (1 - out * out), ufunc=np.tanh)
def tanh(x):
    return np.tanh(x)


@primitive("relu", "dx = g * (out != 0)", lambda g, x, out: g * (out != 0))
def relu(x):
    """max(x, 0). The gradient passes where the output is not 0: x > 0, and NaN (as PyTorch,
    whose VJP reads the output too)."""
    return np.maximum(x, 0)


# -- reductions and the softmax family ---------------------------------------------------------

@primitive("sum", "dx = expand(g, x.shape)",
           lambda g, x, _, *, axis, keepdims: expand(g.reshape(_kept(x.shape, axis)),
                                                    shape=x.shape))
def sum(x, *, axis=None, keepdims=False):
    return x.sum(axis=axis, keepdims=keepdims)  # the method: np.sum's Python layer costs 1 us


@primitive("mean", "dx = expand(g / n, x.shape)  (n = the number of elements averaged)",
           # divided before the broadcast: g's size
           lambda g, x, out, *, axis, keepdims: expand(
               g.reshape(_kept(x.shape, axis))
               / (math.prod(x.shape) // builtins.max(math.prod(out.shape), 1)),
               shape=x.shape))
def mean(x, *, axis=None, keepdims=False):
    return np.mean(x, axis=axis, keepdims=keepdims)


def _amax_vjp(g, x, out, *, axis, keepdims):
    kept = _kept(x.shape, axis)
    mask = x == out.reshape(kept)
    return g.reshape(kept) * mask / mask.sum(axis=axis, keepdims=True)


@primitive("max", "dx = g * [x == out] / count(x == out)", _amax_vjp)
def amax(x, *, axis=None, keepdims=False):
    """The largest value along `axis`; the gradient is split equally among tied maxima."""
    return x.max(axis=axis, keepdims=keepdims)


@primitive("softmax", "dx = out * (g - sum(g * out))",
           lambda g, x, out, *, axis: out * (g - (g * out).sum(axis=axis, keepdims=True)))
def softmax(x, *, axis=-1):
    try:
        m = x.max(axis=axis, keepdims=True)
    except ValueError:  # an empty axis: the empty result, as PyTorch
        return np.exp(x)
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


@primitive("log_softmax", "dx = g - exp(out) * sum(g)",
           lambda g, x, out, *, axis: g - exp(out) * g.sum(axis=axis, keepdims=True))
def log_softmax(x, *, axis=-1):
    try:
        z = x - x.max(axis=axis, keepdims=True)
    except ValueError:  # an empty axis: the empty result, as PyTorch
        return np.exp(x)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


@primitive("logsumexp", "dx = g * exp(x - out)",
           lambda g, x, out, *, axis, keepdims: (g.reshape(_kept(x.shape, axis))
                                                 * exp(x - out.reshape(_kept(x.shape, axis)))))
def logsumexp(x, *, axis=None, keepdims=False):
    """log(sum(exp(x))) along `axis`, shifted by the max (never overflows); -inf (log 0) over an
    empty axis, as PyTorch."""
    try:
        m = x.max(axis=axis, keepdims=True)
    except ValueError:  # an empty axis: the log of an empty sum
        return x.sum(axis=axis, keepdims=keepdims) * 1.0 - np.inf
    m = np.where(np.isfinite(m), m, 0)  # all -inf (or inf) along an axis: no shift
    lse = m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))
    return lse if keepdims else lse.reshape(np.shape(np.sum(x, axis=axis)))


# -- shape -------------------------------------------------------------------------------------

@primitive("reshape", "dx = g.reshape(x.shape)", lambda g, x, _, *, shape: g.reshape(x.shape))
def reshape(input, *, shape):
    return np.reshape(input, shape)


@primitive("transpose", "dx = transpose(g, argsort(axes))",
           lambda g, x, _, *, axes: transpose(g, axes=tuple(np.argsort(axes))))
def transpose(input, *, axes):
    """The axes permuted: out.shape[i] = input.shape[axes[i]] (numpy's transpose)."""
    return np.transpose(input, axes)


@primitive("expand", "dx = sum_to(g, x.shape)", lambda g, x, _, *, shape: g)
def expand(input, *, shape):
    """`input` broadcast to `shape` (a read-only view); its VJP is the engine's broadcast sum."""
    return np.broadcast_to(input, shape)


@primitive("getitem", "dx = zeros(x.shape); dx[idx] += g",
           lambda g, x, _, *, idx: index_put(g, idx=idx, shape=x.shape))
def getitem(input, *, idx):
    """input[idx], basic or integer-array indexing (idx holds no Tensors)."""
    return input[idx]


@primitive("index_put", "dvalues = g[idx]", lambda g, x, _, *, idx, shape: getitem(g, idx=idx))
def index_put(values, *, idx, shape):
    """zeros(shape) with `values` added at `idx`, repeated indices accumulating: the adjoint of
    getitem, and its VJP."""
    out = np.zeros(shape, np.result_type(values))
    np.add.at(out, idx, values)
    return out


@primitive("to", "dx = g.astype(x.dtype)", lambda g, x, _, *, dtype: g)
def to(input, *, dtype):
    """input as `dtype` (no copy if it already is)."""
    return input.astype(dtype, copy=False)


# -- shape group: cat --------------------------------------------------------------------------

def _part(g, axis, start, stop):
    """g[..., start:stop, ...] along `axis`: the slice of cat's output that one input became."""
    return getitem(g, idx=(slice(None),) * axis + (slice(start, stop),))


@primitive("cat", "da, db = split(g, [a.shape[axis]], axis)",
           lambda g, a, b, _, *, axis: _part(g, axis, 0, a.shape[axis]),
           lambda g, a, b, _, *, axis: _part(g, axis, a.shape[axis], None))
def cat(a, b, *, axis):
    """a and b joined along `axis` (non-negative). A primitive because the composition (each
    input placed into zeros of the output's shape by index_put, then summed) writes k arrays of
    the output's size for k inputs, and index_put's scatter is much slower than a copy; one
    np.concatenate copies once. Binary, as the table has a fixed number of inputs per op: F.cat
    joins k tensors as a balanced tree (log2(k) copies)."""
    return np.concatenate((a, b), axis=axis)


# -- reductions group: prod, cumsum, and the scans behind cumprod/logcumsumexp ----------------

def _flip(a, axis):
    """`a` reversed along `axis` (a view by a reversing slice; its VJP flips back)."""
    return getitem(a, idx=(slice(None),) * axis + (slice(None, None, -1),))


def _shift(a, axis, s, fill):
    """out[k] = a[k - s] along `axis`, and `fill` in the first s places (1 for a product,
    -inf for a log-sum): the operand of one step of a scan. The fill is a constant."""
    n = a.shape[axis]
    s = builtins.min(s, n)
    head = np.full(a.shape[:axis] + (s,) + a.shape[axis + 1:], fill, a.dtype)
    return cat(head, getitem(a, idx=(slice(None),) * axis + (slice(0, n - s),)), axis=axis)


def scan(a, axis, op, fill):
    """The inclusive scan out[k] = a[0] op a[1] op ... op a[k] along `axis`, for an associative
    `op` with identity `fill`, in log2(n) steps (Hillis-Steele): out = op(out, shift(out, s))
    for s = 1, 2, 4, ... Built from primitives only, so its derivatives of every order are exact;
    with op = mul it is exact at zeros, where exp(cumsum(log)) is not."""
    s = 1
    while s < a.shape[axis]:
        a = op(a, _shift(a, axis, s, fill))
        s *= 2
    return a


def _others(x, axis):
    """prod_{j != k} x_j along `axis` for every k, without a division (so exact at zeros):
    the product of the elements before k times the product of those after k."""
    before = scan(_shift(x, axis, 1, 1), axis, mul, 1)
    after = _flip(scan(_shift(_flip(x, axis), axis, 1, 1), axis, mul, 1), axis)
    return before * after


def _prod_vjp(g, x, _, *, axis, keepdims):
    if axis is None:  # all elements: the product of the flattened tensor
        return (g.reshape((1,)) * _others(x.reshape((-1,)), 0)).reshape(x.shape)
    return g.reshape(_kept(x.shape, axis)) * _others(x, axis)


@primitive("prod", "dx = g * prod_others(x)  (products before and after each element, no division)",
           _prod_vjp)
def prod(x, *, axis=None, keepdims=False):
    """The product along one axis (or of all elements). A primitive: exp(sum(log|x|)) is wrong
    at zeros and negative numbers, and g * out / x divides by zero; the VJP multiplies the
    products before and after each element (two scans), so one zero gives the zero's slot the
    product of the others and every other slot 0, two zeros give 0 everywhere, as PyTorch."""
    return np.prod(x, axis=axis, keepdims=keepdims)


@primitive("cumsum", "dx = flip(cumsum(flip(g)))  (each along axis)",
           lambda g, x, _, *, axis: _flip(cumsum(_flip(g, axis), axis=axis), axis))
def cumsum(x, *, axis):
    """Running sums along `axis`. A primitive: the composition (a scan of adds) takes log2(n)
    steps of O(n); np.cumsum is one, and its VJP is itself on the reversed gradient."""
    return np.cumsum(x, axis=axis)


# -- elementwise group: sin, cos, log1p, expm1, erf, atan2, round, remainder -------------------

@primitive("sin", "dx = g * cos(x)", lambda g, x, _: g * cos(x), ufunc=np.sin)
def sin(x):
    """A primitive with cos: each is the other's derivative (tan = sin / cos is composed)."""
    return np.sin(x)


@primitive("cos", "dx = -g * sin(x)", lambda g, x, _: -g * sin(x), ufunc=np.cos)
def cos(x):
    return np.cos(x)


@primitive("log1p", "dx = g / (1 + x)", lambda g, x, _: g / (1 + x))
def log1p(x):
    """log(1 + x). A primitive for accuracy: log(1 + x) rounds 1 + x first, so it is 0 at
    x = 1e-20 (log1p gives 1e-20) and loses digits for every small x."""
    return np.log1p(x)


@primitive("expm1", "dx = g * (out + 1)", lambda g, x, out: g * (out + 1))
def expm1(x):
    """exp(x) - 1. A primitive for accuracy: exp(x) - 1 cancels for small x (0 at 1e-20)."""
    return np.expm1(x)


_math_erf = np.frompyfunc(math.erf, 1, 1)


@primitive("erf", "dx = g * 2/sqrt(pi) * exp(-x^2)",
           lambda g, x, _: g * (2 / np.sqrt(np.pi)) * exp(-(x * x)))
def erf(x):
    """The error function, 2/sqrt(pi) * integral_0^x exp(-t^2) dt. A primitive: numpy has no erf.
    The C library's erf (math.erf, accurate to an ulp) mapped over the elements: measured only
    1.5x slower than Cody's vectorised rational approximation (Math. Comp. 1969) in numpy, for
    30 lines less."""
    x = np.asarray(x)
    return np.asarray(_math_erf(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)


@primitive("atan2", "dinput = g * other / r2, dother = -g * input / r2  (r2 = input^2 + other^2)",
           lambda g, input, other, _: g * other / (input * input + other * other),
           lambda g, input, other, _: -g * input / (input * input + other * other),
           promote=True)
def atan2(input, other):
    """The angle of the point (x, y) = (other, input), in [-pi, pi]. A primitive: built from
    atan it needs a case per quadrant, and asin, acos and atan are compositions of it."""
    return np.arctan2(input, other)


_ROUNDERS = {"floor": np.floor, "ceil": np.ceil, "trunc": np.trunc}


@primitive("round", "dx = 0  (a step function: round, floor, ceil or trunc)",
           lambda g, x, _, *, mode, decimals: g * 0)
def round(x, *, mode="round", decimals=0):
    """x rounded to an integer (`decimals` places for mode "round", half to even as PyTorch), or
    floor, ceil, trunc. One primitive for the four: their VJP is the same 0 (the derivative
    almost everywhere, as PyTorch's). An integer x is returned unchanged (numpy would make it
    float)."""
    x = np.asarray(x)
    if x.dtype.kind in "iub" and (mode != "round" or decimals >= 0):
        return x.copy()
    return np.round(x, decimals) if mode == "round" else _ROUNDERS[mode](x)


@primitive("remainder", "da = g, db = -g * q  (q = (a - out) / b, the integer quotient)",
           lambda g, a, b, _, *, fmod: g,
           lambda g, a, b, out, *, fmod: -g * round((a - out) / b), promote=True)
def remainder(a, b, *, fmod=False):
    """a - q b for the integer quotient q of a / b rounded down (Python's %, the sign of b), or
    toward 0 with fmod=True (C's fmod, the sign of a), exact as numpy computes it. A primitive:
    a - b * floor(a / b) is not exact (1.0 % 0.1 is 0.09999999999999995, but floor(1.0 / 0.1)
    is 10, which gives -5.6e-17). The VJP takes q from the output, so it is the quotient the
    forward used (PyTorch's rule, -g * floor(a / b), gives 10 there)."""
    return np.fmod(a, b) if fmod else np.remainder(a, b)


# -- conv group: im2col and col2im, each the other's adjoint -----------------------------------

def _tail(a, pads):
    """`a` (N, C, H, W) with zeros around its last two axes: pads ((top, bottom), (left, right))."""
    (t, b), (l, r) = pads
    if not (t or b or l or r):
        return a
    out = np.zeros(a.shape[:2] + (a.shape[2] + t + b, a.shape[3] + l + r), a.dtype)
    out[:, :, t:t + a.shape[2], l:l + a.shape[3]] = a
    return out


@primitive("im2col", "dx = col2im(g)  (the adjoint: every window's gradient added back)",
           lambda g, x, _, *, kernel_size, stride, padding, dilation:
               col2im(g, size=x.shape[2:], stride=stride, padding=padding, dilation=dilation))
def im2col(x, *, kernel_size, stride, padding, dilation):
    """The windows of a convolution: x (N, C, H, W) zero-padded by `padding` ((top, bottom),
    (left, right)), out[n, c, p, q, i, j] = x_pad[n, c, i*sh + p*dh, j*sw + q*dw], of shape
    (N, C, kh, kw, OH, OW). A strided view (no copy; read-only), so a convolution is this and one
    matmul, and pooling a reduction over (kh, kw). A primitive with its adjoint col2im: linear,
    each is the other's VJP, so everything built on them (conv, pooling) is differentiable to
    every order; the composition by getitem would gather kh*kw*OH*OW*N*C indices, and its VJP
    scatter them with np.add.at, many times slower."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    windows = np.lib.stride_tricks.sliding_window_view(
        _tail(np.asarray(x), padding), ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    return windows[:, :, ::sh, ::sw, ::dh, ::dw].transpose(0, 1, 4, 5, 2, 3)


@primitive("col2im", "dcols = im2col(g)  (the adjoint: each window read back)",
           lambda g, cols, _, *, size, stride, padding, dilation:
               im2col(g, kernel_size=cols.shape[2:4], stride=stride, padding=padding,
                      dilation=dilation))
def col2im(cols, *, size, stride, padding, dilation):
    """The adjoint of im2col: cols (N, C, kh, kw, OH, OW) added back into an image of size
    `size` (H, W), out[n, c, i*sh + p*dh, j*sw + q*dw] += cols[n, c, p, q, i, j], then the
    padding cropped. One strided slice added per kernel offset (kh*kw numpy additions, no loop
    over pixels). It is the VJP of im2col (the gradient of a convolution's input is a transposed
    convolution: col2im of W.T @ g)."""
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw), ((t, b), (l, r)) = stride, dilation, padding
    fit = ((size[0] + t + b - dh * (kh - 1) - 1) // sh + 1,
           (size[1] + l + r - dw * (kw - 1) - 1) // sw + 1)
    if (oh, ow) != fit:
        raise ValueError(f"{fit} windows fit an image of size {tuple(size)} with these stride, "
                         f"padding and dilation, but cols (N, C, kh, kw, OH, OW) has {(oh, ow)}")
    if (sh, sw, dh, dw) == (kh, kw, 1, 1) and not t + b + l + r and (oh * kh, ow * kw) == size:
        # windows that tile the image (pooling): nothing to add, one transposing copy
        return cols.transpose(0, 1, 4, 2, 5, 3).reshape(n, c, *size)
    src = cols.transpose(2, 3, 4, 5, 0, 1)  # (kh, kw, OH, OW, N, C): the loop reads [p, q]
    few = oh * ow <= 16
    if few:  # numpy's inner loops would run along rows of a few pixels: add in the layout
        src = np.ascontiguousarray(src)  # (H, W, N, C) instead, whose rows are N*C long
        out = np.zeros((size[0] + t + b, size[1] + l + r, n, c), cols.dtype)
    else:
        out = np.zeros((n, c, size[0] + t + b, size[1] + l + r), cols.dtype).transpose(2, 3, 0, 1)
    for p in range(kh):
        for q in range(kw):
            out[p * dh:p * dh + sh * (oh - 1) + 1:sh,
                q * dw:q * dw + sw * (ow - 1) + 1:sw] += src[p, q]
    out = out[t:t + size[0], l:l + size[1]].transpose(2, 3, 0, 1)
    return np.ascontiguousarray(out) if few else out
