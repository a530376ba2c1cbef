"""Reductions, scans and sorting with PyTorch's names and semantics (issue 12): min amin argmin
prod var std var_mean std_mean norm cumsum cumprod logcumsumexp cummax cummin sort argsort topk
median.

Values against numpy's own functions or closed forms, gradients against central differences in
float64 (shapes with broadcasting, negative dims), second derivatives against central differences
of the first (test_higher_order's check), float32 kept. PyTorch's semantics are written out where
they are not obvious: ties, zeros in prod, std and norm at zero, nan, the legacy `unbiased=`.
"""
import math
import warnings

import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, func, grad
from autograd_mini.compositions import AxisError
from autograd_mini.tape import ShapeError
from conftest import check_grads, numeric_grad, sample
from test_higher_order import check_second_order


def lower_median(x, axis):
    """PyTorch's median: the ((n - 1) // 2)-th smallest, not numpy's mean of the middle two."""
    return np.take(np.sort(x, axis=axis), (x.shape[axis] - 1) // 2, axis=axis)


def lcse(x, axis):
    return np.logaddexp.accumulate(x, axis=axis)


# -- values against numpy ----------------------------------------------------------------------

VALUES = [  # (id, engine, numpy reference, shape)
    ("min()", lambda t: t.min(), np.min, (3, 4)),
    ("min(dim)", lambda t: t.min(-1).values, lambda x: np.min(x, -1), (3, 4)),
    ("min(dim).indices", lambda t: t.min(0).indices, lambda x: np.argmin(x, 0), (3, 4)),
    ("amin-tuple", lambda t: t.amin(dim=(0, -1)), lambda x: np.min(x, (0, 2)), (2, 3, 4)),
    ("argmin", lambda t: t.argmin(), np.argmin, (3, 4)),
    ("argmin-dim", lambda t: t.argmin(1, keepdim=True), lambda x: np.argmin(x, 1, keepdims=True),
     (3, 4)),
    ("prod", lambda t: t.prod(), np.prod, (3, 4)),
    ("prod-dim", lambda t: t.prod(-2, keepdim=True), lambda x: np.prod(x, -2, keepdims=True),
     (2, 3, 4)),
    ("prod-axis", lambda t: F.prod(t, axis=0), lambda x: np.prod(x, 0), (3, 4)),
    ("var", lambda t: t.var(), lambda x: np.var(x, ddof=1), (3, 4)),
    ("var-correction=0", lambda t: t.var(1, correction=0), lambda x: np.var(x, 1), (3, 4)),
    ("var-correction=2", lambda t: t.var(1, correction=2), lambda x: np.var(x, 1, ddof=2),
     (3, 4)),
    ("var-tuple", lambda t: t.var((0, -1), keepdim=True),
     lambda x: np.var(x, (0, 2), ddof=1, keepdims=True), (2, 3, 4)),
    ("var-unbiased=False", lambda t: t.var(0, unbiased=False), lambda x: np.var(x, 0), (3, 4)),
    ("var(x, False)", lambda t: t.var(False), np.var, (3, 4)),
    ("var(x, dim, unbiased, keepdim)", lambda t: t.var(1, True, True),
     lambda x: np.var(x, 1, ddof=1, keepdims=True), (3, 4)),
    ("std", lambda t: t.std(), lambda x: np.std(x, ddof=1), (3, 4)),
    ("std-axis-keepdims", lambda t: t.std(axis=-1, keepdims=True, correction=0),
     lambda x: np.std(x, -1, keepdims=True), (3, 4)),
    ("var_mean[0]", lambda t: F.var_mean(t, 0)[0], lambda x: np.var(x, 0, ddof=1), (3, 4)),
    ("var_mean[1]", lambda t: F.var_mean(t, 0)[1], lambda x: np.mean(x, 0), (3, 4)),
    ("std_mean[0]", lambda t: F.std_mean(t, -1, keepdim=True)[0],
     lambda x: np.std(x, -1, ddof=1, keepdims=True), (3, 4)),
    ("std_mean[1]", lambda t: F.std_mean(t, -1, keepdim=True)[1],
     lambda x: np.mean(x, -1, keepdims=True), (3, 4)),
    ("norm", lambda t: t.norm(), np.linalg.norm, (3, 4)),
    ("norm-p=2-dim", lambda t: t.norm(2, -1), lambda x: np.linalg.norm(x, axis=-1), (3, 4)),
    ("norm-fro-tuple", lambda t: t.norm("fro", (1, 2)),
     lambda x: np.sqrt(np.sum(x * x, (1, 2))), (2, 3, 4)),
    ("norm-p=1", lambda t: t.norm(1, 0, keepdim=True),
     lambda x: np.sum(np.abs(x), 0, keepdims=True), (3, 4)),
    ("norm-p=3", lambda t: t.norm(3, 1), lambda x: np.sum(np.abs(x) ** 3, 1) ** (1 / 3), (3, 4)),
    ("norm-p=0.5", lambda t: t.norm(0.5), lambda x: np.sum(np.abs(x) ** 0.5) ** 2, (3, 4)),
    ("norm-inf", lambda t: t.norm(math.inf, 1), lambda x: np.max(np.abs(x), 1), (3, 4)),
    ("norm--inf", lambda t: t.norm(-math.inf), lambda x: np.min(np.abs(x)), (3, 4)),
    ("norm-p=0", lambda t: t.norm(0, 1), lambda x: np.sum(x != 0, 1).astype(float), (3, 4)),
    ("cumsum", lambda t: t.cumsum(-1), lambda x: np.cumsum(x, -1), (2, 3, 4)),
    ("cumsum-axis", lambda t: F.cumsum(t, axis=0), lambda x: np.cumsum(x, 0), (2, 3, 4)),
    ("cumprod", lambda t: t.cumprod(1), lambda x: np.cumprod(x, 1), (2, 5, 3)),
    ("cumprod-long", lambda t: t.cumprod(0), lambda x: np.cumprod(x, 0), (37,)),
    ("logcumsumexp", lambda t: t.logcumsumexp(-2), lambda x: lcse(x, -2), (2, 5, 3)),
    ("cummax", lambda t: t.cummax(1).values, lambda x: np.maximum.accumulate(x, 1), (3, 6)),
    ("cummin", lambda t: t.cummin(0).values, lambda x: np.minimum.accumulate(x, 0), (6, 3)),
    ("sort", lambda t: t.sort().values, lambda x: np.sort(x, -1), (3, 5)),
    ("sort-desc", lambda t: t.sort(0, descending=True).values, lambda x: -np.sort(-x, 0),
     (5, 3)),
    ("sort.indices", lambda t: t.sort(1).indices, lambda x: np.argsort(x, 1), (3, 5)),
    ("argsort", lambda t: t.argsort(-1, descending=True), lambda x: np.argsort(-x, -1), (3, 5)),
    ("topk", lambda t: t.topk(2).values, lambda x: -np.sort(-x, -1)[:, :2], (3, 5)),
    ("topk-smallest", lambda t: F.topk(t, 3, 0, largest=False).values,
     lambda x: np.sort(x, 0)[:3], (5, 3)),
    ("median()-odd", lambda t: t.median(), np.median, (3, 5)),
    ("median()-even", lambda t: t.median(), lambda x: lower_median(x.reshape(-1), 0), (3, 4)),
    ("median(dim)", lambda t: t.median(1).values, lambda x: lower_median(x, 1), (3, 4)),
    ("median(dim,keepdim)", lambda t: t.median(0, keepdim=True).values,
     lambda x: lower_median(x, 0)[None], (5, 3)),
]


@pytest.mark.parametrize("fn, ref, shape", [pytest.param(f, r, s, id=i) for i, f, r, s in VALUES])
def test_values_match_numpy(fn, ref, shape):
    x = sample(shape, seed=3)
    out = fn(Tensor(x))
    expected = ref(x)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


# -- first derivatives against central differences ---------------------------------------------

def case(id, fn, *shapes, domain="any"):
    return pytest.param(fn, shapes, domain, id=id)


GRADS = [
    case("min(dim)", lambda x: x.min(-1).values, (3, 4)),
    case("min(dim,keepdim)", lambda x: x.min(0, keepdim=True).values, (3, 4)),
    case("amin", lambda x: x.amin((0, -1)), (2, 3, 4)),
    case("prod", lambda x: x.prod(), (3, 4)),
    case("prod-dim", lambda x: x.prod(-1), (2, 3, 4)),
    case("prod-keepdim", lambda x: x.prod(1, keepdim=True), (2, 5, 3)),
    case("prod-bcast", lambda a, b: (a * b).prod(-2), (2, 3, 4), (3, 1)),
    case("prod-long", lambda x: x.prod(0), (19,), domain="pos"),
    case("var", lambda x: x.var(), (3, 4)),
    case("var-dim", lambda x: x.var(-1, correction=0), (2, 3, 4)),
    case("var-tuple", lambda x: x.var((0, 2), keepdim=True), (2, 3, 4)),
    case("std", lambda x: x.std(1), (3, 4)),
    case("std-bcast", lambda a, b: (a + b).std(0, unbiased=False), (3, 4), (4,)),
    case("var_mean", lambda x: F.var_mean(x, 0)[0] * F.var_mean(x, 0)[1], (3, 4)),
    case("std_mean", lambda x: F.std_mean(x, -1)[0] + F.std_mean(x, -1)[1] ** 2, (3, 4)),
    case("norm", lambda x: x.norm(), (3, 4)),
    case("norm-dim", lambda x: x.norm(dim=-1, keepdim=True), (2, 3, 4)),
    case("norm-p=1", lambda x: x.norm(1, 0), (3, 4)),
    case("norm-p=3", lambda x: x.norm(3, (0, 1)), (2, 3, 4)),
    case("norm-inf", lambda x: x.norm(math.inf, 1), (3, 4)),
    case("norm--inf", lambda x: x.norm(-math.inf, 1), (3, 4)),
    case("norm-bcast", lambda a, b: (a - b).norm(dim=1), (3, 4), (4,)),
    case("cumsum", lambda x: x.cumsum(-1), (2, 3, 4)),
    case("cumsum-bcast", lambda a, b: (a * b).cumsum(0), (3, 4), (4,)),
    case("cumprod", lambda x: x.cumprod(1), (2, 5, 3)),
    case("cumprod-long", lambda x: x.cumprod(0), (11,)),
    case("logcumsumexp", lambda x: x.logcumsumexp(-1), (3, 6)),
    case("logcumsumexp-dim0", lambda x: x.logcumsumexp(0), (5, 2)),
    case("cummax", lambda x: x.cummax(-1).values, (3, 6)),
    case("cummin", lambda x: x.cummin(0).values, (6, 3)),
    case("sort", lambda x: x.sort(-1).values, (3, 5)),
    case("sort-desc", lambda x: x.sort(0, True).values, (5, 3)),
    case("topk", lambda x: x.topk(2, dim=1).values, (3, 5)),
    case("topk-smallest", lambda x: x.topk(2, 0, largest=False).values, (5, 3)),
    case("median()", lambda x: x.median(), (3, 5)),
    case("median(dim)", lambda x: x.median(-1).values, (3, 4)),
    case("median(dim,keepdim)", lambda x: x.median(0, keepdim=True).values, (5, 3)),
]


@pytest.mark.parametrize("fn, shapes, domain", GRADS)
def test_gradient(fn, shapes, domain):
    check_grads(fn, *[sample(s, domain, seed=i) for i, s in enumerate(shapes)])


# -- second derivatives (central differences of the first; test_higher_order's check) -----------

def cube(t):
    return t * t * t


SECOND = [
    case("prod", lambda x: x.prod(-1), (3, 4)),
    case("prod-all", lambda x: x.prod(), (2, 3)),
    case("var", lambda x: x.var(1), (3, 4)),
    case("std", lambda x: x.std(), (3, 4)),
    case("std_mean", lambda x: F.std_mean(x, 0)[0] * F.std_mean(x, 0)[1], (3, 4)),
    case("norm", lambda x: x.norm(dim=-1), (3, 4)),
    case("norm-p=3", lambda x: x.norm(3), (3, 4)),
    case("norm-inf", lambda x: cube(x.norm(math.inf, 0)), (3, 4)),
    case("cumsum", lambda x: cube(x.cumsum(0)), (3, 4)),
    case("cumprod", lambda x: x.cumprod(-1), (2, 5)),
    case("logcumsumexp", lambda x: x.logcumsumexp(1), (2, 5)),
    case("cummax", lambda x: cube(x.cummax(1).values), (2, 5)),
    case("sort", lambda x: cube(x.sort(0).values), (4, 3)),
    case("topk", lambda x: cube(x.topk(2).values), (3, 4)),
    case("median", lambda x: cube(x.median(1).values), (3, 4)),
    case("min(dim)", lambda x: cube(x.min(1).values), (3, 4)),
]


@pytest.mark.parametrize("fn, shapes, domain", SECOND)
def test_second_derivative(fn, shapes, domain):
    check_second_order(fn, shapes, (domain,) * len(shapes))


# -- float32 in, float32 out -------------------------------------------------------------------

F32 = [
    ("amin", lambda x: x.amin(0)), ("min(dim)", lambda x: x.min(1).values),
    ("prod", lambda x: x.prod(1)), ("prod-all", lambda x: x.prod()),
    ("var", lambda x: x.var(0)), ("std", lambda x: x.std()),
    ("var_mean", lambda x: F.var_mean(x)[0] + F.var_mean(x)[1]),
    ("std_mean", lambda x: F.std_mean(x, 1)[0] + F.std_mean(x, 1)[1]),
    ("norm", lambda x: x.norm()), ("norm-p=3", lambda x: x.norm(3, 1)),
    ("norm-inf", lambda x: x.norm(math.inf)),
    ("cumsum", lambda x: x.cumsum(1)), ("cumprod", lambda x: x.cumprod(0)),
    ("logcumsumexp", lambda x: x.logcumsumexp(1)), ("cummax", lambda x: x.cummax(1).values),
    ("sort", lambda x: x.sort().values), ("topk", lambda x: x.topk(2).values),
    ("median", lambda x: x.median()), ("median(dim)", lambda x: x.median(0).values),
]


@pytest.mark.parametrize("fn", [pytest.param(f, id=i) for i, f in F32])
def test_float32_preserved(fn):
    x = Tensor(np.random.default_rng(0).uniform(0.5, 2, (3, 4)).astype(np.float32),
               requires_grad=True)
    out = fn(x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))


