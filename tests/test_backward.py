"""Graph semantics: shared subexpressions, accumulation, retain_graph, no_grad, detach, .data."""
import threading
import weakref

import numpy as np
import pytest

from autograd_mini import Tensor, is_grad_enabled, no_grad


def leaf(x):
    return Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


# -- shared subexpressions ---------------------------------------------------------------------

def test_reuse_a_times_a():
    a = leaf(3.0)
    (a * a).backward()
    assert a.grad == pytest.approx(6.0)  # both parents counted (micrograd's set loses one)


def test_reuse_x_plus_x_plus_x():
    x = leaf([1.0, 2.0])
    (x + x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_diamond():
    # y = x^2 feeds two branches u = 3y, v = y^3; z = u + v; dz/dx = (3 + 3y^2) * 2x
    x = leaf(2.0)
    y = x * x
    z = y * 3.0 + y ** 3
    z.backward()
    assert x.grad == pytest.approx((3 + 3 * 16) * 4)


def test_x_used_in_several_branches():
    # f = sin-free closed form: f = x*y + exp(x) + x/y, df/dx = y + exp(x) + 1/y, df/dy = x - x/y^2
    x, y = leaf(0.7), leaf(1.3)
    f = x * y + x.exp() + x / y
    f.backward()
    assert x.grad == pytest.approx(1.3 + np.exp(0.7) + 1 / 1.3)
    assert y.grad == pytest.approx(0.7 - 0.7 / 1.3 ** 2)


def test_deep_diamond_lattice():
    # x_{k+1} = x_k + x_k doubles the gradient at every level: 2^30 after 30 levels
    x = leaf(1.0)
    h = x
    for _ in range(30):
        h = h + h
    h.backward()
    assert x.grad == 2.0 ** 30


def test_nonleaf_used_twice_with_broadcast():
    x = leaf([[1.0], [2.0]])          # (2, 1)
    h = x * 2.0                       # non-leaf, used twice
    out = (h + h.T).sum()             # (2, 2): each h element appears in 2 + 2 entries
    out.backward()
    np.testing.assert_array_equal(x.grad, [[8.0], [8.0]])


# -- accumulation and retain_graph -------------------------------------------------------------

def test_accumulation_across_two_backward_calls():
    x = leaf([1.0, 2.0])
    (x * 3.0).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0 + 2.0, 3.0 + 4.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_retain_graph_allows_second_backward():
    x = leaf(2.0)
    y = (x * x).exp()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    np.testing.assert_allclose(first, 4.0 * np.exp(4.0))


def test_second_backward_without_retain_graph_raises():
    x = leaf(2.0)
    y = (x * x).sigmoid()
    y.backward()
    with pytest.raises(RuntimeError, match="second time") as info:
        y.backward()
    assert "retain_graph=True" in str(info.value)
    assert "sigmoid" in str(info.value)


def test_second_backward_through_shared_subgraph_raises():
    x = leaf([1.0, 2.0])
    h = x.exp()
    a, b = h.sum(), h.mean()
    a.backward()
    with pytest.raises(RuntimeError, match="second time"):
        b.backward()


def test_two_graphs_sharing_only_leaves_are_independent():
    x = leaf(3.0)
    (x * 2.0).backward()
    (x * 5.0).backward()  # a new graph: no error
    assert x.grad == pytest.approx(7.0)


# -- non-leaf grads, retain_grad, explicit grad ------------------------------------------------

def test_nonleaf_grad_is_none_by_default():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.sum().backward()
    assert h.grad is None
    assert x.grad is not None


def test_retain_grad_on_nonleaf():
    x = leaf([1.0, 2.0])
    h = x * 3.0
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * np.array([3.0, 6.0]))
    np.testing.assert_array_equal(x.grad, 2 * np.array([3.0, 6.0]) * 3.0)


def test_retain_grad_on_nonleaf_used_twice_and_accumulates():
    x = leaf(1.0)
    h = x * 2.0
    h.retain_grad()
    out = h * 3.0 + h * 4.0
    out.backward(retain_graph=True)
    assert h.grad == pytest.approx(7.0)
    out.backward()
    assert h.grad == pytest.approx(14.0)


