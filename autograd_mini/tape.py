"""The tape: one `Node` per recorded op, grad modes, and the reverse sweep behind
`Tensor.backward` and `grad`.

A gradient's walk from the output to the leaves happens here and nowhere else. The sweep is the
algorithm of the lecture notes: visit the ops in reverse order, give each the gradient of its
output, call one VJP per input, sum what arrives at each input, and reduce broadcast axes and
check the shape in one shared place.

The same VJPs serve both kinds of sweep. In first-order backward the engine runs in RAW mode: the
VJPs get ndarrays, and every primitive they call returns an ndarray (no Tensor, no Node). With
`create_graph=True` the VJPs get the op's input Tensors and its output Tensor, and grad mode is
on, so the gradient is itself recorded and can be differentiated again.

The graph has no reference cycles: a Tensor points to its Node, a Node to its inputs and its
saved arrays, never back to its output Tensor. Reference counting frees a graph at once.
"""
import contextvars
import functools
import heapq
import os
import sys
import threading
import weakref

import numpy as np

from .hooks import RemovableHandle
from .tensor import ShapeError  # noqa: F401  (defined with Tensor, imported from here too)
from .tensor import Tensor, _counter, _last_write, _ndarray, _written_since

GRAD, NO_GRAD, RAW = True, False, None  # the values of _mode
ANOMALY = "anomaly"  # grad mode with detect_anomaly(): the ops take their slower, checked path
_mode = contextvars.ContextVar("autograd_mini_mode", default=GRAD)
_anomaly = contextvars.ContextVar("autograd_mini_anomaly", default=False)
# The modes that the `with` blocks entered in this thread (or task) replaced, innermost first, as
# a linked list (mode, rest): kept per context, not on the manager, so that one no_grad()
# instance can be entered by several threads at once.
_outer = contextvars.ContextVar("autograd_mini_outer_modes", default=None)
_outer_anomaly = contextvars.ContextVar("autograd_mini_outer_anomaly", default=None)

# `_counter` numbers the recorded ops and the writes to arrays (tensor.py). Ops are numbered in
# the order they run, a topological order of the graph, so backward replays them by decreasing
# number; "was an array this op saved written after the op was recorded?" compares two numbers.
_leaf_lock = threading.Lock()  # one sweep at a time writes into .grad


class _Mode:
    """Context manager (and decorator, with or without parentheses) that sets the grad mode;
    thread- and task-safe, also when one instance is shared."""

    __slots__ = ()
    value = GRAD

    def __new__(cls, fn=None):
        self = object.__new__(cls)
        return self if fn is None else self(fn)  # @no_grad without parentheses

    def __enter__(self):
        value = self.value
        if value is GRAD and _anomaly.get():
            value = ANOMALY
        _outer.set((_mode.get(), _outer.get()))
        _mode.set(value)

    def __exit__(self, *exc):
        mode, rest = _outer.get()
        _outer.set(rest)
        _mode.set(mode)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_Mode):
    """Nothing inside is recorded: results have requires_grad=False and no grad_fn."""

    __slots__ = ()
    value = NO_GRAD


class enable_grad(_Mode):
    """Record ops again inside a no_grad() block."""

    __slots__ = ()
    value = GRAD


def is_grad_enabled():
    mode = _mode.get()
    return mode is GRAD or mode is ANOMALY


class Node:
    """One recorded op: its primitive, its inputs as given (Tensors or constants), their arrays
    as the forward saw them, its options, and its output array when a VJP needs it.

    Made only by `record`. `saved` is None once a backward released the saved arrays. A sweep
    keeps the gradients arriving at each node in its own dict, never on the node, so sweeps
    over one graph may run in several threads at once.
    """

    __slots__ = ("prim", "inputs", "saved", "opts", "out", "seq", "retained", "where")
    # retained: None, or the _Watch of the output (retain_grad(), register_hook()); where: (file,
    # line) of the user's code that made the op, set only in anomaly mode (read with getattr)

    name = property(lambda self: self.prim.name)

    def __repr__(self):
        return f"<{self.prim.name}>"


_new = object.__new__


