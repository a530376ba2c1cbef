"""Extreme inputs, the 100,000-op chain, float32 preservation and numpy-style domain errors."""
import gc

import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import OPS, Tensor
from autograd_mini import primitives as P

# Overflow, division by zero and invalid operations raise; underflow to 0 (exp(-1000)) is fine.
pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def strict():
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        yield


EXTREME = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])


def test_sigmoid_extremes(strict):
    x = Tensor(EXTREME, requires_grad=True)
    s = x.sigmoid()
    np.testing.assert_allclose(s.data, [0.0, np.exp(-50.0), 0.5, 1.0, 1.0], rtol=1e-12, atol=0)
    assert s.data[0] >= 0 and s.data[-1] <= 1
    s.sum().backward()
    # s * (1 - s) loses sigma'(50) = 2e-22 to rounding (as PyTorch does): absolute tolerance
    np.testing.assert_allclose(x.grad, [0.0, np.exp(-50.0), 0.25, np.exp(-50.0), 0.0],
                               rtol=1e-9, atol=1e-20)


def test_sigmoid_extremes_float32(strict):
    x = Tensor(EXTREME.astype(np.float32), requires_grad=True)
    s = x.sigmoid()
    assert s.dtype == np.float32 and np.all(np.isfinite(s.data))
    s.sum().backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))


def test_tanh_relu_extremes(strict):
    x = Tensor(EXTREME, requires_grad=True)
    (x.tanh() + x.relu()).sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.0, 1.0, 1.0, 1.0])


ROWS = np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]])


def _reference_log_softmax(x):
    # exact in float64 for these rows: shift by the row max by hand
    z = x - x.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def test_softmax_extremes(strict):
    x = Tensor(ROWS, requires_grad=True)
    s = x.softmax(axis=1)
    expected = np.exp(_reference_log_softmax(ROWS))
    np.testing.assert_allclose(s.data, expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(s.data[0], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0])
    w = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.0], [1.0, -1.0, 0.0]])
    s.backward(w)
    expected_grad = expected * (w - (w * expected).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(x.grad, expected_grad, rtol=1e-9, atol=1e-300)


def test_log_softmax_extremes(strict):
    x = Tensor(ROWS, requires_grad=True)
    out = x.log_softmax(axis=1)
    ls = np.log1p(np.exp(-1.0))
    np.testing.assert_allclose(out.data[0], [-ls, -1 - ls, -2000 - ls], rtol=1e-12)
    np.testing.assert_allclose(out.data[1], [-np.log(3)] * 3, rtol=1e-12)
    assert np.all(np.isfinite(out.data))
    out.sum().backward()
    p = np.exp(_reference_log_softmax(ROWS))
    np.testing.assert_allclose(x.grad, 1 - 3 * p, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("axis, expected", [
    (1, [1000 + np.log1p(np.exp(-1.0)), -1000 + np.log(3), 1000 + np.log(2)]),
    (None, 1000 + np.log(np.exp(0.0) + np.exp(-1.0) + 2)),
])
def test_logsumexp_extremes(strict, axis, expected):
    x = Tensor(ROWS, requires_grad=True)
    out = x.logsumexp(axis=axis)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    out.sum().backward()
    assert np.all(np.isfinite(x.grad))
    if axis == 1:
        np.testing.assert_allclose(x.grad, np.exp(_reference_log_softmax(ROWS)), rtol=1e-9)


def test_cross_entropy_of_extreme_logits_is_finite(strict):
    z = Tensor([[1000.0, -1000.0], [-1000.0, 1000.0]], requires_grad=True)
    loss = -(z.log_softmax(axis=1)[[0, 1], [1, 1]]).mean()
    assert loss.item() == pytest.approx(1000.0)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0.5, -0.5], [0.0, 0.0]], atol=1e-12)


# -- deep graphs -------------------------------------------------------------------------------

