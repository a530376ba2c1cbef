"""Every op's gradient against central finite differences (float64), over shapes and axes.

Adding an op's test is one line in a table below: `case(id, fn, *input_shapes, domain=...)`.
"""
import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor
from conftest import check_grads, sample


def case(id, fn, *shapes, domain="any"):
    """One gradient test: fn maps Tensors of the given shapes to a Tensor.

    domain: "any" (|x| in [0.3, 2]) or "pos" (x in [0.5, 2]), one for all inputs or one per input.
    """
    domains = (domain,) * len(shapes) if isinstance(domain, str) else domain
    return pytest.param(fn, shapes, domains, id=id)


def run(fn, shapes, domains):
    check_grads(fn, *[sample(s, d, seed=i) for i, (s, d) in enumerate(zip(shapes, domains))])


# -- binary ops with numpy broadcasting --------------------------------------------------------

BINARY = {  # name -> (fn, domain of (a, b))
    "add": (lambda a, b: a + b, "any"),
    "sub": (lambda a, b: a - b, "any"),
    "mul": (lambda a, b: a * b, "any"),
    "div": (lambda a, b: a / b, "any"),
    "pow": (lambda a, b: a ** b, ("pos", "any")),
    "F.add": (F.add, "any"),
    "F.sub": (F.sub, "any"),
    "F.mul": (F.mul, "any"),
    "F.div": (F.div, "any"),
    "F.pow": (F.pow, ("pos", "any")),
}
BROADCAST = [((), ()), ((1,), (1,)), ((3,), (3,)), ((), (3,)), ((2, 3), ()), ((1,), (3,)),
             ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((4,), (2, 3, 4)), ((2, 1, 4), (3, 1)),
             ((2, 3, 4), (2, 1, 1))]

BINARY_CASES = [case(f"{name}-{sa}-{sb}", fn, sa, sb, domain=dom)
                for name, (fn, dom) in BINARY.items() for sa, sb in BROADCAST]


@pytest.mark.parametrize("fn, shapes, domains", BINARY_CASES)
def test_binary_grad(fn, shapes, domains):
    run(fn, shapes, domains)


# -- Python scalars and ndarrays on either side ------------------------------------------------

C34 = sample((3, 4), seed=7)   # constant operands (not Tensors)
C4 = sample((4,), seed=8)
C234 = sample((2, 3, 4), seed=9)

CONSTANT_CASES = [
    case("scalar+t", lambda x: 2.0 + x, (3,)),
    case("t+scalar", lambda x: x + 2, (3,)),
    case("scalar-t", lambda x: 2.0 - x, (3,)),
    case("t-scalar", lambda x: x - 2.0, (3,)),
    case("scalar*t", lambda x: 3.0 * x, (3,)),
    case("t*scalar", lambda x: x * 3, (2, 3)),
    case("scalar/t", lambda x: 3.0 / x, (3,)),
    case("t/scalar", lambda x: x / 3, (3,)),
    case("scalar**t", lambda x: 2 ** x, (3,)),
    case("float**t", lambda x: 0.5 ** x, (2, 3)),
    case("t**2", lambda x: x ** 2, (3,)),
    case("t**3", lambda x: x ** 3, (2, 3)),
    case("t**0.5", lambda x: x ** 0.5, (3,), domain="pos"),
    case("t**-1.5", lambda x: x ** -1.5, (3,), domain="pos"),
    case("t**-1", lambda x: x ** -1, (3,)),
    case("t**array", lambda x: x ** C4, (3, 4), domain="pos"),
    case("array**t", lambda x: np.abs(C4) ** x, (3, 4)),
    case("array+t", lambda x: C34 + x, (3, 4)),
    case("t+array-bcast", lambda x: x + C234, (3, 1)),
    case("array-t", lambda x: C34 - x, (4,)),
    case("array*t", lambda x: C34 * x, (3, 4)),
    case("array/t", lambda x: C34 / x, (3, 4)),
    case("t/array", lambda x: x / C34, (1, 4)),
    case("array@t", lambda x: C34 @ x, (4, 2)),
    case("t@array", lambda x: x @ C34, (5, 3)),
    case("array@t-1d", lambda x: C4 @ x, (4, 2)),
    case("t@array-1d", lambda x: x @ C4, (2, 4)),
    case("x*x", lambda x: x * x, (3,)),
    case("x/x", lambda x: x / x, (3,)),
    case("x**x", lambda x: x ** x, (3,), domain="pos"),
]


