"""Second and third derivatives of every op in the table, and the semantics of `grad`.

Each op's second derivative is checked in float64 against central differences of its first
derivative (the engine's first-order gradient: the thing being differentiated), and that first
derivative against central differences of the function itself, so the chain is anchored in
plain forward evaluations. Adding an op's test is one line: `case(id, fn, *input_shapes, ...)`.

For f with inputs xs, random upstream u and random directions v (one per input):
  g(xs, u)  = grad(f(xs), xs, grad_outputs=u, create_graph=True)      (first order)
  H v       = grad(g, xs, grad_outputs=v)  vs  (g(xs + eps v) - g(xs - eps v)) / (2 eps)
  J v       = grad(g, u, grad_outputs=v)   vs  (f(xs + eps v) - f(xs - eps v)) / (2 eps)
The last line is the double-VJP trick (the VJP is linear in u; its derivative in u is the JVP).

Linear ops (add, reshape, getitem...) have no second derivative of their own; they sit between
nonlinear ones (`cube`), so that a VJP that is not recorded breaks the chain and fails.
"""
import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import OPS, Tensor, grad, no_grad
from autograd_mini import primitives as P
from conftest import numeric_grad, sample

EPS = 1e-5  # central differences of a gradient, float64: error ~ eps^2 f'''' + 1e-16 / eps
RTOL, ATOL = 1e-6, 1e-7


def cube(t):
    return t * t * t


def draw(shape, domain, seed):
    """Sample data: "any" (|x| in [0.3, 2]), "pos" (x in [0.5, 2]), "unit" (x in [0.1, 0.9])."""
    if domain == "unit":
        return np.random.default_rng(seed).uniform(0.1, 0.9, size=shape)
    return np.asarray(sample(shape, domain, seed=seed))


def case(id, fn, *shapes, domain="any"):
    """One test: fn maps Tensors of the given shapes (domain: one for all, or one per input)."""
    domains = (domain,) * len(shapes) if isinstance(domain, str) else domain
    return pytest.param(fn, shapes, domains, id=id)


def tensors(arrays, requires_grad=True):
    return [Tensor(a.copy(), requires_grad=requires_grad) for a in arrays]


def first_order(fn, arrays, u):
    """The engine's first-order gradient of <u, fn(xs)> at `arrays`, as ndarrays."""
    xs = tensors(arrays)
    return [g.data for g in grad(fn(*xs), xs, grad_outputs=u)]


def value(fn, arrays):
    with no_grad():
        return fn(*[Tensor(a) for a in arrays]).data


def check_second_order(fn, shapes, domains, seed=0):
    arrays = [draw(s, d, seed=i) for i, (s, d) in enumerate(zip(shapes, domains))]
    rng = np.random.default_rng(100 + seed)
    xs = tensors(arrays)
    out = fn(*xs)
    u = Tensor(rng.standard_normal(out.shape), requires_grad=True)
    v = [rng.standard_normal(a.shape) for a in arrays]

    gs = grad(out, xs, grad_outputs=u, create_graph=True)
    for i, g in enumerate(gs):
        assert isinstance(g, Tensor) and g.requires_grad, f"gradient of input {i}: no graph"
        assert g.shape == arrays[i].shape and g.dtype == np.float64

    # 1. the first derivative against central differences of the function
    for i, g in enumerate(gs):
        num = numeric_grad(lambda *a: float(np.sum(value(fn, a) * u.data)), arrays, i)
        np.testing.assert_allclose(g.data, num, rtol=1e-5, atol=1e-7,
                                   err_msg=f"first derivative, input {i}")

    # 2. H v against central differences of the first derivative along v
    hv = grad(gs, xs + [u], grad_outputs=v, allow_unused=True)
    plus = first_order(fn, [np.asarray(a + EPS * d) for a, d in zip(arrays, v)], u.data)
    minus = first_order(fn, [np.asarray(a - EPS * d) for a, d in zip(arrays, v)], u.data)
    for i, (h, p, m) in enumerate(zip(hv, plus, minus)):
        h = np.zeros_like(arrays[i]) if h is None else h.data
        np.testing.assert_allclose(h, (p - m) / (2 * EPS), rtol=RTOL, atol=ATOL,
                                   err_msg=f"second derivative (H v), input {i}")

    # 3. d/du of <g, v> is J v: against central differences of the function along v
    jv = (value(fn, [a + EPS * d for a, d in zip(arrays, v)])
          - value(fn, [a - EPS * d for a, d in zip(arrays, v)])) / (2 * EPS)
    np.testing.assert_allclose(hv[-1].data, jv, rtol=RTOL, atol=ATOL,
                               err_msg="d/du of the VJP (J v)")
    assert all(x.grad is None for x in xs) and u.grad is None, "grad() wrote into .grad"


