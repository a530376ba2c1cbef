"""Compiled steps: a traced training step written out as the straight-line numpy a person would
write, and run without a tape.

`compile(fn, params)` runs `fn` once per signature in eager mode while recording every primitive
it applies: the forward, then the backward, swept with `create_graph=True` so that every VJP step
is itself a recorded primitive (the same primitives in the same order as eager mode's backward,
so the same numbers). The trace is then simplified (constants folded, no-op casts, reshapes and
`* 1` dropped, common subexpressions shared, dead code removed) and printed as one Python
function of numpy arrays, which later calls run.

Values that no graph records must become lines of the program, never constants from the first
batch: comparisons (relu's mask), the one-hot of labels, the label check, Dropout's masks,
BatchNorm's statistics. The tracer records them through small hooks (Tensor's comparisons, the
losses' one-hot and label check, dropout's draw, batch_norm's buffer writes), and refuses, at
trace time, the reads of a traced tensor's values that would bake a branch (`.item()`, `bool()`,
`.data`...), raising CompileError that says why and what to use instead.
"""
import builtins
import contextlib
import functools
import gc
import inspect
import re
import sys
import textwrap
import warnings

import numpy as np

from . import graph as _graph
from . import losses as _losses
from . import primitives as _P
from . import tape as _tape
from .compositions import activations as _act
from .compositions import conv as _conv
from .compositions import normalization as _norm
from .tensor import Tensor, _ndarray

__all__ = ["compile", "CompileError"]


class CompileError(RuntimeError):
    """What the tracer cannot carry into a program: the op (or Function), why, and the way out."""


_LONG = 5000  # programs with more lines run as a loop over an op list (no exec of the source)
_INLINE_DEPTH = 6  # how deeply single-use temporaries nest into one expression


# -- the trace ---------------------------------------------------------------------------------

class Var:
    """A value of the program: an input (param, argument, buffer) or an op's output."""

    __slots__ = ("array", "kind", "op", "name", "hint", "grad_of", "pgrad", "uses", "tensor",
                 "part")

    def __init__(self, array, kind, op=None, hint=None):
        self.array, self.kind, self.op, self.hint = array, kind, op, hint
        self.name = self.grad_of = self.pgrad = self.tensor = self.part = None
        self.uses = 0


class Const:
    """A value that does not depend on the inputs (a literal, or an array fixed at trace time)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Op:
    """One line of the program: `out = fn(*ins, **opts)`."""

    __slots__ = ("kind", "fn", "ins", "opts", "out", "block", "pure", "npos")

    def __init__(self, kind, fn, ins, opts, out, pure=True):
        self.kind, self.fn, self.ins, self.opts, self.out = kind, fn, ins, opts, out
        self.block, self.pure = None, pure
        self.npos = len(ins)


class _Trace:
    def __init__(self):
        self.ops, self.var_of, self.keep = [], {}, []
        self.nodes = {}  # Node -> Var of its output
        self.mark = 0  # ops before this index are placed (forward or an earlier backward block)
        self.function = None  # the Function whose backward runs now (for errors)
        self.modules = {}  # id -> module whose forward ran
        self.getters = {}  # id(Var) of a buffer or generator -> how a call finds it
        self.written = set()  # ids of the buffers written
        self.leaf_rule = {}  # id(param) -> (primitive, input index) of its last gradient

    def new(self, array, kind, op=None, hint=None):
        v = Var(array, kind, op, hint)
        self.var_of[id(array)] = v
        self.keep.append(array)
        return v

    def ref(self, a):
        """A Var for a traced array, else a Const."""
        if isinstance(a, Tensor):
            a = a._data
        v = self.var_of.get(id(a))
        if v is not None and v.array is a:
            return v
        return Const(a)

    def op(self, kind, fn, inputs, opts, out, pure=True):
        """Record `out = fn(*inputs, **opts)`; `out` is the result array (or Tensor)."""
        var_of, ins, traced = self.var_of, [], False
        for a in inputs:  # self.ref, inlined: this runs for every primitive traced
            if isinstance(a, Tensor):
                a = a._data
            v = var_of.get(id(a))
            if v is not None and v.array is a:
                ins.append(v)
                traced = True
            else:
                ins.append(Const(a))
        npos = len(ins)
        if opts and any(_has_array(v) for v in opts.values()):
            # an index array computed from the inputs (labels as an index): an operand too
            opts = {k: self.lift(v, ins) for k, v in opts.items()}
        arr = out._data if isinstance(out, Tensor) else out
        known = var_of.get(id(arr)) if arr is not None else None  # (a check has no value)
        if known is not None and known.array is arr:
            return known  # the op returned one of its inputs (a cast to the same dtype)
        if pure and not traced and not any(type(r) is Var for r in ins):  # (lifted operands)
            return None  # a constant: folded at trace time
        o = Op(kind, fn, ins, opts or {}, None, pure)
        o.npos = npos
        o.out = v = Var(arr, "op", o)  # self.new, inlined
        var_of[id(arr)] = v
        self.keep.append(arr)
        if isinstance(out, Tensor):
            o.out.tensor = out  # its .name, given after the op ran, names the value
            if out.grad_fn is not None:
                self.nodes[out.grad_fn] = o.out
        self.ops.append(o)
        return o.out


    def lift(self, v, ins):
        if isinstance(v, _ndarray):
            r = self.ref(v)
            if isinstance(r, Var):
                ins.append(r)
                return _Slot(len(ins) - 1)
            return v
        if isinstance(v, (tuple, list)):
            return type(v)(self.lift(x, ins) for x in v)
        return v


class _Slot:
    """In an op's options: the value of its operand i (an index array the program computes)."""

    __slots__ = ("i",)

    def __init__(self, i):
        self.i = i

    def __repr__(self):
        return f"_Slot({self.i})"


def _fill(v, vals):
    if isinstance(v, _Slot):
        return vals[v.i]
    if isinstance(v, (tuple, list)):
        return type(v)(_fill(x, vals) for x in v)
    return v


def _has_slot(v):
    return isinstance(v, _Slot) or isinstance(v, (tuple, list)) and any(map(_has_slot, v))


_trace = None  # the active trace (one at a time: tracing is a global mode)


def _fresh_tensor(array):
    t = Tensor.__new__(Tensor)
    t._data, t.grad, t._rg, t.grad_fn, t.name, t._changed = array, None, False, None, None, 0
    return t


# -- hooks, installed only while tracing --------------------------------------------------------

def _traced_record(out, prim, inputs, saved, opts):
    t = _real_record(out, prim, inputs, saved, opts)
    tr = _trace
    if prim.joint is not None:  # a Function: its forward's ops are traced already
        if not isinstance(tr.ref(t), Var):
            raise CompileError(
                f"compile: {prim.name}.forward returned values computed outside the engine's ops "
                f"(raw numpy on .data?); write its forward with Tensor ops so it can be traced")
        t.grad_fn.prim = _function_prim(prim)
    else:
        _trace_prim(prim, inputs, saved, opts, t)
    return t


def _traced_result(out, prim, args, saved, opts):
    t = _tape.result(out)
    _trace_prim(prim, args, saved, opts, t)
    return t


def _trace_prim(prim, inputs, saved, opts, t):
    tr = _trace
    ins = []
    for a, s in zip(inputs, saved):
        if isinstance(a, Tensor) and s is not a._data:  # promoted to the other operand's dtype
            r = tr.ref(a)
            if isinstance(r, Var):
                tr.op("prim", _P.OPS["to"], (a._data,), {"dtype": s.dtype}, s)
        ins.append(s)
    tr.op("prim", prim, ins, opts, t)


def _function_prim(prim):
    """The Function's primitive with its backward run under the tracer's watch."""
    joint, name = prim.joint, prim.name

    def traced_joint(node, g, create_graph):
        _trace.function = name
        try:
            res = joint(node, g, create_graph)
        except CompileError as err:
            raise CompileError(f"compile: {name}.backward leaves the engine: {err}") from None
        finally:
            _trace.function = None
        for r in res:
            if r is not None and not isinstance(_trace.ref(r), Var) \
                    and not _uniform(r._data if isinstance(r, Tensor) else r):
                raise CompileError(
                    f"compile: {name}.backward returned a gradient computed outside the "
                    f"engine's ops (raw numpy on .data or an ndarray); write it with Tensor ops "
                    f"(`grad_output * x.cos()`) so that it can be compiled")
        return res

    return _P.Primitive(name, prim.rule, prim.fwd, prim.vjps, joint=traced_joint)


