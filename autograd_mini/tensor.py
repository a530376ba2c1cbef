"""Tensor, the tape (one `Node` per recorded op) and the reverse sweep of `backward`.

The graph has no reference cycles: a Tensor points to the Node that made it (`grad_fn`), a Node
points to its input Tensors and to its VJP closures, and never back to its output. Python's
reference counting therefore frees a graph as soon as the last tensor of it is dropped.
"""
import contextvars
import heapq
import itertools
import weakref

import numpy as np

_grad_enabled = contextvars.ContextVar("autograd_mini_grad_enabled", default=True)

# One counter numbers the recorded ops and the assignments to `.data`. Ops are numbered in the
# order they run, which is a topological order of the graph: backward replays them by
# decreasing number. A tensor remembers the number of its last assignment, so "was an input of
# this op reassigned after the op saved it?" is one integer comparison at backward time.
_counter = itertools.count(1)


class no_grad:
    """Context manager (and decorator) in which no op is recorded. Thread- and task-safe."""

    __slots__ = ("_tokens",)

    def __init__(self):
        self._tokens = []

    def __enter__(self):
        self._tokens.append(_grad_enabled.set(False))

    def __exit__(self, *exc):
        _grad_enabled.reset(self._tokens.pop())

    def __call__(self, fn):
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


def is_grad_enabled():
    return _grad_enabled.get()


class Node:
    """One recorded op: its name, its inputs (Tensors or constants) and one VJP per input.

    Made only by `_result`, which builds the op's output Tensor and its Node together.
    """

    __slots__ = ("name", "inputs", "vjps", "seq", "retained", "g")
    # vjps: None once backward released the saved arrays; STALE, see Tensor.data
    # seq: creation number, see _counter; retained: weakref to the output, for retain_grad()
    # g: the output's gradient, summed over consumers during a backward sweep

    def __repr__(self):
        return f"<{self.name}>"


def _result(out, name=None, inputs=None, vjps=None):
    """An op's output as a Tensor, recorded with a new Node when `name` is given.

    Written out rather than through __init__s: this runs once per op, the tape's hot path.
    """
    t = _new(Tensor)
    t._data = out if type(out) is _ndarray else np.asarray(out)
    t.grad, t._version, t.name = None, 0, None
    if name is None:
        t.requires_grad, t.grad_fn = False, None
        return t
    node = _new(Node)
    node.name, node.inputs, node.vjps, node.seq = name, inputs, vjps, next(_counter)
    node.retained = node.g = None
    t.requires_grad, t.grad_fn = True, node
    return t


