"""Issue 10 / API.md "PyTorch names and semantics (version 2)": one regression test per item.

Every expected value is independent of the engine: a closed form written out with numpy,
central differences (conftest), or PyTorch's documented behaviour written out by hand.
"""
import inspect
import threading

import numpy as np
import pytest

from autograd_mini import Tensor, no_grad
from autograd_mini import functional as F
from autograd_mini.primitives import OPS, primitive

from conftest import check_grads


def leaf(x, dtype=np.float64):
    return Tensor(np.array(x, dtype=dtype), requires_grad=True)


# -- #5: integer tensors never require grad ------------------------------------------------------

def test_5_requires_grad_on_integer_tensor_raises_TypeError():
    t = Tensor([1, 2, 3])
    with pytest.raises(TypeError, match="floating point"):
        t.requires_grad = True
    assert t.requires_grad is False


def test_5_integer_data_into_float_param_raises_TypeError():
    param = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="floating point"):
        param.data = np.array([1, 2])
    np.testing.assert_array_equal(param.data, [1.0, 2.0])
    assert param.dtype == np.float64


# -- #6: detach() and Tensor(t) share the array and its version ---------------------------------

@pytest.mark.parametrize("cut", [lambda w: w.detach(), lambda w: Tensor(w)],
                         ids=["detach", "Tensor"])
def test_6_update_of_detached_source_makes_backward_raise(cut):
    x, w = leaf([3.0, 4.0]), leaf([1.0, 2.0])
    c = cut(w)
    assert np.shares_memory(c.data, w.data)
    y = (x * c).sum()
    with no_grad():
        w -= 1
    with pytest.raises(RuntimeError, match="mul"):
        y.backward()
    assert x.grad is None


def test_6_optimizer_step_on_detached_source_makes_backward_raise():
    import nn
    x, w = leaf([3.0, 4.0]), leaf([1.0, 2.0])
    y = (x * w.detach()).sum()
    w.grad = np.ones(2)
    nn.optim.SGD([w], lr=0.5).step()
    with pytest.raises(RuntimeError, match="mul"):
        y.backward()


# -- #7: comparisons ---------------------------------------------------------------------------

def test_7_comparisons_are_elementwise_bool_without_grad():
    a, b = leaf([1.0, 2.0, 3.0]), Tensor([1.0, 0.0, 4.0])
    expected = {"==": [True, False, False], "!=": [False, True, True],
                "<": [False, False, True], "<=": [True, False, True],
                ">": [False, True, False], ">=": [True, True, False]}
    got = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}
    for op, r in got.items():
        assert isinstance(r, Tensor) and r.dtype == np.bool_, op
        assert not r.requires_grad and r.grad_fn is None, op
        np.testing.assert_array_equal(r.data, expected[op], err_msg=op)
    # a scalar or an ndarray on either side
    np.testing.assert_array_equal((a == 2.0).data, [False, True, False])
    np.testing.assert_array_equal((2.0 < a).data, [False, False, True])
    np.testing.assert_array_equal((np.array([1.0, 5.0, 3.0]) == a).data, [True, False, True])
    # the accuracy idiom
    assert (Tensor([0, 1, 2]) == Tensor([0, 1, 1])).float().mean().item() == pytest.approx(2 / 3)


def test_7_tensors_stay_hashable_by_identity():
    a, b = Tensor([1.0, 2.0]), Tensor([1.0, 2.0])
    assert len({a, b, a}) == 2
    d = {a: "a", b: "b"}
    assert d[a] == "a" and d[b] == "b"


# -- #8: transpose, max(dim), amax/amin, argmax/argmin ------------------------------------------

def test_8_transpose_swaps_two_axes():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Tensor(x).transpose(0, 1).data, x.T)
    y = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Tensor(y).transpose(0, 2).data, np.swapaxes(y, 0, 2))
    np.testing.assert_array_equal(Tensor(y).transpose(-1, 1).shape, (2, 4, 3))


