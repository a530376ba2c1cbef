"""Tensor: an ndarray that records the ops applied to it, and the Python surface of the engine
(construction, dtype rules, operators, comparisons, casts, in-place updates).

The ops themselves are in primitives.py (the table of derivatives) and compositions/; the
tape and the backward sweep in tape.py. The methods bound at the bottom of this file are those
functions, so `x.sum(1)` and `F.sum(x, 1)` are one code path.
"""
import itertools

import numpy as np

_ndarray = np.ndarray
STALE = "stale"  # a Node's `out` once its output's array was replaced
_IMPLIED = (np.float64, np.int64, np.bool_)  # repr leaves their dtype out, as PyTorch

# One counter numbers the recorded ops and the writes to tensors' data (see tape.py).
_counter = itertools.count(1)


class _SharedVersion:
    """The version of an array shared by several Tensors (`detach()`, `Tensor(t)`): a write
    through any of them makes every graph that saved the array stale, as in PyTorch."""

    __slots__ = ("v",)

    def __init__(self, v):
        self.v = v

    def __gt__(self, seq):
        return self.v > seq


def _float_only(dtype, what):
    if dtype.kind not in "fc":
        raise TypeError(
            f"{what}: only floating point tensors can require gradients, got dtype {dtype}; "
            f"use float data, e.g. Tensor(data, dtype=np.float64) or t.float()")


class Tensor:
    """An ndarray that records the ops applied to it, so that `backward()` can replay their VJPs.

    Writing to a tensor (assigning `.data`, `t.data -= ...`, in-place ops under no_grad()) is
    tracked: a backward through an op that saved the old values raises RuntimeError. Writing
    elements of the raw array (`t.data[0] = v`) is not tracked, as with PyTorch's `.data`.
    """

    __slots__ = ("_data", "grad", "_rg", "grad_fn", "_version", "name", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            src, data = data, data._data
            if dtype is None or np.dtype(dtype) == data.dtype:
                self._version = src._share_version()
            else:
                self._version = 0
        else:
            self._version = 0
        data = np.asarray(data, dtype=dtype)
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
        self._bump()
        self._data = value

    def _bump(self):
        """Record a write: graphs that saved this tensor (or its output node's array) go stale."""
        v = self._version
        if type(v) is int:
            self._version = next(_counter)
        else:
            v.v = next(_counter)
        fn = self.grad_fn
        if fn is not None and fn.out is not None:
            fn.out = STALE  # the op saved its output: its VJP would read the new values

    def _share_version(self):
        if type(self._version) is int:
            self._version = _SharedVersion(self._version)
        return self._version

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
        self._rg = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)  # numpy's attribute; numel() as PyTorch
    is_leaf = property(lambda self: self.grad_fn is None)

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
        t._version = self._share_version()
        return t

    def zero_grad(self):
        self.grad = None

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        tape.retain_grad(self)

    def register_hook(self, hook):
        """Call `hook(grad)` in every backward with the total gradient arriving at this tensor
        (an ndarray; a Tensor under create_graph=True); a value it returns replaces that
        gradient (for the tensor's .grad and for everything behind it). Works on leaves and
        non-leaves, also in replay_backward. Returns a handle: `handle.remove()` takes the
        hook off. As PyTorch's `Tensor.register_hook`."""
        return tape.register_hook(self, hook)

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



def _flip(f):
    return lambda self, other: f(other, self)


def _inplace(name, graph_op, array_op):
    """An in-place method as PyTorch. With grad mode on and a tensor that requires grad involved,
    a leaf that requires grad refuses (the update belongs under no_grad()), and any other tensor
    becomes the recorded result of `graph_op(self as it was, *args)`, keeping its shape and
    dtype. Otherwise `array_op` writes into the array and the version is bumped, so a backward
    through an op that saved the array raises."""
    def method(self, *args, **kwargs):
        if tape.is_grad_enabled() and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            if self.grad_fn is None and self._rg:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    f"operation; wrap the update in `with no_grad():` (e.g. "
                    f"`with no_grad(): w -= lr * w.grad`)")
            before = Tensor.__new__(Tensor)  # the tensor as it was, for the op to consume
            v = self._version
            before._data, before.grad, before._rg, before.grad_fn, before.name = (
                self._data, None, self._rg, self.grad_fn, None)
            before._version = v if type(v) is int else v.v  # a snapshot: only `self` moves on
            new = graph_op(before, *args, **kwargs)
            if new.shape != self.shape:
                raise tape.ShapeError(
                    f"{name}: the result has shape {new.shape} but the tensor written in place "
                    f"has shape {self.shape}; an in-place op cannot change the shape")
            if new.dtype != self.dtype:
                new = C.to(new, self.dtype)  # as PyTorch: the tensor keeps its dtype
            # `self` gets a new array of its own (tensors detached from it keep the old one,
            # whose graphs stay valid); the new version makes ops recorded earlier with `self`
            # as input stale, since their gradient would now route through the new grad_fn.
            self._data, self.grad_fn, self._rg = new._data, new.grad_fn, new._rg
            self._version = next(_counter)
        else:
            try:
                array_op(self._data, *[a._data if isinstance(a, Tensor) else a for a in args],
                         **{k: a._data if isinstance(a, Tensor) else a for k, a in kwargs.items()})
            except ValueError as err:  # numpy's broadcast error: a shape error, as elsewhere
                raise tape.ShapeError(f"{name}: {err} (tensor shape {self.shape})") from None
            self._bump()
        return self

    method.__name__ = name
    return method


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
for _name, _ufunc in [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)]:
    setattr(Tensor, f"__{_name}__", _compare(_ufunc))
    setattr(Tensor, _name, _compare(_ufunc))
Tensor.__hash__ = object.__hash__  # hashable by identity beside __eq__, at C speed (dict keys)
