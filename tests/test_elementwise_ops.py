"""The elementwise ops (compositions/elementwise.py and their primitives): values against numpy,
math or a closed form, gradients against central differences (float64, broadcasting), second
derivatives, float32 kept, and PyTorch's semantics where they are not obvious (clamp at its
bounds, round half to even, the signs of % and fmod, masked_fill's checks).

Each table holds one line per op.
"""
import math

import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, grad
from autograd_mini.compositions import elementwise
from autograd_mini.tape import ShapeError
from conftest import check_grads, sample
from test_higher_order import check_second_order

math_erf = np.vectorize(math.erf, otypes=[float])


def unit(shape, seed=0):
    """Data inside (-1, 1), away from the ends: asin, acos, atanh."""
    return np.random.default_rng(seed).uniform(-0.9, 0.9, size=shape)


# -- values against numpy's own function (or math, or a closed form), float64 -----------------

X = sample((3, 4), seed=1)  # |x| in [0.3, 2], both signs
XP = sample((3, 4), "pos", seed=2)  # x in [0.5, 2]
U = unit((3, 4), seed=3)
SPECIAL = np.array([0.0, -0.0, 1e-300, -1e-20, 1e-8, 0.5, -3.75, 12.5, 700.0, -700.0])
TINY = np.array([1e-300, 1e-20, -1e-20, 1e-10, -1e-8, 1e-5])

VALUES = [  # (id, ours, reference, input); rtol 4e-16 unless the id ends with the tolerance
    ("sin", F.sin, np.sin, X),
    ("cos", F.cos, np.cos, X),
    ("tan", F.tan, np.tan, X),
    ("exp2", F.exp2, np.exp2, np.array([-3.0, 0.0, 0.5, 10.0, 52.0, -1074.0])),
    ("expm1", F.expm1, np.expm1, np.concatenate([X.ravel(), TINY])),
    ("log2", F.log2, np.log2, np.concatenate([XP.ravel(), [1.0, 2.0, 1024.0, 1e300]])),
    ("log10", F.log10, np.log10, np.concatenate([XP.ravel(), [1.0, 1e-300, 1e300]])),
    ("log1p", F.log1p, np.log1p, np.concatenate([XP.ravel(), TINY])),
    ("rsqrt", F.rsqrt, lambda x: 1 / np.sqrt(x), XP),
    ("square", F.square, np.square, X),
    ("reciprocal", F.reciprocal, np.reciprocal, X),
    ("erf", F.erf, math_erf, np.concatenate([X.ravel(), SPECIAL, [0.46875, 4.0, 5.9, 27.0]])),
    ("floor", F.floor, np.floor, np.array([-1.5, -0.5, -0.0, 0.5, 1.0, 2.7])),
    ("ceil", F.ceil, np.ceil, np.array([-1.5, -0.5, -0.0, 0.5, 1.0, 2.7])),
    ("trunc", F.trunc, np.trunc, np.array([-1.5, -0.5, -0.0, 0.5, 1.0, 2.7])),
    ("round", F.round, np.round, np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.6])),
    ("round-decimals", lambda x: F.round(x, decimals=2), lambda x: np.round(x, 2), X),
    ("frac", F.frac, lambda x: x - np.trunc(x), X * 3),
    ("asin", F.asin, np.arcsin, np.concatenate([U.ravel(), TINY, [1.0, -1.0, 1 - 1e-12]])),
    ("acos", F.acos, np.arccos, np.concatenate([U.ravel(), [0.0, 1.0, -1.0, 1 - 1e-12]])),
    ("atan", F.atan, np.arctan, np.concatenate([X.ravel(), TINY, [1e300, -np.inf]])),
    ("sinh", F.sinh, np.sinh, np.concatenate([X.ravel(), TINY, [30.0, -700.0]])),
    ("cosh", F.cosh, np.cosh, np.concatenate([X.ravel(), TINY, [30.0, -700.0]])),
    ("asinh", F.asinh, np.arcsinh,
     np.concatenate([X.ravel(), TINY, [1e8, -1.5e8, 1e200, -1e300, np.inf]])),
    ("acosh", F.acosh, np.arccosh, np.concatenate([XP.ravel() + 1, [1.0, 1 + 1e-10, 1e300]])),
    ("atanh", F.atanh, np.arctanh, np.concatenate([U.ravel(), TINY, [1 - 1e-12]])),
    ("arcsin", F.arcsin, np.arcsin, U),
    ("minimum", lambda x: F.minimum(x, X[::-1]), lambda x: np.minimum(x, X[::-1]), X),
    ("logaddexp", lambda x: F.logaddexp(x, X[::-1]), lambda x: np.logaddexp(x, X[::-1]), X),
    ("logaddexp-extreme", lambda x: F.logaddexp(x, x[::-1]),
     lambda x: np.logaddexp(x, x[::-1]), np.array([1000.0, -1000.0, -745.0, 0.0, 40.0])),
    ("lerp", lambda x: F.lerp(x, XP, U), lambda x: x + U * (XP - x), X),
    ("atan2", lambda x: F.atan2(x, X.T.reshape(3, 4)), lambda x: np.arctan2(x, X.T.reshape(3, 4)),
     X),
    ("copysign", lambda x: F.copysign(x, X[::-1]), lambda x: np.copysign(x, X[::-1]), X),
    ("copysign-zeros", lambda x: F.copysign(x, x[::-1]), lambda x: np.copysign(x, x[::-1]),
     np.array([-0.0, 2.0, 0.0, -3.0])),
    ("remainder", lambda x: F.remainder(x, 0.7), lambda x: np.remainder(x, 0.7), X * 3),
    ("fmod", lambda x: F.fmod(x, -0.7), lambda x: np.fmod(x, -0.7), X * 3),
    ("clamp", lambda x: F.clamp(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0), X),
    ("clip-min", lambda x: F.clip(x, min=0.6), lambda x: np.maximum(x, 0.6), X),
    ("clamp-max-tensor", lambda x: F.clamp(x, max=Tensor(U)), lambda x: np.minimum(x, U), X),
    ("masked_fill", lambda x: F.masked_fill(x, x > 0, -1.5), lambda x: np.where(x > 0, -1.5, x),
     X),
]