class Tensor:
    """An ndarray that records the ops applied to it, so that `backward()` can replay their VJPs.

    Assigning to `.data` (including `t.data -= ...`) is tracked: a backward through an op that
    saved the old array raises RuntimeError. Writing elements of the raw array (`t.data[0] = v`)
    is not tracked, as with PyTorch's `.data`.
    """

    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_version", "name", "__weakref__")
    __array_ufunc__ = None  # ndarray (op) Tensor defers to Tensor's reflected operators

    def __init__(self, data, requires_grad=False, dtype=None):
        if isinstance(data, Tensor):
            data = data._data
        data = np.asarray(data, dtype=dtype)
        if requires_grad and data.dtype.kind not in "fc":
            raise TypeError(
                f"Tensor: only floating point tensors can require gradients, got dtype "
                f"{data.dtype}; pass float data or dtype=np.float64 (or np.float32)")
        self._data = data
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self._version = 0
        self.name = None  # a parameter's dotted name, set by nn.Module, shown by draw_graph

    # -- the array and its metadata ------------------------------------------------------------
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, value):
        if type(value) is not _ndarray:
            value = value._data if isinstance(value, Tensor) else np.asarray(value)
        self._version = next(_counter)
        if self.grad_fn is not None:
            self.grad_fn.vjps = STALE  # the op may have saved its output: its VJPs are void
        self._data = value

    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    size = property(lambda self: self._data.size)
    is_leaf = property(lambda self: self.grad_fn is None)

    def __len__(self):
        return len(self._data)

    def item(self):
        return self._data.item()

    def numpy(self):
        return self._data

    def detach(self):
        """A new leaf sharing this tensor's array, cut from the graph."""
        return Tensor(self._data)

    def zero_grad(self):
        self.grad = None

    def retain_grad(self):
        """Keep `.grad` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if self.grad_fn is not None:
            self.grad_fn.retained = weakref.ref(self)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = ""
        if self._data.dtype != np.float64:
            extra += f", dtype={self._data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{self.grad_fn.name}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        return bool(self._data)

    # -- backward ------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf), contracted with `grad`, into `.grad` of every leaf.

        `grad` defaults to 1 for a one-element tensor and is required otherwise.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward: this tensor does not require grad and has no grad_fn; create the "
                "inputs with requires_grad=True (and not under no_grad()) to get gradients")
        data = self._data
        if grad is None:
            if data.size != 1:
                raise ValueError(
                    f"backward: grad can be implicitly created only for one-element outputs, "
                    f"but the output has shape {data.shape}; call .sum() first or pass "
                    f"grad= an array of shape {data.shape}")
            grad = np.ones(data.shape, data.dtype)  # ones_like's Python layer costs 2 us
        else:
            grad = np.asarray(grad._data if isinstance(grad, Tensor) else grad, dtype=data.dtype)
            if grad.shape != data.shape:
                raise ValueError(
                    f"backward: grad has shape {grad.shape} but the output has shape "
                    f"{data.shape}; pass a grad of the output's shape")
        if self.grad_fn is None:
            _accumulate_leaf(self, grad, grad)  # grad may be the caller's array: copy it
        else:
            _backward(self.grad_fn, grad, retain_graph)


def _accumulate_leaf(t, g, upstream):
    if type(g) is not _ndarray:
        g = np.asarray(g)  # ops on 0-d arrays give numpy scalars; .grad is always an ndarray
    if t.grad is None:
        # .grad must own its memory: g may be a view, or an array also routed elsewhere.
        t.grad = g.copy() if (g is upstream or g.base is not None) else g
    else:
        total = t.grad + g
        t.grad = total if type(total) is _ndarray else np.asarray(total)


def _unbroadcast(g, shape):
    """Sum `g` over the axes that broadcasting added or stretched, down to `shape`."""
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


STALE = "stale"
_new = object.__new__
_ndarray = np.ndarray


def _stale(node):
    return RuntimeError(
        f"backward: an array saved by op '{node.name}' was replaced by an assignment to .data "
        f"after the op was recorded, so its gradient would be wrong; run the forward pass again "
        f"after changing .data (e.g. after optimizer.step())")


def _dead(node):
    if node.vjps is STALE:
        return _stale(node)
    return RuntimeError(
        f"backward: trying to backward through the graph a second time (op '{node.name}'): "
        f"its saved arrays were freed by the first backward; pass retain_graph=True to the "
        f"first backward call if you need to call it twice")


def _backward(root, seed, retain_graph):
    # Ops run in increasing `seq`, so every consumer of a node has a larger seq than the node.
    # Popping the largest seq first therefore reaches a node only after all the consumers that
    # pass it a gradient (the order PyTorch's engine uses). A node enters the heap with its
    # first gradient contribution; later ones are summed into node.g.
    root.g = seed
    heap = [(-root.seq, root)]
    pop, push = heapq.heappop, heapq.heappush
    try:
        while heap:
            node = pop(heap)[1]
            g, node.g = node.g, None
            vjps = node.vjps
            if type(vjps) is not tuple:
                raise _dead(node)
            if node.retained is not None:
                t = node.retained()
                if t is not None:
                    _accumulate_leaf(t, g, g)  # g may also flow on to other nodes: copy it
            seq = node.seq
            for t, vjp in zip(node.inputs, vjps):
                if not isinstance(t, Tensor):
                    continue
                if t._version > seq:
                    raise _stale(node)
                if not t.requires_grad:
                    continue  # frozen tensors: skip their VJP entirely
                gt = vjp(g)
                data = t._data
                if gt.shape != data.shape:
                    gt = _unbroadcast(gt, data.shape)
                if gt.dtype is not data.dtype and gt.dtype != data.dtype:
                    gt = gt.astype(data.dtype)
                fn = t.grad_fn
                if fn is None:
                    _accumulate_leaf(t, gt, g)
                elif fn.g is None:
                    fn.g = gt
                    push(heap, (-fn.seq, fn))
                else:
                    fn.g = fn.g + gt
            if not retain_graph:
                node.vjps = None
    except BaseException:
        for _, node in heap:  # leave no half-summed gradient behind for the next backward
            node.g = None
        raise