def test_chain_of_100k_ops():
    """backward is iterative: no RecursionError, and the chain rule multiplies all the way."""
    n, c = 100_000, 1.00001
    x = Tensor(1.0, requires_grad=True)
    h = x
    for _ in range(n):
        h = h * c
    h.backward()
    np.testing.assert_allclose(h.item(), c ** n, rtol=1e-9)
    np.testing.assert_allclose(x.grad, c ** n, rtol=1e-9)
    del h  # freeing a 10^5-deep graph must not overflow the C stack either
    gc.collect()


def test_chain_of_20k_mixed_ops_with_retained_middle():
    x = Tensor(np.array([0.5, -0.5]), requires_grad=True)
    h = x
    mid = None
    for i in range(10_000):
        h = -(h + 0.0)  # two ops per step, derivative (-1) each step
        if i == 5_000:
            mid = h
            mid.retain_grad()
    h.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])  # (-1)^10000
    np.testing.assert_array_equal(mid.grad, [-1.0, -1.0])  # (-1)^(10000 - 5001)


# -- float32 in, float32 out and float32 grads -------------------------------------------------

F32 = [  # (id, fn, input shapes); inputs are positive float32
    ("add", lambda a, b: a + b, [(2, 3), (3,)]),
    ("sub", lambda a, b: a - b, [(2, 3), (3,)]),
    ("mul", lambda a, b: a * b, [(2, 3), (3,)]),
    ("div", lambda a, b: a / b, [(2, 3), (3,)]),
    ("pow", lambda a, b: a ** b, [(2, 3), (3,)]),
    ("matmul", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("matmul-1d", lambda a, b: a @ b, [(3,), (3,)]),
    ("linear", F.linear, [(2, 3), (4, 3), (4,)]),
    ("matmul-batched", lambda a, b: a @ b, [(2, 2, 3), (3,)]),
    ("t+float", lambda x: x + 2.5, [(3,)]),
    ("float-t", lambda x: 2.5 - x, [(3,)]),
    ("t*float", lambda x: x * 0.1, [(3,)]),
    ("t/int", lambda x: x / 3, [(3,)]),
    ("int/t", lambda x: 3 / x, [(3,)]),
    ("int**t", lambda x: 2 ** x, [(3,)]),
    ("float**t", lambda x: 1.5 ** x, [(3,)]),
    ("t**int", lambda x: x ** 2, [(3,)]),
    ("t**float", lambda x: x ** 0.5, [(3,)]),
    ("t**-1", lambda x: x ** -1, [(3,)]),
    ("neg", lambda x: -x, [(3,)]),
    ("exp", lambda x: x.exp(), [(3,)]),
    ("log", lambda x: x.log(), [(3,)]),
    ("sqrt", lambda x: x.sqrt(), [(3,)]),
    ("abs", lambda x: x.abs(), [(3,)]),
    ("sigmoid", lambda x: x.sigmoid(), [(3,)]),
    ("tanh", lambda x: x.tanh(), [(3,)]),
    ("relu", lambda x: x.relu(), [(3,)]),
    ("sum", lambda x: x.sum(axis=0), [(2, 3)]),
    ("mean", lambda x: x.mean(), [(2, 3)]),
    ("mean-axis", lambda x: x.mean(axis=(0, 1), keepdims=True), [(2, 3)]),
    ("max", lambda x: x.amax(axis=1), [(2, 3)]),
    ("softmax", lambda x: x.softmax(), [(2, 3)]),
    ("log_softmax", lambda x: x.log_softmax(axis=0), [(2, 3)]),
    ("logsumexp", lambda x: x.logsumexp(axis=1), [(2, 3)]),
    ("logsumexp-all", lambda x: x.logsumexp(), [(2, 3)]),
    ("reshape", lambda x: x.reshape(3, 2), [(2, 3)]),
    ("transpose", lambda x: x.T, [(2, 3)]),
    ("getitem", lambda x: x[[0, 0, 1]], [(2, 3)]),
    ("F.sigmoid", F.sigmoid, [(3,)]),
    ("sign", lambda x: x.sign(), [(3,)]),
    ("maximum", lambda x, y: F.maximum(x, y), [(2, 3), (3,)]),
    ("where", lambda x, y: F.where(x > 1, x, y), [(2, 3), (3,)]),
    ("expand", lambda x: F.expand(x, shape=(2, 3)), [(3,)]),
    ("to", lambda x: x.double().float(), [(3,)]),
    ("prod", lambda x: x.prod(1), [(2, 3)]),
    ("cumsum", lambda x: x.cumsum(0), [(2, 3)]),
    ("sin", lambda x: x.sin(), [(3,)]),
    ("cos", lambda x: x.cos(), [(3,)]),
    ("log1p", lambda x: x.log1p(), [(3,)]),
    ("expm1", lambda x: x.expm1(), [(3,)]),
    ("erf", lambda x: x.erf(), [(3,)]),
    ("atan2", lambda y, x: F.atan2(y, x), [(2, 3), (3,)]),
    ("round", lambda x: x.round(), [(3,)]),
    ("remainder", lambda a, b: a % b, [(2, 3), (3,)]),
    ("cat", lambda a, b: F.cat([a, b], dim=-1), [(2, 3), (2, 1)]),
    ("im2col", lambda x: P.im2col(x, kernel_size=(2, 2), stride=(1, 1), padding=((1, 1), (0, 0)),
                                  dilation=(1, 1)), [(1, 2, 3, 3)]),
    ("col2im", lambda c: P.col2im(c, size=(3, 3), stride=(1, 1), padding=((0, 0), (0, 0)),
                                  dilation=(1, 1)), [(1, 2, 2, 2, 2, 2)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in F32])
def test_float32_preserved(fn, shapes):
    rng = np.random.default_rng(0)
    ts = [Tensor(rng.uniform(0.5, 2.0, s).astype(np.float32), requires_grad=True) for s in shapes]
    out = fn(*ts)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in ts:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape
        assert np.all(np.isfinite(t.grad))


def test_float32_gradient_is_accurate():
    rng = np.random.default_rng(0)
    x64 = rng.standard_normal((4, 3))
    w64 = rng.standard_normal((3, 2))
    grads = []
    for dt in (np.float32, np.float64):
        x = Tensor(x64.astype(dt), requires_grad=True)
        w = Tensor(w64.astype(dt), requires_grad=True)
        (x @ w).sigmoid().log_softmax(axis=1).sum().backward()
        grads.append(w.grad)
    assert grads[0].dtype == np.float32
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-4, atol=1e-5)


def test_float32_grad_accumulates_in_float32():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x * 2).sum().backward()
    (x * 3.0).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [5, 5, 5])