@pytest.mark.parametrize("fn, ref, x", [pytest.param(f, r, x, id=i) for i, f, r, x in VALUES])
def test_values(fn, ref, x):
    with np.errstate(over="ignore"):
        out = fn(Tensor(x))
        expected = ref(x)
    assert isinstance(out, Tensor) and out.dtype == np.float64 and out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=4e-16, atol=0)
    np.testing.assert_array_equal(np.signbit(out.data), np.signbit(expected))  # -0.0 too


def test_erf_known_values():
    """erf(0.5), erf(1), erf(2) to 30 digits (Abramowitz and Stegun, table 7.1), odd, the
    limits, nan, -0.0, and the Taylor term 2x/sqrt(pi) at tiny x; float32 stays float32."""
    x = Tensor([0.5, 1.0, 2.0, -1.0, 1e-200, np.inf, -np.inf, np.nan, -0.0])
    out = F.erf(x).data
    np.testing.assert_allclose(out[:5], [0.520499877813046537682746653892,
                                         0.842700792949714869341220635083,
                                         0.995322265018952734162069256367,
                                         -0.842700792949714869341220635083,
                                         2e-200 / np.sqrt(np.pi)], rtol=2.3e-16)
    assert out[5] == 1 and out[6] == -1 and np.isnan(out[7])
    assert out[8] == 0 and np.signbit(out[8])
    assert F.erf(Tensor(np.float32(1.0))).dtype == np.float32
    assert F.erf(Tensor(2)).dtype == np.float64


def test_accurate_where_the_textbook_formula_is_not():
    t = Tensor(np.array([1e-20, 1e-10]))
    np.testing.assert_array_equal(F.log1p(t).data, [1e-20, np.log1p(1e-10)])
    np.testing.assert_array_equal(F.expm1(t).data, [1e-20, np.expm1(1e-10)])
    np.testing.assert_allclose(F.sinh(t).data, [1e-20, 1e-10], rtol=1e-16)
    np.testing.assert_allclose(F.asinh(Tensor(1e-10)).data, 1e-10, rtol=1e-16)
    np.testing.assert_allclose(F.acosh(Tensor(1 + 1e-10)).data, np.arccosh(1 + 1e-10), rtol=1e-15)
    # 1.0 % 0.1 is 0.09999999999999995 (0.1 is slightly above 1/10), not 1 - 0.1 * 10
    assert F.remainder(Tensor(1.0), 0.1).item() == 1.0 % 0.1
    assert F.fmod(Tensor(1.0), 0.1).item() == math.fmod(1.0, 0.1)
    # exp2 is exact at integers, log2 of powers of two too
    np.testing.assert_array_equal(F.exp2(Tensor([3.0, -2.0, 60.0])).data, [8.0, 0.25, 2.0**60])