def _compare_hook(ufunc, original):
    def compare(self, other):
        t = original(self, other)
        if _trace is not None:
            _trace.op("ext", ufunc, (self, other), None, t)
        return t

    return compare


def _value_read(what, instead):
    def refuse(self, *args, **kwargs):
        tr = _trace
        if tr is not None and isinstance(tr.ref(self), Var):
            raise CompileError(
                f"compile: {what} reads a traced tensor's values (shape {self.shape}) while "
                f"tracing; the program would bake this batch's values (one branch of an `if`) "
                f"into every later call. {instead}")
        return _ORIGINAL[what](self, *args, **kwargs)

    return refuse


_SCALAR_HINT = ("Compute with the tensor's ops instead: `where(cond, a, b)` or a mask "
                "(`x * (x > 0)`) for a choice per element; read values only outside the "
                "compiled function.")
_READS = {"item()": ("item", _SCALAR_HINT), "float()": ("__float__", _SCALAR_HINT),
          "int()": ("__int__", _SCALAR_HINT), "bool()": ("__bool__", _SCALAR_HINT),
          ".numpy()": ("numpy", _SCALAR_HINT), ".tolist()": ("tolist", _SCALAR_HINT),
          "np.asarray(t)": ("__array__", _SCALAR_HINT)}
_ORIGINAL = {}


def _traced_onehot(labels, z):
    out = _ORIG_ONEHOT(labels, z)
    tr = _trace
    r = tr.ref(labels)
    if isinstance(r, Var):  # the options _onehot_of gives _onehot
        axis = _losses._class_axis(z)
        tr.op("ext", _losses._onehot, (labels,),
              {"classes": z.shape[axis], "dtype": np.dtype(z.dtype), "axis": axis}, out)
    return out


def _traced_labels(name, input, target, ignore_index):
    labels, keep = _ORIG_LABELS(name, input, target, ignore_index)
    x = _losses._data(input)
    c = x.shape[1 if x.ndim > 1 else 0]
    tr = _trace
    if isinstance(tr.ref(labels), Var):
        if 0 <= ignore_index < c:
            raise CompileError(
                f"compile: {name} with ignore_index={ignore_index}, one of the {c} classes: "
                f"whether a batch holds ignored labels changes the computation; compile "
                f"without ignore_index (or use class weights)")
        tr.op("check", _check_labels, (labels,), {"name": name, "classes": c,
                                                   "shape": x.shape}, None, pure=False)
    return labels, keep


LabelError = _losses.LabelError  # what _check_labels raises in the op-list loop: eager's class
_LABEL_ERROR = 'class LabelError(ValueError, IndexError):\n    """A class label out of range."""'


@functools.lru_cache(maxsize=None)
def _source_of(obj):
    """inspect.getsource, once per function or module: it reads and scans the file."""
    return inspect.getsource(obj)


def _check_labels(labels, *, name, classes, shape):
    """Raise LabelError when a label is outside [0, classes): eager mode's check, every call."""
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        at = tuple(int(i) for i in np.argwhere(bad)[0])
        raise LabelError(
            f"{name}: label {labels[at]} at index {at} is out of range: labels must be in "
            f"[0, {classes}) for {classes} classes (input shape {shape}, target shape "
            f"{labels.shape}), or equal ignore_index to skip a sample")


@contextlib.contextmanager
def _tracing(tr):
    global _trace, _real_record
    if _trace is not None:
        raise CompileError("compile: a compiled function called while another one is being "
                           "traced; compile the outer function only")
    _trace, _real_record = tr, _tape.record
    saved = [(_P, "record", _traced_record), (_P, "_tracer", _traced_result),
             (_tape, "record", _traced_record), (_losses, "_onehot_of", _traced_onehot),
             (_losses, "_labels", _traced_labels)]
    for what, (attr, hint) in _READS.items():
        _ORIGINAL[what] = getattr(Tensor, attr)
        saved.append((Tensor, attr, _value_read(what, hint)))
    _ORIGINAL[".data"] = Tensor.data.fget
    saved.append((Tensor, "data", property(
        _value_read(".data", _SCALAR_HINT), Tensor.data.fset)))
    for name, uf in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                     ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
        for attr in (f"__{name}__", name):
            saved.append((Tensor, attr, _compare_hook(uf, getattr(Tensor, attr))))
    nnmod = sys.modules.get("nn.module")
    if nnmod is not None:
        call = nnmod.Module.__call__

        def module_call(self, *args, **kwargs):
            hooks = {**self._forward_pre_hooks, **self._forward_hooks}
            if hooks:  # they would run in the trace only, never in the program
                raise CompileError(
                    f"compile: {type(self).__name__} has the forward hook "
                    f"{_hook_name(next(iter(hooks.values())))}, which a compiled step cannot "
                    f"run at each call; remove it (handle.remove()) or run this step eagerly")
            tr.modules.setdefault(id(self), self)
            return call(self, *args, **kwargs)

        saved.append((nnmod.Module, "__call__", module_call))
    for orig, new in ((_ORIG_DROPOUT, _traced_dropout), (_ORIG_BATCH_NORM, _traced_batch_norm),
                      (_ORIG_MAX_POOL, _traced_max_pool2d)):
        for mod in _function_homes():
            if getattr(mod, orig.__name__, None) is orig:
                saved.append((mod, orig.__name__, new))
    saved.append((_conv, "_first_max", _traced_first_max))
    sweep = _tape.sweep

    def traced_sweep(roots, seeds, retain_graph=False, create_graph=False, **kwargs):
        if not create_graph:  # first-order VJPs run on raw arrays: nothing would be recorded
            raise CompileError(
                "compile: backward() or grad() inside the compiled function; return the loss "
                "and pass params= to compile, which computes the gradients (or use "
                "grad(..., create_graph=True))")
        return sweep(roots, seeds, retain_graph, create_graph, **kwargs)

    saved.append((_tape, "sweep", traced_sweep))
    from .function import Function
    apply = Function.__dict__["apply"]

    def function_apply(cls, *args):
        try:
            return apply.__func__(cls, *args)
        except CompileError as err:
            if cls.__name__ in str(err):
                raise
            raise CompileError(f"compile: in {cls.__name__}.forward: {err}") from None

    saved.append((Function, "apply", classmethod(function_apply)))
    from . import compositions, functional
    for name, when in _REFUSED.items():
        orig = getattr(compositions, name)
        guard = _refuse(name, orig, when)
        for home in (*_function_homes(), *_composition_modules()):
            if getattr(home, name, None) is orig:
                saved.append((home, name, guard))
        if Tensor.__dict__.get(name) is orig:
            saved.append((Tensor, name, guard))
    nnnorm = sys.modules.get("nn.normalization")
    if nnnorm is not None:
        _ORIG_BN_FORWARD[0] = nnnorm._BatchNorm.forward
        saved.append((nnnorm._BatchNorm, "forward", _bn_forward))
    nndrop = sys.modules.get("nn.dropout")
    if nndrop is not None:
        drop = nndrop.Dropout.forward

        def dropout_forward(self, input):
            tr.modules.setdefault(id(self), self)  # its mode decides: part of the signature
            return drop(self, input)

        saved.append((nndrop.Dropout, "forward", dropout_forward))
    originals = [(obj, attr, obj.__dict__.get(attr, _MISSING) if isinstance(obj, type)
                  else getattr(obj, attr)) for obj, attr, _ in saved]
    try:
        for obj, attr, new in saved:
            setattr(obj, attr, new)
        yield tr
    finally:
        for obj, attr, old in reversed(originals):
            if old is _MISSING:
                delattr(obj, attr)
            else:
                setattr(obj, attr, old)
        _trace = None


_MISSING = object()

# Compositions that compute a mask or indices from the values with raw numpy (sign bits,
# argmax, sorting): on a traced input the program would reuse this trace's choice, so they are
# refused at trace time. name -> whether a call is affected, given (args, kwargs).
_REFUSED = {
    "asinh": None, "logaddexp": None, "copysign": None, "argmax": None, "argmin": None,
    "any": None, "all": None, "sort": None, "argsort": None, "topk": None, "median": None,
    "cummax": None, "cummin": None, "one_hot": None, "max": "dim", "min": "dim",
}