# -- the table ---------------------------------------------------------------------------------

C4 = sample((4,), "pos", seed=8)  # constant operands
COND = np.array([[True, False, True, True],
                 [False, False, True, False],
                 [True, True, False, True]])
LABELS = np.array([0, 3, 1])
MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((4,), (2, 4, 5)), ((2, 3, 4), (4,))]
BROADCAST = [((3,), (3,)), ((2, 3), ()), ((3, 1), (1, 4)), ((2, 3, 4), (4,))]
AXES = [(None, False), (1, False), (1, True), ((0, 2), False), (-1, True), ((0, 1, 2), True)]

CASES = (
    # binary, broadcasting
    [case("add-bare", lambda a, b: a + b, (3,), (3,))]  # the gradient is the upstream itself
    + [case(f"add-{sa}-{sb}", lambda a, b: cube(a + b), sa, sb) for sa, sb in BROADCAST]
    + [case(f"sub-{sa}-{sb}", lambda a, b: cube(a - b), sa, sb) for sa, sb in BROADCAST]
    + [case(f"mul-{sa}-{sb}", lambda a, b: a * b, sa, sb) for sa, sb in BROADCAST]
    + [case(f"mul-cube-{sa}-{sb}", lambda a, b: cube(a * b), sa, sb) for sa, sb in BROADCAST]
    + [case(f"div-{sa}-{sb}", lambda a, b: a / b, sa, sb) for sa, sb in BROADCAST]
    + [case(f"pow-{sa}-{sb}", lambda a, b: a ** b, sa, sb, domain=("pos", "any"))
       for sa, sb in BROADCAST]
    + [case(f"maximum-{sa}-{sb}", lambda a, b: cube(F.maximum(a, b)), sa, sb)
       for sa, sb in BROADCAST]
    + [
        case("x*x", lambda x: x * x, (3,)),
        case("x/x", lambda x: x / x, (3,)),
        case("x**x", lambda x: x ** x, (3,), domain="pos"),
        case("t**0", lambda x: x ** 0, (3,)),
        case("t**1", lambda x: cube(x ** 1), (3,)),
        case("t**2", lambda x: x ** 2, (2, 3)),
        case("t**3", lambda x: x ** 3, (3,)),
        case("t**0.5", lambda x: x ** 0.5, (3,), domain="pos"),
        case("t**-1", lambda x: x ** -1, (3,)),
        case("t**-1.5", lambda x: x ** -1.5, (3,), domain="pos"),
        case("t**np.float64(2)", lambda x: x ** np.float64(2), (3,)),
        case("t**array", lambda x: x ** C4, (3, 4), domain="pos"),
        case("scalar**t", lambda x: 2.0 ** x, (3,)),
        case("0.5**t", lambda x: 0.5 ** x, (2, 3)),
        case("array**t", lambda x: C4 ** x, (3, 4)),
        case("scalar/t", lambda x: 3.0 / x, (3,)),
        case("maximum-t-scalar", lambda x: cube(F.maximum(x, 0.1)), (2, 3)),
        case("where", lambda a, b: cube(F.where(COND, a, b)), (3, 4), (3, 4)),
        case("where-bcast", lambda a, b: cube(F.where(COND, a, b)), (4,), (3, 1)),
        case("where-const", lambda a: cube(F.where(COND, a, 0.5)), (3, 4)),
    ]
    # matmul, linear
    + [case(f"matmul-{sa}@{sb}", lambda a, b: a @ b, sa, sb) for sa, sb in MATMUL_SHAPES]
    + [case(f"matmul-tanh-{sa}@{sb}", lambda a, b: (a @ b).tanh(), sa, sb)
       for sa, sb in MATMUL_SHAPES[:5]]
    + [case(f"linear-x{sx}", lambda x, w, b: F.linear(x, w, b).tanh(), sx, (5, 4), (5,))
       for sx in [(3, 4), (4,), (2, 3, 4)]]
    + [case(f"linear-nobias-x{sx}", lambda x, w: F.linear(x, w).tanh(), sx, (5, 4))
       for sx in [(3, 4), (4,), (2, 3, 4)]]
    + [case("linear-bilinear", lambda x, w, b: F.linear(x, w, b), (3, 4), (5, 4), (5,))]
    # unary
    + [
        case("neg", lambda x: cube(-x), (2, 3)),
        case("exp", lambda x: x.exp(), (2, 3)),
        case("log", lambda x: x.log(), (2, 3), domain="pos"),
        case("sqrt", lambda x: x.sqrt(), (2, 3), domain="pos"),
        case("abs", lambda x: x.abs(), (2, 3)),
        case("abs-cube", lambda x: cube(x.abs()), (2, 3)),
        case("sign", lambda x: x.sign() * x.exp(), (2, 3)),
        case("sigmoid", lambda x: x.sigmoid(), (2, 3)),
        case("tanh", lambda x: x.tanh(), (2, 3)),
        case("relu", lambda x: x.relu(), (2, 3)),
        case("relu-cube", lambda x: cube(x.relu()), (2, 3)),
        case("0d-sigmoid", lambda x: x.sigmoid(), ()),
    ]
    # elementwise group
    + [
        case("sin", lambda x: x.sin(), (2, 3)),
        case("cos", lambda x: x.cos(), (2, 3)),
        case("log1p", lambda x: x.log1p(), (2, 3), domain="pos"),
        case("expm1", lambda x: x.expm1(), (2, 3)),
        case("erf", lambda x: x.erf(), (2, 3)),
        case("atan2", lambda a, b: F.atan2(a, b), (2, 3), (3,)),
        case("round", lambda x: (x * 3).floor() * x.exp(), (2, 3)),
        case("remainder", lambda a, b: cube(a % b), (2, 3), (3,), domain=("any", "pos")),
    ]
    # reductions, softmax family
    + [case(f"{r}-axis={ax}-keepdims={kd}",
            lambda x, r=r, ax=ax, kd=kd: cube(getattr(x, r)(axis=ax, keepdims=kd)), (2, 3, 4))
       for r in ("sum", "mean", "amax") for ax, kd in AXES]
    + [case(f"logsumexp-axis={ax}-keepdims={kd}",
            lambda x, ax=ax, kd=kd: x.logsumexp(axis=ax, keepdims=kd), (2, 3, 4))
       for ax, kd in AXES]
    + [case(f"{f}-axis={ax}", lambda x, f=f, ax=ax: getattr(x, f)(axis=ax), (2, 3, 4))
       for f in ("softmax", "log_softmax") for ax in (0, 1, -1)]
    + [case(f"{f}-1d", lambda x, f=f: getattr(x, f)(), (5,)) for f in ("softmax", "log_softmax")]
    # reductions group: prod (VJP of scans of mul), cumsum (VJP of itself on flipped g)
    + [
        case("prod-dim", lambda x: x.prod(-1), (3, 4)),
        case("prod-all-keepdims", lambda x: P.prod(x, keepdims=True), (2, 3)),
        case("cumsum", lambda x: cube(x.cumsum(1)), (2, 3, 4)),
    ]
    # shape
    + [
        case("reshape", lambda x: cube(x.reshape(4, 6)).tanh(), (2, 3, 4)),
        case("transpose", lambda x: cube(x.transpose(0, 2)), (2, 3, 4)),
        case("expand", lambda x: cube(F.expand(x.exp(), shape=(2, 3, 4))), (3, 1)),
        case("expand-new-axes", lambda x: cube(F.expand(x, shape=(2, 3, 4))), (4,)),
        case("getitem-basic", lambda x: cube(x[1:, ::2]), (3, 4)),
        case("getitem-int-repeats", lambda x: cube(x[[0, 0, 2, 0]]), (3, 4)),
        case("getitem-2-arrays-repeats", lambda x: cube(x[[0, 1, 1, 1], [2, 2, 2, 0]]), (3, 4)),
        case("getitem-slice-and-array", lambda x: cube(x[:, np.array([[1, 1], [3, 0]])]),
             (3, 4)),
        case("getitem-bool", lambda x: cube(x[COND]), (3, 4)),
        case("index_put", lambda x: cube(P.index_put(x, idx=np.array([2, 0, 2]), shape=(4,))),
             (3,)),
        case("index_put-2d", lambda x: cube(P.index_put(x, idx=(slice(None), [1, 1]),
                                                         shape=(3, 4))), (3, 2)),
        case("to", lambda x: cube(P.to(x.tanh(), dtype=np.float64)), (2, 3)),
        case("cat", lambda a, b: cube(P.cat(a, b.exp(), axis=1)), (2, 3), (2, 1)),
    ]
    # conv group: im2col and col2im (each the other's VJP); conv2d composes them with matmul
    + [
        case("im2col", lambda x: cube(P.im2col(x, kernel_size=(2, 3), stride=(2, 1),
                                               padding=((1, 0), (1, 2)), dilation=(1, 2))),
             (2, 2, 4, 5)),
        case("col2im", lambda c: cube(P.col2im(c, size=(4, 5), stride=(2, 1),
                                               padding=((1, 0), (1, 2)), dilation=(1, 2))),
             (2, 2, 2, 3, 2, 4)),
        case("conv2d", lambda x, w: cube(F.conv2d(x, w, stride=2, padding=1, groups=2)),
             (1, 4, 5, 4), (2, 2, 3, 3)),
    ]
    # compositions (no VJPs of their own)
    + [
        case("amin-axis=1", lambda x: cube(x.amin(axis=1)), (2, 3, 4)),
        case("amin", lambda x: cube(x.amin()), (2, 3)),
        case("max()", lambda x: cube(x.max()), (2, 3)),
        case("min()", lambda x: cube(x.min()), (2, 3)),
        case("max(dim).values", lambda x: cube(x.max(1).values), (2, 3, 4)),
        case("max(dim,keepdim).values", lambda x: cube(x.max(-1, keepdim=True).values),
             (2, 3, 4)),
        case("min(dim).values", lambda x: cube(x.min(0).values), (3, 4)),
        case("unsqueeze", lambda x: cube(x.unsqueeze(1)) * x.unsqueeze(0), (3,)),
        case("permute", lambda x: cube(x.permute(2, 0, 1)), (2, 3, 4)),
        case("mT", lambda x: (x.mT @ x).tanh(), (3, 2)),
        case("T", lambda x: (x.T @ x).tanh(), (3, 2)),
        case("F.swapaxes", lambda x: cube(F.swapaxes(x, 0, 1)), (2, 3)),
        case("F.transpose", lambda x: cube(F.transpose(x, -1, 0)), (2, 3, 4)),
        case("mlp", lambda x, w, b: (x @ w + b).sigmoid().log().sum(), (4, 3), (3, 2), (2,)),
        case("norm", lambda x: (x * x).sum(axis=1).sqrt(), (3, 4)),
    ]
    # losses (fused primitives, losses.py)
    + [
        case(f"cross_entropy-labels-{red}",
             lambda z, red=red: F.cross_entropy(z, LABELS, reduction=red), (3, 4))
        for red in ("mean", "sum", "none")]
    + [
        case("cross_entropy-1d", lambda z: F.cross_entropy(z, np.array(2)), (4,)),
        case("cross_entropy-soft", lambda z, p: F.cross_entropy(z, p), (3, 4), (3, 4),
             domain=("any", "unit")),
        case("binary_cross_entropy", lambda p, y: F.binary_cross_entropy(p, y), (2, 3), (2, 3),
             domain="unit"),
        case("binary_cross_entropy-none",
             lambda p, y: F.binary_cross_entropy(p, y, reduction="none"), (4,), (4,),
             domain="unit"),
        case("binary_cross_entropy_with_logits",
             lambda x, y: F.binary_cross_entropy_with_logits(x, y), (2, 3), (2, 3),
             domain=("any", "unit")),
        case("binary_cross_entropy_with_logits-sum",
             lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"), (4,), (4,),
             domain=("any", "unit")),
        case("mse_loss", lambda x, y: F.mse_loss(x, y), (2, 3), (2, 3)),
        case("mse_loss-none", lambda x, y: F.mse_loss(x, y, reduction="none"), (4,), (4,)),
    ]
)


