"""Issue 21, the tape's and Tensor's core (API.md "PyTorch habits, round 3"): concurrent sweeps,
versions that belong to the array, in-place writes into the tensor's own array, edges decided
when an op is recorded, released stand-ins, version checks only where a VJP reads, x[i] = v.

Expected values come from PyTorch computed in the test, or from closed forms.
"""
import random
import sys
import threading

import numpy as np
import pytest

from autograd_mini import Tensor, draw_graph, enable_grad, grad, is_grad_enabled, no_grad
from autograd_mini import tape

torch = pytest.importorskip("torch")


def leaf(x):
    return Tensor(np.array(x, dtype=np.float64), requires_grad=True)


def tleaf(x):
    return torch.tensor(np.array(x, dtype=np.float64), requires_grad=True)


@pytest.fixture
def fast_switching():
    """Threads switch every microsecond, so that their sweeps interleave."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(n, work):
    """work(k) in n threads at once; the first exception of any thread is raised here."""
    errors, start = [], threading.Barrier(n)

    def body(k):
        try:
            start.wait()
            work(k)
        except BaseException as err:  # noqa: B036 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# -- item 1: concurrent sweeps over one graph ------------------------------------------------

def chain(x):
    """A graph of a few hundred ops with shared subexpressions (diamonds), ours or torch's."""
    h = x
    for k in range(60):
        a = h.tanh() * 0.9
        h = a + h.sin() * 0.1 + a * a * 0.05
    return h


def test_concurrent_grad_calls_on_one_graph_each_get_their_own_answer(fast_switching):
    x0 = np.linspace(-1, 1, 5)
    x = leaf(x0)
    y = chain(x)  # numpy ufuncs on Tensors dispatch to the engine's ops
    tx = tleaf(x0)
    ty = chain(tx)
    seeds = [np.random.default_rng(k).normal(size=5) for k in range(8)]
    want = [torch.autograd.grad(ty, tx, torch.tensor(s), retain_graph=True)[0].numpy()
            for s in seeds]
    got = [[] for _ in seeds]

    def work(k):
        for _ in range(6):
            (g,) = grad(y, x, grad_outputs=seeds[k], retain_graph=True)
            got[k].append(g.data)

    run_threads(len(seeds), work)
    for k, s in enumerate(seeds):
        for g in got[k]:
            np.testing.assert_allclose(g, want[k], rtol=1e-12)


def test_concurrent_backward_calls_with_retain_graph_sum_every_callers_gradient(fast_switching):
    x0 = np.linspace(-1, 1, 4)
    x = leaf(x0)
    y = chain(x).sum()
    tx = tleaf(x0)
    chain(tx).sum().backward()

    def work(k):
        for _ in range(5):
            y.backward(retain_graph=True)

    run_threads(6, work)
    np.testing.assert_allclose(x.grad, 30 * tx.grad.numpy(), rtol=1e-12)


def test_one_no_grad_instance_shared_by_threads():
    ng, inside = no_grad(), threading.Barrier(4)
    x = leaf([1.0, 2.0])
    seen = []

    def work(k):
        with ng:
            inside.wait()  # every thread is inside the same instance at once
            seen.append((is_grad_enabled(), (x * 2).requires_grad))
            inside.wait()
        seen.append((is_grad_enabled(), (x * 2).requires_grad))

    run_threads(4, work)
    assert sorted(seen) == [(False, False)] * 4 + [(True, True)] * 4


def test_no_grad_as_a_decorator_without_parentheses_and_nested_modes():
    @no_grad
    def double(t):
        """Doubles."""
        assert not is_grad_enabled()
        with enable_grad():
            assert is_grad_enabled()
        assert not is_grad_enabled()
        return t * 2

    y = double(leaf([1.0]))
    assert not y.requires_grad and y.grad_fn is None
    assert double.__name__ == "double" and double.__doc__ == "Doubles."
    assert is_grad_enabled()
    assert not no_grad()(lambda t: t * 2)(leaf([1.0])).requires_grad


# -- item 2: writes through an alias are caught ------------------------------------------------

def test_write_through_a_detached_alias_of_a_saved_output_raises_as_torch():
    x = leaf([0.5, 1.0])
    e = x.exp()
    e.detach().mul_(10)
    with pytest.raises(RuntimeError, match="'exp'"):
        e.backward(np.ones(2))
    te = tleaf([0.5, 1.0]).exp()
    te.detach().mul_(10)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        te.backward(torch.ones(2))