def test_large_arguments_stay_finite():
    with np.errstate(over="raise", invalid="raise"):  # not even in a branch not taken
        big = Tensor(np.array([1e20, -1e300]))
        np.testing.assert_allclose(F.asinh(big).data, np.arcsinh(big.data), rtol=1e-15)
        x32 = Tensor(np.array([1e20, 3e38], dtype=np.float32), requires_grad=True)
        y = F.asinh(x32)
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.data, np.arcsinh(x32.data.astype(float)), rtol=1e-7)
        y.sum().backward()
        np.testing.assert_allclose(x32.grad, 1 / x32.data.astype(float), rtol=1e-6)
        a = Tensor([1000.0, -1000.0, -np.inf, np.inf, -np.inf], requires_grad=True)
        b = Tensor([1000.0, 1000.0, -np.inf, np.inf, 3.0], requires_grad=True)
        out = F.logaddexp(a, b)
    np.testing.assert_array_equal(out.data, np.logaddexp(a.data, b.data))
    out[:2].sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0, 0, 0, 0])
    np.testing.assert_array_equal(b.grad, [0.5, 1, 0, 0, 0])


# -- gradients against central differences, float64 --------------------------------------------

def case(id, fn, *shapes, domain="any"):
    domains = (domain,) * len(shapes) if isinstance(domain, str) else domain
    return pytest.param(fn, shapes, domains, id=id)


def data(shape, domain, seed):
    return unit(shape, seed) if domain == "unit" else sample(shape, domain, seed=seed)


BCAST = [((3,), (3,)), ((2, 3), ()), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((4,), (2, 1, 4))]
BINARY = {  # name -> (fn, domains)
    "minimum": (F.minimum, "any"),
    "logaddexp": (F.logaddexp, "any"),
    "atan2": (F.atan2, "any"),
    "copysign": (F.copysign, "any"),
    "remainder": (F.remainder, ("any", "pos")),
    "fmod": (F.fmod, ("any", "pos")),
    "%": (lambda a, b: a % b, ("any", "pos")),
    "clamp-min-tensor": (lambda x, m: x.clamp(min=m), "any"),
    "clamp-max-tensor": (lambda x, m: x.clamp(max=m), "any"),
    "lerp-weight": (lambda a, w: F.lerp(a, a.exp(), w), "any"),
}

GRADS = [
    case("sin", lambda x: x.sin(), (2, 3)),
    case("cos", lambda x: x.cos(), (2, 3)),
    case("tan", lambda x: x.tan(), (2, 3), domain="unit"),
    case("exp2", lambda x: x.exp2(), (2, 3)),
    case("expm1", lambda x: x.expm1(), (2, 3)),
    case("log2", lambda x: x.log2(), (2, 3), domain="pos"),
    case("log10", lambda x: x.log10(), (2, 3), domain="pos"),
    case("log1p", lambda x: x.log1p(), (2, 3), domain="pos"),
    case("rsqrt", lambda x: x.rsqrt(), (2, 3), domain="pos"),
    case("square", lambda x: x.square(), (2, 3)),
    case("reciprocal", lambda x: x.reciprocal(), (2, 3)),
    case("erf", lambda x: x.erf(), (2, 3)),
    case("floor", lambda x: x.floor() * x, (2, 3)),
    case("ceil", lambda x: x.ceil() * x, (2, 3)),
    case("trunc", lambda x: x.trunc() * x, (2, 3)),
    case("round", lambda x: (x * 3).round() * x, (2, 3)),
    case("frac", lambda x: (x * 3).frac(), (2, 3)),
    case("asin", lambda x: x.asin(), (2, 3), domain="unit"),
    case("acos", lambda x: x.acos(), (2, 3), domain="unit"),
    case("atan", lambda x: x.atan(), (2, 3)),
    case("sinh", lambda x: x.sinh(), (2, 3)),
    case("cosh", lambda x: x.cosh(), (2, 3)),
    case("asinh", lambda x: x.asinh(), (2, 3)),
    case("acosh", lambda x: (x + 1).acosh(), (2, 3), domain="pos"),
    case("atanh", lambda x: x.atanh(), (2, 3), domain="unit"),
    case("lerp", F.lerp, (2, 3), (3,), (2, 1)),
    case("clamp-both-tensors", lambda x, lo, hi: F.clamp(x, lo, hi), (3, 4), (4,), (3, 1)),
    case("masked_fill", lambda x: x.masked_fill(x.data > 0.5, 2.0) * x, (2, 3)),
    case("masked_fill-0d-value", lambda x, v: x.masked_fill(x.data > 0.5, v), (2, 3), ()),
] + [case(f"{name}-{sa}-{sb}", fn, sa, sb, domain=dom)
     for name, (fn, dom) in BINARY.items() for sa, sb in BCAST]