# -- min, amin, argmin: ties and keepdim as PyTorch --------------------------------------------

def test_min_ties():
    """min(x) and amin share the gradient equally among tied minima (PyTorch's
    evenly_distribute_backward); min(x, dim) gives it all to the returned index, the first of the
    ties, as argmin."""
    data = np.array([[1.0, 0.5, 0.5], [2.0, 2.0, 3.0]])
    x = Tensor(data, requires_grad=True)
    x.min().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0, 0, 0]])

    x = Tensor(data, requires_grad=True)
    x.amin(1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [0.5, 0.5, 0]])

    x = Tensor(data, requires_grad=True)
    values, indices = x.min(1)
    np.testing.assert_array_equal(indices.data, [1, 0])
    np.testing.assert_array_equal(x.argmin(1).data, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_min_keepdim_and_argmin_keepdim_without_dim():
    x = Tensor(sample((2, 3, 4)))
    assert x.min(1, keepdim=True).values.shape == (2, 1, 4)
    assert x.min(1, keepdim=True).indices.shape == (2, 1, 4)
    assert x.amin(1, keepdim=True).shape == (2, 1, 4)
    # PyTorch 2: argmin(x, keepdim=True) without a dim keeps every axis (size 1), like numpy
    assert x.argmin(keepdim=True).shape == (1, 1, 1)
    assert x.argmax(keepdim=True).shape == (1, 1, 1)
    assert x.argmin().shape == () and x.argmin().dtype == np.int64
    with pytest.raises(TypeError, match="keepdim"):
        x.min(keepdim=True)


def test_amin_of_unsigned_and_bool_tensors():
    """-x wraps around for unsigned integers: amin reduces integer tensors directly."""
    x = Tensor(np.array([[0, 5], [7, 3]], np.uint8))
    assert x.amin().item() == 0 and x.min().item() == 0
    np.testing.assert_array_equal(x.amin(1).data, [0, 3])
    assert x.amin(1).dtype == np.uint8
    assert not Tensor(np.array([True, False])).amin().item()


def test_min_nan_propagates():
    x = Tensor(np.array([1.0, np.nan, 0.5]))
    assert np.isnan(x.min().item()) and x.argmin().item() == 1
    assert np.isnan(x.min(0).values.item()) and x.min(0).indices.item() == 1


# -- prod with zeros ---------------------------------------------------------------------------

@pytest.mark.parametrize("row, expected", [
    # d/dx_k prod(x) = prod_{j != k} x_j
    ([2.0, 3.0, 4.0], [12.0, 8.0, 6.0]),
    ([2.0, 0.0, 4.0], [0.0, 8.0, 0.0]),   # one zero: only its slot, with the others' product
    ([0.0, 3.0, 0.0], [0.0, 0.0, 0.0]),   # two zeros: every product of the others holds one
    ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    ([-2.0, 0.0, 5.0], [0.0, -10.0, 0.0]),  # negative numbers (exp(sum(log)) fails there)
    ([0.0], [1.0]),
])
def test_prod_gradient_with_zeros(row, expected):
    x = Tensor(np.array(row), requires_grad=True)
    x.prod().backward()
    np.testing.assert_array_equal(x.grad, expected)
    # the same rows along a dim of a batch, with upstream weights
    batch = np.stack([row, np.ones(len(row))])
    x = Tensor(batch, requires_grad=True)
    x.prod(1).backward(np.array([3.0, 1.0]))
    np.testing.assert_array_equal(x.grad[0], 3 * np.array(expected))


def test_prod_and_cumprod_gradients_at_zeros_against_central_differences():
    """prod and cumprod are multilinear, so central differences are exact also at zeros."""
    x = np.array([[2.0, 0.0, 3.0, -1.0, 0.5], [0.0, 1.5, 0.0, 2.0, 1.0], [1.0, 2.0, 3.0, 0.0, 4.0]])
    check_grads(lambda t: t.prod(1), x)
    check_grads(lambda t: t.prod(), x)
    check_grads(lambda t: t.cumprod(1), x)
    check_grads(lambda t: t.cumprod(0), x)


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 5.0], [0.0, 2.0, 0.0, 3.0], [1.5, -2.0, 3.0, 0.5]])
def test_prod_hessian_at_zeros(x):
    """d2/dx_i dx_j prod(x) = prod_{k != i, j} x_k (i != j), 0 on the diagonal: exact at zeros
    too, because the VJP multiplies (scans of mul) instead of dividing by x."""
    x = np.array(x)
    n = len(x)
    expected = np.array([[0.0 if i == j else np.prod(np.delete(x, [i, j])) for j in range(n)]
                         for i in range(n)])
    np.testing.assert_array_equal(func.hessian(lambda t: t.prod())(x).data, expected)