@pytest.mark.parametrize("fn, shapes, domains", CASES)
def test_second_derivative(fn, shapes, domains):
    check_second_order(fn, shapes, domains)


def _ops_in_graph(t):
    """The names of the primitives recorded in the graph behind `t`."""
    names, seen, stack = set(), set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.add(node.prim.name)
        stack.extend(x.grad_fn for x in node.inputs if isinstance(x, Tensor))
    return names


def test_every_op_in_the_table_is_covered():
    covered = set()
    for param in CASES:
        fn, shapes, domains = param.values
        covered |= _ops_in_graph(fn(*tensors([draw(s, d, i) for i, (s, d)
                                              in enumerate(zip(shapes, domains))])))
    assert set(OPS) - covered == set(), "ops without a second-derivative test"


# -- closed forms: a VJP that treats `out` (or any saved value) as a constant fails these -------

def derivatives(f, x, order):
    """[f'(x), f''(x), ...] elementwise, each as the gradient of the previous one's sum."""
    res, y = [], f(x)
    for k in range(order):
        (y,) = grad(y.sum(), x, create_graph=k < order - 1)
        res.append(y.data)
    return res


def sig(x):
    return 1 / (1 + np.exp(-x))


UNARY_CLOSED = {  # name -> (f, domain, [f', f'', f'''])
    "sigmoid": (lambda t: t.sigmoid(), "any", [
        lambda x: sig(x) * (1 - sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 6 * sig(x) + 6 * sig(x) ** 2)]),
    "tanh": (lambda t: t.tanh(), "any", [
        lambda x: 1 - np.tanh(x) ** 2,
        lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        lambda x: (1 - np.tanh(x) ** 2) * (6 * np.tanh(x) ** 2 - 2)]),
    "exp": (lambda t: t.exp(), "any", [np.exp, np.exp, np.exp]),
    "log": (lambda t: t.log(), "pos", [
        lambda x: 1 / x, lambda x: -1 / x ** 2, lambda x: 2 / x ** 3]),
    "sqrt": (lambda t: t.sqrt(), "pos", [
        lambda x: 0.5 / np.sqrt(x), lambda x: -0.25 * x ** -1.5, lambda x: 0.375 * x ** -2.5]),
    "pow-3": (lambda t: t ** 3, "any", [
        lambda x: 3 * x ** 2, lambda x: 6 * x, lambda x: 6 + 0 * x]),
    "pow-0.5": (lambda t: t ** 0.5, "pos", [
        lambda x: 0.5 * x ** -0.5, lambda x: -0.25 * x ** -1.5, lambda x: 0.375 * x ** -2.5]),
    "pow--1": (lambda t: t ** -1, "any", [
        lambda x: -1 / x ** 2, lambda x: 2 / x ** 3, lambda x: -6 / x ** 4]),
    "pow-2": (lambda t: t ** 2, "any", [
        lambda x: 2 * x, lambda x: 2 + 0 * x, lambda x: 0 * x]),
    "2**t": (lambda t: 2.0 ** t, "any", [
        lambda x: 2 ** x * np.log(2), lambda x: 2 ** x * np.log(2) ** 2,
        lambda x: 2 ** x * np.log(2) ** 3]),
    "x**x": (lambda t: t ** t, "pos", [
        lambda x: x ** x * (np.log(x) + 1),
        lambda x: x ** x * ((np.log(x) + 1) ** 2 + 1 / x),
        lambda x: x ** x * ((np.log(x) + 1) ** 3 + 3 * (np.log(x) + 1) / x - 1 / x ** 2)]),
    "1/t": (lambda t: 1.0 / t, "any", [
        lambda x: -1 / x ** 2, lambda x: 2 / x ** 3, lambda x: -6 / x ** 4]),
    "relu-cube": (lambda t: cube(t.relu()), "any", [
        lambda x: 3 * np.maximum(x, 0) ** 2, lambda x: 6 * np.maximum(x, 0),
        lambda x: 6.0 * (x > 0)]),
    "softplus": (lambda t: F.logsumexp(F.expand(t.reshape(-1, 1), shape=(t.shape[0], 2))
                                       * Tensor([1.0, 0.0]), axis=1), "any", [
        sig, lambda x: sig(x) * (1 - sig(x)),
        lambda x: sig(x) * (1 - sig(x)) * (1 - 2 * sig(x))]),
}