@pytest.mark.parametrize("fn, shapes, domains", CONSTANT_CASES)
def test_constant_operand_grad(fn, shapes, domains):
    run(fn, shapes, domains)


# -- matmul: 1-D, 2-D, batched, broadcast batch dims -------------------------------------------

MATMUL_SHAPES = [((3, 4), (4, 5)), ((1, 4), (4, 1)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((1, 3, 4), (2, 4, 5)), ((4,), (2, 4, 5)),
                 ((2, 3, 4), (4,))]
MATMUL_CASES = ([case(f"matmul-{sa}@{sb}", lambda a, b: a @ b, sa, sb) for sa, sb in MATMUL_SHAPES]
                + [case(f"F.matmul-{sa}-{sb}", F.matmul, sa, sb) for sa, sb in MATMUL_SHAPES[:6]]
                + [case("Tensor.matmul", lambda a, b: a.matmul(b), (2, 3), (3, 2))])


@pytest.mark.parametrize("fn, shapes, domains", MATMUL_CASES)
def test_matmul_grad(fn, shapes, domains):
    run(fn, shapes, domains)


@pytest.mark.parametrize("sa, sb", MATMUL_SHAPES)
def test_matmul_forward_matches_numpy(sa, sb):
    a, b = sample(sa, seed=1), sample(sb, seed=2)
    out = Tensor(a, requires_grad=True) @ Tensor(b)
    assert out.shape == (a @ b).shape
    np.testing.assert_allclose(out.data, a @ b)


# -- linear: x @ W.T + b, fused ---------------------------------------------------------------

LINEAR_CASES = [case(f"linear-x{sx}", F.linear, sx, (5, 4), (5,))
                for sx in [(3, 4), (4,), (2, 3, 4)]]
LINEAR_CASES.append(case("linear-nobias", lambda x, w: F.linear(x, w), (3, 4), (5, 4)))


@pytest.mark.parametrize("fn, shapes, domains", LINEAR_CASES)
def test_linear_grad(fn, shapes, domains):
    run(fn, shapes, domains)


def test_linear_forward_matches_numpy_and_keeps_weight_grad_contiguous():
    x, w, b = sample((3, 4), seed=1), sample((5, 4), seed=2), sample((5,), seed=3)
    W = Tensor(w, requires_grad=True)
    out = F.linear(Tensor(x), W, Tensor(b))
    np.testing.assert_allclose(out.data, x @ w.T + b)
    out.sum().backward()
    assert W.grad.flags.c_contiguous and W.grad.shape == (5, 4)


# -- unary elementwise -------------------------------------------------------------------------

UNARY = {  # name -> (fn, domain)
    "neg": (lambda x: -x, "any"),
    "exp": (lambda x: x.exp(), "any"),
    "log": (lambda x: x.log(), "pos"),
    "sqrt": (lambda x: x.sqrt(), "pos"),
    "abs": (lambda x: x.abs(), "any"),
    "builtin-abs": (lambda x: abs(x), "any"),
    "sigmoid": (lambda x: x.sigmoid(), "any"),
    "tanh": (lambda x: x.tanh(), "any"),
    "relu": (lambda x: x.relu(), "any"),
}
UNARY_CASES = [case(f"{name}-{s}", fn, s, domain=dom)
               for name, (fn, dom) in UNARY.items() for s in [(), (1,), (5,), (2, 3)]]


@pytest.mark.parametrize("fn, shapes, domains", UNARY_CASES)
def test_unary_grad(fn, shapes, domains):
    run(fn, shapes, domains)


# -- reductions over every kind of axis, keepdims or not ---------------------------------------

REDUCTIONS = ["sum", "mean", "amax", "logsumexp"]  # max(dim) is (values, indices)
AXES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]
REDUCTION_CASES = (
    [case(f"{r}-axis={ax}-keepdims={kd}",
          lambda x, r=r, ax=ax, kd=kd: getattr(x, r)(axis=ax, keepdims=kd), (2, 3, 4))
     for r in REDUCTIONS for ax in AXES for kd in (False, True)]
    + [case(f"{r}-0d", lambda x, r=r: getattr(x, r)(), ()) for r in REDUCTIONS]
    + [case(f"{r}-positional-axis", lambda x, r=r: getattr(x, r)(1), (2, 3)) for r in REDUCTIONS]
    + [case(f"{r}-1d-axis0", lambda x, r=r: getattr(x, r)(axis=0), (5,)) for r in REDUCTIONS]
)