def test_8_max_dim_returns_values_and_indices_gradient_to_selected_index():
    # row 0 ties at indices 1 and 2; PyTorch's max(dim) sends the gradient to one index only,
    # the one argmax picks (the first here)
    data = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    x = leaf(data)
    r = x.max(1)
    assert r._fields == ("values", "indices")
    assert r[0] is r.values and r[1] is r.indices
    np.testing.assert_array_equal(r.values.data, [3.0, 2.0])
    np.testing.assert_array_equal(r.indices.data, [1, 0])
    assert r.indices.dtype == np.int64 and not r.indices.requires_grad
    (r[0] * Tensor([10.0, 20.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 10, 0], [20, 0, 0]])

    x = leaf(data)
    values, indices = x.min(dim=1, keepdim=True)
    np.testing.assert_array_equal(values.data, [[1.0], [0.0]])
    np.testing.assert_array_equal(indices.data, [[0], [1]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[1, 0, 0], [0, 1, 0]])


def test_8_amax_amin_split_ties_equally():
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    x = leaf(data)
    np.testing.assert_array_equal(x.amax(1).data, [3.0, 2.0])
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    x = leaf([[1.0, 1.0, 3.0], [0.0, 5.0, 0.0]])
    np.testing.assert_array_equal(x.amin(dim=1).data, [1.0, 0.0])
    x.amin(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5, 0], [0.5, 0, 0.5]])
    # the full max without dim splits ties too (PyTorch's max() of all elements)
    x = leaf([4.0, 1.0, 4.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.5, 0, 0.5])


def test_8_argmax_argmin_are_integer_tensors():
    x = Tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]])
    for r, want in [(x.argmax(1), [1, 0]), (x.argmin(dim=1), [0, 1]), (x.argmax(), 3),
                    (x.argmin(), 4), (x.argmax(axis=0, keepdims=True), [[1, 0, 1]])]:
        assert isinstance(r, Tensor) and r.dtype == np.int64 and not r.requires_grad
        np.testing.assert_array_equal(r.data, want)


# -- #10: dtype promotion ----------------------------------------------------------------------

def test_10_float32_stays_float32_with_numpy_scalars_and_0d_tensors():
    x32 = leaf([1.0, 4.0], np.float32)
    d = 4
    cases = {"x32 / np.sqrt(d)": lambda: x32 / np.sqrt(d),
             "x32 * Tensor(2.0)": lambda: x32 * Tensor(2.0),
             "np.float64(2) * x32": lambda: np.float64(2) * x32,
             "Tensor(2.0) - x32": lambda: Tensor(2.0) - x32,
             "x32 * 2.0": lambda: x32 * 2.0}
    for name, f in cases.items():
        assert f().dtype == np.float32, name
    np.testing.assert_array_equal((x32 / np.sqrt(d)).data, np.array([0.5, 2.0], np.float32))


def test_10_gradient_of_0d_float64_tensor_stays_float64():
    x32 = leaf([1.0, 4.0], np.float32)
    s = leaf(2.0)
    y = x32 * s
    assert y.dtype == np.float32
    y.sum().backward()
    assert s.grad.dtype == np.float64 and s.grad.shape == ()
    assert s.grad == 5.0  # d/ds sum(x * s) = sum(x)
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad, [2.0, 2.0])


def test_10_two_float_tensors_with_dimensions_give_the_wider_dtype():
    x32, x64 = Tensor(np.ones(2, np.float32)), Tensor(np.ones(2))
    assert (x32 + x64).dtype == np.float64
    assert (x64 * x32).dtype == np.float64
    assert (Tensor(np.ones(1, np.float32)) * x64).dtype == np.float64  # 1-d is not 0-d


# -- #11: pow at zero --------------------------------------------------------------------------