def _refuse(name, fn, when):
    def guarded(*args, **kwargs):
        if _trace is not None and any(isinstance(_trace.ref(a), Var) for a in args[:2]
                                      if isinstance(a, (Tensor, _ndarray))):
            if when is None or len(args) > 1 and args[1] is not None \
                    or kwargs.get("dim") is not None or kwargs.get("axis") is not None:
                raise CompileError(
                    f"compile: {name}() computes its choice (a mask or indices) from the "
                    f"values outside the engine's ops, so the program would reuse this trace's; "
                    f"it cannot be compiled yet: compute it outside the compiled function, or "
                    f"with comparisons and where()")
        return fn(*args, **kwargs)

    return guarded


def _composition_modules():
    from .compositions import elementwise, reductions, shape
    return (elementwise, reductions, shape)


def _function_homes():
    """The modules through which the ops are called (F.dropout, compositions.dropout...)."""
    from . import compositions, functional
    from .compositions import conv
    return (_act, _norm, conv, compositions, functional)
_real_record = _tape.record
_ORIG_ONEHOT = _losses._onehot_of
_ORIG_LABELS = _losses._labels


# -- dropout and batch norm: randomness and state as program lines ------------------------------

_ORIG_DROPOUT = _act.dropout
_ORIG_MAX_POOL = _conv.max_pool2d
_ORIG_FIRST_MAX = _conv._first_max


def _hook_name(hook):
    return repr(getattr(hook, "__qualname__", None) or repr(hook))


def _traced_max_pool2d(input, *args, **kwargs):
    if kwargs.get("return_indices") or len(args) >= 6 and args[5]:
        raise CompileError("compile: max_pool2d(return_indices=True) computes the indices "
                           "outside the engine's ops; compile without return_indices")
    return _ORIG_MAX_POOL(input, *args, **kwargs)


def _traced_first_max(cols, inside=None):
    first, picked = _ORIG_FIRST_MAX(cols, inside)
    _trace.op("ext", _first_max_mask, (cols,) if inside is None else (cols, inside), None, picked)
    return first, picked


def _first_max_mask(cols, inside=None):
    """The mask of each window's first maximum (or NaN) along axis 2, among the cells that are
    input (`inside`), not padding: max pooling's choice, as conv._first_max makes it."""
    if inside is None:
        first = np.argmax(cols, axis=2)
    else:
        m = cols.max(axis=2, keepdims=True)
        first = np.argmax(((cols == m) | (cols != cols)) & inside, axis=2)
    return first[:, :, None] == np.arange(cols.shape[2])[:, None, None]


def _traced_dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    if not training or p == 0:
        return input
    if inplace:
        raise CompileError("compile: dropout(inplace=True) cannot be traced; use inplace=False")
    if generator is not None and not isinstance(generator, np.random.Generator):
        raise CompileError(
            "compile: dropout with a seed as generator draws the same mask at every call; pass "
            "a numpy Generator (or none) so that the program draws from it")
    tr = _trace
    rng = _act._generator if generator is None else generator
    x = input if isinstance(input, Tensor) else Tensor(input)
    mask = _dropout_mask(rng, x.shape, p=p, dtype=np.dtype(x.dtype))
    if tr.var_of.get(id(rng)) is None:
        v = tr.new(rng, "rng", hint="generator")
        tr.getters[id(v)] = _rng_source(rng)
    tr.op("ext", _dropout_mask, (rng,), {"shape": x.shape, "p": p, "dtype": np.dtype(x.dtype)},
          mask, pure=False)
    return x * mask


def _rng_source(rng):
    """How a call finds the generator eager mode would use: nn's default generator is looked up
    at each call (nn.manual_seed replaces it), any other is the object itself."""
    layers = sys.modules.get("nn.layers")
    if layers is not None and rng is getattr(layers, "_default_rng", None):
        return lambda: layers._default_rng
    if rng is _act._generator:
        return lambda: _act._generator
    return lambda: rng


def _dropout_mask(rng, shape, *, p, dtype):
    """Inverted dropout's mask: 0 with probability p, else 1 / (1 - p), drawn from `rng`."""
    keep = rng.random(shape) >= p
    return (keep / (1 - p) if p < 1 else keep * 0.0).astype(dtype)


def _buffer(t, name):
    """A module's buffer (a Tensor) as an input of the program, passed in and updated in place."""
    tr = _trace
    v = tr.var_of.get(id(t._data))
    if v is None or v.array is not t._data:
        v = tr.new(t._data, "buffer", hint=name)
        tr.getters[id(v)] = lambda: t._data
    if id(v) in tr.written:
        raise CompileError(
            f"compile: {name} is read after this step wrote it (a BatchNorm module called twice "
            f"in training?); the program updates buffers at its end, so compile one call")
    return v


def _write_buffer(t, value):
    """t[...] = value, now and as the program's last lines (so a call that raises changes no
    buffer)."""
    tr = _trace
    v = tr.var_of[id(t._data)]
    tr.written.add(id(v))
    o = Op("write", _write, [v, tr.ref(value)], {}, None, pure=False)
    tr.ops.append(o)
    with _tape.no_grad():
        t.copy_(value)


def _write(buffer, value):
    """buffer[...] = value, in place."""
    np.copyto(buffer, value, casting="unsafe")


_ORIG_BATCH_NORM = _norm.batch_norm


def _traced_batch_norm(input, running_mean, running_var, weight=None, bias=None,
                       training=False, momentum=0.1, eps=1e-5):
    """batch_norm as eager mode computes it, with the running statistics read and written as
    program lines (eager mode reads them as arrays, which the tracer cannot see)."""
    for s in (running_mean, running_var):
        if s is not None and not isinstance(s, Tensor):
            raise CompileError("compile: batch_norm with running statistics given as arrays; "
                               "pass a module's buffers (nn.BatchNorm) or Tensors")
    if training and running_mean is None and running_var is None:
        return _ORIG_BATCH_NORM(input, None, None, weight, bias, True, momentum, eps)
    shape = _norm.shape_of(input)
    if len(shape) < 2 or (training and np.prod(shape) // shape[1] <= 1):
        return _ORIG_BATCH_NORM(input, running_mean, running_var, weight, bias, training,
                                momentum, eps)  # its error
    c = shape[1]
    for what, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _norm._check_vector("batch_norm", what, v, c, shape)
    x = _norm._tensor(input)
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    for s, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if s is not None:
            _buffer(s, name)
    if not training:
        if running_mean is None or running_var is None:
            return _ORIG_BATCH_NORM(input, running_mean, running_var, weight, bias, training,
                                    momentum, eps)
        mean, var = (_tensor_of(s).to(x.dtype).reshape(per_channel)
                     for s in (running_mean, running_var))
        y = (x - mean) * _norm.E.rsqrt(var + eps)
        return _norm._affine(y, weight, bias, per_channel)
    n = x.numel() // c
    dims = (0,) + tuple(range(2, len(shape)))
    y, mean, var = _norm._standardize(x, dims, eps)
    with _tape.no_grad():  # eager mode: arrays, numpy's operators in the same order
        if running_mean is not None:
            _write_buffer(running_mean, (1 - momentum) * _tensor_of(running_mean)
                          + momentum * mean.detach().reshape(c))
        if running_var is not None:
            _write_buffer(running_var, (1 - momentum) * _tensor_of(running_var)
                          + momentum * var.detach().reshape(c) * (n / (n - 1)))
    return _norm._affine(y, weight, bias, per_channel)


def _tensor_of(t):
    """A Tensor on the same array, recording nothing (a buffer read as a value)."""
    return _fresh_tensor(t._data)


def _bn_forward(self, input):
    """nn's _BatchNorm.forward with num_batches_tracked counted by the program."""
    _trace.modules.setdefault(id(self), self)
    ndim = input.ndim if isinstance(input, Tensor) else np.ndim(input)
    if ndim not in self._dims or not (self.training and self.track_running_stats):
        return _ORIG_BN_FORWARD[0](self, input)
    nbt = self.num_batches_tracked
    _buffer(nbt, "num_batches_tracked")
    with _tape.no_grad():
        count = _fresh_tensor(nbt._data) + 1
        _write_buffer(nbt, count)
    factor = self.momentum
    if factor is None:  # the cumulative average: 1 / num_batches_tracked, at each call
        a = _average_factor(count._data)
        _trace.op("ext", _average_factor, (count._data,), None, a)
        factor = _fresh_tensor(a)
    return _traced_batch_norm(input, self.running_mean, self.running_var, self.weight,
                              self.bias, True, factor, self.eps)


def _average_factor(count):
    """BatchNorm's momentum=None: the weight 1 / num_batches_tracked of the new batch."""
    return np.asarray(1.0 / float(count))


_ORIG_BN_FORWARD = [None]


def _value(r):
    """The array (or value) behind an operand at trace time."""
    return r.array if type(r) is Var else r.value


def _uniform(a):
    a = np.asarray(a)
    if a.size == 0:
        return True
    f = a.reshape(-1)[0]
    return bool(np.all(a == f)) or (a.dtype.kind in "fc" and bool(np.all(np.isnan(a))))


# -- from the trace to the program --------------------------------------------------------------

_BINARY = {"add": ("+", 60), "sub": ("-", 60), "mul": ("*", 70), "div": ("/", 70),
           "matmul": ("@", 70), "pow": ("**", 90)}
_UFUNCS = {"exp": "np.exp", "log": "np.log", "sqrt": "np.sqrt", "abs": "np.abs",
           "sign": "np.sign", "tanh": "np.tanh", "sin": "np.sin", "cos": "np.cos",
           "log1p": "np.log1p", "expm1": "np.expm1", "maximum": "np.maximum",
           "where": "np.where", "atan2": "np.arctan2"}
_PY_NUMBERS = (float, int, bool)
_NOOPS = {"to", "reshape", "expand", "transpose", "mul", "div", "add", "sub"}
_COMPARE = {np.equal: "==", np.not_equal: "!=", np.less: "<", np.less_equal: "<=",
            np.greater: ">", np.greater_equal: ">="}


def _lit(v):
    """Python source for a constant option or operand."""
    if isinstance(v, np.dtype):
        return f"np.{v.name}" if v.name in ("float32", "float64", "int64", "int32", "bool") \
            and v.name != "bool" else f"np.dtype({v.str!r})"
    if isinstance(v, type) and issubclass(v, np.generic):
        return f"np.{v.__name__}"
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        if v != v:
            return "np.nan"
        if v in (float("inf"), float("-inf")):
            return "np.inf" if v > 0 else "-np.inf"
        return repr(v)
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_lit, v)) + ("," if len(v) == 1 else "") + ")"
    if isinstance(v, list):
        return "[" + ", ".join(map(_lit, v)) + "]"
    if isinstance(v, slice):
        return f"slice({_lit(v.start)}, {_lit(v.stop)}, {_lit(v.step)})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_lit(k)}: {_lit(x)}" for k, x in v.items()) + "}"
    if v is Ellipsis:
        return "..."
    if isinstance(v, _ndarray):
        return None  # arrays are handled by the caller
    return repr(v)