def result(out):
    """An op's output as a Tensor that records nothing."""
    t = _new(Tensor)
    t._data = out if type(out) is _ndarray else np.asarray(out)
    t.grad = t.grad_fn = t.name = None
    t._rg, t._changed = False, 0
    return t


def record(out, prim, inputs, saved, opts):
    """An op's output as a Tensor, recorded with a new Node (written out: the tape's hot path)."""
    t = _new(Tensor)
    t._data = out if type(out) is _ndarray else np.asarray(out)
    t.grad = t.name = None
    t._rg, t._changed = True, 0
    node = t.grad_fn = _new(Node)
    node.prim, node.inputs, node.saved, node.opts = prim, inputs, saved, opts
    node.out = t._data if prim.needs_out else None
    node.seq = next(_counter)
    node.retained = None
    return t


def _output(node):
    """The node's output as a differentiable Tensor, for VJPs run with create_graph=True."""
    t = result(node.out)
    t._rg, t.grad_fn = True, node
    return t


def _as_recorded(inputs, seq):
    """The inputs of op number `seq` for its VJPs with create_graph=True: a tensor whose grad_fn
    or requires_grad changed since stands in as it was, so the second derivative follows the
    recorded graph."""
    if not any(isinstance(t, Tensor) and t._changed > seq for t in inputs):
        return inputs
    res = []
    for t in inputs:
        if isinstance(t, Tensor) and t._changed > seq:
            r = result(t._data)
            r.grad_fn, r._rg = t._changed.at(seq)
            t = r
        res.append(t)
    return tuple(res)


# -- errors ------------------------------------------------------------------------------------

def _stale(node, what="an array"):
    return RuntimeError(
        f"backward: {what} saved by op '{node.prim.name}', which its gradient reads, was changed "
        f"(assignment to .data, an in-place op, an optimizer step, or a write through a tensor "
        f"sharing its array: detach(), Tensor(t), a view) after the op was recorded, so its "
        f"gradient would be wrong; run the forward pass again after changing the tensor, or "
        f"clone() the tensor before changing it")


def _check_saved(node):
    """Raise if an earlier backward freed the node's saved arrays, or if an array that one of its
    VJPs will read was written after the op was recorded (the caller tested first that one of
    the two may be so). Arrays a VJP only takes the shape of, and ops whose VJPs read nothing
    (sum, add, reshape), never raise."""
    seq, reads, saved = node.seq, node.prim.reads, node.saved
    if saved is None:
        raise _freed(node)
    if node.prim.joint is not None:
        return  # a Function checks what it saved itself
    for i, t in enumerate(node.inputs):
        if not (isinstance(t, Tensor) and _edge(t, seq)[1]):
            continue  # no gradient for this input: its VJP does not run
        for j in reads[i]:
            a = node.out if j == len(saved) else saved[j]
            if type(a) is _ndarray and _written_since(a, seq):
                raise _stale(node, "its output" if j == len(saved) else f"input {j}")


def _edge(t, seq):
    """(grad_fn, requires_grad) of tensor `t` as they were when op number `seq` was recorded:
    changing them later (an in-place op in grad mode, setting requires_grad) leaves the graphs
    recorded before unchanged, as PyTorch's."""
    if t._changed > seq:
        return t._changed.at(seq)
    return t.grad_fn, t._rg


def _freed(node):
    return RuntimeError(
        f"backward: trying to backward through the graph a second time (op '{node.prim.name}'): "
        f"its saved arrays were freed by the first backward; pass retain_graph=True to the "
        f"first backward call if you need to call it twice")


# -- the sweep ---------------------------------------------------------------------------------