def test_11_x_pow_0_at_0_has_gradient_0():
    x = leaf([0.0, 2.0])
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    x = leaf([0.0, 2.0])
    (x ** Tensor(0.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_11_zero_pow_y_has_exponent_gradient_0():
    y = leaf([0.5, 2.0])
    (Tensor([0.0, 0.0]) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0])
    y = leaf([0.5, 2.0])
    (0.0 ** y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0])


# -- #12: concurrent backward passes -----------------------------------------------------------

def test_12_four_threads_of_50_backwards_accumulate_exactly():
    w = leaf(np.zeros(3))

    def run():
        for _ in range(50):
            (w * 1.0 + 0.0).sum().backward()  # each pass contributes exactly 1 per element

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    np.testing.assert_array_equal(w.grad, [200.0, 200.0, 200.0])


# -- #13: stale graphs -------------------------------------------------------------------------

def test_13_stale_error_before_any_leaf_gets_a_gradient_naming_the_op():
    a, b = leaf([0.5, 1.0]), leaf([2.0, 3.0])
    w = Tensor([1.0, -1.0])
    # the b path is visited first (it was recorded last); the stale one is a's sin, whose
    # gradient cos(a) reads a (v3: only an array a VJP reads is checked)
    loss = (a.sin() * 2).sum() + (b.exp() * w).sum().sigmoid() * 3
    a.data = np.array([7.0, 8.0])
    with pytest.raises(RuntimeError, match="'sin'") as info:
        loss.backward()
    assert "mul" not in str(info.value) and "sigmoid" not in str(info.value)
    assert a.grad is None and b.grad is None


# -- in-place idioms ---------------------------------------------------------------------------

def test_inplace_on_leaf_with_grad_mode_raises_mentioning_no_grad():
    w = leaf([1.0, 2.0])
    (w * w).sum().backward()
    with pytest.raises(RuntimeError, match="no_grad"):
        w -= 0.1 * w.grad
    for name, args in [("add_", (1.0,)), ("sub_", (1.0,)), ("mul_", (2.0,)), ("div_", (2.0,)),
                       ("zero_", ()), ("fill_", (3.0,)), ("copy_", (Tensor([5.0, 6.0]),)),
                       ("clamp_", (0.0, 1.5))]:
        with pytest.raises(RuntimeError, match="no_grad"):
            getattr(w, name)(*args)
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    assert w.is_leaf and w.requires_grad


def test_inplace_under_no_grad_updates_the_array_and_makes_old_graphs_stale():
    w = leaf([1.0, 2.0])
    old = (w * w).sum()
    old.backward(retain_graph=True)
    arr = w.data
    with no_grad():
        w -= 0.25 * w.grad
    assert w.data is arr and w.is_leaf and w.requires_grad and w.grad_fn is None
    np.testing.assert_array_equal(w.data, [0.5, 1.0])
    with pytest.raises(RuntimeError, match="mul"):
        old.backward()


@pytest.mark.parametrize("name, args, expected", [
    ("add_", (1.0,), [2.0, -1.0, 4.0]), ("sub_", (Tensor([1.0, 1.0, 1.0]),), [0.0, -3.0, 2.0]),
    ("mul_", (2.0,), [2.0, -4.0, 6.0]), ("div_", (2.0,), [0.5, -1.0, 1.5]),
    ("zero_", (), [0.0, 0.0, 0.0]), ("fill_", (7.0,), [7.0, 7.0, 7.0]),
    ("copy_", (Tensor([4.0, 5.0, 6.0]),), [4.0, 5.0, 6.0]),
    ("clamp_", (-1.0, 2.5), [1.0, -1.0, 2.5]),
])
def test_inplace_methods_under_no_grad(name, args, expected):
    w = leaf([1.0, -2.0, 3.0])
    arr = w.data
    y = (w * w).sum()
    with no_grad():
        assert getattr(w, name)(*args) is w
    assert w.data is arr
    np.testing.assert_array_equal(w.data, expected)
    with pytest.raises(RuntimeError, match="mul"):
        y.backward()