class _Builder:
    """Simplifies a trace and writes it out as the source of one function (or an op list)."""

    def __init__(self, tr, inputs, outputs):
        self.tr, self.inputs, self.outputs = tr, inputs, outputs
        self.helpers = {}  # name -> source
        self.imports = set()  # besides numpy: the standard library's math for erf
        self.consts = {}  # name -> array (large constants, passed in the exec namespace)
        self.alias = {}

    # simplification: fold, drop no-ops, share common subexpressions, remove dead code
    def simplify(self):
        seen, kept, alias = {}, [], self.alias
        get, binary, noops = alias.get, _BINARY, _NOOPS
        for op in self.tr.ops:  # alias values are resolved when set: one look-up each
            ins = op.ins = [get(r, r) for r in op.ins]
            if op.pure:
                if op.kind == "prim":
                    n_var = 0
                    for r in ins:
                        if type(r) is Var:
                            n_var += 1
                    if not n_var:
                        alias[op.out] = Const(op.out.array)
                        continue
                    name = op.fn.name
                    if n_var < len(ins) and name in binary and len(ins) == 2:
                        self.scalars(op)
                    if name in noops:
                        same = self.noop(op)
                        if same is not None:
                            alias[op.out] = same
                            continue
                key = self.key(op)
                if key is not None:
                    known = seen.get(key)
                    if known is not None:
                        alias[op.out] = known
                        continue
                    seen[key] = op.out
            kept.append(op)
        kept = self.share_difference(self.share_softmax(kept))
        outs = [get(r, r) for r in self.outputs]
        live = {id(r) for r in outs if type(r) is Var}
        ops = []
        for op in reversed(kept):
            if op.pure and id(op.out) not in live:
                continue
            ops.append(op)
            for r in op.ins:
                if type(r) is Var:
                    live.add(id(r))
                    r.uses += 1
        ops.reverse()
        for r in outs:
            if type(r) is Var:
                r.uses += 2  # never inlined into the return
        self.ops, self.outs = ops, outs

    def share_softmax(self, ops):
        """cross_entropy at integer labels and, after it, the softmax of its logits (its VJP's):
        the forward computes e = exp(z - max z) and s = sum(e) once, the backward's softmax is
        e / s. The same numpy calls as the two ops make, so the same numbers, one exp fewer."""
        ce, softmax = {}, {}  # id(z) -> (position, op) of the first; position of the last
        for k, op in enumerate(ops):
            if op.kind != "prim":
                continue
            if op.fn.name == "cross_entropy" and op.npos == 2:
                z, y = op.ins
                if type(z) is Var and z.array.ndim == 2 and np.ndim(_value(y)) == 1 \
                        and _losses._is_labels(_value(y)):
                    ce.setdefault(id(z), (k, op))
            elif op.fn.name == "softmax" and op.opts.get("axis") in (1, -1):
                softmax[id(op.ins[0])] = k
        if not ce:
            return ops
        fused, out = {}, []
        for k, op in enumerate(ops):
            z = op.ins[0] if op.ins else None
            if id(z) in ce and ce[id(z)][1] is op and softmax.get(id(z), -1) > k:
                m = self.new_op("max", [z], {"axis": 1, "keepdims": True}, op.block)
                shifted = self.new_op("sub", [z, m.out], {}, op.block, hint="shifted")
                e = self.new_op("exp", [shifted.out], {}, op.block, hint="e")
                s = self.new_op("sum", [e.out], {"axis": 1, "keepdims": True}, op.block, hint="s")
                loss = Op("ext", _losses._cross_entropy_at_labels, [shifted.out, s.out, op.ins[1]],
                          op.opts, op.out)
                loss.block, op.out.op = op.block, loss
                out += [m, shifted, e, s, loss]
                fused[id(z)] = e.out, s.out
            elif op.kind == "prim" and op.fn.name == "softmax" and id(z) in fused \
                    and op.opts.get("axis") in (1, -1):
                div = Op("prim", _P.OPS["div"], list(fused[id(z)]), {}, op.out)
                div.block, op.out.op = op.block, div
                out.append(div)
            else:
                out.append(op)
        return out

    def share_difference(self, ops):
        """mse_loss(x, y) and, after it, x - y (its VJP's): d = x - y is computed once, in the
        forward, and the loss is the reduced d * d, the numbers of both ops."""
        later, at = {}, {}
        for k, op in enumerate(ops):
            if op.kind == "prim" and op.fn.name == "sub" and len(op.ins) == 2 and not op.opts:
                later.setdefault((id(op.ins[0]), id(op.ins[1])), op)
                at[id(op)] = k
            elif op.kind == "prim" and op.fn.name == "mse_loss":
                at[id(op)] = k
        out, moved = [], set()
        for op in ops:
            if id(op) in moved:
                continue
            d = later.get((id(op.ins[0]), id(op.ins[1]))) if op.kind == "prim" \
                and op.fn.name == "mse_loss" and op.npos == 2 else None
            if d is not None and id(d) not in moved and d.out.array.dtype == \
                    _value(op.ins[0]).dtype == _value(op.ins[1]).dtype:
                if at[id(d)] > at[id(op)]:  # the backward's: moved up to the forward
                    d.block, d.out.hint = op.block, d.out.hint or "diff"
                    moved.add(id(d))
                    out.append(d)
                loss = Op("ext", _losses._mse_of_difference, [d.out], op.opts, op.out)
                loss.block, op.out.op = op.block, loss
                out.append(loss)
            else:
                out.append(op)
        return out

    @staticmethod
    def new_op(name, ins, opts, block, hint=None):
        """A primitive's line that the trace did not record (its value computed here)."""
        prim = _P.OPS[name]
        op = Op("prim", prim, ins, opts, None)
        op.out = Var(prim.fwd(*[_value(r) for r in ins], **opts), "op", op, hint)
        op.block = block
        return op

    def scalars(self, op):
        """A uniform constant array beside a value of the output's shape and dtype: a Python
        scalar (the same numbers, numpy's weak promotion keeps the dtype); -1 * a: -a."""
        out = op.out.array
        for k in (0, 1):
            c, other = op.ins[k], op.ins[1 - k]
            if type(c) is not Const or type(c.value) in _PY_NUMBERS:
                continue
            if isinstance(c, Const) and isinstance(c.value, (_ndarray, np.generic)) \
                    and isinstance(other, Var) and other.array.shape == out.shape \
                    and other.array.dtype == out.dtype and np.ndim(c.value) <= out.ndim \
                    and c.value.dtype.kind == out.dtype.kind == "f" and _uniform(c.value) \
                    and np.size(c.value):
                op.ins[k] = Const(float(np.asarray(c.value).reshape(-1)[0]))
        if op.fn.name == "mul":
            for k in (0, 1):
                c = op.ins[k]
                if isinstance(c, Const) and type(c.value) is float and c.value == -1.0 \
                        and isinstance(op.ins[1 - k], Var):
                    op.fn, op.ins = _P.OPS["neg"], [op.ins[1 - k]]
                    return

    def key(self, op):
        parts = []
        for r in op.ins:
            if type(r) is Var:
                parts.append(id(r))
            elif isinstance(r.value, _ndarray):
                parts.append(("a", id(r.value)))
            else:
                parts.append(("c", type(r.value), r.value))
        try:
            opts = () if not op.opts else tuple(
                (k, _lit(v) if not isinstance(v, _ndarray) else id(v))
                for k, v in op.opts.items())
            return (op.kind, id(op.fn), tuple(parts), opts)
        except TypeError:
            return None

    def noop(self, op):
        if op.kind != "prim":
            return None
        name, ins, out = op.fn.name, op.ins, op.out.array
        a = ins[0]
        if name in ("to", "reshape", "expand") and isinstance(a, Var) \
                and a.array.shape == out.shape and a.array.dtype == out.dtype:
            return a
        if name == "transpose" and tuple(op.opts["axes"]) == tuple(range(out.ndim)):
            return a
        if name in ("mul", "div", "add", "sub") and len(ins) == 2:
            unit = 0 if name in ("add", "sub") else 1
            for k in ((0, 1) if name in ("mul", "add") else (1,)):
                c, other = ins[k], ins[1 - k]
                if type(c) is not Const or type(c.value) in _PY_NUMBERS and c.value != unit:
                    continue  # the common case, decided without numpy
                if isinstance(other, Var) \
                        and other.array.shape == out.shape and other.array.dtype == out.dtype \
                        and np.ndim(c.value) <= out.ndim and _is(c.value, unit):
                    return other
        return None

    # names
    def name_all(self, arg_names):
        used = set(dir(builtins)) | {"np", "self"} | set(self.helpers)
        counters = {}  # base name -> last suffix taken
        kinds = {}  # op name -> forward values so named

        def take(base):
            base = re.sub(r"\W+", "_", base).strip("_") or "v"
            if base[0].isdigit():
                base = "v_" + base
            name, k = base, counters.get(base, 1)
            while name in used:
                k += 1
                name = f"{base}_{k}"
            counters[base] = k
            used.add(name)
            return name

        for v, name in self.inputs:
            v.name = take(name)
        # forward values whose gradient the program computes keep a name (z1 beside g_z1), as a
        # person writes them, even when used once
        graded = {id(self.alias.get(op.out.grad_of, op.out.grad_of)) for op in self.ops
                  if op.out is not None and op.out.grad_of is not None}
        for op in self.ops:
            t = op.out.tensor if op.out is not None else None
            if t is not None and t.name and not op.out.hint:
                op.out.hint = t.name
        for op in self.ops:
            v = op.out
            if v is None or v.name is not None:
                continue
            if v.pgrad is not None:
                v.name = take("g_" + v.pgrad)
            elif isinstance(self.alias.get(v.grad_of, v.grad_of), Var) \
                    and self.alias.get(v.grad_of, v.grad_of).name:
                v.name = take("g_" + self.alias.get(v.grad_of, v.grad_of).name)
            elif v.hint:
                v.name = take(v.hint)
            elif op.block is None and op.kind == "prim":
                k = kinds[op.fn.name] = kinds.get(op.fn.name, 0) + 1
                v.name = take(f"{op.fn.name}{k}") if v.uses != 1 or id(v) in graded else None
            # other temporaries: inlined when used once, else named on emission
        self.take = take

    # emission
    def operand(self, r, inline, prec):
        """(source, precedence) of an operand."""
        if isinstance(r, Var):
            if r.name is None and id(r) in inline:
                return inline[id(r)]
            if r.name is None:
                r.name = self.take("t")
            return r.name, 100
        v = r.value
        if isinstance(v, _ndarray) or isinstance(v, np.generic):
            a = np.asarray(v)
            if a.size and _uniform(a) and a.ndim:
                return f"np.full({_lit(a.shape)}, {_lit(a.reshape(-1)[0].item())}, " \
                       f"{_lit(a.dtype)})", 100
            if a.ndim == 0:
                if a.dtype == np.float64:
                    s = _lit(a.item())
                    return (s, 100) if not s.startswith("-") else (s, 80)
                return f"np.{a.dtype.name}({_lit(a.item())})", 100
            if a.size <= 16 and a.dtype.kind in "biuf":
                return f"np.array({_lit(a.tolist())}, {_lit(a.dtype)})", 100
            name = f"C{len(self.consts)}"
            self.consts[name] = a
            return name, 100
        s = _lit(v)
        return s, (80 if s.startswith("-") else 100)

    def expr(self, op, inline):
        """The source of op's value and its precedence (100: an atom)."""
        def arg(i, prec=0):
            s, p = self.operand(op.ins[i], inline, prec)
            return s if p > prec else f"({s})"

        fn, opts = op.fn, op.opts
        if op.kind == "write":
            return f"{arg(0, 99)}[...] = {arg(1)}", 0
        if op.kind == "ext" and fn in _COMPARE:
            return f"{arg(0, 50)} {_COMPARE[fn]} {arg(1, 50)}", 50
        if op.kind == "prim":
            name = fn.name
            if name in _BINARY and len(op.ins) == 2 and not opts:
                sym, p = _BINARY[name]
                if name == "pow":
                    return f"{arg(0, p)} ** {arg(1, p - 1)}", p
                return f"{arg(0, p - 1)} {sym} {arg(1, p)}", p
            if name == "neg":
                return f"-{arg(0, 79)}", 80
            if name in _UFUNCS:
                return f"{_UFUNCS[name]}({', '.join(arg(i) for i in range(len(op.ins)))})", 100
            if name == "relu":
                return f"np.maximum({arg(0)}, 0)", 100
            if name == "linear":
                xw = f"{arg(0, 69)} @ {arg(1, 99)}.T"
                b = op.ins[2]
                if isinstance(b, Const) and b.value is None:
                    return xw, 70
                return f"{xw} + {arg(2, 60)}", 60
            if name in ("sum", "mean", "max"):
                extra = ""
                if opts.get("axis") is not None:
                    extra += f", axis={_lit(opts['axis'])}"
                if opts.get("keepdims"):
                    extra += ", keepdims=True"
                if isinstance(op.ins[0], Const):  # a literal has no .sum()
                    return f"np.{name}({arg(0)}{extra})", 100
                return f"{arg(0, 99)}.{name}({extra[2:]})", 100  # np.sum's layer costs 1 us
            if name == "reshape":
                return f"{arg(0, 99)}.reshape({_lit(tuple(opts['shape']))})", 100
            if name == "transpose":
                axes = tuple(opts["axes"])
                if axes == (1, 0):
                    return f"{arg(0, 99)}.T", 100
                return f"{arg(0, 99)}.transpose({_lit(axes)})", 100
            if name == "expand":
                return f"np.broadcast_to({arg(0)}, {_lit(tuple(opts['shape']))})", 100
            if name == "to":
                return f"{arg(0, 99)}.astype({_lit(np.dtype(opts['dtype']))})", 100
            if name == "getitem" and self.plain_index(opts["idx"]):
                return f"{arg(0, 99)}[{self.index(opts['idx'])}]", 100
            if name == "getitem":
                idx = opts["idx"]
                text = self.value(idx, arg) if isinstance(idx, tuple) else self.value(idx, arg)
                return f"{arg(0, 99)}[{text}]", 100
        # anything else: a helper function, defined in the source
        hname = self.helper(op)
        args = [arg(i) for i in range(op.npos)]
        args += [f"{k}={self.value(v, arg)}" for k, v in opts.items()]
        return f"{hname}({', '.join(args)})", 100

    def plain_index(self, idx):
        items = idx if isinstance(idx, tuple) else (idx,)
        return all(isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in items)

    def index(self, idx):
        items = idx if isinstance(idx, tuple) else (idx,)
        out = []
        for i in items:
            if isinstance(i, slice):
                out.append(":".join("" if x is None else str(x)
                                    for x in (i.start, i.stop)) + ("" if i.step is None
                                                                   else f":{i.step}"))
            elif i is None:
                out.append("None")
            elif i is Ellipsis:
                out.append("...")
            else:
                out.append(str(i))
        return ", ".join(out) + ("," if len(items) == 1 and isinstance(idx, tuple) else "")

    def value(self, v, arg):
        """Source of an option: literals, operands in slots, arrays as constants."""
        if isinstance(v, _Slot):
            return arg(v.i)
        if isinstance(v, tuple):
            return "(" + ", ".join(self.value(x, arg) for x in v) + ("," if len(v) == 1 else "") \
                + ")"
        if isinstance(v, list):
            return "[" + ", ".join(self.value(x, arg) for x in v) + "]"
        if isinstance(v, _ndarray):
            return self.operand(Const(v), {}, 0)[0]
        return self.option(v)

    def option(self, v):
        s = _lit(v)
        if s is not None and not _has_array(v):
            return s
        name = f"C{len(self.consts)}"
        self.consts[name] = v
        return name

    def helper(self, op):
        fn = op.fn.fwd if op.kind == "prim" else op.fn
        base = "_" + (op.fn.name if op.kind == "prim" else fn.__name__).lstrip("_")
        if base in self.helpers:
            return base
        try:
            src = textwrap.dedent(_source_of(fn))
        except (OSError, TypeError):
            raise CompileError(f"compile: op '{base[1:]}' has no Python source to write into "
                               f"the program") from None
        src = re.sub(r"^@[\s\S]*?(?=^def )", "", src, flags=re.M)  # the registering decorator
        src = re.sub(r"^def \w+\(", f"def {base}(", src, count=1, flags=re.M)
        self.helpers[base] = src
        self.deps(fn)
        return base

    def deps(self, fn):
        """Module-level helpers and constants a helper uses: their source too (recursively)."""
        g = fn.__globals__
        for name in fn.__code__.co_names:
            obj = g.get(name, _MISSING)
            if name in self.helpers or obj is _MISSING or inspect.ismodule(obj) \
                    or hasattr(obj, "primitive") or name in ("np", "builtins"):
                continue
            if inspect.isfunction(obj) and obj.__module__ == fn.__module__:
                self.helpers[name] = textwrap.dedent(_source_of(obj))
                self.deps(obj)
            elif not inspect.isbuiltin(obj) and not isinstance(obj, type):
                line = re.search(rf"^{re.escape(name)} = .*$", _source_of(
                    sys.modules[fn.__module__]), re.M)
                if line is None:
                    raise CompileError(f"compile: the helper {fn.__name__} uses {name}, "
                                       f"whose definition the tracer cannot write out")
                self.helpers[name] = line.group(0) + "\n"
                if "math." in line.group(0):
                    self.imports.add("import math")

    def emit(self):
        """The body's lines as (text, op): single-use temporaries of one block inlined into
        their consumer, buffer writes last."""
        lines, inline, writes = [], {}, []
        consumer = {}
        for op in self.ops:
            for r in op.ins:
                if isinstance(r, Var) and r.uses == 1:
                    consumer[id(r)] = op
        depth = {}
        for op in self.ops:
            text, prec = self.expr(op, inline)
            v = op.out
            if op.kind == "check":
                lines.append((text, op))
                continue
            if op.kind == "write":  # buffers change last: a call that raises changes none
                writes.append((text, op))
                continue
            d = 1 + max([depth.get(id(r), 0) for r in op.ins if isinstance(r, Var)], default=0)
            c = consumer.get(id(v))
            if v.name is None and c is not None and c.block is op.block and d < _INLINE_DEPTH \
                    and op.pure and len(text) < 60:
                inline[id(v)] = (text, prec)
                depth[id(v)] = d
                continue
            if v.name is None:
                v.name = self.take("t" if op.block is not None else "h")
            lines.append((f"{v.name} = {text}", op))
        return lines + writes


