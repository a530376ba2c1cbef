"""Tensor's methods that run ops or the tape: operators, the ops as methods (`x.sum(1)` is
compositions' `sum(x, 1)`), comparisons, casts, in-place updates, `x[i] = v`, `backward`.

Bound here, above the ops they call (as torch/_tensor.py sits above its ops), and imported once
by the package, so that tensor.py imports none of the modules built on it: every import arrow
points down (tensor <- tape <- primitives <- compositions <- methods).
"""
import numpy as np

from . import compositions as C, primitives as P, tape
from .inplace import inplace as _inplace
from .tensor import ShapeError, Tensor, _ndarray



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


def retain_grad(self):
    """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
    tape.retain_grad(self)


def register_hook(self, hook):
    """Call `hook(grad)` in every backward with the total gradient arriving at this tensor
    (an ndarray; a Tensor under create_graph=True); a value it returns replaces that gradient
    (for the tensor's .grad and for everything behind it). Works on leaves and non-leaves, also
    in replay_backward. Returns a handle: `handle.remove()` takes the hook off. As PyTorch's
    `Tensor.register_hook`."""
    return tape.register_hook(self, hook)


Tensor.backward, Tensor.retain_grad, Tensor.register_hook = backward, retain_grad, register_hook


def _flip(f):
    return lambda self, other: f(other, self)


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
    except ShapeError:
        raise ShapeError(
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
            raise ShapeError(f"{ufunc.__name__}: {err}") from None

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