def test_cumprod_second_derivative_at_zeros():
    """H v of <u, cumprod(x)> against central differences of the gradient along v, at inputs
    with zeros (where a division-based VJP would give nan or a wrong second derivative)."""
    x = np.array([[2.0, 0.0, 3.0, 0.0, 0.5, 2.0], [1.0, 1.5, 0.0, 2.0, 1.0, -1.0]])
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal(x.shape), rng.standard_normal(x.shape)

    def gradient(a, create_graph=False):
        t = Tensor(a, requires_grad=True)
        return t, grad(t.cumprod(1), [t], grad_outputs=u, create_graph=create_graph)[0]

    t, g = gradient(x, create_graph=True)
    hv = grad(g, [t], grad_outputs=v)[0].data
    eps = 1e-5  # error ~ eps^2 (a polynomial along v)
    numeric = (gradient(x + eps * v)[1].data - gradient(x - eps * v)[1].data) / (2 * eps)
    np.testing.assert_allclose(hv, numeric, rtol=1e-7, atol=1e-8)


def test_prod_dim_must_be_one_int():
    x = Tensor(sample((2, 3)))
    with pytest.raises(TypeError, match="one int"):
        x.prod((0, 1))
    with pytest.raises(AxisError):
        x.prod(2)


def test_prod_of_integers_and_empty():
    assert Tensor(np.array([2, 3, 4])).prod().item() == 24
    x = Tensor(np.zeros((2, 0)), requires_grad=True)
    y = x.prod(1)
    np.testing.assert_array_equal(y.data, [1.0, 1.0])
    y.sum().backward()
    assert x.grad.shape == (2, 0)


