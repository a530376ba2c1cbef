"""Tensor: an ndarray that records the ops applied to it, and the Python surface of the engine
(construction, dtype rules, operators, comparisons, casts, in-place updates).

The ops themselves are in primitives.py (the table of derivatives) and compositions/; the
tape and the backward sweep in tape.py. Tensor's methods that run ops or the tape (operators,
`x.sum(1)`, in-place updates, `backward`) are bound in methods.py, above all of them, so this
module imports none of them and `x.sum(1)` and `F.sum(x, 1)` are one code path.
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


def _wrote(*arrays):
    """Record writes to `arrays` (one number for all): backward through an op that saved one of
    them, or any array sharing its memory, and reads it, raises."""
    v = _last_write[0] = next(_counter)
    for a in arrays:
        o = a if a.base is None else _owner(a)  # a parameter's array owns its memory: no call
        key = id(o)
        e = _writes.get(key)
        if e is not None:  # o itself: the entry goes (_forget) when its array dies
            e[1] = v
        else:
            _writes[key] = [weakref.ref(o, functools.partial(_forget, key)), v]


def _written_since(a, seq):
    """Was array `a` (its memory) written after number `seq`?"""
    o = _owner(a)
    e = _writes.get(id(o))
    return e is not None and e[1] > seq  # o's own: the entry goes when its array dies


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


class ShapeError(ValueError, RuntimeError):
    """A shape mismatch: a ValueError for numpy habits, a RuntimeError for PyTorch habits."""


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
            raise ShapeError(
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