def test_inplace_on_nonleaf_is_recorded():
    x = leaf([1.0, 2.0, -3.0])
    h = x * 2
    h += 1
    assert h.grad_fn is not None
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0])
    # h = (2x + 1) * 3x = 6x^2 + 3x, so dh/dx = 12x + 3
    x = leaf([1.0, 2.0, -3.0])
    h = x * 2
    h += 1
    h *= x * 3
    h.sum().backward()
    np.testing.assert_allclose(x.grad, 12 * x.data + 3)


@pytest.mark.parametrize("name, args, dh", [
    ("zero_", (), [0.0, 0.0, 0.0]), ("fill_", (5.0,), [0.0, 0.0, 0.0]),
    ("copy_", (Tensor([1.0, 1.0, 1.0]),), [0.0, 0.0, 0.0]),
    ("clamp_", (0.0, 3.0), [1.0, 0.0, 1.0]),  # h = 2x = [2, -4, 3]: inside, below, at max
])
def test_overwriting_inplace_ops_on_nonleaf_cut_the_gradient(name, args, dh):
    # PyTorch: the old values get gradient 0 where they were overwritten
    x = leaf([1.0, -2.0, 1.5])
    h = x * 2
    getattr(h, name)(*args)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * np.array(dh))


def test_copy_and_fill_route_the_gradient_to_the_source():
    v = leaf(2.0)
    c = Tensor(np.zeros(3))
    c.copy_(v * 1.0)  # broadcast to c's shape: d/dv sum(c) = 3
    c.sum().backward()
    assert c.requires_grad and v.grad == 3.0


def test_inplace_on_nonleaf_keeps_shape_and_dtype():
    x = leaf([1.0, 2.0], np.float32)
    h = x * 2
    h += Tensor(np.ones(2))  # float64 operand: h stays float32, as PyTorch
    assert h.dtype == np.float32
    h.sum().backward()
    assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match="shape"):
        h += Tensor(np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="shape"), no_grad():
        h += Tensor(np.ones((3, 2)))
    assert h.shape == (2,)


def test_inplace_on_nonleaf_with_a_detached_alias():
    # the detached tensor shares the array (v3, as torch: it sees the write); the in-place op
    # must not make its own node stale
    x = leaf([1.0, 2.0])
    h = x * 2
    d = h.detach()
    h += 1
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    np.testing.assert_array_equal(d.data, [3.0, 5.0])


def test_inplace_on_nonleaf_used_before_keeps_that_graphs_edge():
    # z consumed h before h changed: its gradient follows the edge recorded then (h = x * 2),
    # not h's new grad_fn; h * 3 does not read h's values, so nothing is stale (torch: [6, 6])
    x = leaf([1.0, 2.0])
    h = x * 2
    z = (h * 3).sum()
    h *= 5
    z.backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    u = leaf([1.0, 2.0])
    k = u * 2
    z = (k * k).sum()  # reads k's values: stale once k is changed in place
    k *= 5
    with pytest.raises(RuntimeError, match="mul"):
        z.backward()


# -- dim / keepdim and axis / keepdims ---------------------------------------------------------

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min,
              "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis,
                                                                   keepdims=keepdims))}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_dim_keepdim_and_axis_keepdims(name):
    a = np.arange(6.0).reshape(2, 3) / 4
    ref = REDUCTIONS[name](a, axis=1, keepdims=True)
    f = getattr(Tensor(a), name)
    for r in (f(dim=1, keepdim=True), f(axis=1, keepdims=True), f(1, True),
              getattr(F, name)(Tensor(a), dim=1, keepdim=True)):
        np.testing.assert_allclose(r.data, ref)
    with pytest.raises(TypeError, match="both"):
        f(dim=1, axis=1)
    with pytest.raises(TypeError, match="both"):
        f(1, keepdim=True, keepdims=True)