# -- var, std: PyTorch's correction and the legacy unbiased ------------------------------------

def test_var_std_signatures():
    x = sample((3, 4))
    t = Tensor(x)
    np.testing.assert_allclose(t.var(correction=0).data, np.var(x))       # population variance
    np.testing.assert_allclose(t.var(unbiased=False).data, np.var(x))
    np.testing.assert_allclose(t.var(True).data, np.var(x, ddof=1))        # var(x, unbiased)
    np.testing.assert_allclose(t.std(0, True, True).data, np.std(x, 0, ddof=1, keepdims=True))
    np.testing.assert_allclose(t.var(1, correction=0.5).data, np.var(x, 1, ddof=0.5))
    np.testing.assert_allclose(F.var(x, 0).data, np.var(x, 0, ddof=1))    # an ndarray input
    assert isinstance(F.var_mean(t), tuple) and len(F.std_mean(t)) == 2
    with pytest.raises(TypeError, match="both unbiased= and correction="):
        t.var(unbiased=True, correction=0)
    with pytest.raises(TypeError, match="both"):
        t.var(dim=0, axis=0)


def test_var_with_no_degrees_of_freedom_is_nan_or_inf_with_a_warning():
    """PyTorch: n - correction <= 0 divides by max(0, n - correction): nan for a single value."""
    t = Tensor(np.array([[1.0], [2.0]]))
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        v = t.var(1)
    assert np.all(np.isnan(v.data))
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        v = t.var(0, correction=3)
    assert np.all(np.isinf(v.data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(t.var(1, correction=0).data, [0.0, 0.0])


def test_std_gradient_is_zero_for_a_constant_input():
    """PyTorch's std_backward masks std == 0: gradient 0, not inf * 0 = nan."""
    x = Tensor(np.full((2, 3), 1.5), requires_grad=True)
    x.std(1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))
    x = Tensor(np.full(3, 1.5), requires_grad=True)
    F.std_mean(x)[0].backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


# -- norm --------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2, "fro", 1, 3, math.inf])
def test_norm_gradient_at_the_zero_vector_is_zero(p):
    """PyTorch's norm_backward returns the subgradient 0 at a zero norm (not nan)."""
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    y = x.norm(p, dim=1)
    np.testing.assert_array_equal(y.data, [0.0, 0.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_norm_inf_ties_share_the_gradient_with_the_sign():
    x = Tensor(np.array([-2.0, 2.0, 1.0]), requires_grad=True)
    x.norm(math.inf).backward()
    np.testing.assert_array_equal(x.grad, [-0.5, 0.5, 0.0])


def test_norm_nuclear_is_refused_with_advice():
    with pytest.raises(ValueError, match="nuc"):
        Tensor(sample((2, 2))).norm("nuc")


# -- scans -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"])
def test_scans_need_a_dim_as_pytorch(name):
    t = Tensor(sample((2, 3)))
    with pytest.raises(TypeError, match="dim"):
        getattr(t, name)()
    with pytest.raises(AxisError):
        getattr(t, name)(2)
    with pytest.raises(TypeError, match="both"):
        getattr(F, name)(t, 0, axis=0)


def test_scans_of_a_0d_tensor_are_the_value():
    x = Tensor(np.array(1.5), requires_grad=True)
    for y in (x.cumsum(0), x.cumprod(-1), x.logcumsumexp(0), x.cummax(0).values,
              x.sort().values, x.median(0).values):
        assert y.shape == () and y.item() == 1.5
    assert x.cummax(0).indices.shape == () and x.cummax(0).indices.item() == 0
    x.cumprod(0).backward()
    assert x.grad == 1.0


def test_cumsum_gradient_is_a_reversed_cumsum():
    x = Tensor(np.ones(4), requires_grad=True)
    x.cumsum(0).backward(np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [10.0, 9.0, 7.0, 4.0])


def test_cumsum_and_cumprod_of_integers():
    x = Tensor(np.array([1, 2, 3], np.int32))
    np.testing.assert_array_equal(x.cumsum(0).data, [1, 3, 6])
    np.testing.assert_array_equal(x.cumprod(0).data, [1, 2, 6])
    assert x.cumprod(0).dtype.kind == "i"


def test_logcumsumexp_is_stable_for_far_apart_values():
    """exp overflows at 710 and underflows below -745; each scan step shifts by its own max."""
    x = np.array([-1000.0, 0.0, 1000.0, -1000.0, 1000.0])
    t = Tensor(x, requires_grad=True)
    y = t.logcumsumexp(0)
    np.testing.assert_allclose(y.data, lcse(x, 0), rtol=1e-15)
    y.backward(np.ones(5))
    # d/dx_k sum_i out_i = sum_{i >= k} exp(x_k - out_i)
    expected = [1.0, 1.0, 1.0 + 1.0 + 0.5, 0.0, 0.5]
    np.testing.assert_allclose(t.grad, expected, atol=1e-15)


def test_cummax_ties_take_the_later_index_and_the_gradient_accumulates():
    """PyTorch's cummax updates on x >= running max, so a tie moves the index forward; the
    gradient of every position goes to the index it reports (scatter-add)."""
    x = Tensor(np.array([1.0, 3.0, 2.0, 3.0, 0.0]), requires_grad=True)
    values, indices = x.cummax(0)
    np.testing.assert_array_equal(values.data, [1, 3, 3, 3, 3])
    np.testing.assert_array_equal(indices.data, [0, 1, 1, 3, 3])
    assert indices.dtype == np.int64 and not indices.requires_grad
    values.backward(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0]))
    np.testing.assert_array_equal(x.grad, [1, 110, 0, 11000, 0])

    x = Tensor(np.array([2.0, 1.0, 2.0, 3.0]), requires_grad=True)
    np.testing.assert_array_equal(x.cummin(0).indices.data, [0, 1, 1, 1])
    np.testing.assert_array_equal(Tensor(np.array([1.0, 1.0])).cummin(0).indices.data, [0, 1])


def test_cummax_nan_propagates():
    x = Tensor(np.array([1.0, np.nan, 5.0, np.nan, 0.0]))
    values, indices = x.cummax(0)
    assert values.data[0] == 1.0 and np.all(np.isnan(values.data[1:]))
    np.testing.assert_array_equal(indices.data, [0, 1, 1, 3, 3])


# -- sort, argsort, topk -----------------------------------------------------------------------

def test_sort_is_stable_both_ways_and_nan_is_largest():
    x = np.array([2.0, 1.0, 2.0, np.nan, 1.0, 3.0])
    values, indices = Tensor(x).sort()
    np.testing.assert_array_equal(indices.data, [1, 4, 0, 2, 5, 3])
    values, indices = Tensor(x).sort(descending=True)
    np.testing.assert_array_equal(indices.data, [3, 5, 0, 2, 1, 4])  # equal ones in order
    assert np.isnan(values.data[0])
    np.testing.assert_array_equal(Tensor(x).argsort(stable=True).data, [1, 4, 0, 2, 5, 3])
    assert indices.dtype == np.int64


def test_sort_gradient_goes_back_to_the_sources():
    x = Tensor(np.array([[3.0, 1.0, 2.0]]), requires_grad=True)
    x.sort(1, descending=True).values.backward(np.array([[10.0, 20.0, 30.0]]))
    np.testing.assert_array_equal(x.grad, [[10.0, 30.0, 20.0]])


def test_topk():
    x = Tensor(np.array([[1.0, 5.0, 3.0, 5.0], [0.0, -1.0, 2.0, 4.0]]), requires_grad=True)
    values, indices = x.topk(2)
    np.testing.assert_array_equal(values.data, [[5, 5], [4, 2]])
    np.testing.assert_array_equal(indices.data, [[1, 3], [3, 2]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0, 1], [0, 0, 1, 1]])
    np.testing.assert_array_equal(x.topk(1, largest=False).indices.data, [[0], [1]])
    np.testing.assert_array_equal(x.topk(1, dim=0).indices.data, [[0, 0, 0, 0]])
    assert x.topk(0).values.shape == (2, 0)
    with pytest.raises(ShapeError, match="k=5"):
        x.topk(5)
    with pytest.raises(RuntimeError):
        x.topk(-1)