def _unbroadcast(g, shape):
    """Sum `g` over the axes that broadcasting added or stretched, down to `shape`."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    if g.ndim == len(shape):
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if stretched:
            g = g.sum(axis=stretched, keepdims=True)
    return g


def _fit(gt, t, node, raw):
    """The gradient `gt` a VJP returned for input `t`, reduced to t's shape and cast to t's
    dtype; a shape that cannot be reduced is the op's bug, reported as such."""
    shape = t._data.shape
    if gt.shape != shape:
        gt = _unbroadcast(gt, shape)
        if gt.shape != shape:
            raise ShapeError(
                f"backward: op '{node.prim.name}' returned a gradient of shape {gt.shape} for an "
                f"input of shape {shape}; a VJP must return its input's shape (or a shape that "
                f"broadcasts to it)")
    dtype = t._data.dtype
    if gt.dtype is not dtype and gt.dtype != dtype:
        gt = gt.astype(dtype) if raw else gt.to(dtype)
    return gt


def sweep(roots, seeds, retain_graph=False, create_graph=False, targets=None, watch=None):
    """Backpropagate `seeds` (one per root Tensor) through the graph behind `roots`.

    The algorithm of the lecture notes, which the loop below is:

        for each recorded op, by decreasing number (its outputs' users all come before it):
            g = the sum of the gradients that arrived at its output
            for each input t that requires a gradient:
                gt = vjp_i(g, *saved, out)           # one VJP per input
                gt = _fit(gt, t)                     # broadcast axes summed, shape checked
                add gt to what arrived at t          # at t's op; at t itself if t is a leaf

    Without `targets`, the gradients are summed into `.grad` of the leaves (and of retained
    non-leaves), all at the end, so a sweep that fails writes nothing. With `targets` (Tensors),
    returns {target: gradient arriving at it} and touches no `.grad`.
    `watch(node, g, sent, pending)`, if given, is called after each op's VJPs: `g` arrived at the
    op, `sent` lists (input index, gradient) as sent, `pending` holds the leaves' sums so far
    (replay_backward records the sweep with it; unused, it costs one test per op and input).

    The special cases stay out of the loop's way, each behind one test, in the helpers below:
    saved arrays freed or overwritten (_check_saved), hooks, retain_grad and grad()'s targets
    (_capture, _targets, _off_path), create_graph and a Function's joint backward (_vjps_for),
    the anomaly mode's checks (_check_sent), freeing activations (_release).
    """
    raw = not create_graph
    anomaly = _anomaly.get()
    if anomaly:
        watch = _check_sent if watch is None else _also_check(watch)
    at_node, visit, leaves = _targets(roots, targets)
    heap, pending, grads = [], {}, {}  # grads: node -> its output's gradient, summed so far
    for root, seed in zip(roots, seeds):
        _arrive(root, seed, heap, pending, grads)
    pop, push = heapq.heappop, heapq.heappush
    release, keep = not retain_graph, _KEEP_BYTES
    token = _mode.set(RAW if raw else ANOMALY if anomaly else GRAD)
    try:
        while heap:
            node = pop(heap)[1]  # the op numbered highest of those with a gradient waiting
            g = grads.pop(node)
            saved, out, seq = node.saved, node.out, node.seq  # (3 names: no tuple is built)
            if saved is None or _last_write[0] > seq:  # freed, or an array written since
                _check_saved(node)
            if node.retained is not None or at_node and node in at_node:
                g = _capture(node, g, pending, at_node, targets, raw)
                if visit is not None and node not in visit:
                    continue  # a target with no other target behind it: neither run nor freed
            prim, inputs, opts = node.prim, node.inputs, node.opts
            vjps = prim.vjps
            if not raw or prim.joint is not None:
                saved, out, vjps = _vjps_for(node, g, create_graph)
            if watch is not None:
                sent = []
            big = None  # inputs computed by ops, whose arrays this node keeps alive
            for i, t in enumerate(inputs):
                if not isinstance(t, Tensor):
                    continue  # a constant
                if t._changed > seq:  # changed since: follow the edge the op recorded
                    fn, rg = t._changed.at(seq)
                    if not rg:
                        continue
                elif t._rg:
                    fn = t.grad_fn
                else:
                    continue  # a frozen tensor: skip its VJP entirely
                if visit is not None and _off_path(t, fn, visit, leaves, at_node):
                    continue  # grad(): no target behind this input
                # (the two calls: a ** of an empty dict costs every op)
                gt = vjps[i](g, *saved, out) if opts is None else vjps[i](g, *saved, out, **opts)
                if gt is None:
                    continue  # a Function's backward gave no gradient for this input
                data = t._data
                if gt.shape != data.shape or gt.dtype is not data.dtype:
                    gt = _fit(gt, t, node, raw)
                if watch is not None:
                    sent.append((i, gt))
                if fn is None:  # a leaf: summed for .grad (_arrive, written out: the hot path)
                    pending[t] = pending[t] + gt if t in pending else gt
                    continue
                if fn in grads:
                    grads[fn] = grads[fn] + gt
                else:
                    grads[fn] = gt
                    push(heap, (-fn.seq, fn))
                if release and data.nbytes > keep:
                    big = (i,) if big is None else big + (i,)
            if watch is not None:
                watch(node, g, sent, pending)
            if release:  # what only this backward needed: a second one raises (_freed)
                node.saved = None
                if out is not None:
                    node.out = None
                if big is not None:
                    node.inputs = _release(inputs, big, seq)
    finally:
        _mode.reset(token)
    if _leaf_hooks:
        _run_leaf_hooks(pending, raw)
    if targets is not None:
        return pending
    _write_grads(pending.items(), seeds)


