"""Function transforms, as `torch.func`: grad, grad_and_value, vjp, jvp, jacrev, hessian, hvp.

Each transform takes a function `f` of Tensors that returns a Tensor and gives a new function
(grad, grad_and_value, jacrev, hessian) or values (vjp, jvp, hvp). The transforms accept Tensors
or ndarrays; what they return are Tensors. They nest to any order: `jacrev(grad(f))` is the
Hessian, `grad(grad(g))` the second derivative of a scalar function g.

    from autograd_mini import func
    f = lambda x: (x ** 3).sum()
    func.grad(f)(np.array([1.0, 2.0]))        # 3 x^2         -> tensor([ 3., 12.])
    func.hessian(f)(np.array([1.0, 2.0]))     # diag(6 x)     -> tensor([[ 6., 0.], [ 0., 12.]])

How: every transform calls `autograd_mini.grad` on the graph `f` records. The arguments it
differentiates with respect to become fresh variables of that call (an ndarray becomes a leaf,
a Tensor that requires grad a recorded alias of it), so a tensor `f` closes over is a constant
to this transform but stays differentiable for an enclosing one, as in torch.func. The gradient
is recorded (`create_graph=True`) only when a further derivative can be taken: grad mode is on
and the result depends on a tensor from outside the call (an argument that requires grad, or a
tensor `f` closes over). Otherwise the result is a plain Tensor and the sweep is first order.

Shapes (as torch.func): grad has the argument's shape; jacrev of f: R^in -> R^out has shape
out.shape + in.shape; hessian has in.shape + in.shape. `argnums` may be a tuple: then grad
and jacrev return one result per argnum, and hessian a tuple of tuples (H[i][j] = d2f/dxi dxj).
One output per `f`: f returns one Tensor (has_aux=True: a pair (Tensor, aux)). The Tensors in
aux (also in tuples, lists and dicts) come back cut from the transform's graph, as torch.func:
they require grad only through tensors from outside the call.
"""
import numpy as np

from . import tape
from .compositions import stack
from .primitives import reshape as _alias_op  # also a differentiable reshape
from .tensor import Tensor, _counter

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "hessian", "hvp"]


# -- shared machinery --------------------------------------------------------------------------

class _Level:
    """One call of a transform: its own variables, and the tape position where it began."""

    def __init__(self):
        self.grad_on = tape.is_grad_enabled()
        self.start = next(_counter)
        self.own = set()

    def variable(self, a, what):
        """`a` as a differentiable Tensor owned by this call."""
        if isinstance(a, Tensor):
            if a._rg and self.grad_on:  # outer levels see through it: an alias on the tape
                v = _alias_op(a, shape=a.shape)
            else:
                v = Tensor(a, requires_grad=True)
        else:
            a = np.asarray(a)
            if a.dtype.kind not in "fc":
                raise TypeError(f"{what}: got {a.dtype} data; differentiate with respect to float "
                                f"data (e.g. np.asarray(x, dtype=np.float64))")
            v = Tensor(a, requires_grad=True)
        self.own.add(v)
        return v

    def nested(self, outputs):
        """Can a further derivative be taken of what depends on `outputs`? True when grad mode
        was on at the call and the graph reaches a tensor from outside this call."""
        if not self.grad_on:
            return False
        seen, stack = set(), [o for o in outputs if isinstance(o, Tensor) and o._rg]
        while stack:
            t = stack.pop()
            node = t.grad_fn
            if node is None:
                if t not in self.own:
                    return True  # a leaf from outside (a closed-over parameter)
                continue
            if node.seq < self.start:
                return True  # recorded before this call: an outer graph
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.extend(x for x in node.inputs if isinstance(x, Tensor) and x._rg)
        return False


def _argnums(argnums, n, what):
    single = isinstance(argnums, (int, np.integer))
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise ValueError(f"{what}: argnums is empty; pass an int or a non-empty tuple of ints")
    for a in nums:
        if not isinstance(a, (int, np.integer)) or not -n <= a < n:
            raise ValueError(f"{what}: argnums {argnums!r} is out of range for a function called "
                             f"with {n} positional argument{'s' * (n != 1)}")
    return single, tuple(int(a) % n for a in nums)


