"""gradcheck itself: True on correct gradients, a precise AssertionError on a wrong VJP."""
import re

import numpy as np
import pytest

from autograd_mini import OPS, Tensor, gradcheck, gradgradcheck
from autograd_mini.primitives import primitive


@pytest.fixture
def wrong_square():
    """A test-only op whose VJP forgets the factor 2 of d(x^2)/dx."""
    @primitive("wrong_square", "dx = g * x (deliberately wrong: should be 2 g x)",
               lambda g, x, _: g * x)
    def wrong_square(x):
        return x * x

    yield wrong_square
    OPS.pop("wrong_square")


def leaf(x):
    return Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


def test_returns_true_on_correct_function():
    rng = np.random.default_rng(0)
    x, w, b = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal((3, 2))), leaf([0.1, 0.2])
    assert gradcheck(lambda x, w, b: (x @ w + b).sigmoid().log(), [x, w, b]) is True


def test_scalar_output_and_constant_inputs():
    x = leaf([0.5, 1.5])
    frozen = Tensor([2.0, 3.0])
    assert gradcheck(lambda x, c, k: (x * c).sum() * k, [x, frozen, 4.0]) is True
    assert frozen.grad is None


def test_leaves_inputs_unchanged():
    data = np.array([0.5, -1.5, 2.0])
    x = leaf(data.copy())
    gradcheck(lambda x: x.tanh(), [x])
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None  # as torch.autograd.gradcheck: the caller's .grad is not touched


def test_fails_on_wrong_vjp_naming_input_index_and_values(wrong_square):
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError) as info:
        gradcheck(wrong_square, [x])
    msg = str(info.value)
    assert "input 0" in msg
    assert "(2,)" in msg  # the worst index: |3 - 6| is the largest error
    assert "analytic 3.0," in msg
    assert re.search(r"numeric (6\.0|5\.99)", msg), msg


def test_names_the_right_input(wrong_square):
    a, b = leaf([1.0, 2.0]), leaf([[0.5, 1.0], [1.5, 2.0]])
    with pytest.raises(AssertionError, match="input 1") as info:
        gradcheck(lambda a, b: a * wrong_square(b), [a, b])
    assert "(1, 1)" in str(info.value)


def test_wrong_op_is_caught_inside_a_larger_graph(wrong_square):
    x = leaf([[0.3, -0.7], [1.1, 0.4]])
    with pytest.raises(AssertionError, match="input 0"):
        gradcheck(lambda x: wrong_square(x.tanh()).sum(axis=0).exp(), [x])


def test_no_input_requires_grad():
    with pytest.raises(ValueError, match="gradcheck"):
        gradcheck(lambda x: x * 2, [Tensor([1.0])])


def test_tolerances_are_respected():
    # d/dx of x^3 at x = 1 is 3; eps = 1e-2 gives a central-difference error of eps^2 = 1e-4
    x = leaf([1.0])
    assert gradcheck(lambda x: x ** 3, [x], eps=1e-2, atol=1e-3, rtol=0)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: x ** 3, [x], eps=1e-2, atol=1e-6, rtol=0)


@pytest.mark.filterwarnings("ignore:divide by zero", "ignore:invalid value")
def test_nan_gradient_fails():
    x = leaf([0.0, 1.0])
    with pytest.raises(AssertionError):
        gradcheck(lambda x: x.sqrt(), [x])  # d sqrt / dx at 0 is inf


def test_gradcheck_leaves_the_callers_accumulated_grads_alone():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 5).sum().backward()
    assert gradcheck(lambda a: a * a, [x])
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


# -- upstream gradients other than ones (issue 10, item 9) -------------------------------------

@pytest.fixture
def ignores_g():
    """A test-only op x^2 whose VJP returns 2x whatever g is: right for an all-ones g only."""
    @primitive("ignores_g", "dx = 2 x (deliberately wrong: should be 2 g x)",
               lambda g, x, _: 2 * x + 0 * g)
    def ignores_g(x):
        return x * x

    yield ignores_g
    OPS.pop("ignores_g")


def test_a_vjp_right_only_for_ones_fails(ignores_g):
    x = leaf([1.0, -2.0, 0.5])
    with pytest.raises(AssertionError, match="input 0.*random upstream gradient #1") as info:
        gradcheck(ignores_g, [x])
    assert "analytic" in str(info.value) and "numeric" in str(info.value)