# -- the sweep's special cases -----------------------------------------------------------------

def _targets(roots, targets):
    """(at_node, visit, leaves) of a grad() sweep: the targets by their op, the ops that must run
    (those with a target behind an input), the targets that are leaves. For backward(): ({},
    None, None): every op runs."""
    if targets is None:
        return {}, None, None
    at_node = {t.grad_fn: t for t in targets if t.grad_fn is not None}
    leaves = {t for t in targets if t.grad_fn is None}
    return at_node, _leading_to(roots, at_node, leaves), leaves


def _off_path(t, fn, visit, leaves, at_node):
    """grad(): does no target lie behind input `t` (made by op `fn`)? Then its VJP is skipped."""
    return t not in leaves and fn not in visit and fn not in at_node


def _vjps_for(node, g, create_graph):
    """(saved, out, vjps) for the node's VJPs when they are not the plain first-order ones.

    With create_graph the VJPs get the op's inputs and output as Tensors, so that their own ops
    are recorded. A Function's backward gives all its inputs' gradients in one call; each input's
    "VJP" then hands out its share (None: no gradient for that input)."""
    saved, out, vjps = node.saved, node.out, node.prim.vjps
    if create_graph:
        saved = _as_recorded(node.inputs, node.seq)
        out = _output(node) if node.prim.needs_out else None
    if node.prim.joint is not None:
        vjps = tuple(functools.partial(_given, gt)
                     for gt in node.prim.joint(node, g, create_graph))
    return saved, out, vjps


def _given(gt, *args, **kwargs):
    return gt


_KEEP_BYTES = 4096  # smaller intermediate arrays stay in the graph, so draw_graph shows them


class Released(Tensor):
    """An op's output in the graph after backward released its array: same shape, dtype, name
    and grad_fn, and no values (reading them raises RuntimeError, saying why).

    Backward frees what each op saved, and then the graph, which the last output keeps alive,
    would still hold every activation through its intermediate tensors. So a non-retained sweep
    replaces an op's intermediate inputs larger than _KEEP_BYTES with these, holding the tensor
    only weakly: its array lives as long as the user holds the tensor, and `draw_graph` still
    shows the values of the tensors one still holds.
    """

    __slots__ = ("ref", "meta")

    shape = property(lambda self: self.meta[0])
    dtype = property(lambda self: self.meta[1])
    ndim = property(lambda self: len(self.meta[0]))

    @property
    def _data(self):
        raise RuntimeError(
            f"this tensor (shape {self.meta[0]}, dtype {self.meta[1]}) stands in a graph for an "
            f"intermediate result whose values backward freed, so it has no values to read; hold "
            f"the result itself to keep its values, or call backward with retain_graph=True")

    @_data.setter
    def _data(self, value):
        raise RuntimeError(
            "this tensor stands in a graph for an intermediate result whose values backward "
            "freed, so it has no data to write; hold the result itself to keep its values, or "
            "call backward with retain_graph=True")