@pytest.mark.parametrize("fn, shapes, domains", REDUCTION_CASES)
def test_reduction_grad(fn, shapes, domains):
    run(fn, shapes, domains)


@pytest.mark.parametrize("r", REDUCTIONS)
@pytest.mark.parametrize("ax", AXES)
@pytest.mark.parametrize("kd", [False, True])
def test_reduction_forward_matches_numpy(r, ax, kd):
    x = sample((2, 3, 4))
    ref = {"sum": np.sum, "mean": np.mean, "amax": np.max,
           "logsumexp": lambda a, axis, keepdims: np.log(np.sum(np.exp(a), axis=axis,
                                                                keepdims=keepdims))}[r]
    out = getattr(Tensor(x, requires_grad=True), r)(axis=ax, keepdims=kd)
    expected = ref(x, axis=ax, keepdims=kd)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


@pytest.mark.parametrize("x, axis, expected", [
    ([1.0, 3.0, 3.0, 2.0], None, [0, 0.5, 0.5, 0]),
    ([2.0, 2.0, 2.0], 0, [1 / 3, 1 / 3, 1 / 3]),
    ([[1.0, 1.0], [2.0, 0.0]], 1, [[0.5, 0.5], [1, 0]]),
    ([[1.0, 1.0], [2.0, 0.0]], 0, [[0, 1], [1, 0]]),
    ([[5.0, 1.0], [5.0, 5.0]], None, [[1 / 3, 0], [1 / 3, 1 / 3]]),
    ([[5.0, 1.0], [5.0, 5.0]], (0, 1), [[1 / 3, 0], [1 / 3, 1 / 3]]),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_ties_split_gradient_equally(x, axis, expected, keepdims):
    """As torch.amax: tied maxima share the gradient equally."""
    t = Tensor(x, requires_grad=True)
    t.amax(axis=axis, keepdims=keepdims).sum().backward()
    np.testing.assert_allclose(t.grad, expected)


def test_max_ties_with_upstream_weights():
    t = Tensor([[1.0, 4.0, 4.0], [3.0, 3.0, 3.0]], requires_grad=True)
    t.amax(axis=1).backward(np.array([2.0, 3.0]))
    np.testing.assert_allclose(t.grad, [[0, 1, 1], [1, 1, 1]])


# -- softmax family ----------------------------------------------------------------------------

SOFTMAX_CASES = (
    [case(f"{f}-axis={ax}", lambda x, f=f, ax=ax: getattr(x, f)(axis=ax), (2, 3, 4))
     for f in ("softmax", "log_softmax") for ax in (0, 1, 2, -1, -2, (0, 2))]
    + [case(f"{f}-default", lambda x, f=f: getattr(x, f)(), (3, 4))
       for f in ("softmax", "log_softmax", "logsumexp")]
    + [case(f"{f}-1d", lambda x, f=f: getattr(x, f)(), (5,))
       for f in ("softmax", "log_softmax", "logsumexp")]
)


@pytest.mark.parametrize("fn, shapes, domains", SOFTMAX_CASES)
def test_softmax_family_grad(fn, shapes, domains):
    run(fn, shapes, domains)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family_forward(axis):
    x = sample((3, 4))
    e = np.exp(x)
    s = e / e.sum(axis=axis, keepdims=True)
    t = Tensor(x)
    np.testing.assert_allclose(t.softmax(axis=axis).data, s)
    np.testing.assert_allclose(t.log_softmax(axis=axis).data, np.log(s))
    np.testing.assert_allclose(t.logsumexp(axis=axis).data, np.log(e.sum(axis=axis)))


# -- shape ops ---------------------------------------------------------------------------------

SHAPE_CASES = [
    case("reshape-varargs", lambda x: x.reshape(6, 4), (2, 3, 4)),
    case("reshape-tuple", lambda x: x.reshape((4, 6)), (2, 3, 4)),
    case("reshape-minus1", lambda x: x.reshape(-1), (2, 3, 4)),
    case("reshape-4,-1", lambda x: x.reshape(4, -1), (2, 3, 4)),
    case("reshape-to-0d", lambda x: x.reshape(()), (1, 1)),
    case("reshape-from-0d", lambda x: x.reshape(1, 1), ()),
    case("F.reshape", lambda x: F.reshape(x, (3, 8)), (2, 3, 4)),
    case("T", lambda x: x.T, (2, 3, 4)),
    case("transpose-02", lambda x: x.transpose(0, 2), (2, 3, 4)),
    case("transpose-negative", lambda x: x.transpose(-1, 0), (2, 3, 4)),
    case("mT", lambda x: x.mT, (2, 3, 4)),
    case("permute-102", lambda x: x.permute(1, 0, 2), (2, 3, 4)),
    case("permute-201", lambda x: x.permute(2, 0, 1), (2, 3, 4)),
    case("permute-120-tuple", lambda x: x.permute((1, 2, 0)), (2, 3, 4)),
    case("permute-negative-dims", lambda x: x.permute(-1, 0, 1), (2, 3, 4)),
    case("permute-negative-dims-2", lambda x: x.permute(1, -1, -3), (2, 3, 4)),
    case("F.transpose", lambda x: F.transpose(x, 0, 1), (2, 3)),
    case("F.permute", lambda x: F.permute(x, (2, 0, 1)), (2, 3, 4)),
    case(".T-2d", lambda x: x.T, (2, 3)),
    case(".T-3d", lambda x: x.T, (2, 3, 4)),
    case(".T-1d", lambda x: x.T, (3,)),
    case("index-int", lambda x: x[1], (3, 4)),
    case("index-negative-int", lambda x: x[-1], (3, 4)),
    case("index-slice", lambda x: x[1:], (3, 4)),
    case("index-step-slice", lambda x: x[:, ::2], (3, 4)),
    case("index-reverse-slice", lambda x: x[::-1, 1:3], (3, 4)),
    case("index-ellipsis", lambda x: x[..., 1], (2, 3, 4)),
    case("index-newaxis", lambda x: x[None, :, 0], (3, 4)),
    case("index-int-scalar", lambda x: x[1, 2], (3, 4)),
    case("index-list-repeated", lambda x: x[[0, 0, 2, 0]], (3, 4)),
    case("index-array-repeated", lambda x: x[np.array([2, 0, 2])], (3,)),
    case("index-2-arrays-repeated", lambda x: x[[0, 1, 1, 1], [2, 2, 2, 0]], (3, 4)),
    case("index-int-and-list", lambda x: x[1, [0, 0, 3]], (3, 4)),
    case("index-slice-and-array", lambda x: x[:, np.array([[1, 1], [3, 0]])], (3, 4)),
    case("index-bool-mask", lambda x: x[np.array([True, False, True])], (3, 2)),
    case("index-tensor-index", lambda x: x[Tensor(np.array([1, 1, 0]))], (3, 2)),
    case("F.getitem", lambda x: F.getitem(x, (slice(None), [1, 1])), (3, 4)),
]


@pytest.mark.parametrize("fn, shapes, domains", SHAPE_CASES)
def test_shape_grad(fn, shapes, domains):
    run(fn, shapes, domains)


def test_repeated_indices_accumulate():
    x = Tensor(np.zeros(4), requires_grad=True)
    x[[1, 1, 1, 3]].sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 3, 0, 1])


