"""The activation functions (compositions/activations.py), as torch.nn.functional.

Values against closed forms written in numpy (np.logaddexp, np.expm1, math.erf ...), first
derivatives against a hand-derived closed form that encodes PyTorch's choice at each kink, and
against central differences; second derivatives against central differences of the first
(test_higher_order's check); extremes (+-1000) finite at every order; float32 kept. One line
per op in each table.
"""
import math

import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, grad, no_grad
from autograd_mini.compositions import AxisError, activations
from autograd_mini.losses import LabelError
from conftest import check_grads, sample
from test_higher_order import case as case2, check_second_order, cube

ERF = np.vectorize(math.erf)
PHI = lambda x: 0.5 * (1 + ERF(x / np.sqrt(2)))  # noqa: E731  standard normal CDF
PDF = lambda x: np.exp(-x * x / 2) / np.sqrt(2 * np.pi)  # noqa: E731
SIG = lambda x: 0.5 * (1 + np.tanh(x / 2))  # noqa: E731  sigmoid, without overflow
SOFTPLUS = lambda x: np.logaddexp(0, x)  # noqa: E731
A, S = activations.SELU_ALPHA, activations.SELU_SCALE
K = np.sqrt(2 / np.pi)  # gelu's tanh approximation: 0.5 x (1 + tanh(K (x + C x^3)))
C = 0.044715