def _release(inputs, big, seq):
    inputs = list(inputs)
    for i in big:
        t = inputs[i]
        r = inputs[i] = _new(Released)
        data = t._data
        r.meta = data.shape, data.dtype
        r.grad, r.name, r._rg, r._changed = None, t.name, True, 0
        r.grad_fn = _edge(t, seq)[0]  # the edge as the op recorded it
        r.ref = weakref.ref(t)
    return tuple(inputs)


def _leading_to(roots, at_node, leaves):
    """The nodes whose VJPs a grad() sweep must run: those with a target behind an input."""
    done, stack = {}, [r.grad_fn for r in roots if r.grad_fn is not None]
    while stack:  # iterative post-order: a node is decided after the nodes of its inputs
        node = stack[-1]
        if node in done:
            stack.pop()
            continue
        edges = [(t, fn) for t in node.inputs if isinstance(t, Tensor)
                 for fn, rg in (_edge(t, node.seq),) if rg]
        below = [fn for _, fn in edges if fn is not None and fn not in done]
        if below:
            stack.extend(below)
            continue
        stack.pop()
        done[node] = any(t in leaves if fn is None else done[fn] or fn in at_node
                         for t, fn in edges)
    return {node for node, leads in done.items() if leads}


def _capture(node, g, pending, at_node, targets, raw):
    """The gradient of a node's output after its hooks (register_hook), kept for retain_grad()
    (in backward) or for a target of grad()."""
    watched = node.retained
    if watched is not None:
        if watched.hooks:
            g = _run_hooks(watched.hooks, g, raw)
        if watched.ref is not None and targets is None:
            t = watched.ref()
            if t is not None:
                pending[t] = g
    if node in at_node:
        pending[at_node[node]] = g
    return g


def _arrive(t, g, heap, pending, grads):
    """Gradient `g` reaches tensor `t`: summed for a leaf, or queued with t's op."""
    fn = t.grad_fn
    if fn is None:
        pending[t] = pending[t] + g if t in pending else g
    elif fn in grads:
        grads[fn] = grads[fn] + g
    else:
        grads[fn] = g
        heapq.heappush(heap, (-fn.seq, fn))


def _write_grads(pairs, seeds=()):
    """Sum (tensor, gradient) pairs into `.grad` (a gradient None: nothing arrived); each `.grad`
    owns its memory (a VJP may return a view, or route one array to several inputs)."""
    seen = set(map(id, seeds))
    with _leaf_lock:
        for t, g in pairs:
            if g is None:
                continue
            if type(g) is not _ndarray:
                g = np.asarray(g)  # ops on 0-d arrays give numpy scalars
            if t.grad is None:
                t.grad = g.copy() if (g.base is not None or id(g) in seen) else g
                seen.add(id(t.grad))
            else:
                t.grad = _added(t.grad, g)


def _added(old, g):
    """old + g as an ndarray (the sum of 0-d arrays is a numpy scalar)."""
    total = old + g
    return total if type(total) is _ndarray else np.asarray(total)


def retain_grad(t):
    if t.grad_fn is not None:
        _watch(t.grad_fn).ref = weakref.ref(t)


# -- hooks on tensors --------------------------------------------------------------------------

class _Watch:
    """What a sweep does with the gradient of an op's output besides passing it on: the hooks
    registered on the output tensor, and the tensor whose .grad retain_grad() keeps (weakly)."""

    __slots__ = ("hooks", "ref")

    def __init__(self):
        self.hooks, self.ref = {}, None


def _watch(node):
    if node.retained is None:
        node.retained = _Watch()
    return node.retained


# A leaf's hooks, by id(leaf): a leaf has no node to hold them. An entry goes with its tensor.
_leaf_hooks = {}