def test_write_through_a_tensor_made_from_a_tanh_output_raises():
    x = leaf([0.5, 1.0])
    s = x.tanh()
    Tensor(s).zero_()
    with pytest.raises(RuntimeError, match="'tanh'"):
        s.sum().backward()
    assert x.grad is None


@pytest.mark.parametrize("view", [lambda t: t.reshape(2, 2), lambda t: t.T,
                                  lambda t: t.reshape(4)[1:]])
def test_write_through_a_view_of_a_saved_array_raises(view):
    w = leaf(np.arange(4.0).reshape(2, 2) / 4)
    s = w.sigmoid()
    with no_grad():
        view(s).add_(1.0)
    with pytest.raises(RuntimeError, match="'sigmoid'"):
        s.sum().backward()


# -- item 3: in-place ops in grad mode write into the tensor's own array -----------------------

def test_in_place_in_grad_mode_is_seen_by_detached_results_and_views_as_torch():
    x, tx = leaf([1.0, 2.0, 3.0, 4.0]), tleaf([1.0, 2.0, 3.0, 4.0])
    outs = []
    for xx in (x, tx):
        h = xx * 2
        d, v = h.detach(), h.reshape(2, 2)
        h.mul_(3)
        h.add_(1)
        (h * h).sum().backward()
        outs.append((np.asarray(d.data if isinstance(d, Tensor) else d.numpy()),
                     np.asarray(v.data if isinstance(v, Tensor) else v.detach().numpy()),
                     np.asarray(xx.grad if isinstance(xx, Tensor) else xx.grad.numpy())))
    for ours, theirs in zip(*outs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_in_place_ops_whose_vjp_reads_the_old_values_get_torchs_gradient():
    ops = [lambda a, w: a.pow_(2), lambda a, w: a.clamp_(0, 2.5), lambda a, w: a.mul_(w),
           lambda a, w: a.div_(w)]
    for op in ops:
        x, w = leaf([1.0, 2.0, 3.0]), leaf([0.5, -1.0, 2.0])
        tx, tw = tleaf([1.0, 2.0, 3.0]), tleaf([0.5, -1.0, 2.0])
        a, ta = x * 1, tx * 1
        op(a, w)
        op(ta, tw)
        (a * Tensor([1.0, 2.0, 3.0])).sum().backward()
        (ta * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
        np.testing.assert_allclose(a.data, ta.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
        if tw.grad is not None:
            np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-12)


def test_in_place_on_a_read_only_array_says_so():
    h = leaf([1.0, 2.0]).reshape(1, 2).expand(3, 2)
    with pytest.raises(RuntimeError, match="read-only"):
        h.add_(1)


# -- item 10: requires_grad is decided when an op is recorded ----------------------------------

def test_requires_grad_set_after_recording_gives_no_gradient_from_that_graph():
    a, b = Tensor([1.0, 2.0]), leaf([3.0, 4.0])
    y = (a * b).sum()
    a.requires_grad = True
    y.backward()
    ta, tb = torch.tensor([1.0, 2.0]), tleaf([3.0, 4.0])
    ty = (ta * tb).sum()
    ta.requires_grad_(True)
    ty.backward()
    assert a.grad is None and ta.grad is None
    np.testing.assert_array_equal(b.grad, tb.grad.numpy())
    (a * b).sum().backward()  # a new graph sees it
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_requires_grad_set_after_recording_in_grad_and_create_graph():
    a, b = Tensor([1.0, 2.0]), leaf([3.0, 4.0])
    y = (a * b * b).sum()
    a.requires_grad = True
    with pytest.raises(RuntimeError, match="input 0 was not used"):
        grad(y, [a, b], retain_graph=True)
    (gb,) = grad(y, b, create_graph=True)
    np.testing.assert_array_equal(gb.data, [6.0, 16.0])  # 2 a b
    (ggb,) = grad(gb.sum(), b)
    np.testing.assert_array_equal(ggb.data, [2.0, 4.0])  # 2 a


# -- item 11: a released stand-in refuses to be read --------------------------------------------

def test_released_stand_in_raises_when_read_and_draw_graph_still_works():
    x = leaf(np.ones((40, 40)))
    loss = (x.exp().tanh() * 2).sum()
    loss.backward()
    stand_in = loss.grad_fn.inputs[0].grad_fn.inputs[0]
    assert isinstance(stand_in, tape.Released)
    assert stand_in.shape == (40, 40) and stand_in.dtype == np.float64
    for read in (lambda t: t.data, lambda t: t.numpy(), lambda t: np.asarray(t),
                 lambda t: t.sum(), lambda t: t + 1, repr):
        with pytest.raises(RuntimeError, match="freed"):
            read(stand_in)
    assert "(40, 40)" in draw_graph(loss).source


# -- item 13: a version check fires only where a VJP reads the saved array ----------------------

def test_a_write_to_an_array_no_vjp_reads_is_not_an_error_as_torch():
    x, tx = leaf([1.0, 2.0]), tleaf([1.0, 2.0])
    for xx in (x, tx):
        h = xx * 2
        s = h.sum()
        h.add_(1)
        s.backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())  # [2, 2]
    for op in (lambda t: t.reshape(2, 1), lambda t: t.T, lambda t: t + 1, lambda t: t.sum()):
        w = leaf([[1.0, 2.0]])
        y = op(w).sum()
        with no_grad():
            w.mul_(3)
        y.backward()
        np.testing.assert_array_equal(w.grad, [[1.0, 1.0]])


def test_changing_a_transposed_weight_names_the_op_whose_vjp_reads_it():
    w, x = leaf(np.ones((3, 2))), leaf(np.ones((4, 2)))
    y = (x @ w.T).sum()
    with no_grad():
        w -= 0.1
    with pytest.raises(RuntimeError, match="'matmul'") as info:
        y.backward()
    assert "transpose" not in str(info.value)


# -- item 19: x[index] = value -------------------------------------------------------------------

INDEXES = [  # shape, index, value: basic, integer array, boolean mask, mixed
    ((4,), 0, 5.0),
    ((4,), (slice(1, 3),), [7.0, 8.0]),
    ((4, 3), (Ellipsis, 1), 9.0),
    ((4, 3), (slice(None), slice(0, 2)), [1.0, -1.0]),
    ((4,), np.array([0, 2]), [4.0, 6.0]),
    ((4,), [3, 1], 2.5),
    ((4,), np.array([3, 1, 3]), [1.0, 2.0, 3.0]),
    ((4,), np.array([True, False, True, False]), 0.0),
    ((4, 3), np.array([[True, False, True]] * 4), [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]),
    ((4, 3), (np.array([0, 1]), slice(None)), [[1.0, 2.0, 3.0]]),
    ((4, 3), (np.array([0, 3]), np.array([2, 0])), [10.0, 20.0]),
]


def as_torch_index(idx):
    if isinstance(idx, tuple):
        return tuple(as_torch_index(i) for i in idx)
    return torch.as_tensor(idx) if isinstance(idx, (np.ndarray, list)) else idx


@pytest.mark.parametrize("shape, idx, value", INDEXES)
def test_setitem_on_a_non_leaf_records_torchs_gradients(shape, idx, value):
    x0 = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    v0 = np.asarray(value, dtype=np.float64)
    x, v, tx, tv = leaf(x0), leaf(v0), tleaf(x0), tleaf(v0)
    upstream = np.arange(np.prod(shape), dtype=np.float64).reshape(shape) - 2
    h, th = x * 1.5, tx * 1.5
    h[idx] = v * 2
    th[as_torch_index(idx)] = tv * 2
    np.testing.assert_array_equal(h.data, th.detach().numpy())
    (h * Tensor(upstream)).sum().backward()
    (th * torch.tensor(upstream)).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(v.grad, tv.grad.numpy())


@pytest.mark.parametrize("shape, idx, value", INDEXES)
def test_setitem_under_no_grad_writes_in_place_and_bumps_the_version(shape, idx, value):
    x0 = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    w, tw = leaf(x0), tleaf(x0)
    arr = w.data
    y = w.exp().sum()
    with no_grad():
        w[idx] = value
    with torch.no_grad():
        tw[as_torch_index(idx)] = torch.tensor(value, dtype=torch.float64)
    assert w.data is arr and w.is_leaf
    np.testing.assert_array_equal(w.data, tw.detach().numpy())
    y.backward()  # exp's gradient reads its output, not w: nothing stale (as torch)
    z = (w * w).sum()
    with no_grad():
        w[idx] = value
    with pytest.raises(RuntimeError, match="'mul'"):
        z.backward()


def test_setitem_refused_on_a_leaf_that_requires_grad_and_allowed_on_constants():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 3.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    c = Tensor(np.zeros(3))
    c[np.array([True, False, True])] = 1
    np.testing.assert_array_equal(c.data, [1.0, 0.0, 1.0])
    c[1] = w.sum()  # a value that requires grad: c becomes a recorded result, as torch
    assert c.grad_fn is not None
    c.sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])