@pytest.mark.parametrize("fn, shapes, domains", GRADS)
def test_gradient(fn, shapes, domains):
    check_grads(fn, *[data(s, d, seed=i) for i, (s, d) in enumerate(zip(shapes, domains))])


# -- second derivatives (central differences of the first, test_higher_order's check) ----------

SECOND = [
    case("tan", lambda x: x.tan(), (2, 3), domain="unit"),
    case("exp2", lambda x: x.exp2(), (2, 3)),
    case("log2", lambda x: x.log2(), (2, 3), domain="pos"),
    case("log10", lambda x: x.log10(), (3,), domain="pos"),
    case("rsqrt", lambda x: x.rsqrt(), (2, 3), domain="pos"),
    case("square", lambda x: x.square() * x, (2, 3)),
    case("reciprocal", lambda x: x.reciprocal(), (2, 3)),
    case("floor", lambda x: x.floor() * x * x, (2, 3)),
    case("frac", lambda x: (x * 3).frac() ** 3, (2, 3)),
    case("asin", lambda x: x.asin(), (2, 3), domain="unit"),
    case("acos", lambda x: x.acos(), (2, 3), domain="unit"),
    case("atan", lambda x: x.atan(), (2, 3)),
    case("sinh", lambda x: x.sinh(), (2, 3)),
    case("cosh", lambda x: x.cosh(), (2, 3)),
    case("asinh", lambda x: x.asinh(), (2, 3)),
    case("acosh", lambda x: (x + 1).acosh(), (2, 3), domain="pos"),
    case("atanh", lambda x: x.atanh(), (2, 3), domain="unit"),
    case("minimum", lambda a, b: F.minimum(a, b) ** 3, (2, 3), (3,)),
    case("logaddexp", F.logaddexp, (2, 3), (3,)),
    case("lerp", F.lerp, (2, 3), (3,), (2, 1)),
    case("copysign", lambda a, b: F.copysign(a, b) ** 3, (2, 3), (3,)),
    case("fmod", lambda a, b: F.fmod(a, b) ** 3, (2, 3), (3,), domain=("any", "pos")),
    case("clamp", lambda x, lo: x.clamp(lo, 1.0) ** 3, (2, 3), (3,)),
    case("masked_fill", lambda x: x.masked_fill(x.data > 0.5, 2.0) ** 3, (2, 3)),
]


@pytest.mark.parametrize("fn, shapes, domains", SECOND)
def test_second_derivative(fn, shapes, domains):
    # test_higher_order draws "unit" from (0.1, 0.9), "any"/"pos" as conftest.sample
    check_second_order(fn, shapes, domains)


def test_logaddexp_derivatives_at_a_tie_are_exact():
    """d/da logaddexp(a, b) = sigmoid(a - b): 1/2 at a tie, and d2/da2 = s (1 - s) = 1/4 (a
    formula with |a - b| or max(a, b) would give 0 there)."""
    a, b = Tensor([0.7, -3.0], requires_grad=True), Tensor([0.7, -3.0], requires_grad=True)
    (ga,) = grad(F.logaddexp(a, b).sum(), a, create_graph=True)
    np.testing.assert_array_equal(ga.data, [0.5, 0.5])
    (gaa,) = grad(ga.sum(), a)
    np.testing.assert_allclose(gaa.data, [0.25, 0.25], rtol=1e-15)
    x = Tensor([0.0], requires_grad=True)  # softplus(x) = logaddexp(x, 0), at x = 0
    (g,) = grad(F.logaddexp(x, 0.0).sum(), x, create_graph=True)
    assert g.item() == 0.5 and grad(g.sum(), x)[0].item() == 0.25


# -- PyTorch's semantics -----------------------------------------------------------------------

