"""User-defined ops, as `torch.autograd.Function`: a derivative worked out on paper becomes an op.

Subclass `Function`, write a static `forward(ctx, *args)` that computes the output from Tensors,
and a static `backward(ctx, grad_output)` that returns one gradient per forward argument (None
for arguments that are not Tensors or need none); call the op as `MyOp.apply(*args)`:

    import numpy as np
    from autograd_mini import Function, Tensor, gradcheck, gradgradcheck

    class Softplus(Function):
        '''y = log(1 + e^x); on paper: dy/dx = e^x / (1 + e^x) = sigmoid(x).'''

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return (1 + x.exp()).log()

        @staticmethod
        def backward(ctx, grad_output):
            x, = ctx.saved_tensors
            return grad_output * x.sigmoid()     # the derivative from paper

    x = Tensor(np.random.randn(5), requires_grad=True)
    gradcheck(Softplus.apply, [x])        # True; a wrong derivative raises, naming the index
    gradgradcheck(Softplus.apply, [x])    # the backward's own derivative, too

How it runs (PyTorch's rules):
- `forward` runs under `no_grad()` on the arguments as given; it returns one Tensor (or an
  ndarray). One output per Function: return a tuple and you get a TypeError.
- `backward` gets Tensors. In `Tensor.backward` and first-order `grad` it runs under `no_grad()`
  and its results become ndarrays for the engine. With `grad(..., create_graph=True)` it runs
  with grad mode on: a backward written with Tensor ops is recorded, so it is differentiable
  again (second derivatives, `func.hessian`, `gradgradcheck`).
- For that, save inputs (or the output) with `ctx.save_for_backward`: `ctx.saved_tensors` gives
  them back, the output as a differentiable tensor. Intermediates computed inside `forward`
  (under no_grad) are constants to a second derivative, as in PyTorch: a second derivative
  through them silently loses terms, which `gradgradcheck` reports.
- The engine sums broadcast axes of what backward returns back to each input's shape and casts
  to its dtype, as for every op; a gradient whose shape the input does not broadcast to (a
  transposed one) raises a ShapeError naming the shape backward returned. Other attributes may be stored on ctx
  (`ctx.axis = 1`); `ctx.needs_input_grad` tells which arguments need a gradient.
- Changing a saved tensor in place after the forward makes backward raise, naming the Function.
"""
import numpy as np

from . import tape
from .primitives import Primitive
from .tensor import Tensor, _counter, _written_since


class FunctionCtx:
    """The `ctx` of a Function: what forward leaves for backward."""

    def __init__(self):
        self.needs_input_grad = ()
        self._saved = ()
        self._arrays = ()  # the saved tensors' arrays, and the number of the save
        self._seq = 0
        self._out = None  # the forward's output Tensor, to give it back differentiable
        self._node = None  # set while a create_graph backward runs

    def save_for_backward(self, *tensors):
        """Keep `tensors` (Tensors or None) for backward; read them back as ctx.saved_tensors."""
        for i, t in enumerate(tensors):
            if not (t is None or isinstance(t, Tensor)):
                raise TypeError(
                    f"save_for_backward: argument {i} is a {type(t).__name__}, not a Tensor; "
                    f"store other values as attributes of ctx (ctx.name = value)")
        self._saved = tensors
        self._arrays = tuple(None if t is None else t._data for t in tensors)
        self._seq = next(_counter)

    @property
    def saved_tensors(self):
        """The tensors given to save_for_backward, in order. In a backward with create_graph=True
        the forward's output comes back as a tensor recorded by this op, so that the second
        derivative flows through it."""
        node = self._node
        if node is None:
            return self._saved
        out = self._out
        return tuple(_recorded_output(node, t) if t is out else t for t in self._saved)


def _recorded_output(node, t):
    """The op's output as a Tensor whose grad_fn is the op's node: differentiable."""
    r = tape.result(t._data)
    r._rg, r.grad_fn = True, node
    return r