# -- median ------------------------------------------------------------------------------------

def test_median_is_the_lower_median():
    x = Tensor(np.array([[4.0, 1.0, 3.0, 2.0], [1.0, 1.0, 2.0, 9.0]]), requires_grad=True)
    assert x.median().item() == 2.0          # of 1 1 1 2 2 3 4 9: the 4th smallest
    values, indices = x.median(1)
    np.testing.assert_array_equal(values.data, [2.0, 1.0])
    np.testing.assert_array_equal(indices.data, [3, 1])   # stable: the 2nd of the tied ones
    values.backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 1], [0, 2, 0, 0]])


def test_median_without_dim_shares_the_gradient_among_ties():
    """PyTorch's median() distributes the gradient evenly among the elements equal to it."""
    x = Tensor(np.array([3.0, 1.0, 3.0, 5.0, 3.0]), requires_grad=True)
    x.median().backward()
    np.testing.assert_allclose(x.grad, [1 / 3, 0, 1 / 3, 0, 1 / 3])


def test_median_nan_propagates():
    x = Tensor(np.array([[1.0, np.nan, 0.0], [1.0, 2.0, 3.0]]))
    assert np.isnan(x.median().item())
    values, indices = x.median(1)
    assert np.isnan(values.data[0]) and values.data[1] == 2.0
    np.testing.assert_array_equal(indices.data, [1, 1])