def test_a_wrong_vjp_is_reported_with_the_all_ones_gradient_first(wrong_square):
    with pytest.raises(AssertionError, match="all-ones upstream gradient"):
        gradcheck(wrong_square, [leaf([1.0, 2.0])])


def test_softmax_is_checked_beyond_its_sum():
    """softmax(x).sum() == 1 for every x: with ones alone any VJP summing to 0 would pass."""
    x = leaf([[0.2, -1.0, 0.7], [1.5, 0.3, -0.4]])
    assert gradcheck(lambda x: x.softmax(dim=1), [x])


def test_tuple_outputs():
    rng = np.random.default_rng(4)
    a, b = leaf(rng.standard_normal(3)), leaf(rng.standard_normal(3))
    assert gradcheck(lambda a, b: (a * b, (a - b).exp().sum()), [a, b])


def test_output_independent_of_an_input():
    a, b = leaf([1.0, 2.0]), leaf([3.0])
    assert gradcheck(lambda a, b: a * 2, [a, b])


def test_float32_inputs_warn_that_float32_is_the_cause():
    x = leaf([0.5, 1.5]).float()
    x = Tensor(x.data, requires_grad=True)
    with pytest.warns(UserWarning, match=r"input 0 is float32.*float64"):
        with pytest.raises(AssertionError, match="float32"):  # eps = 1e-6 is below float32's step
            gradcheck(lambda x: x.tanh(), [x])
    with pytest.warns(UserWarning, match="float32"):
        assert gradcheck(lambda x: x * 3, [x], eps=1e-2, atol=1e-2, rtol=1e-2)


# -- gradgradcheck -----------------------------------------------------------------------------

@pytest.fixture
def square_first_order_only():
    """A test-only x^2 whose VJP is right but drops its dependence on x when recorded: it uses
    x's values as a constant (as a VJP closing over the forward's arrays would)."""
    def vjp(g, x, _):
        xc = Tensor(x.data) if isinstance(x, Tensor) else x
        return 2 * g * xc

    @primitive("square_first_order_only", "dx = 2 g x (x a constant when recorded)", vjp)
    def square_first_order_only(x):
        return x * x

    yield square_first_order_only
    OPS.pop("square_first_order_only")


@pytest.mark.parametrize("fn", [
    lambda x, w: (x @ w).tanh(),
    lambda x, w: (x @ w).sigmoid().log(),
    lambda x, w: (x * x).sum() * w.exp(),
    lambda x, w: (x @ w).softmax(dim=1),
    lambda x, w: (x @ w) ** 3,
], ids=["tanh", "sigmoid_log", "sum_exp", "softmax", "pow"])
def test_gradgradcheck_passes_on_the_engine_ops(fn):
    rng = np.random.default_rng(6)
    x, w = leaf(rng.standard_normal((3, 2)) * 0.5), leaf(rng.standard_normal((2, 2)) * 0.5)
    assert gradgradcheck(fn, [x, w])


def test_gradgradcheck_fails_on_a_vjp_that_is_right_only_to_first_order(square_first_order_only):
    x = leaf([0.5, -1.0, 2.0])
    assert gradcheck(square_first_order_only, [x])
    with pytest.raises(AssertionError, match=r"gradgradcheck: gradient of input 0 .*index "
                                             r".*analytic .*numeric"):
        gradgradcheck(square_first_order_only, [x])


def test_gradgradcheck_checks_the_derivative_in_the_upstream_gradient_too():
    """u -> u^T J is linear in u; a VJP that records g as a constant is right to first order
    but its derivative in u is 0: reported for grad_outputs[0]."""
    def vjp(g, x, _):
        gc = Tensor(g.data) if isinstance(g, Tensor) else g
        return 2 * gc * x

    @primitive("square_g_constant", "dx = 2 g x (g a constant when recorded)", vjp)
    def square_g_constant(x):
        return x * x

    try:
        x = leaf([1.0, 2.0])
        assert gradcheck(square_g_constant, [x])
        with pytest.raises(AssertionError, match=r"gradient of grad_outputs\[0\]"):
            gradgradcheck(square_g_constant, [x])
    finally:
        OPS.pop("square_g_constant")


def test_gradgradcheck_leaves_grads_and_inputs_alone():
    data = np.array([0.3, -0.6])
    x = leaf(data.copy())
    (x * 4).sum().backward()
    assert gradgradcheck(lambda x: x.tanh() * x, [x], grad_outputs=[np.array([1.0, -2.0])])
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])
    np.testing.assert_array_equal(x.data, data)