@pytest.mark.parametrize("name", list(UNARY_CLOSED))
def test_unary_derivatives_to_third_order_closed_form(name):
    f, domain, closed = UNARY_CLOSED[name]
    x0 = draw((7,), domain, seed=3)
    got = derivatives(f, Tensor(x0, requires_grad=True), 3)
    for k, (g, c) in enumerate(zip(got, closed), 1):
        np.testing.assert_allclose(g, c(x0), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{name}: derivative of order {k}")


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "exp", "log", "pow-0.5", "x**x", "2**t"])
def test_third_derivative_against_differences_of_the_second(name):
    f, domain, _ = UNARY_CLOSED[name]
    x0 = draw((5,), domain, seed=4)
    third = derivatives(f, Tensor(x0, requires_grad=True), 3)[2]
    second = lambda a: derivatives(f, Tensor(a, requires_grad=True), 2)[1]  # noqa: E731
    np.testing.assert_allclose(third, (second(x0 + EPS) - second(x0 - EPS)) / (2 * EPS),
                               rtol=1e-6, atol=1e-7)


def test_pow_tensor_base_and_exponent_third_order_closed_form():
    """f = a^b: d3/da3 = b(b-1)(b-2) a^(b-3), d3/db3 = a^b ln(a)^3, d3/da db2 = a^(b-1) ln(a)
    (b ln(a) + 2), d3/da2 db = a^(b-2) ((2b - 1) + b(b-1) ln(a))."""
    a0, b0 = draw((5,), "pos", seed=1), draw((5,), "any", seed=2)
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    (ga, gb) = grad((a ** b).sum(), (a, b), create_graph=True)
    (gaa, gab) = grad(ga.sum(), (a, b), create_graph=True)
    (gbb,) = grad(gb.sum(), b, create_graph=True)
    (gaaa, gaab) = grad(gaa.sum(), (a, b), retain_graph=True)
    (gabb,) = grad(gbb.sum(), a, retain_graph=True)
    (gbbb,) = grad(gbb.sum(), b)
    ln = np.log(a0)

    def close(got, want):
        np.testing.assert_allclose(got.data, want, rtol=1e-10, atol=1e-12)

    close(gaa, b0 * (b0 - 1) * a0 ** (b0 - 2))
    close(gab, a0 ** (b0 - 1) * (1 + b0 * ln))
    close(gbb, a0 ** b0 * ln ** 2)
    close(gaaa, b0 * (b0 - 1) * (b0 - 2) * a0 ** (b0 - 3))
    close(gbbb, a0 ** b0 * ln ** 3)
    close(gabb, a0 ** (b0 - 1) * ln * (b0 * ln + 2))
    close(gaab, a0 ** (b0 - 2) * ((2 * b0 - 1) + b0 * (b0 - 1) * ln))