def test_median_errors():
    with pytest.raises(TypeError, match="keepdim"):
        Tensor(sample((3,))).median(keepdim=True)
    with pytest.raises(TypeError, match="one int"):
        Tensor(sample((2, 3))).median((0, 1))
    with pytest.raises(ShapeError, match="empty"):
        Tensor(np.zeros(0)).median()


# -- the numeric helper itself, once: central differences of a known function -------------------

def test_numeric_grad_sanity():
    num = numeric_grad(lambda a: float(np.prod(a)), [np.array([2.0, 3.0, 4.0])], 0)
    np.testing.assert_allclose(num, [12.0, 8.0, 6.0], rtol=1e-8)


@pytest.mark.parametrize("p", [0.3, 0.5, 0.99, 1.5, 3.0])
def test_norm_gradient_at_zeros_as_pytorch(p):
    """0 < p < 1: d|x|^p/dx is infinite at 0; PyTorch's gradient is 0 there, not nan."""
    torch = pytest.importorskip("torch")
    for x0 in (np.array([0.0, 1.0, -2.0, 0.0]), np.zeros(3), np.array([[0.0, 3.0], [0.0, 0.0]])):
        x, t = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        F.norm(x, p).backward()
        torch.norm(t, p).backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=0)
        if x0.ndim == 2:
            x, t = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
            F.norm(x, p, 1).sum().backward()
            torch.norm(t, p, 1).sum().backward()
            np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=0)