def test_transpose_and_T_forward():
    x = sample((2, 3, 4))
    t = Tensor(x)
    np.testing.assert_array_equal(t.T.data, x.T)
    np.testing.assert_array_equal(t.transpose(0, 1).data, x.swapaxes(0, 1))
    np.testing.assert_array_equal(t.permute(2, 0, 1).data, x.transpose(2, 0, 1))
    np.testing.assert_array_equal(t.permute(-1, 0, 1).data, x.transpose(-1, 0, 1))


# -- compositions (several ops in one graph) ---------------------------------------------------

COMPOSITE_CASES = [
    case("mlp-layer", lambda x, w, b: (x @ w + b).sigmoid().log().sum(), (4, 3), (3, 2), (2,)),
    case("cross-entropy", lambda z: -(z.log_softmax(axis=1)[np.arange(3), [0, 2, 1]]).mean(),
         (3, 4)),
    case("softmax-then-mul", lambda z, v: (z.softmax() * v).sum(axis=-1), (2, 5), (5,)),
    case("norm", lambda x: (x * x).sum(axis=1).sqrt(), (3, 4)),
    case("tanh-relu-chain", lambda x, w: (x @ w).tanh().relu().amax(axis=0), (4, 3), (3, 3)),
]


@pytest.mark.parametrize("fn, shapes, domains", COMPOSITE_CASES)
def test_composite_grad(fn, shapes, domains):
    run(fn, shapes, domains)


