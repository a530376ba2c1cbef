"""Bad input gives an error that names the op (or function) and the shapes involved."""
import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor
from autograd_mini.tape import ShapeError


def T(shape, requires_grad=True):
    return Tensor(np.ones(shape), requires_grad=requires_grad)


@pytest.mark.parametrize("sa, sb", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                    ((5,), (4, 5)), ((2, 3, 4), (5, 6))])
def test_matmul_shape_mismatch(sa, sb):
    with pytest.raises(ValueError) as info:
        T(sa) @ T(sb)
    msg = str(info.value)
    assert "matmul" in msg and str(sa) in msg and str(sb) in msg


def test_matmul_batch_mismatch_names_the_batch_axes():
    # the core axes agree (4 == 4); the batch axes 2 and 3 don't broadcast
    with pytest.raises(ValueError) as info:
        T((2, 3, 4)) @ T((3, 4, 5))
    msg = str(info.value)
    assert "matmul" in msg and "(2, 3, 4)" in msg and "(3, 4, 5)" in msg
    assert "batch" in msg


def test_matmul_of_scalar():
    with pytest.raises(ValueError, match="matmul"):
        T(()) @ T((3,))


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                      (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                      (lambda a, b: a ** b, "pow")])
def test_broadcast_mismatch(op, name):
    with pytest.raises(ValueError) as info:
        op(T((2, 3)), T((4,)))
    msg = str(info.value)
    assert name in msg and "(2, 3)" in msg and "(4,)" in msg


def test_broadcast_mismatch_with_ndarray_operand():
    with pytest.raises(ValueError) as info:
        np.ones((2, 3)) + T((4,))
    assert "add" in str(info.value) and "(2, 3)" in str(info.value)


@pytest.mark.parametrize("data", [np.arange(3), np.array([True, False]), [1, 2, 3], 5])
def test_integer_or_bool_data_cannot_require_grad(data):
    with pytest.raises(TypeError) as info:
        Tensor(data, requires_grad=True)
    msg = str(info.value)
    assert "floating point" in msg and str(np.asarray(data).dtype) in msg


def test_integer_data_is_fine_without_grad_and_dtype_converts():
    assert Tensor([1, 2]).dtype.kind == "i"
    t = Tensor([1, 2], requires_grad=True, dtype=np.float64)
    assert t.dtype == np.float64 and t.requires_grad


def test_backward_non_scalar_without_grad():
    y = T((2, 3)) * 2
    with pytest.raises(ValueError) as info:
        y.backward()
    msg = str(info.value)
    assert "backward" in msg and "(2, 3)" in msg and "grad" in msg


@pytest.mark.parametrize("gshape", [(3, 2), (6,), (), (1, 2, 3)])
def test_backward_grad_of_wrong_shape(gshape):
    y = T((2, 3)) * 2
    with pytest.raises(ValueError) as info:
        y.backward(np.ones(gshape))
    msg = str(info.value)
    assert "backward" in msg and str(gshape) in msg and "(2, 3)" in msg


def test_backward_on_tensor_not_requiring_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (T((2,), requires_grad=False) * 2).sum().backward()
    with pytest.raises(RuntimeError, match="requires_grad=True"):
        Tensor(1.0).backward()


@pytest.mark.parametrize("fn, name", [
    (lambda x: x.reshape(4, 2), "reshape"),
    (lambda x: x.sum(axis=3), "sum"),
    (lambda x: x.mean(axis=2), "mean"),
    (lambda x: x.max(axis=-3), "max"),
    (lambda x: F.softmax(x, axis=5), "softmax"),
    (lambda x: x.permute(0, 0), "permute"),
])
def test_bad_shape_arguments_name_the_op(fn, name):
    with pytest.raises((ValueError, IndexError)) as info:
        fn(T((2, 3)))
    assert name in str(info.value) and "(2, 3)" in str(info.value)


def test_bad_ops_leave_no_partial_graph():
    x = T((2, 3))
    with pytest.raises(ValueError):
        x @ T((4,))
    (x * 2).sum().backward()  # x still usable
    np.testing.assert_array_equal(x.grad, 2 * np.ones((2, 3)))


def test_an_integer_to_a_negative_integer_power_is_not_a_shape_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="negative integer powers"):
        torch.tensor([2]) ** -1
    for base, exp in ((Tensor(np.array([2, 3])), -1), (Tensor(np.array([2])),
                                                        Tensor(np.array([-2])))):
        with pytest.raises(RuntimeError, match=r"pow: .*negative integer powers.*float") as info:
            base ** exp
        assert not isinstance(info.value, ShapeError)
    with pytest.raises(ShapeError, match="broadcast"):  # a real shape error still is one
        Tensor(np.array([2, 3])) ** Tensor(np.array([1, 2, 3]))