def test_mean_of_an_integer_tensor_raises_as_pytorch_and_dtype_converts():
    torch = pytest.importorskip("torch")
    for data in ([1, 2], [True, False]):
        with pytest.raises(RuntimeError):
            torch.tensor(data).mean()
        with pytest.raises(RuntimeError, match="mean.*floating point.*dtype="):
            Tensor(np.array(data)).mean()
        with pytest.raises(RuntimeError, match="mean"):
            F.mean(Tensor(np.array(data)), 0)
        want = torch.tensor(data).mean(dtype=torch.float64).item()
        assert Tensor(np.array(data)).mean(dtype=np.float64).item() == want


def test_sum_dtype_casts_first_as_pytorch():
    torch = pytest.importorskip("torch")
    x0 = np.array([[1, 2], [3, 250]], np.int64)
    for dtype, tdtype in ((np.float32, torch.float32), (np.uint8, torch.uint8),
                          (np.float64, torch.float64)):
        want = torch.tensor(x0).sum(0, dtype=tdtype)
        got = F.sum(Tensor(x0), 0, dtype=dtype)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got.data, want.numpy())
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.sum(dtype=np.float32)
    assert y.dtype == np.float32
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])
    assert x.grad.dtype == np.float64


@pytest.mark.parametrize("name", ["logsumexp", "softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((2, 0), 1), ((0, 3), 0), ((0, 3), 1), ((0,), 0)])
def test_softmax_family_over_an_empty_dim_as_pytorch(name, shape, dim):
    """logsumexp over an empty dim is -inf (the log of an empty sum); softmax and log_softmax
    give the empty tensor; the gradient has the input's shape."""
    torch = pytest.importorskip("torch")
    for dtype in (np.float64, np.float32):
        x0 = np.zeros(shape, dtype)
        want = getattr(torch, name)(torch.tensor(x0), dim).numpy()
        x = Tensor(x0, requires_grad=True)
        out = getattr(F, name)(x, dim)
        assert out.shape == want.shape and out.dtype == want.dtype
        np.testing.assert_array_equal(out.data, want)
        out.sum().backward()
        assert x.grad.shape == shape