def test_retain_grad_on_root():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_array_equal(y.grad, [1.0, -1.0])


def test_retain_grad_on_leaf_is_harmless():
    x = leaf(2.0)
    x.retain_grad()
    (x * x).backward()
    assert x.grad == pytest.approx(4.0)


def test_explicit_grad_for_non_scalar_output():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = x * x
    g = np.array([[1.0, 0.5], [0.0, -1.0]])
    y.backward(g)
    np.testing.assert_array_equal(x.grad, 2 * x.data * g)


def test_explicit_grad_as_tensor_and_list():
    x = leaf([1.0, 2.0])
    (x * 3.0).backward(Tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 6.0])
    x.zero_grad()
    (x * 3.0).backward([1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_one_element_non_scalar_output_seeds_with_one():
    x = leaf([[2.0]])
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [[4.0]])


def test_backward_on_leaf_itself():
    x = leaf(2.0)
    x.backward()
    assert x.grad == 1.0


def test_leaf_grads_are_independent_arrays():
    x, y = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    z = x + y
    z.backward(np.ones(2))
    x.grad *= 10  # in place
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])
    assert not np.shares_memory(x.grad, y.grad)


@pytest.mark.parametrize("make", [
    lambda x: x + 0.0, lambda x: x.reshape(2, 1), lambda x: x.T, lambda x: x[:], lambda x: x.sum(),
])
def test_leaf_grad_does_not_alias_user_grad_or_views(make):
    x = leaf([1.0, 2.0])
    out = make(x)
    g = np.ones(out.shape)
    out.backward(g)
    x.grad *= 5
    np.testing.assert_array_equal(g, np.ones(out.shape))  # the caller's array is untouched
    assert x.grad.flags.writeable and x.grad.shape == (2,)


def test_retained_grad_does_not_alias_leaf_grad():
    x = leaf([1.0, 2.0])
    h = x + 0.0
    h.retain_grad()
    h.sum().backward()
    h.grad *= 3
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])


# -- requires_grad propagation, grad_fn, is_leaf, repr -----------------------------------------

def test_requires_grad_propagation():
    a, b = leaf(1.0), Tensor(2.0)
    assert (a * b).requires_grad and (b * a).requires_grad
    assert not (b * b).requires_grad and (b * b).grad_fn is None
    assert (2.0 * a).requires_grad and not (2.0 * b).requires_grad
    assert not Tensor(1.0).requires_grad


def test_frozen_input_gets_no_grad():
    a, b = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    (a * b).sum().backward()
    assert b.grad is None
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])


def test_grad_fn_name_and_is_leaf():
    x = leaf([1.0, 2.0])
    assert x.is_leaf and x.grad_fn is None
    for expr, name in [(x + 1, "add"), (x - 1, "sub"), (1 - x, "sub"), (x * x, "mul"),
                       (x / 2, "div"), (x ** 2, "pow"), (x @ x, "matmul"), (-x, "neg"),
                       (x.exp(), "exp"), (x.log(), "log"), (x.sqrt(), "sqrt"), (abs(x), "abs"),
                       (x.sigmoid(), "sigmoid"), (x.tanh(), "tanh"), (x.relu(), "relu"),
                       (x.sum(), "sum"), (x.mean(), "mean"), (x.max(), "max"),
                       (x.softmax(), "softmax"), (x.log_softmax(), "log_softmax"),
                       (x.logsumexp(), "logsumexp"), (x.reshape(2, 1), "reshape"),
                       (x.T, "transpose"), (x[0], "getitem")]:
        assert expr.grad_fn.name == name
        assert not expr.is_leaf


def test_node_inputs_hold_tensors_and_constants():
    x = leaf([1.0, 2.0])
    y = x * 3.0
    assert y.grad_fn.inputs[0] is x and y.grad_fn.inputs[1] == 3.0


def test_graph_holds_no_reference_to_outputs():
    import gc
    import weakref
    x = leaf([1.0, 2.0])
    y = x.exp()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None