def test_dim_keywords_of_max_min_argmax_argmin_softmax():
    a = np.array([[1.0, 3.0, 2.0], [0.5, -1.0, 4.0]])
    x = Tensor(a)
    for name, ref in [("max", a.max(0, keepdims=True)), ("min", a.min(0, keepdims=True))]:
        f = getattr(x, name)
        np.testing.assert_array_equal(f(dim=0, keepdim=True).values.data, ref)
        np.testing.assert_array_equal(f(axis=0, keepdims=True).values.data, ref)
        with pytest.raises(TypeError):
            f(dim=0, axis=0)
    for name, ref in [("argmax", a.argmax(1)), ("argmin", a.argmin(1))]:
        np.testing.assert_array_equal(getattr(x, name)(dim=1).data, ref)
        np.testing.assert_array_equal(getattr(x, name)(axis=1).data, ref)
        with pytest.raises(TypeError):
            getattr(x, name)(dim=1, axis=1)
    e = np.exp(a - a.max(0))
    sm = e / e.sum(0)
    for name, ref in [("softmax", sm), ("log_softmax", np.log(sm))]:
        np.testing.assert_allclose(getattr(x, name)(dim=0).data, ref)
        np.testing.assert_allclose(getattr(x, name)(axis=0).data, ref)
        np.testing.assert_allclose(getattr(F, name)(x, dim=0).data, ref)
        with pytest.raises(TypeError):
            getattr(x, name)(dim=0, axis=0)


# -- permute, .mT, casts, conversions, method forms -------------------------------------------

def test_permute_and_mT():
    a = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(Tensor(a).permute(2, 0, 1).data, np.transpose(a, (2, 0, 1)))
    np.testing.assert_array_equal(Tensor(a).permute((1, 2, 0)).data, np.transpose(a, (1, 2, 0)))
    np.testing.assert_array_equal(Tensor(a).mT.data, np.swapaxes(a, -1, -2))
    np.testing.assert_array_equal(Tensor(a).T.data, np.transpose(a, (2, 1, 0)))
    check_grads(lambda t: t.permute(2, 0, 1) * Tensor(np.arange(24.0).reshape(4, 2, 3)), a)
    check_grads(lambda t: t.mT, a)


def test_casts():
    x = leaf([1.5, -2.5])
    for t, dtype in [(x.float(), np.float32), (x.double(), np.float64), (x.long(), np.int64),
                     (x.int(), np.int32), (x.bool(), np.bool_), (x.to(np.float32), np.float32),
                     (x.to("float32"), np.float32), (x.type(np.float32), np.float32),
                     (x.to("cpu"), np.float64), (x.to(Tensor(np.ones(1, np.float32))), np.float32),
                     (x.to("cpu", np.float32), np.float32)]:
        assert t.dtype == dtype
    np.testing.assert_array_equal(x.long().data, [1, -2])  # truncation toward 0, as PyTorch
    np.testing.assert_array_equal(x.bool().data, [True, True])
    assert not x.long().requires_grad
    assert x.double() is x and x.to("cpu") is x  # no cast needed: the tensor itself
    y = x.float()  # float to float is differentiable
    (y * Tensor(np.array([2.0, 3.0], np.float32))).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 3.0])
    with pytest.raises(RuntimeError, match="cpu"):
        x.to("cuda")


def test_conversions_to_numpy_and_python():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    arr = np.asarray(Tensor(a))
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    np.testing.assert_array_equal(arr, a)
    assert np.asarray(leaf([1.0, 2.0])).dtype == np.float64
    assert float(Tensor([[2.5]])) == 2.5 and int(Tensor(3.7)) == 3 and bool(Tensor([0.0])) is False
    assert float(leaf(1.5)) == 1.5
    assert Tensor(np.zeros((2, 3))).numel() == 6 and Tensor(2.0).numel() == 1