class _Part:
    __slots__ = ("part",)

    def __init__(self, part):
        self.part = part


def _clause(prim, v, rule=None):
    """The part of the rule (`prim`'s, or the one given: graph.rule_of's textbook form) for the
    input whose gradient `v` is (all of it otherwise): linear's "dW = g.T @ x" for the line that
    computes dW."""
    whole = prim.rule if rule is None else rule
    rule = whole.split("  (")[0] if whole.endswith(")") and "  (" in whole \
        else whole  # without the legend "(x = input, ...)" that follows the last clause
    parts = re.split(r", (?=d\w* = )", rule)
    i = None if v is None else v.part
    if i is None or len(parts) < 2:
        return whole
    k = sum(f is not None for f in prim.vjps[:i])  # inputs without a VJP have no part
    return parts[k] if len(parts) == sum(f is not None for f in prim.vjps) and k < len(parts) \
        else whole


_FAST = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
         "neg": np.negative, "exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin,
         "cos": np.cos, "sqrt": np.sqrt, "abs": np.absolute, "maximum": np.maximum}


def _callable(op):
    if op.kind == "prim":  # a ufunc directly where the forward is one: a Python call less
        fn = _FAST.get(op.fn.name, op.fn.fwd) if not op.opts else op.fn.fwd
    elif op.kind == "write":
        fn = _write
    else:
        fn = op.fn
    opts, npos = op.opts, op.npos
    if any(_has_slot(v) for v in opts.values()):
        def call(*vals):
            return fn(*vals[:npos], **{k: _fill(v, vals) for k, v in opts.items()})
        return call
    return functools.partial(fn, **opts) if opts else fn


