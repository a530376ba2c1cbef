"""Tensor: an ndarray that records the ops applied to it, and the Python surface of the engine
(construction, dtype rules, operators, comparisons, casts, in-place updates).

The ops themselves are in primitives.py (the table of derivatives) and compositions/; the
tape and the backward sweep in tape.py. The methods bound at the bottom of this file are those
functions, so `x.sum(1)` and `F.sum(x, 1)` are one code path.
"""
import functools
import itertools
import weakref

import numpy as np

_ndarray = np.ndarray
_IMPLIED = (np.float64, np.int64, np.bool_)  # repr leaves their dtype out, as PyTorch

# One counter numbers the recorded ops, the writes to arrays and the changes of a tensor's place
# in the graph (see tape.py).
_counter = itertools.count(1)


# -- versions: the writes to arrays -----------------------------------------------------------
# A version belongs to the memory, as PyTorch's to the storage: every tensor viewing an array
# (the tensor itself, detach(), Tensor(t), reshape and transpose views, what backward keeps) sees
# a write through any of them. Written arrays are keyed by the array that owns their memory.

_writes = {}  # id(owner array) -> [weakref to it, number of its last write]
_last_write = [0]  # the number of the latest write to any array: a sweep checks an op's saved
# arrays only if some array was written after the op was recorded (rare), so checks cost nothing
# in the usual forward-backward-step loop


def _owner(a):
    """The array that owns a's memory: a itself, or the array its views lead back to."""
    b = a.base
    while b is not None:
        if isinstance(b, _ndarray):
            a = b
        b = getattr(b, "base", None)  # strided views hold the array through a helper object
    return a


def _forget(key, ref):
    e = _writes.get(key)
    if e is not None and e[0] is ref:
        del _writes[key]


def _wrote(a):
    """Record a write to array `a`: backward through an op that saved `a`, or any array sharing
    its memory, and reads it, raises."""
    v = _last_write[0] = next(_counter)
    o = _owner(a)
    key = id(o)
    e = _writes.get(key)
    if e is not None and e[0]() is o:
        e[1] = v
    else:
        _writes[key] = [weakref.ref(o, functools.partial(_forget, key)), v]


def _written_since(a, seq):
    """Was array `a` (its memory) written after number `seq`?"""
    o = _owner(a)
    e = _writes.get(id(o))
    return e is not None and e[1] > seq and e[0]() is o


class _Changes:
    """A tensor's past places in the graph: (number of the change, grad_fn before, requires_grad
    before) for each change, oldest first. A graph recorded before a change keeps the edge it
    saw (tape._edge). The last _KEEP changes are kept (a loop that toggles requires_grad would
    grow the log forever); a graph older than those raises instead of guessing."""

    __slots__ = ("log", "floor")
    _KEEP = 64

    def __init__(self):
        self.log, self.floor = [], 0

    def __gt__(self, seq):  # "changed after op number seq?", as the int 0 of an unchanged tensor
        return self.log[-1][0] > seq

    def __bool__(self):
        return True

    def add(self, fn, rg):
        self.log.append((next(_counter), fn, rg))
        if len(self.log) > 2 * self._KEEP:
            self.floor = self.log[-self._KEEP - 1][0]
            del self.log[:-self._KEEP]

    def at(self, seq):
        if seq < self.floor:
            raise RuntimeError(
                f"backward: a graph recorded before the last {self._KEEP} changes of a tensor's "
                f"requires_grad or grad_fn (in-place ops in grad mode) cannot tell which it "
                f"used; run the forward pass again")
        for when, fn, rg in self.log:
            if when > seq:
                return fn, rg
        raise AssertionError("at(): no change after seq")  # callers test `> seq` first


def _float_only(dtype, what):
    if dtype.kind not in "fc":
        raise TypeError(
            f"{what}: only floating point tensors can require gradients, got dtype {dtype}; "
            f"use float data, e.g. Tensor(data, dtype=np.float64) or t.float()")