def test_scalar_conversions_of_several_elements_raise():
    t = Tensor([1.0, 2.0])
    for f in (bool, float, int, lambda t: t.item()):
        with pytest.raises(RuntimeError, match="2 elements"):
            f(t)
    with pytest.raises(ValueError):  # numpy's habit: bool(array) raises ValueError
        bool(t)
    with pytest.raises(RuntimeError):
        if Tensor([1.0, 2.0]) == Tensor([1.0, 2.0]):
            pass
    assert (Tensor([1.0, 2.0]) == Tensor([1.0, 2.0])).all()
    assert not (Tensor([1.0, 2.0]) == Tensor([1.0, 3.0])).all()
    assert (Tensor([1.0, 2.0]) == Tensor([1.0, 3.0])).any()


def test_method_forms_of_the_operators():
    a, b = np.array([1.0, 2.0, 4.0]), np.array([0.5, 3.0, -1.0])
    x, y = Tensor(a), Tensor(b)
    np.testing.assert_array_equal(x.add(y).data, a + b)
    np.testing.assert_array_equal(x.sub(y).data, a - b)
    np.testing.assert_array_equal(x.mul(y).data, a * b)
    np.testing.assert_array_equal(x.div(y).data, a / b)
    np.testing.assert_array_equal(x.pow(2).data, a ** 2)
    np.testing.assert_array_equal(x.neg().data, -a)
    np.testing.assert_array_equal(x.matmul(y).data, a @ b)
    check_grads(lambda x, y: x.add(y).mul(y).sub(x.pow(2)).div(y.neg().matmul(y)), a, b)


def test_iteration_len_and_repr():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert len(rows) == 2 == len(x)
    np.testing.assert_array_equal(rows[1].data, [3.0, 4.0])
    sum(r.sum() for r in rows).backward()  # rows are differentiable, as PyTorch's unbind
    np.testing.assert_array_equal(x.grad, np.ones((2, 2)))
    with pytest.raises(TypeError, match="0-d"):
        list(Tensor(1.0))  # PyTorch refuses; iterating by x[0], x[1]... would look empty
    with pytest.raises(TypeError):
        len(Tensor(1.0))
    # PyTorch leaves out the dtypes the values already show: float64 (here the default), int64,
    # bool
    assert repr(Tensor([1, 2])) == "tensor([1, 2])"
    assert repr(Tensor([True, False])) == "tensor([ True, False])"
    assert repr(Tensor(np.array([1, 2], np.int32))) == "tensor([1, 2], dtype=int32)"


def test_max_min_of_two_tensors_are_elementwise():
    # PyTorch: x.max(other) is torch.maximum; ties split the gradient equally
    a, b = leaf([1.0, 5.0, 2.0]), leaf([3.0, 4.0, 2.0])
    np.testing.assert_array_equal(a.max(b).data, [3.0, 5.0, 2.0])
    a.max(b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(b.grad, [1.0, 0.0, 0.5])
    np.testing.assert_array_equal(a.min(b).data, [1.0, 4.0, 2.0])


# -- 0-d reductions ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "mean", "amax", "logsumexp"])
@pytest.mark.parametrize("dim", [0, -1])
def test_reductions_over_dim_0_of_a_0d_tensor(name, dim):
    x = leaf(3.0)
    y = getattr(x, name)(dim)
    assert y.shape == () and y.item() == 3.0  # PyTorch: the tensor itself
    (y * 2).backward()
    assert x.grad.shape == () and x.grad == 2.0
    with pytest.raises(IndexError):
        getattr(x, name)(1)


# -- keyword calls with the real parameter names -----------------------------------------------

def test_keyword_calls_with_real_parameter_names():
    rng = np.random.default_rng(0)
    xa, wa, ba = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    out = F.linear(Tensor(xa), Tensor(wa), bias=Tensor(ba))
    np.testing.assert_allclose(out.data, xa @ wa.T + ba)
    out = F.linear(input=Tensor(xa), weight=Tensor(wa))
    np.testing.assert_allclose(out.data, xa @ wa.T)
    np.testing.assert_array_equal(F.reshape(Tensor(xa), shape=(3, 4)).data, xa.reshape(3, 4))
    assert str(inspect.signature(F.linear)) == "(input, weight, bias=None)"


# -- shape and axis errors ---------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    lambda: Tensor(np.ones((2, 3))) @ Tensor(np.ones((2, 3))),
    lambda: Tensor(np.ones((2, 3))) + Tensor(np.ones((2, 2))),
    lambda: Tensor(np.ones((2, 3))).reshape(4),
    lambda: Tensor(np.ones(2)) < Tensor(np.ones(3)),
], ids=["matmul", "add", "reshape", "compare"])
def test_shape_errors_are_ValueError_and_RuntimeError(bad):
    with pytest.raises(ValueError) as info:
        bad()
    assert isinstance(info.value, RuntimeError)
    assert "(2" in str(info.value)  # names the shapes