# -- autograd_mini.functional matches the methods and operators --------------------------------

FUNCTIONAL = [  # (F.name, method form, inputs)
    ("add", lambda a, b: a + b, [(2, 3), (3,)]),
    ("sub", lambda a, b: a - b, [(2, 3), (3,)]),
    ("mul", lambda a, b: a * b, [(2, 3), (3,)]),
    ("div", lambda a, b: a / b, [(2, 3), (3,)]),
    ("pow", lambda a, b: a ** b, [(2, 3), (3,)]),
    ("matmul", lambda a, b: a @ b, [(2, 3), (3, 4)]),
    ("neg", lambda x: -x, [(2, 3)]),
    ("exp", lambda x: x.exp(), [(2, 3)]),
    ("log", lambda x: x.log(), [(2, 3)]),
    ("sqrt", lambda x: x.sqrt(), [(2, 3)]),
    ("abs", lambda x: x.abs(), [(2, 3)]),
    ("sigmoid", lambda x: x.sigmoid(), [(2, 3)]),
    ("tanh", lambda x: x.tanh(), [(2, 3)]),
    ("relu", lambda x: x.relu(), [(2, 3)]),
    ("sum", lambda x: x.sum(), [(2, 3)]),
    ("mean", lambda x: x.mean(), [(2, 3)]),
    ("max", lambda x: x.max(), [(2, 3)]),
    ("softmax", lambda x: x.softmax(), [(2, 3)]),
    ("log_softmax", lambda x: x.log_softmax(), [(2, 3)]),
    ("logsumexp", lambda x: x.logsumexp(), [(2, 3)]),

]


def test_functional_covers_every_op():
    from autograd_mini import OPS
    # index_put is getitem's adjoint, recorded only by its VJP; amax records "max"
    assert set(OPS) - {"index_put"} <= set(F.__all__)
    for name in F.__all__:
        assert callable(getattr(F, name))


@pytest.mark.parametrize("name, method, shapes", FUNCTIONAL, ids=[f[0] for f in FUNCTIONAL])
def test_functional_matches_method(name, method, shapes):
    arrays = [sample(s, "pos", seed=i) for i, s in enumerate(shapes)]
    grads = []
    for f in (getattr(F, name), method):
        ts = [Tensor(a, requires_grad=True) for a in arrays]
        out = f(*ts)
        assert out.grad_fn.name == name
        w = np.random.default_rng(0).standard_normal(out.shape)
        out.backward(w)
        grads.append((out.data, [t.grad for t in ts]))
    (out_f, g_f), (out_m, g_m) = grads
    np.testing.assert_array_equal(out_f, out_m)
    for a, b in zip(g_f, g_m):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name, kwargs", [
    ("sum", dict(axis=1, keepdims=True)), ("mean", dict(axis=(0, 1))), ("amax", dict(axis=-1)),
    ("logsumexp", dict(axis=0, keepdims=True)), ("softmax", dict(axis=0)),
    ("log_softmax", dict(axis=0)),
])
def test_functional_axis_kwargs_match_method(name, kwargs):
    x = sample((3, 4))
    np.testing.assert_array_equal(getattr(F, name)(Tensor(x), **kwargs).data,
                                  getattr(Tensor(x), name)(**kwargs).data)


# -- arguments as PyTorch's: names, and the options of add, sub, div, reductions --------------

# PyTorch arguments left out on purpose: legacy or without a numpy meaning (out=, the
# deprecated size_average/reduce, memory formats, devices), and these, each with its reason
NOT_TAKEN = {"out", "size_average", "reduce", "memory_format", "layout", "device", "pin_memory",
             "_stacklevel", "generator"}
NOT_TAKEN_BY = {
    "embedding": {"max_norm", "norm_type", "scale_grad_by_freq", "sparse"},  # in-place renorm
    "relu": {"inplace"},  # F.relu is the primitive itself (nn.ReLU's hot path)
    "squeeze": {"List[int]]]"},  # an artefact of reading torch.squeeze's docstring
}


