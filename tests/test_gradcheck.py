"""gradcheck itself: True on correct gradients, a precise AssertionError on a wrong VJP."""
import re

import numpy as np
import pytest

from autograd_mini import OPS, Tensor, gradcheck
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