def test_repr():
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    x = leaf([1.0, 2.0])
    assert "requires_grad=True" in repr(x)
    y = x * 2
    assert "grad_fn=<mul>" in repr(y) and "2., 4." in repr(y)
    assert "float32" in repr(Tensor(np.ones(2, dtype=np.float32)))


def test_attributes():
    x = Tensor(np.zeros((2, 3)))
    assert x.shape == (2, 3) and x.ndim == 2 and x.numel() == 6 and x.dtype == np.float64
    assert isinstance(x.data, np.ndarray) and x.numpy() is x.data
    assert Tensor(2.5).item() == 2.5
    assert Tensor(1.0).dtype == np.float64 and Tensor([1.0, 2.0]).dtype == np.float64
    assert x.grad is None
    assert Tensor(Tensor([1.0])).shape == (1,)


# -- no_grad and detach ------------------------------------------------------------------------

def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp().sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    with pytest.raises(RuntimeError):
        y.backward()


def test_no_grad_nested_and_restored_after_exception():
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_no_grad_as_decorator():
    @no_grad()
    def f(t):
        """doc"""
        return t * 2

    y = f(leaf(1.0))
    assert not y.requires_grad and f.__doc__ == "doc"


def test_no_grad_is_thread_local():
    """A no_grad in one thread must not switch off recording in another."""
    inside, recorded = threading.Event(), threading.Event()
    result = {}

    def holder():
        with no_grad():
            result["holder"] = (leaf(1.0) * 2).requires_grad
            inside.set()
            recorded.wait(5)

    def worker():
        inside.wait(5)
        result["worker"] = (leaf(1.0) * 2).requires_grad
        recorded.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=worker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert result == {"holder": False, "worker": True}
    assert is_grad_enabled()


def test_no_grad_in_main_thread_does_not_affect_new_thread():
    result = {}
    with no_grad():
        t = threading.Thread(target=lambda: result.setdefault("r", (leaf(1.0) * 2).requires_grad))
        t.start()
        t.join(10)
    assert result["r"] is True


def test_detach():
    x = leaf([1.0, 2.0])
    h = x * 2
    d = h.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    np.testing.assert_array_equal(d.data, [2.0, 4.0])
    assert np.shares_memory(d.data, h.data)
    # gradient does not flow through the detached branch
    (h * d).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * d.data)


# -- tracked assignment to .data ---------------------------------------------------------------

def test_data_assignment_between_forward_and_backward_raises():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data = np.array([5.0, 6.0])
    with pytest.raises(RuntimeError, match="mul") as info:
        loss.backward()
    assert ".data" in str(info.value)


def test_augmented_data_assignment_raises():
    w = leaf([1.0, 2.0])
    x = Tensor([3.0, 4.0], requires_grad=True)  # x's gradient reads w
    loss = (x @ w).sigmoid()
    loss.backward(retain_graph=True)
    w.data -= 0.1 * w.grad   # Python turns this into w.data = w.data.__isub__(...)
    with pytest.raises(RuntimeError, match="matmul"):
        loss.backward()


def test_data_assignment_of_op_output_raises():
    x = leaf([1.0, 2.0])
    h = x.exp()
    out = (h * 2).sum()
    h.data = np.zeros(2)
    with pytest.raises(RuntimeError, match="data"):
        out.backward()


def test_data_assignment_before_forward_is_fine():
    w = leaf([1.0, 2.0])
    w.data = np.array([3.0, 4.0])
    w.data -= 1.0
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [4.0, 6.0])


def test_training_loop_pattern_with_data_update():
    w = leaf([1.0, -1.0])
    for _ in range(3):
        w.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        w.data -= 0.25 * w.grad  # after backward, before the next forward: fine
    np.testing.assert_allclose(w.data, np.array([1.0, -1.0]) * 0.5 ** 3)


def test_element_writes_are_not_tracked():
    """Documented limitation (API.md, as PyTorch's .data): element writes are NOT detected.

    The gradient then uses the mutated array. This test pins the behaviour so that a change to
    it is deliberate.
    """
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data[0] = 10.0
    loss.backward()  # no error
    np.testing.assert_array_equal(w.grad, [20.0, 4.0])