def gelu_tanh_grad(x):
    t = np.tanh(K * (x + C * x ** 3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * C * x * x)


def mish_grad(x):
    t = np.tanh(SOFTPLUS(x))
    return t + x * SIG(x) * (1 - t * t)


# -- the table: (id, fn of a Tensor, value, derivative), the derivative at a kink as PyTorch's -

OPS = [
    ("leaky_relu", F.leaky_relu,
     lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    ("leaky_relu-0.2", lambda x: F.leaky_relu(x, negative_slope=0.2),
     lambda x: np.where(x > 0, x, 0.2 * x), lambda x: np.where(x > 0, 1.0, 0.2)),
    ("hardtanh", F.hardtanh,
     lambda x: np.clip(x, -1, 1), lambda x: 1.0 * ((x > -1) & (x < 1))),
    ("hardtanh-(-0.5,3)", lambda x: F.hardtanh(x, -0.5, 3.0),
     lambda x: np.clip(x, -0.5, 3), lambda x: 1.0 * ((x > -0.5) & (x < 3))),
    ("relu6", F.relu6, lambda x: np.clip(x, 0, 6), lambda x: 1.0 * ((x > 0) & (x < 6))),
    ("hardsigmoid", F.hardsigmoid,
     lambda x: np.clip(x / 6 + 0.5, 0, 1), lambda x: ((x > -3) & (x < 3)) / 6.0),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6,
     lambda x: np.where(x <= -3, 0.0, np.where(x < 3, x / 3 + 0.5, 1.0))),
    ("elu", F.elu,
     lambda x: np.where(x > 0, x, np.expm1(x)), lambda x: np.where(x > 0, 1.0, np.exp(x))),
    ("elu-0.5", lambda x: F.elu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
     lambda x: np.where(x > 0, 1.0, 0.5 * np.exp(x))),
    ("selu", F.selu, lambda x: S * np.where(x > 0, x, A * np.expm1(x)),
     lambda x: S * np.where(x > 0, 1.0, A * np.exp(x))),
    ("celu", F.celu, lambda x: np.where(x > 0, x, np.expm1(x)),
     lambda x: np.where(x > 0, 1.0, np.exp(x))),
    ("celu-2", lambda x: F.celu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2 * np.expm1(x / 2)),
     lambda x: np.where(x > 0, 1.0, np.exp(x / 2))),
    ("softplus", F.softplus,
     lambda x: np.where(x > 20, x, SOFTPLUS(x)), lambda x: np.where(x > 20, 1.0, SIG(x))),
    ("softplus-beta2-thr3", lambda x: F.softplus(x, beta=2.0, threshold=3.0),
     lambda x: np.where(2 * x > 3, x, SOFTPLUS(2 * x) / 2),
     lambda x: np.where(2 * x > 3, 1.0, SIG(2 * x))),
    ("logsigmoid", F.logsigmoid, lambda x: -SOFTPLUS(-x), lambda x: SIG(-x)),
    ("silu", F.silu, lambda x: x * SIG(x), lambda x: SIG(x) * (1 + x * (1 - SIG(x)))),
    ("mish", F.mish, lambda x: x * np.tanh(SOFTPLUS(x)), mish_grad),
    ("gelu", F.gelu, lambda x: x * PHI(x), lambda x: PHI(x) + x * PDF(x)),
    ("gelu-tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(K * (x + C * x ** 3))), gelu_tanh_grad),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
]
IDS = [o[0] for o in OPS]
# kinks (0, +-1, +-3, 6), the thresholds, and the extremes
GRID = np.array([-1000.0, -50.0, -20.5, -6.0, -3.0, -2.0, -1.0, -0.5, -1e-8, 0.0, 1e-8, 0.5,
                 1.0, 1.5, 2.0, 3.0, 6.0, 20.0, 20.5, 50.0, 1000.0])


def derivative(fn, x):
    """d fn(x) / dx elementwise (fn is elementwise): backward with an all-ones upstream."""
    t = Tensor(x, requires_grad=True)
    fn(t).backward(np.ones_like(x))
    return t.grad


@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_value_against_closed_form(name, fn, ref, dref):
    with np.errstate(over="ignore"):
        want = ref(GRID)
    got = fn(Tensor(GRID)).data
    assert got.shape == GRID.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_derivative_against_closed_form_at_kinks_and_extremes(name, fn, ref, dref):
    """The derivative on GRID, its kinks included: PyTorch's one-sided choice at each kink."""
    with np.errstate(over="ignore"):
        want = dref(GRID)
    np.testing.assert_allclose(derivative(fn, GRID), want, rtol=1e-12, atol=1e-15)


SHAPES = [(), (3,), (2, 3, 4)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_gradient_central_differences(name, fn, ref, dref, shape):
    # 3x spreads the samples (|x| in [0.3, 2]) over every piece of the hard* functions
    check_grads(lambda x: fn(3 * x), sample(shape))


@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_second_derivative_central_differences(name, fn, ref, dref):
    # cube(): the piecewise linear ones have no second derivative of their own
    check_second_order(lambda x: cube(fn(3 * x)), [(2, 3)], ["any"])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_extremes_finite_to_second_order(name, fn, ref, dref, dtype):
    """+-1000 (and +-50): value, first and second derivative finite, no overflow on the way."""
    x = Tensor(np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype), requires_grad=True)
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        y = fn(x)
        (g,) = grad(y.sum(), x, create_graph=True)
        # piecewise linear: the gradient is constant, nothing to differentiate again
        h = grad(g.sum(), x)[0] if g.requires_grad else Tensor(np.zeros_like(x.data))
    for t in (y, g, h):
        assert t.dtype == dtype and np.all(np.isfinite(t.data)), (t, name)
    with np.errstate(over="ignore"):
        want = ref(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(y.data[[0, -1]], want, rtol=1e-6)


@pytest.mark.parametrize("name, fn, ref, dref", OPS, ids=IDS)
def test_float32_preserved(name, fn, ref, dref):
    x = Tensor(sample((2, 3)).astype(np.float32), requires_grad=True)
    y = fn(3 * x)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(y.data, ref(3 * x.data.astype(np.float64)), rtol=2e-6, atol=1e-6)


def test_tiny_values_keep_their_relative_precision():
    """softplus(-40) = 4.2e-18 and logsigmoid(40) = -4.2e-18, not 0: log1p, as PyTorch."""
    x = np.array([-40.0, -700.0])
    np.testing.assert_allclose(F.softplus(Tensor(x)).data, np.exp(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(F.logsigmoid(Tensor(-x)).data, -np.exp(x), rtol=1e-12, atol=0)
    np.testing.assert_allclose(F.elu(Tensor(-1e-10)).data, np.expm1(-1e-10), rtol=1e-12)


# -- options and errors ------------------------------------------------------------------------

def test_softplus_threshold_switches_to_x_as_pytorch():
    """Above beta x > threshold the value is x itself, and the gradient exactly 1."""
    x = np.array([9.9, 10.1])
    got = F.softplus(Tensor(x), beta=2.0, threshold=20.0).data
    assert got[1] == 10.1 and got[0] == pytest.approx(np.logaddexp(0, 19.8) / 2, rel=1e-14)


@pytest.mark.parametrize("call, exc, match", [
    (lambda x: F.gelu(x, approximate="erf"), ValueError, "'none' or 'tanh'"),
    (lambda x: F.hardtanh(x, 1.0, -1.0), ValueError, "min_val"),
    (lambda x: F.celu(x, alpha=0.0), ValueError, "alpha"),
    (lambda x: F.normalize(x, dim=2), AxisError, "normalize.*dim 2 is out of range"),
    (lambda x: F.normalize(x, out=x), TypeError, "out="),
    (lambda x: F.softmin(x, dim=1, axis=1), TypeError, "both dim= and axis="),
    (lambda x: F.softmin(x, dim=-3), AxisError, "out of range"),
    (lambda x: F.dropout(x, p=1.5), ValueError, "between 0 and 1"),
    (lambda x: F.dropout(x, p=-0.1), ValueError, "between 0 and 1"),
])
def test_argument_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(Tensor(np.ones((2, 3))))


def test_every_activation_is_in_functional():
    assert set(activations.__all__) <= set(F.__all__)
    assert all(getattr(F, name) is getattr(activations, name) for name in activations.__all__)


# -- inplace=True, as PyTorch ------------------------------------------------------------------

@pytest.mark.parametrize("op", ["leaky_relu", "hardtanh", "relu6", "hardsigmoid", "hardswish",
                                "elu", "selu", "celu", "silu", "mish", "dropout"])
def test_inplace_writes_into_a_non_leaf_and_keeps_the_gradient(op):
    fn = getattr(F, op)
    kw = {"generator": 0} if op == "dropout" else {}
    x0 = sample((2, 3)) * 3
    x = Tensor(x0, requires_grad=True)
    h = x * 1.0
    out = fn(h, inplace=True, **kw)
    assert out is h
    h.backward(np.ones((2, 3)))
    ref = Tensor(x0, requires_grad=True)
    fn(ref * 1.0, **kw).backward(np.ones((2, 3)))
    np.testing.assert_array_equal(h.data, fn(Tensor(x0), **kw).data)
    np.testing.assert_array_equal(x.grad, ref.grad)


def test_inplace_on_a_leaf_that_requires_grad_raises_and_works_under_no_grad():
    x = Tensor(np.array([-2.0, 3.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        F.leaky_relu(x, 0.5, inplace=True)
    with no_grad():
        assert F.leaky_relu(x, 0.5, inplace=True) is x
    np.testing.assert_array_equal(x.data, [-1.0, 3.0])


# -- softmin, normalize ------------------------------------------------------------------------

def np_softmin(x, axis):
    e = np.exp(x.min(axis=axis, keepdims=True) - x)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dim", [0, 1, -1, -3])
def test_softmin_values_and_gradient(dim):
    x = sample((2, 3, 4))
    out = check_grads(lambda t: F.softmin(t, dim), x)
    np.testing.assert_allclose(out.data, np_softmin(x, dim), rtol=1e-12)


def test_softmin_default_dim_is_the_last_dtype_and_extremes():
    x = np.array([[1000.0, -1000.0, 0.0], [5.0, 5.0, 5.0]])
    np.testing.assert_allclose(F.softmin(Tensor(x)).data, np_softmin(x, -1), rtol=1e-12)
    out = F.softmin(Tensor(x), 1, dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(F.softmin(Tensor(x), axis=0).data, np_softmin(x, 0), rtol=1e-12)


def np_normalize(x, p, axis, eps=1e-12):
    if p == np.inf:
        n = np.abs(x).max(axis=axis, keepdims=True)
    else:
        n = (np.abs(x) ** p).sum(axis=axis, keepdims=True) ** (1 / p)
    return x / np.maximum(n, eps)


NORMALIZE = [(2.0, 1), (2.0, -1), (2.0, 0), (1.0, 1), (3.0, -2), (np.inf, 1), (2.0, (0, 2)),
             (1.5, (-1, 1))]


@pytest.mark.parametrize("p, dim", NORMALIZE, ids=str)
def test_normalize_values_and_gradient(p, dim):
    x = sample((2, 3, 4))
    out = check_grads(lambda t: F.normalize(t, p=p, dim=dim), x)
    np.testing.assert_allclose(out.data, np_normalize(x, p, dim), rtol=1e-12)


@pytest.mark.parametrize("p, dim", NORMALIZE[:6], ids=str)
def test_normalize_second_derivative(p, dim):
    check_second_order(lambda t: F.normalize(t, p=p, dim=dim), [(2, 3, 4)], ["any"])


def test_normalize_default_is_dim_1_p_2_and_unit_norm():
    x = sample((4, 5))
    out = F.normalize(Tensor(x)).data
    np.testing.assert_allclose(np.sqrt((out ** 2).sum(axis=1)), 1.0, rtol=1e-14)


def test_normalize_rows_shorter_than_eps_are_divided_by_eps_with_a_finite_gradient():
    """As PyTorch (norm.clamp_min(eps)): no gradient through the clamp, so d out / dx = 1/eps
    for a zero row; never nan."""
    x = Tensor(np.array([[0.0, 0.0], [3.0, 4.0], [1e-13, 0.0]]), requires_grad=True)
    with np.errstate(all="raise"):
        out = F.normalize(x, eps=1e-12)
        out.backward(np.ones((3, 2)))
    np.testing.assert_allclose(out.data, [[0, 0], [0.6, 0.8], [0.1, 0]], rtol=1e-12)
    np.testing.assert_allclose(x.grad[[0, 2]], 1e12)
    np.testing.assert_allclose(x.grad[1], [(1 - 0.36 - 0.48) / 5, (1 - 0.48 - 0.64) / 5])


def test_normalize_of_a_1d_tensor_needs_dim_0():
    """PyTorch: the default dim=1 does not exist for a vector (IndexError 'out of range')."""
    with pytest.raises(IndexError):
        F.normalize(Tensor(np.ones(3)))
    np.testing.assert_allclose(F.normalize(Tensor(np.array([3.0, 4.0])), dim=0).data, [0.6, 0.8])


# -- dropout -----------------------------------------------------------------------------------

def test_dropout_is_inverted_and_reproducible_with_a_generator():
    x = Tensor(np.ones((200, 500)), requires_grad=True)
    out = F.dropout(x, 0.3, generator=np.random.default_rng(7))
    again = F.dropout(Tensor(np.ones((200, 500))), 0.3, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(out.data, again.data)
    assert set(np.unique(out.data)) == {0.0, 1 / 0.7}
    assert abs((out.data == 0).mean() - 0.3) < 0.01        # 100,000 draws
    assert abs(out.data.mean() - 1.0) < 0.015              # the expectation is kept
    out.backward(np.full(out.shape, 2.0))
    np.testing.assert_array_equal(x.grad, 2 * out.data)    # d/dx = the mask


def test_dropout_default_generator_draws_new_masks():
    x = Tensor(np.ones(1000))
    assert not np.array_equal(F.dropout(x).data, F.dropout(x).data)


def test_dropout_eval_and_p0_return_the_input_itself_p1_gives_zeros():
    x = Tensor(sample((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    out = F.dropout(x, 1.0)
    np.testing.assert_array_equal(out.data, 0.0)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


def test_dropout_float32_and_second_derivative():
    x = Tensor(np.ones(10, np.float32), requires_grad=True)
    out = F.dropout(x, 0.5, generator=1)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    check_second_order(lambda t: cube(F.dropout(t, 0.4, generator=np.random.default_rng(3))),
                       [(3, 4)], ["any"])


# -- one_hot -----------------------------------------------------------------------------------

@pytest.mark.parametrize("labels, num_classes", [
    ([0, 2, 1], -1), ([0, 2, 1], 5), ([[3, 0], [1, 1]], -1), (np.array(2), 4), ([], 3)])
def test_one_hot_values(labels, num_classes):
    t = np.asarray(labels, dtype=np.int64)
    out = F.one_hot(Tensor(t), num_classes)
    n = num_classes if num_classes != -1 else t.max() + 1
    assert out.dtype == np.int64 and not out.requires_grad and out.grad_fn is None
    assert out.shape == t.shape + (n,)
    np.testing.assert_array_equal(out.data, np.eye(n, dtype=np.int64)[t])


@pytest.mark.parametrize("labels, num_classes, exc, match", [
    ([0, -1], -1, LabelError, "non-negative"),
    ([0, 3], 3, LabelError, "smaller than num_classes=3"),
    (np.array([0.0, 1.0]), -1, ValueError, "integer class indices"),
    (np.zeros(0, np.int64), -1, ValueError, "empty"),
])
def test_one_hot_errors(labels, num_classes, exc, match):
    with pytest.raises(exc, match=match):
        F.one_hot(Tensor(np.asarray(labels)), num_classes)
    assert issubclass(LabelError, IndexError)  # PyTorch habits


# -- second derivatives of the options not in OPS (one line each) ------------------------------

MORE_SECOND = [
    case2("softplus-threshold-crossed", lambda x: F.softplus(x * 10, beta=1.0, threshold=5.0),
          (2, 3)),
    case2("logsigmoid-wide", lambda x: F.logsigmoid(x * 20), (2, 3)),
    case2("softmin-dim0", lambda x: F.softmin(x, 0), (3, 4)),
    case2("softmin-dim-1", lambda x: F.softmin(x, -1), (2, 3, 4)),
]


@pytest.mark.parametrize("fn, shapes, domains", MORE_SECOND)
def test_second_derivative_more(fn, shapes, domains):
    check_second_order(fn, shapes, domains)


def test_hardswish_gradient_at_its_kinks_as_pytorch():
    """PyTorch 2 takes the outer pieces at -3 and 3: gradient 0 and 1 (not -0.5 and 1.5)."""
    torch = pytest.importorskip("torch")
    x0 = np.array([-4.0, -3.0, -2.9, 0.0, 2.9, 3.0, 4.0])
    t = torch.tensor(x0, requires_grad=True)
    torch.nn.functional.hardswish(t).sum().backward()
    np.testing.assert_allclose(derivative(F.hardswish, x0), t.grad.numpy(), rtol=1e-15)
    np.testing.assert_array_equal(derivative(F.hardswish, np.array([-3.0, 3.0])), [0.0, 1.0])