def register_hook(t, hook):
    """Tensor.register_hook: `hook(grad)` gets the total gradient arriving at `t` in each
    sweep, and a value it returns replaces that gradient. A non-leaf's hooks live on its node
    (node.retained.hooks), a leaf's in _leaf_hooks[id(t)]: `hooks_of(t)` finds either."""
    if not t._rg:
        raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't "
                           "require grad; create it with requires_grad=True (or compute it from "
                           "one)")
    if t.grad_fn is not None:
        return RemovableHandle.add(_watch(t.grad_fn).hooks, hook)
    key = id(t)
    if key not in _leaf_hooks:
        _leaf_hooks[key] = {}
        weakref.finalize(t, _leaf_hooks.pop, key, None)
    return RemovableHandle.add(_leaf_hooks[key], hook)


def hooks_of(t):
    """The hooks registered on tensor `t`, {handle id: hook} in the order they run (empty if
    none): what a tracer must carry or refuse."""
    if t.grad_fn is not None:
        watched = t.grad_fn.retained
        return watched.hooks if watched is not None else {}
    return _leaf_hooks.get(id(t), {})


def _run_hooks(hooks, g, raw):
    for hook in list(hooks.values()):
        new = hook(g)
        if new is not None:
            new = new._data if raw and isinstance(new, Tensor) else new
            if not raw and not isinstance(new, Tensor):
                new = Tensor(new)
            if np.shape(new) != np.shape(g):
                raise ShapeError(
                    f"register_hook: hook {getattr(hook, '__name__', hook)!r} returned a "
                    f"gradient of shape {np.shape(new)} for a gradient of shape {np.shape(g)}; "
                    f"a hook must keep the shape")
            g = new
    return g


def _run_leaf_hooks(pending, raw):
    for t in pending:
        hooks = _leaf_hooks.get(id(t))
        if hooks and t.grad_fn is None:
            pending[t] = _run_hooks(hooks, pending[t], raw)


# -- anomaly mode ------------------------------------------------------------------------------