class Tensor:
    """An ndarray that records the ops applied to it, so that `backward()` can replay their VJPs.

    Writing to a tensor (assigning `.data`, `t.data -= ...`, in-place ops, `t[i] = v`) is
    tracked per array, shared with every tensor viewing it (`detach()`, `Tensor(t)`, reshape and
    transpose views): a backward through an op whose gradient reads the old values raises
    RuntimeError. Writing elements of the raw array (`t.data[0] = v`) is not tracked, as with
    PyTorch's `.data`.
    """

    __slots__ = ("_data", "grad", "_rg", "grad_fn", "_changed", "name", "__weakref__")
    # _changed: 0, or the _Changes of a tensor whose grad_fn or requires_grad changed
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data  # shares the array, and so its version, as torch's alias
        if data is None or isinstance(data, (str, bytes)):
            raise TypeError(f"Tensor: expected numeric data (numbers, bools, or arrays of them), "
                            f"got {type(data).__name__}")
        data = np.asarray(data, dtype=dtype)
        if data.dtype.kind not in "biufc":
            raise TypeError(f"Tensor: expected numeric data (numbers, bools, or arrays of them), "
                            f"got an array of dtype {data.dtype}; convert the values to numbers")
        self._changed = 0
        if requires_grad:
            _float_only(data.dtype, "Tensor")
        self._data = data
        self.grad = None
        self._rg = bool(requires_grad)
        self.grad_fn = None
        self.name = None  # a parameter's dotted name, set by nn.Module, shown by draw_graph

    # -- the array and its metadata ------------------------------------------------------------
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        if type(value) is not _ndarray:
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
        if self._rg and value.dtype.kind not in "fc":
            _float_only(value.dtype, ".data of a tensor that requires grad")
        if value.dtype.kind not in "biufc":
            raise TypeError(f".data: expected a numeric array, got dtype {value.dtype}")
        _wrote(self._data)  # counted as a write to the old array: graphs that saved it go stale
        self._data = value

    def _bump(self):
        """Record a write to this tensor's array (made in place by the caller)."""
        _wrote(self._data)

    def _rebind(self, grad_fn, rg):
        """Give the tensor a new place in the graph; graphs recorded before keep the old one."""
        changes = self._changed
        if not changes:
            changes = self._changed = _Changes()
        changes.add(self.grad_fn, self._rg)
        self.grad_fn, self._rg = grad_fn, rg

    @property
    def requires_grad(self):
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if value:
            _float_only(self._data.dtype, "requires_grad")
        elif self.grad_fn is not None:
            raise RuntimeError(
                "requires_grad: you can only change requires_grad of leaf tensors; use "
                "t.detach() to get a tensor without grad")
        if bool(value) != self._rg:
            self._rebind(None, bool(value))  # decided when an op is recorded, as PyTorch

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    is_leaf = property(lambda self: self.grad_fn is None)

    def size(self, dim=None):
        """The shape, or the length of axis `dim` (PyTorch's method; numel() counts elements)."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self):
        return self._data.size

    def dim(self):
        return self._data.ndim

    def __len__(self):
        return len(self._data)

    def __iter__(self):
        # without it Python would iterate by x[0], x[1], ... until IndexError, and a 0-d tensor
        # would silently look empty; PyTorch refuses
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def item(self):
        return self._one("item")

    def numpy(self):
        return self._data

    def tolist(self):
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        a = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return a.copy() if copy else a

    def __float__(self):
        return float(self._one("float"))

    def __int__(self):
        return int(self._one("int"))

    def __bool__(self):
        return bool(self._one("bool"))

    def _one(self, what):
        if self._data.size != 1:
            raise tape.ShapeError(
                f"{what}(): a Tensor with {self._data.size} elements (shape {self._data.shape}) "
                f"cannot be converted to a scalar; only one-element tensors can"
                + (" (use .any() or .all() for a truth value)" if what == "bool" else ""))
        return self._data.reshape(()).item()

    def detach(self):
        """A new leaf sharing this tensor's array (and its version), cut from the graph."""
        t = Tensor.__new__(Tensor)
        t._data, t.grad, t._rg, t.grad_fn, t.name = self._data, None, False, None, None
        t._changed = 0
        return t

    def zero_grad(self):
        self.grad = None

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        tape.retain_grad(self)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype not in _IMPLIED:  # dtypes that the values already show
            extra += f", dtype={self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self._rg:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __format__(self, spec):
        # f"{loss:.4f}" formats a 0-d tensor's value, as PyTorch; other specs are refused
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    # -- backward ------------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False, create_graph=False, *, grad=None):
        """Accumulate d(self)/d(leaf), contracted with `gradient`, into `.grad` of every leaf.

        `gradient` (alias `grad`) defaults to 1 for a one-element tensor and is required
        otherwise. For derivatives of derivatives use `autograd_mini.grad(..., create_graph=True)`.
        """
        if create_graph:
            raise NotImplementedError(
                "backward(create_graph=True): .grad stays a first-order ndarray here; use "
                "autograd_mini.grad(outputs, inputs, create_graph=True) for higher derivatives")
        if not self._rg:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn; create the "
                "inputs with requires_grad=True (and not under no_grad()) to get gradients")
        seed = tape.seed(self, gradient if grad is None else grad, "backward")
        tape.sweep((self,), (seed,), retain_graph)