@pytest.mark.parametrize("bad", [
    lambda x: x.sum(2), lambda x: x.mean(dim=-3), lambda x: x.softmax(dim=2),
    lambda x: x.transpose(0, 2), lambda x: x.argmax(5), lambda x: x.max(2),
    lambda x: x.permute(0, 2),
], ids=["sum", "mean", "softmax", "transpose", "argmax", "max", "permute"])
def test_axis_out_of_range_is_ValueError_and_IndexError(bad):
    with pytest.raises(ValueError) as info:
        bad(Tensor(np.ones((2, 3))))
    assert isinstance(info.value, IndexError)


# -- #1: the backward loop's shape check -------------------------------------------------------

@pytest.fixture
def sum_all_vjp():
    """A test-only op whose VJP wrongly returns a gradient of shape () for every input."""
    @primitive("bad_shape_square", "dx = sum(2 g x) (deliberately of the wrong shape)",
               lambda g, x, _: (2 * g * x).sum())
    def bad_shape_square(x):
        return x * x

    yield bad_shape_square
    OPS.pop("bad_shape_square")


def test_1_vjp_of_wrong_shape_raises_naming_op_and_shapes(sum_all_vjp):
    x = leaf([[1.0, 2.0, 3.0]])
    y = sum_all_vjp(x).sum()
    with pytest.raises(ValueError, match="bad_shape_square") as info:
        y.backward()
    assert "()" in str(info.value) and "(1, 3)" in str(info.value)
    assert x.grad is None


def test_1_linear_with_bias_of_shape_1_out():
    rng = np.random.default_rng(1)
    xa, wa = rng.standard_normal((5, 3)), rng.standard_normal((2, 3))
    ba = rng.standard_normal((1, 2))
    x, w, b = Tensor(xa), leaf(wa), leaf(ba)
    g = rng.standard_normal((5, 2))
    F.linear(x, w, b).backward(g)
    assert b.grad.shape == (1, 2)
    np.testing.assert_allclose(b.grad, g.sum(axis=0, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(w.grad, g.T @ xa, rtol=1e-12)


def test_everyday_idioms_on_0d_tensors():
    x = leaf(3.0)
    values, indices = x.max(0)  # PyTorch: the value itself, at index 0
    assert values.item() == 3.0 and indices.item() == 0 and indices.dtype == np.int64
    values.backward()
    assert x.grad == 1.0
    assert f"{Tensor(2.0 / 3.0):.3f}" == "0.667" and f"{Tensor(2.5)}" == "2.5"
    with pytest.raises(TypeError):
        f"{Tensor([1.0, 2.0]):.3f}"  # noqa: B018 (PyTorch refuses a spec for several values)
    t = Tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    with pytest.raises(TypeError, match="floating point"):
        Tensor([1, 2]).requires_grad_()