def _torch_parameters(torch, name):
    """The parameter names of torch.nn.functional.<name> or torch.<name> (from the signature,
    or from the first line of a builtin's docstring: `add(input, other, *, alpha=1, out=None)`)."""
    import inspect
    import re
    for f in (getattr(torch.nn.functional, name, None), getattr(torch, name, None)):
        if f is None:
            continue
        try:
            return [p.name for p in inspect.signature(f).parameters.values()
                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        except (ValueError, TypeError):
            m = re.match(r"\s*\w+\((.*?)\)\s*->", f.__doc__ or "", re.S)
            if m:
                return [re.split(r"[=:\s]", p.strip().lstrip("*"))[0]
                        for p in m.group(1).split(",") if p.strip() not in ("*", "")]
    return None


def test_every_function_takes_pytorchs_argument_names():
    """F.matmul(input=, other=), F.pow(input, exponent=), F.sum(x, dtype=)...: every argument
    name of PyTorch's function of the same name is one of ours (those left out are listed)."""
    import inspect
    torch = pytest.importorskip("torch")
    missing = {}
    for name in F.__all__:
        theirs = _torch_parameters(torch, name)
        if theirs is None:
            continue
        ours = inspect.signature(getattr(F, name)).parameters
        lack = set(theirs) - set(ours) - NOT_TAKEN - NOT_TAKEN_BY.get(name, set())
        if lack:
            missing[name] = sorted(lack)
    assert not missing


def test_keyword_arguments_and_options_as_pytorch():
    torch = pytest.importorskip("torch")
    a0, b0 = np.array([[1.0, -2.0], [3.5, 4.0]]), np.array([0.5, -3.0])
    a, b, ta, tb = Tensor(a0), Tensor(b0), torch.tensor(a0), torch.tensor(b0)
    same = np.testing.assert_array_equal
    same(F.matmul(input=a, other=b).data, torch.matmul(input=ta, other=tb).numpy())
    same(F.pow(a, exponent=2.0).data, torch.pow(ta, exponent=2.0).numpy())
    same(F.add(a, b, alpha=3).data, torch.add(ta, tb, alpha=3).numpy())
    same(a.sub(b, alpha=0.5).data, ta.sub(tb, alpha=0.5).numpy())
    same(F.maximum(input=a, other=b).data, torch.maximum(input=ta, other=tb).numpy())
    same(F.exp(input=a).data, torch.exp(input=ta).numpy())
    same(F.swapaxes(a, axis0=0, axis1=1).data, torch.swapaxes(ta, axis0=0, axis1=1).numpy())
    same(F.cumsum(a, 1, dtype=np.float32).data, torch.cumsum(ta, 1, dtype=torch.float32).numpy())
    out = F.softmax(a, 0, dtype=np.float32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, torch.softmax(ta, 0, dtype=torch.float32).numpy(),
                               rtol=1e-6)
    same(F.prod(Tensor(np.array([2, 3])), dtype=np.float64).data, 6.0)


@pytest.mark.parametrize("mode", ["trunc", "floor"])
@pytest.mark.parametrize("dtype", [np.int64, np.float64, np.float32])
def test_div_rounding_mode_as_pytorch(mode, dtype):
    torch = pytest.importorskip("torch")
    a0 = np.array([7, -7, 7, -7, 1, 0, 9, -9]).astype(dtype)
    b0 = np.array([2, 2, -2, -2, 3, 5, 3, 4]).astype(dtype)
    if dtype != np.int64:
        a0, b0 = a0 * 0.1, b0 * 0.1  # 0.7 // 0.2 and others where floor(a / b) may not be a // b
    want = torch.div(torch.tensor(a0), torch.tensor(b0), rounding_mode=mode).numpy()
    out = F.div(Tensor(a0), Tensor(b0), rounding_mode=mode)
    assert out.dtype == want.dtype
    np.testing.assert_array_equal(out.data, want)
    assert F.div(Tensor(a0), 2, rounding_mode=mode).dtype == want.dtype
    if dtype != np.int64:  # gradient 0 to both, as PyTorch
        x, y = Tensor(a0, requires_grad=True), Tensor(b0, requires_grad=True)
        x.div(y, rounding_mode=mode).sum().backward()
        assert not x.grad.any() and not y.grad.any()