def _call(f, args, has_aux, what):
    """f(*args) with grad mode on, checked: (output Tensor, aux)."""
    with tape.enable_grad():
        res = f(*args)
    aux = None
    if has_aux:
        if not (isinstance(res, tuple) and len(res) == 2):
            raise TypeError(f"{what}(has_aux=True): f must return a pair (output, aux), got "
                            f"{type(res).__name__}")
        res, aux = res
    if not isinstance(res, Tensor):
        raise TypeError(
            f"{what}: f must return a Tensor, got {type(res).__name__}"
            + ("; autograd_mini.func supports functions with one output" if
               isinstance(res, (tuple, list)) else ""))
    return res, aux


def _grads(outputs, inputs, grad_outputs, create_graph):
    """d outputs / d inputs contracted with grad_outputs; zeros where an input is unused."""
    live = [(o, g) for o, g in zip(outputs, grad_outputs) if o._rg]
    if not live:
        found = (None,) * len(inputs)
    else:
        found = tape.grad([o for o, _ in live], inputs, [g for _, g in live],
                          retain_graph=True, create_graph=create_graph, allow_unused=True)
    return tuple(Tensor(np.zeros_like(x._data)) if g is None else g
                 for g, x in zip(found, inputs))


def _plain(t, nested):
    """What a transform hands back: the graph only if an enclosing derivative can use it."""
    return t if nested or not isinstance(t, Tensor) else t.detach()


def _plain_aux(aux, level):
    """aux as f returned it, each Tensor in it (in tuples, lists and dicts) cut from this
    call's graph, as torch.func: kept on the tape only where an enclosing derivative can use it."""
    if isinstance(aux, Tensor):
        return _plain(aux, level.nested([aux]))
    if isinstance(aux, (tuple, list)):
        items = [_plain_aux(a, level) for a in aux]
        return type(aux)(*items) if hasattr(aux, "_fields") else type(aux)(items)
    if isinstance(aux, dict):
        return {k: _plain_aux(a, level) for k, a in aux.items()}
    return aux


def _as_tensor(a, like, what):
    t = a if isinstance(a, Tensor) else Tensor(np.asarray(a, dtype=like._data.dtype))
    if t.shape != like.shape:
        raise ValueError(f"{what}: shape {t.shape} does not match the primal's shape {like.shape}")
    return t


# -- the transforms ----------------------------------------------------------------------------

def _variables(what, args, argnums):
    """A new level, and args with those at argnums made its variables."""
    single, nums = _argnums(argnums, len(args), what)
    level = _Level()
    args = list(args)
    for i in nums:
        args[i] = level.variable(args[i], f"{what} (argument {i})")
    return single, nums, level, args


def grad_and_value(f, argnums=0, has_aux=False):
    """A function returning (gradient of f with respect to args[argnums], f(*args)).

    f must return a one-element Tensor. With a tuple argnums the gradient is a tuple; with
    has_aux=True f returns (output, aux) and the result is ((gradient, (output, aux)).
    """
    def wrapper(*args):
        single, nums, level, args = _variables("grad", args, argnums)
        out, aux = _call(f, args, has_aux, "grad")
        if out._data.size != 1:
            raise ValueError(
                f"grad: f must return a one-element Tensor, got shape {out.shape}; use jacrev "
                f"for the Jacobian of a vector-valued function, or reduce the output (.sum())")
        nested = level.nested([out])
        gs = _grads([out], [args[i] for i in nums], [None], nested)
        g = gs[0] if single else gs
        value = _plain(out, nested)
        return (g, (value, _plain_aux(aux, level))) if has_aux else (g, value)

    return wrapper


def grad(f, argnums=0, has_aux=False):
    """A function returning the gradient of f (a one-element Tensor) with respect to
    args[argnums]: one Tensor of that argument's shape, or a tuple for a tuple argnums.
    With has_aux=True f returns (output, aux) and the result is (gradient, aux)."""
    gv = grad_and_value(f, argnums, has_aux)

    def wrapper(*args):
        g, value = gv(*args)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(f, *primals, has_aux=False):
    """(f(*primals), vjp_fn): vjp_fn(cotangent) returns the tuple (cotangent @ J_i for each
    primal i), J_i the Jacobian of f with respect to primals[i]; the cotangent has the output's
    shape. vjp_fn may be called several times. has_aux=True: (output, vjp_fn, aux)."""
    level = _Level()
    xs = [level.variable(p, f"vjp (primal {i})") for i, p in enumerate(primals)]
    out, aux = _call(f, xs, has_aux, "vjp")
    nested = level.nested([out])

    def vjp_fn(cotangent):
        ct = _as_tensor(cotangent, out, "vjp_fn: cotangent")
        create = tape.is_grad_enabled() and (nested or ct._rg)
        return _grads([out], xs, [ct], create)

    value = _plain(out, nested)
    return (value, vjp_fn, _plain_aux(aux, level)) if has_aux else (value, vjp_fn)


