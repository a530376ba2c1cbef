"""In-place updates as PyTorch: the one rule behind Tensor's in-place methods (`add_`, `zero_`,
`x[i] = v`...) and `inplace=True` of the activations.

An in-place op writes into the tensor's own array, so every tensor sharing the array (views,
`detach()`, `Tensor(t)`) sees the new values, and records the write (tensor._wrote), so that a
backward through an op whose gradient reads the old values raises.
"""
import numpy as np

from . import primitives as P
from .tape import is_grad_enabled, result
from .tensor import ShapeError, Tensor, _wrote


def inplace(name, graph_op, array_op):
    """An in-place method as PyTorch: it writes into the tensor's own array, so every tensor
    sharing the array (views, detach(), Tensor(t)) sees the new values, and records the write, so
    a backward through an op whose gradient reads the old values raises.

    With grad mode on and a tensor that requires grad involved, a leaf that requires grad refuses
    (the update belongs under no_grad()), and any other tensor takes the place in the graph of
    `graph_op(self as it was, *args)` (keeping its shape and dtype); ops recorded before keep
    their edge to the old place. Otherwise `array_op` writes into the array."""
    def method(self, *args, **kwargs):
        if is_grad_enabled() and (self._rg or any(
                isinstance(a, Tensor) and a._rg for a in args)):
            if self.grad_fn is None and self._rg:
                raise RuntimeError(
                    f"{name}: a leaf Variable that requires grad is being used in an in-place "
                    f"operation; wrap the update in `with no_grad():` (e.g. "
                    f"`with no_grad(): w -= lr * w.grad`)")
            before = result(self._data.copy())  # the old values, for the op's VJPs
            before._rg, before.grad_fn = self._rg, self.grad_fn
            new = graph_op(before, *args, **kwargs)
            if new.shape != self.shape:
                raise ShapeError(
                    f"{name}: the result has shape {new.shape} but the tensor written in place "
                    f"has shape {self.shape}; an in-place op cannot change the shape")
            if new.dtype != self.dtype:  # as PyTorch: the tensor keeps its dtype
                new = (P.to(new, dtype=self.dtype) if self.dtype.kind in "fc"
                       else result(new._data.astype(self.dtype)))
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
        raise ShapeError(f"{name}: {err} (tensor shape {a.shape})") from None
    _wrote(a)