from . import tape  # noqa: E402  (tape builds on Tensor)
from . import compositions as C, primitives as P  # noqa: E402  (the surface binds to them)

_GRAD = tape.GRAD


def _flip(f):
    return lambda self, other: f(other, self)


def _inplace(name, graph_op, array_op):
    """An in-place method as PyTorch: it writes into the tensor's own array, so every tensor
    sharing the array (views, detach(), Tensor(t)) sees the new values, and records the write, so
    a backward through an op whose gradient reads the old values raises.

    With grad mode on and a tensor that requires grad involved, a leaf that requires grad refuses
    (the update belongs under no_grad()), and any other tensor takes the place in the graph of
    `graph_op(self as it was, *args)` (keeping its shape and dtype); ops recorded before keep
    their edge to the old place. Otherwise `array_op` writes into the array."""
    def method(self, *args, **kwargs):
        if tape._mode.get() is _GRAD and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            if self.grad_fn is None and self._rg:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    f"operation; wrap the update in `with no_grad():` (e.g. "
                    f"`with no_grad(): w -= lr * w.grad`)")
            before = tape.result(self._data.copy())  # the old values, for the op's VJPs
            before._rg, before.grad_fn = self._rg, self.grad_fn
            new = graph_op(before, *args, **kwargs)
            if new.shape != self.shape:
                raise tape.ShapeError(
                    f"{name}: the result has shape {new.shape} but the tensor written in place "
                    f"has shape {self.shape}; an in-place op cannot change the shape")
            if new.dtype != self.dtype:
                new = C.to(new, self.dtype)  # as PyTorch: the tensor keeps its dtype
            _write(name, self, np.copyto, new._data)
            self._rebind(new.grad_fn, new._rg)
        else:
            _write(name, self, array_op,
                   *[a._data if isinstance(a, Tensor) else a for a in args],
                   **{k: a._data if isinstance(a, Tensor) else a for k, a in kwargs.items()})
        return self

    method.__name__ = name
    return method


def _write(name, t, array_op, *args, **kwargs):
    """array_op(t's array, *args), recorded as a write to the array."""
    a = t._data
    if not a.flags.writeable:
        raise RuntimeError(
            f"{name}: the tensor's array is read-only (a broadcast view such as expand's result, "
            f"or a read-only array given to Tensor); write into a copy instead: t = t.clone()")
    try:
        array_op(a, *args, **kwargs)
    except ValueError as err:  # numpy's broadcast error: a shape error, as elsewhere
        raise tape.ShapeError(f"{name}: {err} (tensor shape {a.shape})") from None
    _wrote(a)


def _index(idx):
    """An index as numpy takes it: Tensors as their arrays, a list as an array."""
    if isinstance(idx, Tensor):
        return idx._data
    if isinstance(idx, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in idx)
    return np.asarray(idx) if isinstance(idx, list) else idx


def _advanced(idx):
    return any(isinstance(i, _ndarray) for i in (idx if isinstance(idx, tuple) else (idx,)))


def _slots(shape, idx):
    """The flat positions that `x[idx]` reads, laid out as x[idx] (reading's own rules)."""
    return C.getitem(tape.result(np.arange(int(np.prod(shape))).reshape(shape)), idx)._data


def _put(a, idx, value):
    """a[idx] = value in place, placed where reading a[idx] takes its elements."""
    if not _advanced(idx):
        a[idx] = value
        return
    slots = _slots(a.shape, idx)
    a.put(slots.ravel(), np.broadcast_to(value, slots.shape).ravel())