def test_float64_explicit_grad_for_float32_output_is_cast():
    x = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    (x * 2).backward(np.ones(2))  # float64 grad for a float32 output
    assert x.grad.dtype == np.float32


def test_float64_stays_float64():
    t = Tensor([1.0, 2.0], requires_grad=True)
    assert (t * np.float32(2)).dtype == np.float64
    assert Tensor(np.float32(1.0)).dtype == np.float32


LOSS_OPS = {"cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
            "mse_loss"}  # their float32 behaviour is tested in test_nn_losses.py


def test_every_op_is_covered_by_the_float32_table():
    names = set()
    for _, fn, shapes in F32:
        ts = [Tensor(np.ones(s, dtype=np.float32), requires_grad=True) for s in shapes]
        node = fn(*ts).grad_fn
        names.add(node.name)
    assert names == set(OPS) - LOSS_OPS - {"index_put"}  # getitem's VJP: see test_higher_order


# -- domain errors follow numpy: nan/inf with a warning, not a crash ---------------------------

@pytest.mark.filterwarnings("default")
def test_log_of_negative_is_nan_with_warning():
    x = Tensor([-1.0, 1.0], requires_grad=True)
    with pytest.warns(RuntimeWarning):
        y = x.log()
    assert np.isnan(y.data[0]) and y.data[1] == 0.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 1.0])


@pytest.mark.filterwarnings("default")
def test_sqrt_of_negative_and_division_by_zero_warn():
    with pytest.warns(RuntimeWarning):
        assert np.isnan(Tensor(-4.0, requires_grad=True).sqrt().item())
    with pytest.warns(RuntimeWarning):
        assert np.isinf((1.0 / Tensor(0.0, requires_grad=True)).item())