def test_clamp_gradient_at_the_bounds_as_pytorch():
    """PyTorch (derivatives.yaml, clamp_backward): x gets g where min <= x <= max, bounds
    included; a tensor min gets g where x < min, a tensor max where x > max."""
    x = Tensor([-2.0, 0.0, 0.5, 1.0, 3.0], requires_grad=True)
    x.clamp(0.0, 1.0).backward(np.ones(5))
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])
    x.grad = None
    x.clamp(min=0.0).backward(np.ones(5))
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 1])
    lo, hi = Tensor(0.0, requires_grad=True), Tensor([1.0] * 5, requires_grad=True)
    x.grad = None
    F.clamp(x, lo, hi).backward(np.arange(1.0, 6.0))
    np.testing.assert_array_equal(x.grad, [0, 2, 3, 4, 0])
    assert lo.grad == 1.0  # the sum over x < min
    np.testing.assert_array_equal(hi.grad, [0, 0, 0, 0, 5])


def test_clamp_min_above_max_gives_max():
    """PyTorch: if min > max, every element is max, and max gets all the gradient."""
    x = Tensor([-1.0, 0.5, 3.0], requires_grad=True)
    lo, hi = Tensor(2.0, requires_grad=True), Tensor(1.0, requires_grad=True)
    out = F.clamp(x, lo, hi)
    np.testing.assert_array_equal(out.data, [1, 1, 1])
    out.sum().backward()
    assert list(x.grad) == [0, 0, 0] and lo.grad == 0 and hi.grad == 3


def test_clamp_min_equal_max_is_documented_difference():
    """Where min == max and x < min, PyTorch sends the gradient to neither bound; here min
    gets it (the output is min there), as the docstring says."""
    x, lo = Tensor([-1.0, 0.5]), Tensor(0.5, requires_grad=True)
    F.clamp(x, lo, 0.5).sum().backward()
    assert lo.grad == 1.0
    assert "PyTorch sends the" in F.clamp.__doc__


def test_clamp_details():
    x = Tensor([np.nan, -3.0, 3.0], requires_grad=True)
    assert np.isnan(x.clamp(-1, 1).data[0])  # nan passes, as PyTorch
    with pytest.raises(TypeError, match="at least one of min and max"):
        x.clamp()
    assert F.clip is F.clamp and Tensor.clip is Tensor.clamp
    x32 = Tensor(np.ones(3, np.float32), requires_grad=True)
    assert x32.clamp(0.5, Tensor(0.7)).dtype == np.float32  # 0-d bound: the dtype of x
    np.testing.assert_array_equal(F.clamp(np.array([-2.0, 2.0]), -1, 1).data, [-1, 1])


def test_masked_fill():
    x = Tensor([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]], requires_grad=True)
    v = Tensor(9.0, requires_grad=True)
    out = x.masked_fill(np.array([True, False, True]), v)  # the mask broadcasts to x
    np.testing.assert_array_equal(out.data, [[9, -2, 9], [9, 5, 9]])
    out.backward(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [0, 4, 0]])
    assert v.grad == 0 + 2 + 3 + 5
    assert x.float().masked_fill(x > 0, -np.inf).dtype == np.float32
    with pytest.raises(TypeError, match="bool"):
        x.masked_fill(np.array([1, 0, 1]), 0.0)
    with pytest.raises(ShapeError, match=r"\(3, 2, 3\)"):
        x.masked_fill(np.ones((3, 2, 3), bool), 0.0)
    with pytest.raises(ShapeError, match="0-d"):
        x.masked_fill(x > 0, Tensor([1.0, 2.0, 3.0]))


def test_rounding_as_pytorch():
    x = Tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.675], requires_grad=True)
    np.testing.assert_array_equal(x.round().data, [-2, -2, -0, 0, 2, 2, 3])  # halves to even
    np.testing.assert_array_equal(x.floor().data, [-3, -2, -1, 0, 1, 2, 2])
    np.testing.assert_array_equal(x.ceil().data, [-2, -1, -0, 1, 2, 3, 3])
    np.testing.assert_array_equal(x.trunc().data, [-2, -1, -0, 0, 1, 2, 2])
    np.testing.assert_array_equal(F.round(Tensor([1.25, 1234.5]), decimals=1).data,
                                  [1.2, 1234.5])
    np.testing.assert_array_equal(F.round(Tensor([1234.5]), decimals=-2).data, [1200.0])
    for f in (F.floor, F.ceil, F.trunc, F.round):  # integers stay integers
        assert f(Tensor([1, -2])).dtype == np.int64
        f(x).backward(np.ones(7))  # zero gradient, as PyTorch
    np.testing.assert_array_equal(x.grad, np.zeros(7))
    assert x.floor().grad_fn.name == "round"  # one primitive with a mode