@pytest.mark.parametrize("exponent", ["constant", "tensor"])
def test_pow_derivatives_at_zero_base(exponent):
    """At a = 0 with integer exponents, d^k/da^k a^b = b!/(b-k)! a^(b-k) (0^0 = 1): the VJP's
    where(b == 0, 1, a) and log(where(a == 0, 1, a)) guards must keep every order finite."""
    a0, b0 = np.zeros(3), np.array([1.0, 2.0, 3.0])
    want = [np.array([1.0, 0.0, 0.0]), np.array([0.0, 2.0, 0.0]), np.array([0.0, 0.0, 6.0])]
    a = Tensor(a0, requires_grad=True)
    if exponent == "tensor":
        y = (a ** Tensor(b0, requires_grad=True)).sum()
    else:
        y = a[0] ** 1 + a[1] ** 2 + a[2] ** 3
    for k in range(3):
        (y,) = grad(y if k == 0 else y.sum(), a, create_graph=k < 2)
        np.testing.assert_array_equal(y.data, want[k], err_msg=f"order {k + 1}")


def test_div_second_derivatives_closed_form():
    """f = a / b: d2/db2 = 2a / b^3, d2/da db = -1 / b^2, d2/da2 = 0."""
    a0, b0 = sample((4,), seed=1), sample((4,), seed=2)
    a, b = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
    ga, gb = grad((a / b).sum(), (a, b), create_graph=True)
    gba, gbb = grad(gb.sum(), (a, b), retain_graph=True)
    (gab,) = grad(ga.sum(), b, retain_graph=True)
    np.testing.assert_allclose(gbb.data, 2 * a0 / b0 ** 3, rtol=1e-12)
    np.testing.assert_allclose(gba.data, -1 / b0 ** 2, rtol=1e-12)
    np.testing.assert_allclose(gab.data, -1 / b0 ** 2, rtol=1e-12)
    assert grad(ga.sum(), a, allow_unused=True) == (None,)  # g / b does not depend on a