class Function:
    """Base class of user-defined ops: subclass, define static forward(ctx, *args) and
    backward(ctx, *grad_outputs), call with `.apply(*args)`. See the module docstring."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("Function: define forward(ctx, *args) as a @staticmethod")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("Function: define backward(ctx, *grad_outputs) as a "
                                  "@staticmethod returning one gradient per forward argument")

    @classmethod
    def _primitive(cls):
        prim = cls.__dict__.get("_prim")
        if prim is None:  # one per subclass; not in OPS, which holds the engine's own table
            prim = Primitive(cls.__name__, f"user-defined: {cls.__name__}.backward",
                             cls.forward, (), joint=_joint(cls))
            cls._prim = prim
        return prim

    @classmethod
    def apply(cls, *args):
        """Run forward on `args` and record the op (when an argument requires grad and grad mode
        is on), so that backward calls this class's backward."""
        if cls.forward is Function.forward:
            raise NotImplementedError(f"{cls.__name__}: define forward(ctx, *args) as a "
                                      f"@staticmethod")
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with tape.no_grad():
            out = cls.forward(ctx, *args)
        if isinstance(out, (tuple, list)):
            raise TypeError(
                f"{cls.__name__}.forward returned a {type(out).__name__} of {len(out)} values; "
                f"autograd_mini's Function supports one output Tensor: return one Tensor (or "
                f"split the op into one Function per output)")
        if not isinstance(out, Tensor):
            out = Tensor(np.asarray(out))
        ctx._out = out
        if any(ctx.needs_input_grad) and tape.is_grad_enabled():
            if out._data.dtype.kind not in "fc":
                raise TypeError(f"{cls.__name__}.forward returned dtype {out._data.dtype}; a "
                                f"differentiable op must return floating point values")
            t = tape.record(out._data, cls._primitive(), args, (ctx,), None)
            return tape.check_forward(t, t.grad_fn.name, args) if tape._anomaly.get() else t
        return tape.result(out._data)


def _expands_to(shape, target):
    """Does an argument of `shape` broadcast to `target`? Then the engine sums a gradient of
    shape `target` back to `shape`; otherwise the gradient is wrong (checked before that sum,
    which would hide the shape backward returned)."""
    return len(shape) <= len(target) and all(
        s == g or s == 1 for s, g in zip(reversed(shape), reversed(target)))


def _joint(cls):
    """The engine's hook for this Function: all input gradients from one call of backward."""
    name = cls.__name__

    def joint(node, g, create_graph):
        ctx = node.saved[0]
        for i, (t, a) in enumerate(zip(ctx._saved, ctx._arrays)):
            if t is not None and (t._data is not a or _written_since(a, ctx._seq)):
                raise RuntimeError(
                    f"backward: tensor {i} saved by {name}.forward (save_for_backward) was "
                    f"changed in place after the forward, so its gradient would be wrong; run "
                    f"the forward again after changing the tensor")
        if create_graph:  # g is a Tensor and grad mode is on: backward is recorded
            ctx._node = node
            try:
                grads = cls.backward(ctx, g)
            finally:
                ctx._node = None
        else:
            with tape.no_grad():
                grads = cls.backward(ctx, tape.result(g))
        if not isinstance(grads, (tuple, list)):
            grads = (grads,)
        inputs = node.inputs
        if len(grads) != len(inputs):
            raise RuntimeError(
                f"{name}.backward returned {len(grads)} gradient{'s' * (len(grads) != 1)}, but "
                f"forward took {len(inputs)} argument{'s' * (len(inputs) != 1)}: expected one "
                f"gradient per argument of forward (None for arguments that need none)")
        res = []
        for i, (gi, t) in enumerate(zip(grads, inputs)):
            if gi is None:
                res.append(None)
                continue
            if not isinstance(t, Tensor):
                raise RuntimeError(
                    f"{name}.backward returned a gradient for argument {i}, which is not a "
                    f"Tensor ({type(t).__name__}); return None in that place")
            if create_graph:
                gi = gi if isinstance(gi, Tensor) else Tensor(np.asarray(gi))
                shape = gi.shape
            else:
                gi = gi._data if isinstance(gi, Tensor) else np.asarray(gi)
                gi = gi if type(gi) is np.ndarray else np.asarray(gi)
                shape = gi.shape
            want = t.shape
            if shape != want and not _expands_to(want, shape):
                raise tape.ShapeError(
                    f"backward: {name}.backward (op '{name}') returned a gradient of shape "
                    f"{shape} for argument {i}, of shape {want}: a gradient has its argument's "
                    f"shape (or one that the argument broadcasts to, whose extra axes are "
                    f"summed)"
                    + ("; is it transposed?" if shape[::-1] == want else ""))
            res.append(gi)
        return res

    return joint