def _interpreter(b, inputs):
    """The program as a loop over (function, input slots, output slot): for very long programs,
    where building a Python function of every line would take longer than the loop runs.

    A value's slot is taken by a later op's output once its last use has run (as a person's
    `x = np.tanh(x * c)` rebinds x): the arrays of dead temporaries are freed as in eager mode,
    not kept to the end of the call (keeping 10^5 of them made the chain 1.8x hand numpy)."""
    # buffers change last, as in the source: a call that raises changes none
    ops = [op for op in b.ops if op.kind != "write"] + [op for op in b.ops if op.kind == "write"]
    last = {}  # id(Var) -> index of the op that reads it last
    for k, op in enumerate(ops):
        for r in op.ins:
            if type(r) is Var:
                last[id(r)] = k
    for r in b.outs:
        if type(r) is Var:
            last[id(r)] = len(ops)  # returned: never freed
    slot, values, free = {}, [], []
    n_in = len(inputs)
    for i, (v, _) in enumerate(inputs):
        slot[id(v)] = i
    n = n_in

    consts = {}  # a Python number's (type, value) -> its slot: one slot per distinct constant

    def index(r):
        nonlocal n
        if type(r) is Var:
            return slot[id(r)]
        v = r.value
        key = (type(v), v) if type(v) in _PY_NUMBERS and v and v == v else None  # not 0.0/-0.0
        if key is not None:
            i = consts.get(key)
            if i is not None:
                return i
            consts[key] = n
        values.append((n, _P._constant(v) if isinstance(v, np.generic) else v))
        n += 1
        return n - 1

    code = []  # (f, a, b, out): env[out] = f(env[a], env[b]), one shape for every op
    none, env_slot, scratch = n, n + 1, n + 2  # None (a unary ufunc's out=), env itself, junk
    n += 3
    for k, op in enumerate(ops):
        ins = []
        for r in op.ins:
            if type(r) is Var:
                i = slot[id(r)]
                ins.append(i)
                if last[id(r)] == k:
                    last[id(r)] = -1  # freed once, if read twice (t * t)
                    free.append(i)
            else:
                ins.append(index(r))
        out = scratch
        if op.out is not None and op.kind not in ("check", "write") and id(op.out) in last:
            if free:
                out = slot[id(op.out)] = free.pop()
            else:
                out = slot[id(op.out)] = n
                n += 1
        f = _FAST.get(op.fn.name, op.fn.fwd) if op.kind == "prim" and not op.opts \
            else _callable(op)
        if len(ins) == 2:
            code.append((f, ins[0], ins[1], out))
        elif len(ins) == 1 and isinstance(f, np.ufunc) and f.nin == f.nout == 1:
            code.append((f, ins[0], none, out))  # np.tanh(x, None): out=None, a new array
        else:
            code.append((_spread(f), env_slot, _const_slot(tuple(ins), values, n), out))
            n += 1
    outs = tuple(slot[id(r)] if type(r) is Var else index(r) for r in b.outs)
    size = n

    def run(*args):
        env = [None] * size
        env[:n_in] = args
        for i, v in values:
            env[i] = v
        env[env_slot] = env
        try:
            for f, a, b, out in code:
                env[out] = f(env[a], env[b])
            return tuple(env[i] for i in outs)
        finally:
            env[env_slot] = None  # no cycle left for the collector

    return run