def test_setitem_with_a_value_of_the_wrong_shape_is_a_shape_error():
    h = leaf(np.ones((2, 3))) * 1
    with pytest.raises(tape.ShapeError, match=r"\(2, 3\)"):
        h[0] = Tensor(np.ones(4))


# -- Tensor surface: size(), == None, non-numeric data ------------------------------------------

def test_size_is_torchs_method_and_numel_counts():
    x = Tensor(np.zeros((2, 3, 4)))
    t = torch.zeros(2, 3, 4)
    assert x.size() == tuple(t.size()) and x.size(1) == t.size(1) == 3
    assert x.size(-1) == 4 and x.numel() == t.numel() == 24


def test_comparing_with_none_is_pythons_answer():
    x = Tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert (torch.tensor([1.0]) == None) is False  # noqa: E711


@pytest.mark.parametrize("data", ["hello", None, b"ab", np.array([object(), 1]),
                                  [None, 1.0], np.array(["a", "b"])])
def test_non_numeric_data_is_a_type_error_at_once(data):
    with pytest.raises(TypeError, match="numeric"):
        Tensor(data)


# -- the randomized test: many threads, every alias kind ----------------------------------------

ALIASES = {  # (ours, torch's): a tensor sharing the array of t
    "detach": (lambda t: t.detach(), lambda t: t.detach()),
    "Tensor(t)": (lambda t: Tensor(t), lambda t: t.detach()),
    "reshape": (lambda t: t.reshape(-1), lambda t: t.reshape(-1)),
    "transpose": (lambda t: t.T, lambda t: t.T),
    "itself": (lambda t: t, lambda t: t),
}
WRITES = {
    "mul_": lambda a: a.mul_(3),
    "add_": lambda a: a.add_(1),
    "zero_": lambda a: a.zero_(),
    "setitem": lambda a: a.__setitem__(0, 0.25),
    "fill_": lambda a: a.fill_(2),
}
READERS = {  # y -> loss; whether its VJP reads y's values
    "sum": (lambda y: y.sum(), False),
    "square": (lambda y: (y * y).sum(), True),
    "reshape-sum": (lambda y: y.reshape(-1).sum(), False),
    "sin": (lambda y: y.sin().sum(), True),
}