def hessian(f, x0):
    """The full Hessian of the scalar f at x0 (1-D), one double backward per row."""
    x = Tensor(x0, requires_grad=True)
    (g,) = grad(f(x), x, create_graph=True)
    rows = []
    for e in np.eye(x0.size):
        (h,) = grad(g, x, grad_outputs=e, retain_graph=True)
        rows.append(h.data)
    return np.array(rows)


def test_softmax_hessian_closed_form():
    """d2 s_i / dx_j dx_k = s_i (d_ik - s_k)(d_ij - s_j) - s_i s_j (d_jk - s_k); for w . s,
    sum over i with weights w."""
    x0, w = sample((4,), seed=1), sample((4,), seed=2)
    s, eye = np.exp(x0) / np.exp(x0).sum(), np.eye(4)
    d = eye - s  # d[a, b] = delta_ab - s_b
    want = (np.einsum("i,i,ik,ij->jk", w, s, d, d)
            - np.einsum("i,i,j,jk->jk", w, s, s, d))
    np.testing.assert_allclose(hessian(lambda t: (t.softmax() * Tensor(w)).sum(), x0), want,
                               rtol=1e-10, atol=1e-13)


def test_log_softmax_and_logsumexp_hessians_closed_form():
    """H(logsumexp) = diag(s) - s s^T; H(w . log_softmax) = -sum(w) (diag(s) - s s^T)."""
    x0, w = sample((5,), seed=3), sample((5,), seed=4)
    s = np.exp(x0) / np.exp(x0).sum()
    cov = np.diag(s) - np.outer(s, s)
    np.testing.assert_allclose(hessian(lambda t: t.logsumexp(), x0), cov, rtol=1e-10,
                               atol=1e-13)
    np.testing.assert_allclose(hessian(lambda t: (t.log_softmax() * Tensor(w)).sum(), x0),
                               -w.sum() * cov, rtol=1e-10, atol=1e-13)