def _const_slot(ins, values, n):
    values.append((n, ins))
    return n


def _spread(f):
    """An op of any arity in the (env, input slots) form of the loop."""
    def call(env, ins):
        return f(*[env[i] for i in ins])
    return call


def _is(value, unit):
    if type(value) in (int, float):
        return value == unit
    a = np.asarray(value)
    return a.dtype.kind in "biuf" and a.size > 0 and bool(np.all(a == unit))


def _has_array(v):
    if isinstance(v, _ndarray):
        return True
    if isinstance(v, (tuple, list)):
        return any(_has_array(x) for x in v)
    return False


# -- the compiled step -------------------------------------------------------------------------

class _Program:
    __slots__ = ("run", "call", "_source", "_lazy", "modules", "modes", "mode_set", "checked")

    def modes_hold(self):
        """Are the modules in the modes of the trace? Checked again only after some module's
        `training` was set (nn.module.mode_set numbers the latest setting)."""
        now = self.mode_set[0]
        if now != self.checked:
            for m, mode in zip(self.modules, self.modes):
                if m.training != mode:
                    return False
            self.checked = now
        return True

    @property
    def source(self):
        if self._source is None:  # a long program: written out when first asked for
            self._source = self._lazy()
            self._lazy = None
        return self._source


def _caller(run, params, nargs, extras, owned, nouts, single):
    """`run` (the program) called as a step is: the params' arrays, the arguments' (a Tensor's
    array, an ndarray or a Python value as given) and the state's in; each gradient added into
    its param's `.grad` as tape._write_grads does, the results out as Tensors without grad_fn.
    Written out as a function for this program's params and arguments (a loop over them costs
    as much as a small program's lines). `owned`: each gradient is a new array of its own, so
    `.grad` takes it as it is, unless it is a view."""
    ps = [f"p{i}" for i in range(len(params or ()))]
    args = [f"a{i}" for i in range(nargs)]
    ins = ([f"{p}._data" for p in ps] + [f"{a} if type({a}) is ndarray else _arg({a})" for a in args]
           + [f"get{i}()" for i in range(len(extras))])
    lines = [f"def call({', '.join(args)}):"]
    if params is None:
        lines += [f"    r = run({', '.join(ins)})",
                  "    return result(r[0])" if single else
                  f"    return ({''.join(f'result(r[{i}]), ' for i in range(nouts))})"]
    elif not owned:
        lines += [f"    r = run({', '.join(ins)})", "    write_grads(zip(params, r[1:]), r[:1])",
                  "    return result(r[0])"]
    else:
        gs = [f"g{i}" for i in range(len(ps))]
        lines.append(f"    {', '.join(['loss', *gs])}, = run({', '.join(ins)})")
        if ps:
            lines.append("    with lock:")
        for p, g in zip(ps, gs):
            lines += [f"        if type({g}) is not ndarray or {g}.base is not None:",
                      f"            {g} = _own({g})",
                      f"        {p}.grad = {g} if {p}.grad is None else _added({p}.grad, {g})"]
        lines.append("    return result(loss)")
    ns = {"ndarray": _ndarray, "run": run, "result": _tape.result, "_arg": _arg, "_own": _own,
          "_added": _tape._added, "lock": _tape._leaf_lock, "write_grads": _tape._write_grads,
          "params": params, **dict(zip(ps, params or ())),
          **{f"get{i}": get for i, get in enumerate(extras)}}
    exec("\n".join(lines), ns)
    return ns["call"]


def _arg(a):
    return a._data if isinstance(a, Tensor) else a


def _own(g):
    """A gradient as an array of its own: a view copied; ops on 0-d arrays give numpy scalars."""
    return g.copy() if type(g) is _ndarray else np.asarray(g)


_anomaly = _tape._anomaly


def compile(fn, params=None):
    """`fn` traced once per signature and run as a program of numpy lines (see the module
    docstring and API.md, "Compiled steps"): `step = compile(fn, params=model.parameters())`,
    then `loss = step(x, y)` fills each `p.grad` as `loss.backward()` would."""
    return CompiledStep(fn, params)


def _arg_names(fn, n):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return [f"arg{i}" for i in range(n)]
    names = []
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            break
    return [names[i] if i < len(names) else f"arg{i}" for i in range(n)]