class detect_anomaly:
    """Inside, every op notes where the user's code made it, and the first NaN or inf that an
    op produces, in the forward or in the backward, raises RuntimeError naming the op, that
    place (`path:line`) and the value. Slower: for finding a bug, not for training. Also a
    decorator, like no_grad; one instance may be shared by threads (the state it replaced is
    kept per context, as the grad modes keep theirs)."""

    __slots__ = ()

    def __enter__(self):
        _push_anomaly(True)

    def __exit__(self, *exc):
        _pop_anomaly()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly():
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """`set_detect_anomaly(True)` switches anomaly mode on (False: off) for the rest of the
    current thread or task; as a context manager, `with set_detect_anomaly(flag):`, until the
    block ends. As PyTorch's."""

    __slots__ = ()

    def __init__(self, mode):
        _push_anomaly(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _pop_anomaly()


def is_anomaly_enabled():
    return _anomaly.get()


def _push_anomaly(enabled):
    """Switch anomaly mode, keeping what it replaced on the context's own stack (apart from the
    grad modes': `set_detect_anomaly(True)` as a plain call is never popped)."""
    mode = _mode.get()
    _outer_anomaly.set(((mode, _anomaly.get()), _outer_anomaly.get()))
    if enabled and mode is GRAD:
        mode = ANOMALY
    elif not enabled and mode is ANOMALY:
        mode = GRAD
    _anomaly.set(bool(enabled))
    _mode.set(mode)


def _pop_anomaly():
    (mode, flag), rest = _outer_anomaly.get()
    _outer_anomaly.set(rest)
    _mode.set(mode)
    _anomaly.set(flag)


_ENGINE = os.path.dirname(os.path.abspath(__file__))
_ENGINE_DIRS = (_ENGINE + os.sep, os.path.join(os.path.dirname(_ENGINE), "nn") + os.sep)


def _user_line():
    """(file, line) of the innermost frame outside autograd_mini/ and nn/: the user's code."""
    f = sys._getframe(1)
    while f is not None and f.f_code.co_filename.startswith(_ENGINE_DIRS):
        f = f.f_back
    return None if f is None else (f.f_code.co_filename, f.f_lineno)


def _place(node):
    where = getattr(node, "where", None)
    return ("at an unknown place (recorded outside detect_anomaly)" if where is None
            else f"at {where[0]}:{where[1]}")


def _finite(a):
    return a.dtype.kind not in "fc" or bool(np.isfinite(a).all())


def _bad(a):
    return "nan" if np.isnan(a).any() else "inf"


def _check_sent(node, g, sent, pending):
    """Anomaly mode's watch on a sweep: every gradient an op sends to an input is finite."""
    for i, gt in sent:
        a = gt._data if isinstance(gt, Tensor) else np.asarray(gt)
        if not _finite(a):
            raise RuntimeError(
                f"detect_anomaly: in backward, op '{node.prim.name}' made {_place(node)} "
                f"sent a non-finite gradient ({_bad(a)}) to its input {i} of shape {a.shape} "
                f"(the gradient arriving at the op was "
                f"{'finite' if _finite(np.asarray(getattr(g, '_data', g))) else 'not finite'})")


def _also_check(watch):
    def both(node, g, sent, pending):
        _check_sent(node, g, sent, pending)
        watch(node, g, sent, pending)
    return both


def check_forward(t, name, args):
    """Anomaly mode, after op `name` made `t` from `args`: note the place, and raise if t is
    not finite."""
    where = _user_line()
    node = t.grad_fn
    if node is not None:
        node.where = where
    a = t._data
    if not _finite(a):
        place = "at an unknown place" if where is None else f"at {where[0]}:{where[1]}"
        already = [i for i, x in enumerate(args) if isinstance(x, Tensor) and not _finite(x._data)]
        why = (f"; its input {already[0]} was already non-finite (made outside anomaly mode or "
               f"without grad)" if already else "")
        raise RuntimeError(
            f"detect_anomaly: in forward, op '{name}' made {place} produced a non-finite output "
            f"({_bad(a)}) of shape {a.shape}{why}")
    return t


def seed(t, g, what):
    """The gradient that starts a sweep at output `t`: `g` checked, or 1 for one element."""
    data = t._data
    if g is None:
        if data.size != 1:
            raise ShapeError(
                f"{what}: grad can be implicitly created only for one-element outputs, but the "
                f"output has shape {data.shape}; call .sum() first or pass a gradient of shape "
                f"{data.shape}")
        return np.ones(data.shape, data.dtype)  # ones_like's Python layer costs 2 us
    a = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=data.dtype)
    if a.shape != data.shape:
        raise ShapeError(
            f"{what}: the gradient has shape {a.shape} but the output has shape {data.shape}; "
            f"pass a gradient of the output's shape")
    return a if a.dtype == data.dtype else a.astype(data.dtype)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, as torch.autograd.grad.

    Returns a tuple of Tensors, one per input (None for an input that `outputs` do not depend
    on, with allow_unused=True). `.grad` of the leaves is not touched. With create_graph=True
    the results carry a graph, so they can be differentiated again, to any order.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, (Tensor, _ndarray, int, float)):
        if len(outputs) != 1:
            raise TypeError(f"grad: {len(outputs)} outputs need grad_outputs as a sequence, one "
                            f"gradient (or None) per output")
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    for i, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t._rg):
            raise RuntimeError(
                f"grad: input {i} does not require grad; pass tensors created with "
                f"requires_grad=True (or results computed from them)")
    roots, seeds = [], []
    for o, g in zip(outputs, grad_outputs):
        if not o._rg:
            raise RuntimeError(
                "grad: an output does not require grad and has no grad_fn; compute it from "
                "inputs with requires_grad=True, outside no_grad()")
        s = seed(o, g, "grad")
        if create_graph:  # a seed that requires grad is differentiated through (double VJP)
            s = (g if g.dtype == s.dtype else g.to(s.dtype)) if isinstance(g, Tensor) else Tensor(s)
        roots.append(o)
        seeds.append(s)
    if retain_graph is None:
        retain_graph = create_graph
    found = sweep(roots, seeds, retain_graph, create_graph, targets=inputs)
    res = []
    for i, t in enumerate(inputs):
        g = found.get(t)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} was not used to compute the outputs; pass "
                    f"allow_unused=True to get None for it")
            res.append(None)
        elif isinstance(g, Tensor):
            res.append(g)
        else:
            g = np.asarray(g)
            res.append(Tensor(g.copy() if g.base is not None else g))
    return tuple(res)