def one_case(rng):
    """A random graph, a write through a random alias, and whether backward raised and the
    gradient, for ours and torch's."""
    x0 = rng.normal(size=(2, 3))
    alias = rng.choice(sorted(ALIASES))
    write = rng.choice(sorted(WRITES))
    reader = rng.choice(sorted(READERS))
    through_grad_mode = rng.random() < 0.5
    res = []
    for k, make in enumerate((leaf, tleaf)):
        x = make(x0)
        y = x.tanh() * 1.0
        loss = READERS[reader][0](y)
        a = ALIASES[alias][k](y)
        if not through_grad_mode:
            with (no_grad() if k == 0 else torch.no_grad()):
                WRITES[write](a)
        else:
            WRITES[write](a)
        try:
            loss.backward()
            res.append(np.asarray(x.grad if k == 0 else x.grad.numpy()))
        except RuntimeError:
            res.append("raised")
    return (alias, write, reader), res


def test_randomized_aliases_under_many_threads_against_torch(fast_switching):
    failures = []

    def work(k):
        rng = random.Random(k)
        nrng = np.random.default_rng(k)

        class R:
            choice = staticmethod(rng.choice)
            random = staticmethod(rng.random)
            normal = staticmethod(nrng.normal)

        for _ in range(25):
            case, (ours, theirs) = one_case(R)
            if isinstance(ours, str) or isinstance(theirs, str):
                if not (isinstance(ours, str) and isinstance(theirs, str)):
                    failures.append((case, ours, theirs))
            elif not np.allclose(ours, theirs, rtol=1e-12):
                failures.append((case, ours, theirs))

    run_threads(8, work)
    assert not failures, failures[:3]