class CompiledStep:
    """The callable `compile` returns: `step(*args)`, `step.source`, `step.signatures`."""

    def __init__(self, fn, params):
        self.fn = fn
        self.params = None
        if params is not None:
            seen, ps = set(), []
            for p in params:
                if not isinstance(p, Tensor):
                    raise TypeError(f"compile: params must be Tensors, got {type(p).__name__}")
                if id(p) not in seen:
                    seen.add(id(p))
                    ps.append(p)
            self.params = ps
        self._programs = {}  # argument key -> [programs for module modes]
        self._order = []  # (key, modes) oldest first
        self._last = None
        functools.update_wrapper(self, fn, updated=())

    @property
    def source(self):
        return None if self._last is None else self._last.source

    @property
    def signatures(self):
        return list(self._order)

    def _key(self, args):
        key = []
        for a in args:
            if type(a) is _ndarray:
                key.append((a.shape, a.dtype))  # (not dtype.str: a new string at each call)
            elif isinstance(a, Tensor):
                d = a._data
                key.append((d.shape, d.dtype))
            elif isinstance(a, _ndarray):
                key.append((a.shape, a.dtype))
            else:
                try:
                    hash(a)
                except TypeError:
                    i = next(i for i, b in enumerate(args) if b is a)
                    raise TypeError(
                        f"compile: argument {i} ({type(a).__name__}) is unhashable; arguments "
                        f"other than arrays are part of the signature by value: pass a tuple, or "
                        f"an array") from None
                key.append(("=", type(a), a))
        return tuple(key)

    def __call__(self, *args):
        if _anomaly.get():
            warnings.warn("compile: anomaly mode is on, so this call runs fn and its backward "
                          "eagerly (the program does not check for NaN)", RuntimeWarning,
                          stacklevel=2)
            return self._eager(args)
        key = self._key(args)
        progs = self._programs.get(key)
        if progs is not None:
            for prog in progs:
                if prog.mode_set is None or prog.mode_set[0] == prog.checked or prog.modes_hold():
                    self._last = prog
                    return prog.call(*args)
        return self._trace(key, args)

    def _eager(self, args):
        """One call in eager mode (anomaly mode checks every op there): p.grad as the program
        would fill it."""
        out = self.fn(*[_fresh_tensor(a._data if isinstance(a, Tensor) else a)
                        if isinstance(a, (Tensor, _ndarray)) else a for a in args])
        if self.params is None:
            return out.detach() if isinstance(out, Tensor) else tuple(o.detach() for o in out)
        targets = [p for p in self.params if p._rg]
        if out._rg and targets:
            seed = np.ones(out._data.shape, out._data.dtype)
            found = _tape.sweep((out,), (seed,), False, False, targets=targets)
            _tape._write_grads([(p, found.get(p)) for p in targets])
        return _tape.result(out._data)

    # -- tracing -------------------------------------------------------------------------------
    def _trace(self, key, args):
        # the trace makes a few objects per op and frees none: the cyclic collector's passes
        # over them would cost more than the trace (quadratic in a long chain)
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._trace_and_build(key, args)
        finally:
            if enabled:
                gc.enable()

    def _trace_and_build(self, key, args):
        tr = _Trace()
        params = self.params or []
        for i, p in enumerate(params):
            for hook in _tape.hooks_of(p).values():
                raise CompileError(
                    f"compile: param {p.name or i} (W_{(p.name or str(i)).replace('.', '_')}) "
                    f"has the hook {_hook_name(hook)} "
                    f"(register_hook), which a compiled step cannot run at each call; remove "
                    f"it or run this step eagerly")
        inputs = []
        for i, p in enumerate(params):
            name = p.name or str(i)
            inputs.append((tr.new(p._data, "param"), "W_" + name))
        targs = []
        names = _arg_names(self.fn, len(args))
        for a, name in zip(args, names):
            if isinstance(a, (Tensor, _ndarray)):
                arr = a._data if isinstance(a, Tensor) else a
                v = tr.var_of.get(id(arr))
                if v is None or v.array is not arr:
                    v = tr.new(arr, "arg")
                inputs.append((v, name))
                targs.append(_fresh_tensor(arr))
            else:  # a value of the signature: in the program as a constant
                inputs.append((Var(None, "value"), name))
                targs.append(a)
        with _tracing(tr):
            out = self.fn(*targs)
            single = isinstance(out, Tensor)
            outs = (out,) if single else tuple(out)
            for o in outs:
                if not isinstance(o, Tensor):
                    raise CompileError(f"compile: fn must return a Tensor or a tuple of Tensors, "
                                       f"got {type(o).__name__}")
            grads = {}
            if self.params is not None:
                if len(outs) != 1 or out._data.size != 1:
                    raise CompileError(
                        f"compile: with params, fn must return a one-element Tensor (the loss), "
                        f"got {'a tuple' if not single else f'shape {out.shape}'}")
                targets = [p for p in params if p._rg]
                if out._rg and targets:
                    tr.mark = len(tr.ops)
                    tr.block = True
                    seed = Tensor(np.ones(out._data.shape, out._data.dtype))

                    def watch(node, g, sent, pending):
                        if node.retained is not None and node.retained.hooks:
                            raise CompileError(
                                f"compile: the output of op '{node.name}' has the hook "
                                f"{_hook_name(next(iter(node.retained.hooks.values())))} "
                                f"(register_hook), which a compiled step cannot run at each "
                                f"call; remove it or run this step eagerly")
                        for op in tr.ops[tr.mark:]:
                            op.block = node
                        tr.mark = len(tr.ops)
                        gv = tr.ref(g)
                        if isinstance(gv, Var) and gv.grad_of is None:
                            gv.grad_of = tr.nodes.get(node)
                        for i, gt in sent:  # the gradient sent to input i: its part of the rule
                            if node.inputs[i].grad_fn is None:
                                tr.leaf_rule[id(node.inputs[i])] = (node.prim, i)
                            v = tr.ref(gt)
                            if isinstance(v, Var) and v.part is None and v.op is not None \
                                    and v.op.block is node:
                                v.part = i

                    found = _tape.sweep((out,), (seed,), True, True, targets=targets,
                                        watch=watch)
                    tr.block = None
                    grads = {p: found[p] for p in targets if p in found}
        prog = self._build(tr, inputs, outs, grads, names, args)
        self._programs.setdefault(key, []).append(prog)
        self._order.append(tuple((k[0], k[1].str) if len(k) == 2 else k for k in key)
                           + tuple(("train" if m else "eval", type(mod).__name__)
                                       for mod, m in zip(prog.modules, prog.modes)))
        self._last = prog
        if self.params is None:
            res = tuple(_tape.result(o._data) for o in outs)
            return res[0] if single else res
        _tape._write_grads([(p, g._data) for p, g in grads.items()])
        return _tape.result(out._data)

    def _build(self, tr, inputs, outs, grads, names, args):
        self._rules = {}
        for o in outs:
            v = tr.ref(o)
            if isinstance(v, Var) and v.hint is None and v.kind == "op":
                v.hint = "loss" if self.params is not None else None
        outputs = [tr.ref(o) for o in outs]
        palias = {}
        if self.params is not None:
            for i, p in enumerate(self.params):
                g = grads.get(p)
                r = tr.ref(g) if g is not None else Const(None)
                outputs.append(r)
                if isinstance(r, Var):
                    palias.setdefault(id(r), []).append(p.name or str(i))
                    rule = tr.leaf_rule.get(id(p))
                    if rule is not None:
                        part = _Part(rule[1])
                        self._rules[p.name or str(i)] = f"{rule[0].name}: {_clause(rule[0], part)}"
        extras = []
        for v in tr.var_of.values():
            if v.kind in ("buffer", "rng"):
                inputs.append((v, v.hint))
                extras.append(tr.getters[id(v)])
        b = _Builder(tr, inputs, outputs)
        b.simplify()
        # the first param whose gradient a value is names it, unless the value has a name
        for r in b.outs[1:] if self.params is not None else ():
            if isinstance(r, Var) and r.kind == "op" and id(r) in palias and r.grad_of is None:
                r.pgrad = palias[id(r)][0]
        prog = _Program()
        # each gradient a new array of its own (a view is copied at each call): no primitive
        # but `to` returns its input (tests/test_compile.py checks every one), and none is the
        # loss (exp's gradient, out * 1, is its output)
        gs = b.outs if self.params is not None else ()
        owned = len({id(r) for r in gs}) == len(gs) and all(
            isinstance(r, Var) and r.kind == "op" and r.op.kind == "prim" and r.op.fn.name != "to"
            for r in gs[1:])
        # a module's forward may call its children's forward directly (Sequential does): the
        # modes of all modules below one that ran are part of the signature
        mods = {}
        for m in tr.modules.values():
            for sub in m.modules():
                mods.setdefault(id(sub), sub)
        prog.modules = list(mods.values())
        prog.modes = tuple(m.training for m in prog.modules)
        prog.mode_set = sys.modules["nn.module"].mode_set if prog.modules else None
        prog.checked = None

        def write():
            b.name_all(names)
            return self._source(b, inputs, b.emit(), palias)[0]

        if len(b.ops) > _LONG:  # compiling a function this long costs more than a loop
            run = _interpreter(b, inputs)
            prog._source, prog._lazy = None, write
        else:
            prog._source = write()
            ns = {"np": np, "__name__": "autograd_mini_compiled"}
            ns.update(b.consts)
            exec(builtins.compile(prog._source, "<compiled step>", "exec"), ns)
            ns["LabelError"] = _losses.LabelError  # eager mode's class
            run = ns["step"]
        single = len(outs) == 1 and isinstance(outs[0], Tensor)
        prog.run = run  # the program; call, the step around it
        prog.call = _caller(run, self.params, len(args), extras, owned, len(outs), single)
        return prog

    def _source(self, b, inputs, body, palias):
        out = ["import numpy as np", *sorted(b.imports), ""]
        for name, src in b.helpers.items():
            out += ["", src.rstrip(), ""]
        if any(op.fn is _check_labels for op in b.ops):
            out += ["", _LABEL_ERROR, ""]
        params = ", ".join(v.name for v, _ in inputs)
        out += ["", f"def step({params}):"]
        doc = "forward, then backward" if self.params is not None else "forward"
        out.append(f'    """The traced step: {doc} (written by autograd_mini.compile)."""')

        def alias_lines(v):
            res = []
            for pname in palias.get(id(v), ()):
                gname = "g_" + re.sub(r"\W+", "_", pname).strip("_")
                if gname != v.name:
                    rule = self._rules.get(pname)
                    res.append(f"    {gname} = {v.name}" + (f"  # {rule}" if rule else ""))
            return res

        for v, _ in inputs:
            out += alias_lines(v)
        started, last = False, None
        for text, op in body:
            if op.block is not None and not started and self.params is not None:
                out.append("    # backward")
                started = True
            comment = ""
            if op.block is not None and op.block is not True:
                prim = op.block.prim
                rule = _clause(prim, op.out, _graph.rule_of(op.block))
                if op.block is last:  # the op's legend "(z = input, ...)" said once
                    rule = rule.split("  (")[0]
                comment, last = f"  # {prim.name}: {rule}", op.block
            out.append(f"    {text}{comment}")
            if op.out is not None:
                out += alias_lines(op.out)
        rets = []
        k = 0
        for r in b.outs:
            if isinstance(r, Var):
                pn = None
                if self.params is not None and k >= 1 and palias.get(id(r)):
                    pname = self.params[k - 1].name or str(k - 1)
                    pn = "g_" + re.sub(r"\W+", "_", pname).strip("_")
                rets.append(pn if pn and pn != r.name and any(
                    ln.strip().startswith(pn + " =") for ln in out) else r.name)
            else:
                rets.append(b.operand(r, {}, 0)[0])
            k += 1
        out.append(f"    return {', '.join(rets)}{',' if len(rets) == 1 else ''}")
        return "\n".join(out) + "\n", len(out)