def test_cross_entropy_hessian_closed_form():
    """Mean cross-entropy over N rows with labels: the Hessian in each row's logits is
    (diag(s) - s s^T) / N, and rows do not interact."""
    z0 = sample((2, 3), seed=5)
    labels = np.array([2, 0])
    s = np.exp(z0) / np.exp(z0).sum(axis=1, keepdims=True)
    want = np.zeros((6, 6))
    for r in range(2):
        want[3 * r:3 * r + 3, 3 * r:3 * r + 3] = (np.diag(s[r]) - np.outer(s[r], s[r])) / 2
    got = hessian(lambda t: F.cross_entropy(t.reshape(2, 3), labels), z0.reshape(-1))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_logistic_regression_hessian_closed_form():
    """Mean BCE with logits of X w: H = X^T diag(p (1 - p)) X / n (document 000's model)."""
    X, y = sample((6, 3), seed=6), (sample((6,), seed=7) > 0).astype(float)
    w0 = sample((3,), seed=8)
    p = sig(X @ w0)
    want = X.T @ (X * (p * (1 - p))[:, None]) / 6
    got = hessian(lambda w: F.binary_cross_entropy_with_logits(Tensor(X) @ w, y), w0)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_to_float32_second_derivative_closed_form():
    """tanh(x)^2 computed in float64 from a float32 x: the gradients are cast back by `to`'s
    VJP (recorded), so the second derivative, 2 (1 - t^2)(1 - 3 t^2), reaches x as float32."""
    x0 = sample((5,), seed=9).astype(np.float32)
    x = Tensor(x0, requires_grad=True)
    (g,) = grad((x.double().tanh() ** 2).sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    assert g.dtype == h.dtype == np.float32
    t = np.tanh(x0.astype(np.float64))
    np.testing.assert_allclose(g.data, 2 * t * (1 - t ** 2), rtol=1e-6)
    np.testing.assert_allclose(h.data, 2 * (1 - t ** 2) * (1 - 3 * t ** 2), rtol=1e-5,
                               atol=1e-6)


def _const(a):
    return a.detach() if isinstance(a, Tensor) else a


@pytest.mark.parametrize("name, broken, f, domain", [
    ("sigmoid", lambda g, x, out: g * _const(out) * (1 - _const(out)), "sigmoid", "any"),
    ("tanh", lambda g, x, out: g * (1 - _const(out) * _const(out)), "tanh", "any"),
    ("exp", lambda g, x, out: g * _const(out), "exp", "any"),
    ("sqrt", lambda g, x, out: g / (2 * _const(out)), "sqrt", "pos"),
])
def test_a_vjp_treating_out_as_a_constant_is_caught(monkeypatch, name, broken, f, domain):
    """The checks above fail for exactly the bug the redesign warns about: a VJP whose `out`
    is a constant to the second derivative (right first derivative, wrong second)."""
    monkeypatch.setattr(OPS[name], "vjps", (broken,))
    fn, _, closed = UNARY_CLOSED[f]
    x0 = draw((7,), domain, seed=3)
    x, u = Tensor(x0, requires_grad=True), Tensor(np.ones(7), requires_grad=True)
    (first,) = grad(fn(x), x, grad_outputs=u, create_graph=True)
    np.testing.assert_allclose(first.data, closed[0](x0), rtol=1e-10)
    (second,) = grad(first.sum(), x, allow_unused=True)
    second = np.zeros(7) if second is None else second.data
    assert not np.allclose(second, closed[1](x0), rtol=1e-3)
    with pytest.raises(AssertionError, match="second derivative"):
        check_second_order(fn, [(3,)], [domain])


# -- grad() semantics, as torch.autograd.grad ---------------------------------------------------

def test_grad_returns_a_tuple_of_tensors_one_per_input():
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    res = grad((x * y).sum(), x)
    assert type(res) is tuple and len(res) == 1 and isinstance(res[0], Tensor)
    gx, gy = grad((x * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy.data, [1.0, 2.0])
    assert isinstance(gx.data, np.ndarray) and gx.dtype == np.float64


def test_grad_leaves_dot_grad_untouched():
    x = Tensor([1.0, 2.0], requires_grad=True)
    grad((x * x).sum(), x)
    assert x.grad is None
    (x * x).sum().backward()
    before = x.grad.copy()
    (g,) = grad((x * x * x).sum(), x, create_graph=True)
    grad(g.sum(), x)
    np.testing.assert_array_equal(x.grad, before)
    assert isinstance(x.grad, np.ndarray)


def test_grad_allow_unused():
    x, z = Tensor([1.0, 2.0], requires_grad=True), Tensor([5.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad((x * 2).sum(), [x, z])
    gx, gz = grad((x * 2).sum(), [x, z], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    assert gz is None


def test_grad_of_a_gradient_that_does_not_depend_on_the_inputs():
    """d/dx (3 x) is the constant 3: it carries no graph, and differentiating it again is an
    error (as torch: the output does not require grad)."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((3 * x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.data, [3.0, 3.0])
    assert not g.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(g.sum(), x, allow_unused=True)


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_retain_graph_defaults_to_create_graph(create_graph):
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    grad(y, x, create_graph=create_graph)
    if create_graph:
        (g,) = grad(y, x)  # the graph was kept
        np.testing.assert_allclose(g.data, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))
    else:
        with pytest.raises(RuntimeError, match="second time"):
            grad(y, x)


def test_grad_retain_graph_explicit():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    grad(y, x, retain_graph=True)
    grad(y, x)  # allowed once more
    with pytest.raises(RuntimeError, match="second time"):
        grad(y, x)


def test_grad_with_respect_to_a_non_leaf():
    x = Tensor([1.0, -2.0, 0.5], requires_grad=True)
    h = x.tanh()
    y = (h ** 3).sum()
    (gh,) = grad(y, h, create_graph=True)
    np.testing.assert_allclose(gh.data, 3 * np.tanh(x.data) ** 2)
    # and differentiated again, down to the leaf: d/dx 3 tanh(x)^2 = 6 t (1 - t^2)
    (gx,) = grad(gh.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(gx.data, 6 * t * (1 - t ** 2))
    assert h.grad is None and x.grad is None


def test_grad_outputs_for_non_scalar_outputs():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * x
    with pytest.raises(ValueError, match="implicitly"):
        grad(y, x, retain_graph=True)
    w = np.array([[1.0, -1.0], [0.5, 2.0]])
    (g,) = grad(y, x, grad_outputs=w, retain_graph=True)
    np.testing.assert_allclose(g.data, 2 * x.data * w)
    (g,) = grad(y, x, grad_outputs=Tensor(w))
    np.testing.assert_allclose(g.data, 2 * x.data * w)


def test_grad_several_outputs_sum():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * x, x.exp()
    w1, w2 = np.array([1.0, 2.0]), np.array([-1.0, 0.5])
    (g,) = grad([y1, y2], x, grad_outputs=[w1, w2])
    np.testing.assert_allclose(g.data, 2 * x.data * w1 + np.exp(x.data) * w2)


def test_grad_without_create_graph_carries_no_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((x.sigmoid() * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None
    (g,) = grad((x * 2).sum(), x)  # a gradient that is the seed itself, routed through
    assert not g.requires_grad and g.grad_fn is None


def test_grad_with_create_graph_requires_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((x.sigmoid() * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    (g2,) = grad(g.sum(), x, create_graph=True)
    assert g2.requires_grad
    (g3,) = grad(g2.sum(), x)
    assert not g3.requires_grad


def test_grad_upstream_tensor_that_requires_grad_is_differentiated():
    """The double-VJP trick: the VJP is linear in its upstream gradient u, and d/du <vjp, v>
    is the JVP J v; for y = x^2 (elementwise), J v = 2 x v."""
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    u = Tensor(np.zeros(3), requires_grad=True)
    (g,) = grad(x * x, x, grad_outputs=u, create_graph=True)
    v = np.array([0.5, 1.0, -1.0])
    (jv,) = grad(g, u, grad_outputs=v)
    np.testing.assert_allclose(jv.data, 2 * x.data * v)


def test_grad_argument_errors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([1.0, 2.0])
    y = x * x
    with pytest.raises(RuntimeError, match="input 1 does not require grad"):
        grad(y.sum(), [x, c])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        grad([y, y], x, grad_outputs=[np.ones(2)])
    with pytest.raises(ValueError, match="shape"):
        grad(y, x, grad_outputs=np.ones(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        grad(c * 2, x, grad_outputs=np.ones(2))


def test_grad_keeps_the_input_dtype_at_every_order():
    x = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    (g,) = grad(x.tanh().sum(), x, create_graph=True)
    (h,) = grad(g.sum(), x)
    assert g.dtype == h.dtype == np.float32
    t = np.tanh(x.data.astype(np.float64))
    np.testing.assert_allclose(h.data, -2 * t * (1 - t ** 2), rtol=1e-5)


def test_backward_stays_first_order_after_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (g,) = grad((x ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)
    assert isinstance(x.grad, np.ndarray)