def test_remainder_fmod_and_floor_division():
    a = Tensor([5.0, -5.0, 5.0, -5.0], requires_grad=True)
    b = Tensor([3.0, 3.0, -3.0, -3.0], requires_grad=True)
    np.testing.assert_array_equal((a % b).data, [2, 1, -1, -2])  # the sign of b
    np.testing.assert_array_equal(F.fmod(a, b).data, [2, -2, 2, -2])  # the sign of a
    np.testing.assert_array_equal((a // b).data, [1, -2, -2, 1])
    np.testing.assert_array_equal(((a // b) * b + a % b).data, a.data)
    assert not (a // b).requires_grad  # no derivative, as PyTorch's floor_divide
    (a % b).backward(np.ones(4))
    np.testing.assert_array_equal(a.grad, [1, 1, 1, 1])
    np.testing.assert_array_equal(b.grad, -np.floor(a.data / b.data))  # -q
    x = Tensor(1.0, requires_grad=True)
    q = Tensor(0.1, requires_grad=True)
    (x % q).backward()
    assert q.grad == -9.0  # the quotient the forward used: 1.0 % 0.1 = 1.0 - 9 * 0.1
    np.testing.assert_array_equal((7.0 % Tensor([2.0, -2.0])).data, [1, -1])  # __rmod__
    np.testing.assert_array_equal((7.0 // Tensor([2.0, -2.0])).data, [3, -4])
    x32 = Tensor(np.array([2.5, -2.5], np.float32))
    assert (x32 % 2).dtype == (x32 // 2).dtype == (x32 // Tensor(2.0)).dtype == np.float32
    with pytest.raises(ShapeError, match="floor_divide"):
        Tensor(np.ones(3)) // Tensor(np.ones(2))


def test_minimum_splits_ties_as_pytorch():
    a, b = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([1.0, 5.0, 0.0],
                                                              requires_grad=True)
    out = F.minimum(a, b)
    np.testing.assert_array_equal(out.data, [1, 2, 0])
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1, 0])
    np.testing.assert_array_equal(b.grad, [0.5, 0, 1])
    assert a.minimum(b).shape == (3,) and a.maximum(b).shape == (3,)


def test_copysign_gradient_is_zero_at_zero_as_pytorch():
    x = Tensor([0.0, -2.0, 3.0], requires_grad=True)
    F.copysign(x, Tensor([-1.0, 1.0, -0.0])).backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0, -1, -1])


def test_asinh_is_odd_with_gradient_one_at_zero():
    x = Tensor([0.0, -0.0, 0.3], requires_grad=True)
    y = x.asinh()
    np.testing.assert_array_equal(np.signbit(y.data), [False, True, False])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1, 1, 1 / np.sqrt(1.09)], rtol=1e-15)
    np.testing.assert_array_equal(F.asinh(Tensor(-X)).data, -F.asinh(Tensor(X)).data)


def test_tests_of_values_are_bool_tensors_without_grad():
    x = Tensor([1.0, np.nan, np.inf, -np.inf], requires_grad=True)
    y = Tensor([1.0 + 1e-9, np.nan, np.inf, 0.0])
    cases = [(x.isnan(), np.isnan(x.data)), (x.isinf(), np.isinf(x.data)),
             (x.isfinite(), np.isfinite(x.data)), (x.logical_not(), np.logical_not(x.data)),
             (x.logical_and(y), np.logical_and(x.data, y.data)),
             (F.logical_or(x, 0), np.logical_or(x.data, 0)),
             (F.logical_xor(x > 0, y > 0), np.logical_xor(x.data > 0, y.data > 0)),
             (x.isclose(y), np.isclose(x.data, y.data)),
             (F.isclose(x, y, equal_nan=True), np.isclose(x.data, y.data, equal_nan=True))]
    for ours, ref in cases:
        assert ours.dtype == np.bool_ and not ours.requires_grad and ours.grad_fn is None
        np.testing.assert_array_equal(ours.data, ref)
    assert F.allclose(Tensor([1.0, 2.0]), Tensor([1.0, 2.0 + 1e-9])) is True
    assert Tensor([1.0]).allclose(Tensor([1.1])) is False
    with pytest.raises(ShapeError, match="logical_and"):
        F.logical_and(Tensor(np.ones(3)), Tensor(np.ones(2)))


def test_positive_is_the_tensor_itself():
    x = Tensor([1.0, -2.0], requires_grad=True)
    assert +x is x and F.positive(x) is x


def test_atan2_quadrants():
    y, x = np.array([1.0, 1.0, -1.0, -1.0, 0.0, 0.0]), np.array([1.0, -1.0, -1.0, 1.0, -1.0, 2.0])
    np.testing.assert_array_equal(F.atan2(Tensor(y), Tensor(x)).data, np.arctan2(y, x))
    assert F.arctan2 is F.atan2 and Tensor.arctan2 is Tensor.atan2


def test_every_name_is_a_function_and_a_method():
    for name in elementwise.__all__:
        assert callable(getattr(F, name)), name
    for name in elementwise.METHODS:
        assert callable(getattr(Tensor, name)), name


# -- float32 in, float32 out and float32 gradients ---------------------------------------------

F32 = [  # (id, fn, input shapes); inputs are float32 in [0.1, 0.9]
    ("tan", lambda x: x.tan(), [(3,)]),
    ("exp2", lambda x: x.exp2(), [(3,)]),
    ("log2", lambda x: x.log2(), [(3,)]),
    ("log10", lambda x: x.log10(), [(3,)]),
    ("rsqrt", lambda x: x.rsqrt(), [(3,)]),
    ("square", lambda x: x.square(), [(3,)]),
    ("reciprocal", lambda x: x.reciprocal(), [(3,)]),
    ("frac", lambda x: x.frac(), [(3,)]),
    ("asin", lambda x: x.asin(), [(3,)]),
    ("acos", lambda x: x.acos(), [(3,)]),
    ("atan", lambda x: x.atan(), [(3,)]),
    ("sinh", lambda x: x.sinh(), [(3,)]),
    ("cosh", lambda x: x.cosh(), [(3,)]),
    ("asinh", lambda x: x.asinh(), [(3,)]),
    ("acosh", lambda x: (x + 1).acosh(), [(3,)]),
    ("atanh", lambda x: x.atanh(), [(3,)]),
    ("minimum", lambda a, b: a.minimum(b), [(2, 3), (3,)]),
    ("logaddexp", lambda a, b: a.logaddexp(b), [(2, 3), (3,)]),
    ("logaddexp-scalar", lambda a: F.logaddexp(a, 0.0), [(3,)]),
    ("lerp", lambda a, b: a.lerp(b, 0.3), [(2, 3), (3,)]),
    ("copysign", lambda a, b: a.copysign(-b), [(2, 3), (3,)]),
    ("fmod", lambda a, b: a.fmod(b), [(2, 3), (3,)]),
    ("clamp", lambda x: x.clamp(0.3, 0.6), [(3,)]),
    ("clamp-tensors", lambda x, lo: x.clamp(lo, 0.6), [(2, 3), (3,)]),
    ("masked_fill", lambda x: x.masked_fill(x > 0.5, 0.25), [(3,)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in F32])
def test_float32_preserved(fn, shapes):
    rng = np.random.default_rng(0)
    ts = [Tensor(rng.uniform(0.1, 0.9, s).astype(np.float32), requires_grad=True)
          for s in shapes]
    out = fn(*ts)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, dtype=np.float32))
    for t in ts:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape
        assert np.all(np.isfinite(t.grad))


NAN_CASES = [  # (id, ours, PyTorch's, operands: the first requires grad, the others too if float)
    ("clamp", lambda x: F.clamp(x, -1.0, 1.0), lambda x: x.clamp(-1.0, 1.0), [np.nan, 0.5, 2.0]),
    ("clamp-min", lambda x: F.clamp(x, min=0.0), lambda x: x.clamp(min=0.0), [np.nan, -1.0, 1.0]),
    ("relu", F.relu, lambda x: x.relu(), [np.nan, -1.0, 0.0, 1.0]),
    ("abs", F.abs, lambda x: x.abs(), [np.nan, -1.0, 0.0, 1.0]),
    ("sign", F.sign, lambda x: x.sign(), [np.nan, -1.0, 0.0, 1.0]),
    ("maximum", F.maximum, lambda a, b: a.maximum(b),
     [np.nan, 1.0, np.nan, 2.0, 3.0], [1.0, np.nan, np.nan, 2.0, 1.0]),
    ("minimum", F.minimum, lambda a, b: a.minimum(b),
     [np.nan, 1.0, np.nan, 2.0, 3.0], [1.0, np.nan, np.nan, 2.0, 1.0]),
]


@pytest.mark.parametrize("name, ours, theirs, args", [(c[0], c[1], c[2], c[3:]) for c in NAN_CASES],
                         ids=[c[0] for c in NAN_CASES])
def test_values_and_gradients_at_nan_as_pytorch(name, ours, theirs, args):
    """clamp's gradient at NaN is 0, relu's 1, maximum's 1 to both, abs's 0; sign(nan) = 0."""
    torch = pytest.importorskip("torch")
    xs = [Tensor(np.array(a), requires_grad=True) for a in args]
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out, ref = ours(*xs), theirs(*ts)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())  # NaN where torch has NaN
    g = np.arange(1.0, 1.0 + out.data.size).reshape(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    for x, t in zip(xs, ts):
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


PROMOTED = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]


@pytest.mark.parametrize("ndims", [(1, 1), (0, 1), (1, 0), (0, 0)], ids=["nd-nd", "0d-nd", "nd-0d",
                                                                       "0d-0d"])
def test_dtype_promotion_follows_pytorchs_table(ndims):
    """Every pair of dtypes, with and without dimensions: add, mul, maximum and where give
    torch.result_type (int64 + float32 is float32, a 0-d operand does not widen an operand with
    dimensions of its kind); so do cat and floor division."""
    torch = pytest.importorskip("torch")
    cond = np.array([True, False])
    for a in PROMOTED:
        for b in PROMOTED:
            x0 = np.ones((2,) * ndims[0], a)
            y0 = np.ones((2,) * ndims[1], b)
            want = str(torch.result_type(torch.tensor(x0), torch.tensor(y0))).replace("torch.", "")
            x, y = Tensor(x0), Tensor(y0)
            ops = {"add": x + y, "mul": F.mul(x, y), "maximum": F.maximum(x, y),
                   "where": F.where(cond, x, y)}
            if "bool" not in (a, b):
                ops["floor_divide"] = x // y
            if all(ndims):
                ops["cat"] = F.cat([x, y])
            for name, out in ops.items():
                assert str(out.dtype) == want, (name, a, b, ndims)


def test_dtype_promotion_examples_and_gradients():
    torch = pytest.importorskip("torch")
    f32 = np.array([1.5, -2.0], np.float32)
    assert (Tensor(np.array([1, 2])) + Tensor(f32)).dtype == np.float32
    assert (Tensor(np.array(3)) * Tensor(f32)).dtype == np.float32
    assert (Tensor(np.array([1, 2], np.int32)) + Tensor(np.array(3))).dtype == np.int32
    assert F.where(np.array([True, False]), Tensor(f32), Tensor(np.array(2.0))).dtype == np.float32
    assert F.cat([Tensor(np.array([1, 2])), Tensor(f32)]).dtype == np.float32
    # the gradient of a promoted operand keeps that operand's dtype, as PyTorch's
    x = Tensor(f32, requires_grad=True)
    y = Tensor(np.array(2.0), requires_grad=True)
    (x * y).sum().backward()
    tx = torch.tensor(f32, requires_grad=True)
    ty = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    (tx * ty).sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, tx.grad.numpy())
    np.testing.assert_allclose(y.grad, ty.grad.numpy(), rtol=1e-7)


def test_pow_gradients_at_base_zero_with_a_tensor_exponent_as_pytorch():
    """d/db a^b = a^b log a: 0 where a = 0 and b >= 0, -inf where b < 0 (+inf at -0.0 and an odd
    b); d/da = b a^(b-1): 0 where b = 0, inf/-inf/nan where PyTorch has them."""
    torch = pytest.importorskip("torch")
    a0 = np.array([0.0, 0.0, 0.0, 0.0, 0.0, -0.0, -0.0, 2.0, -2.0, -2.0, 0.5, 1.0, 0.0])
    b0 = np.array([0.0, 0.5, 2.0, -1.0, -0.5, -1.0, -2.0, 0.0, 2.0, 0.5, -1.0, np.nan, np.nan])
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    g = np.arange(1.0, 14.0)
    with np.errstate(all="ignore"):
        (a ** b).backward(g)
    (ta ** tb).backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-15)  # inf and nan where torch's
    np.testing.assert_allclose(b.grad, tb.grad.numpy(), rtol=1e-15)
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)  # exp2 = pow(2, x): a Python base
    F.exp2(x).sum().backward()
    np.testing.assert_allclose(x.grad, [math.log(2), 2 * math.log(2)])