def _primals_and_tangents(what, primals, tangents):
    """A new level, its variables for the primals, and the tangents as Tensors of their shapes."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"{what}: {len(primals)} primals but {len(tangents)} tangents; pass one "
                         f"tangent per primal, of its shape")
    level = _Level()
    xs = [level.variable(p, f"{what} (primal {i})") for i, p in enumerate(primals)]
    vs = [_as_tensor(v, x, f"{what}: tangent {i}") for i, (v, x) in enumerate(zip(tangents, xs))]
    return level, xs, vs


def jvp(f, primals, tangents, has_aux=False):
    """(f(*primals), J @ tangents): the directional derivative of f along `tangents` (one per
    primal, of its shape), with the output's shape.

    Computed by the double-VJP trick: u -> J^T u is linear in u, so its VJP with the tangents
    is J v. Two reverse sweeps, no forward mode needed.
    """
    level, xs, vs = _primals_and_tangents("jvp", primals, tangents)
    out, aux = _call(f, xs, has_aux, "jvp")
    nested = level.nested([out]) or (level.grad_on and any(v._rg for v in vs))
    u = Tensor(np.zeros_like(out._data), requires_grad=True)
    level.own.add(u)
    with tape.enable_grad():
        jtu = _grads([out], xs, [u], True)  # J^T u, recorded: a linear function of u
    jv = _grads(list(jtu), [u], vs, nested)[0]
    value = _plain(out, nested)
    return (value, jv, _plain_aux(aux, level)) if has_aux else (value, jv)


def _stack(rows, nested):
    """The rows on a new first axis: on the tape if a further derivative may be taken."""
    return stack(rows) if nested else Tensor(np.stack([r._data for r in rows]))


def jacrev(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f with respect to args[argnums], by reverse mode
    (one sweep per output element): shape out.shape + arg.shape; a tuple for a tuple argnums.
    f may also return a tuple of Tensors: then the result is a tuple over those outputs."""
    def wrapper(*args):
        single, nums, level, args = _variables("jacrev", args, argnums)
        with tape.enable_grad():
            res = f(*args)
        aux = None
        if has_aux:
            res, aux = res
        outs = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        for o in outs:
            if not isinstance(o, Tensor):
                raise TypeError(f"jacrev: f must return Tensors, got {type(o).__name__}")
        nested = level.nested(outs)
        xs = [args[i] for i in nums]
        jacs = []
        for o in outs:
            rows = []
            n = o._data.size
            for k in range(n):
                e = np.zeros(n, o._data.dtype)
                e[k] = 1
                rows.append(_grads([o], xs, [e.reshape(o.shape)], nested))
            per_x = []
            for j, x in enumerate(xs):
                if rows:
                    jac = _stack([r[j] for r in rows], nested)
                else:
                    jac = Tensor(np.zeros((0,) + x.shape, x._data.dtype))
                jac = _alias_op(jac, shape=o.shape + x.shape)
                per_x.append(jac)
            jacs.append(per_x[0] if single else tuple(per_x))
        result = tuple(jacs) if isinstance(res, (tuple, list)) else jacs[0]
        return (result, _plain_aux(aux, level)) if has_aux else result

    return wrapper


def hessian(f, argnums=0):
    """A function returning the Hessian of f (a one-element Tensor) with respect to
    args[argnums]: shape arg.shape + arg.shape; for a tuple argnums a tuple of tuples,
    H[i][j] = d2 f / d args[argnums[i]] d args[argnums[j]]. It is jacrev(grad(f))."""
    return jacrev(grad(f, argnums), argnums)


def hvp(f, primals, tangents):
    """(f(*primals), H @ tangents), H the Hessian of f (a one-element Tensor) with respect to all
    primals, without forming H: the VJP of the gradient (reverse over reverse; H is symmetric).
    hvp_out has the primal's shape; with several primals it is a tuple, one per primal."""
    level, xs, vs = _primals_and_tangents("hvp", primals, tangents)
    out, _ = _call(f, xs, False, "hvp")
    if out._data.size != 1:
        raise ValueError(f"hvp: f must return a one-element Tensor, got shape {out.shape}")
    nested = level.nested([out]) or (level.grad_on and any(v._rg for v in vs))
    with tape.enable_grad():
        gs = _grads([out], xs, [None], True)
    hv = _grads(list(gs), xs, vs, nested)
    return _plain(out, nested), (hv[0] if len(hv) == 1 else hv)