def test_backward_on_leaf_does_not_alias_callers_grad():
    x = leaf([1.0, 2.0])
    g = np.ones(2)
    x.backward(g)
    x.grad *= 3
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_failed_backward_leaves_no_partial_gradient_behind():
    # The stale-input error stops the sweep while another branch's node still waits with a
    # gradient; a later backward through that node must start from a clean slate.
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    k = Tensor(np.array([1.0, 2.0]))
    y = x * 2
    sa = y.exp().sum()
    loss = sa + (y * k).sum()
    k.data = k.data + 1  # invalidates the mul that saved k
    with pytest.raises(RuntimeError, match="mul"):
        loss.backward()
    x.grad = None
    (sa * 3).backward()
    np.testing.assert_allclose(x.grad, 3 * 2 * np.exp(2 * x.data), rtol=1e-12)


def test_zero_dim_leaf_grad_stays_an_ndarray_across_accumulation():
    x = Tensor(2.0, requires_grad=True)
    (x * 3).backward()
    (x * 3).backward()
    assert type(x.grad) is np.ndarray and x.grad.shape == () and x.grad == 6.0


# -- what a graph keeps after backward ------------------------------------------------------------

def _mlp_graph(keep_hidden):
    """loss of a 2-layer net on 64 x 100 arrays (51 kB each, above the kept size)."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((64, 100)))
    W1 = Tensor(rng.standard_normal((100, 100)) / 10, requires_grad=True)
    W2 = Tensor(rng.standard_normal((100, 1)) / 10, requires_grad=True)
    pre = x @ W1
    h = pre.tanh()
    loss = (h @ W2).sum()
    arrays = weakref.ref(pre._data), weakref.ref(h._data)
    return loss, (h if keep_hidden else None), arrays


def test_backward_frees_the_activations_nobody_holds():
    # the graph outlives backward while `loss` is held (e.g. in a training loop until the next
    # step returns); it must not keep every activation alive with it
    loss, _, (pre, h) = _mlp_graph(keep_hidden=False)
    assert pre() is not None and h() is not None  # alive before backward: the VJPs need them
    loss.backward()
    assert pre() is None and h() is None


def test_backward_keeps_the_activations_you_hold_and_draw_graph_shows_them():
    from autograd_mini import draw_graph
    loss, h, (pre, h_arr) = _mlp_graph(keep_hidden=True)
    loss.backward()
    assert h_arr() is h._data and pre() is None
    src = draw_graph(loss).source
    mean = f"mean {h._data.mean():.3g}"
    assert mean in src  # tanh's output: held, shown with its values
    assert src.count("values freed by backward") == 1  # the matmul's output: freed
    assert "(64, 100) float64" in src  # its shape is still drawn


def test_retain_graph_keeps_the_activations():
    loss, _, (pre, h) = _mlp_graph(keep_hidden=False)
    loss.backward(retain_graph=True)
    assert pre() is not None and h() is not None
    g = loss.grad_fn.inputs[0].grad_fn  # the graph still works for a second backward
    loss.backward()
    assert g is not None


def test_small_intermediate_values_stay_drawable_after_backward():
    from autograd_mini import draw_graph
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = ((x * 3).tanh()).sum()
    y.backward()
    assert "values freed" not in draw_graph(y).source
    assert "0.9951" in draw_graph(y).source  # tanh(3) of the intermediate, still shown


def test_a_tensor_freed_by_backward_refuses_new_data_with_the_reason():
    from autograd_mini import draw_graph
    loss, _, _ = _mlp_graph(keep_hidden=False)
    loss.backward()
    freed = loss.grad_fn.inputs[0].grad_fn.inputs[0]  # h = tanh(pre), in h @ W2's inputs
    assert freed.grad_fn.name == "tanh" and freed.shape == (64, 100)
    assert "values freed by backward" in draw_graph(loss).source
    with pytest.raises(RuntimeError, match="backward freed"):
        freed.data = np.zeros(freed.shape)