def _assigned(t, idx, value):
    """`t` with t[idx] = value, as recorded ops, with PyTorch's gradients: t's old values get
    the gradient outside idx, each element of value (broadcast to t[idx]'s shape) the gradient
    at the place it was written to. A repeated index keeps the last value written (as numpy),
    and still sends the gradient to every value written there (as torch's index_put_)."""
    shape, n = t.shape, t.numel()
    selected = _slots(shape, idx)
    slots = selected.ravel()
    kept = np.ones(n, bool)
    kept[slots] = False
    if not isinstance(value, Tensor):
        value = tape.result(np.asarray(value))
    try:
        values = P.reshape(P.expand(value, shape=selected.shape), shape=(-1,))
    except tape.ShapeError:
        raise tape.ShapeError(
            f"setitem: a value of shape {value.shape} cannot be assigned to the "
            f"{selected.shape} elements selected (tensor shape {shape})") from None
    placed = P.index_put(values, idx=slots, shape=(n,))  # sums the values of a repeated slot
    if np.unique(slots).size < slots.size:  # so the last one written replaces the sum: a constant
        last = np.zeros(n, placed.dtype)
        last[slots] = values._data
        placed = placed + (last - placed._data)
    return P.where(kept.reshape(shape), t, P.reshape(placed, shape=shape))


def _overwrite(t, value):
    """`value` broadcast to t's shape, recorded so that t's old values get gradient 0 and a
    `value` that requires grad gets the (summed) gradient."""
    return P.where(np.zeros(t.shape, bool), t, value)


def _clamp_array(a, min=None, max=None):
    min, max = _bounds(min, max)
    np.clip(a, min, max, out=a)


def _bounds(min, max):
    if min is None and max is None:
        raise TypeError("clamp_: at least one of min and max must not be None")
    return (b._data if isinstance(b, Tensor) else b for b in (min, max))


def _cast(dtype):
    return lambda self: C.to(self, dtype)


def _compare(ufunc):
    """An elementwise comparison: a bool Tensor that does not require grad."""
    def compare(self, other):
        if other is None:  # Python's answer, as PyTorch: a tensor is not None
            return ufunc is np.not_equal
        try:
            return tape.result(
                ufunc(self._data, other._data if isinstance(other, Tensor) else other))
        except ValueError as err:  # not broadcastable: a shape error, as for the arithmetic
            raise tape.ShapeError(f"{ufunc.__name__}: {err}") from None

    return compare


for _name, _f in [("add", P.add), ("sub", P.sub), ("mul", P.mul), ("div", P.div),
                  ("pow", P.pow), ("matmul", P.matmul)]:
    setattr(Tensor, f"__{_name if _name != 'div' else 'truediv'}__", _f)
    setattr(Tensor, f"__r{_name if _name != 'div' else 'truediv'}__", _flip(_f))
    setattr(Tensor, _name, _f)
for _name, _ufunc in [("add", np.add), ("sub", np.subtract), ("mul", np.multiply),
                      ("div", np.true_divide), ("pow", np.power)]:
    _m = _inplace(f"{_name}_", getattr(P, _name),
                  lambda a, o, _u=_ufunc: _u(a, o, out=a, casting="same_kind"))
    setattr(Tensor, f"{_name}_", _m)
    setattr(Tensor, f"__i{_name if _name != 'div' else 'truediv'}__", _m)
for _name in C.METHODS:  # x.mean(1) is compositions' mean(x, 1)
    setattr(Tensor, _name, getattr(C, _name))
Tensor.__neg__, Tensor.__abs__ = P.neg, P.abs
Tensor.__getitem__ = C.getitem
Tensor.T = property(C.T)
Tensor.mT = property(C.mT)
Tensor.type = lambda self, dtype: C.to(self, dtype)
Tensor.float, Tensor.double = _cast(np.float32), _cast(np.float64)
Tensor.long, Tensor.int, Tensor.bool = _cast(np.int64), _cast(np.int32), _cast(np.bool_)
Tensor.zero_ = _inplace("zero_", lambda t: _overwrite(t, 0), lambda a: a.fill(0))
Tensor.fill_ = _inplace("fill_", _overwrite, lambda a, v: np.copyto(a, v, casting="unsafe"))
Tensor.copy_ = _inplace("copy_", _overwrite, lambda a, v: np.copyto(a, v, casting="unsafe"))
Tensor.clamp_ = _inplace("clamp_", C.clamp, _clamp_array)  # the same gradient as clamp
_setitem = _inplace("setitem", _assigned, _put)


def _setitem_method(self, idx, value):
    """x[idx] = value: an in-place op (see _inplace), for every index reading accepts."""
    _setitem(self, _index(idx), value)


Tensor.__setitem__ = _setitem_method
for _name, _ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(Tensor, f"__{_name}__", _compare(_ufunc))
    setattr(Tensor, _name, _compare(_ufunc))
Tensor.__hash__ = object.__hash__  # hashable by identity beside __eq__, at C speed (dict keys)
