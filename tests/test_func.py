"""autograd_mini.func against closed forms, central differences, and each other (float64).

Every expected value is independent of the engine: a closed form evaluated in numpy, or
central differences of a numpy function (fd_jacobian below).
"""
import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, func, grad, no_grad

RTOL, ATOL = 1e-10, 1e-12  # closed forms
FD_RTOL, FD_ATOL = 1e-6, 1e-7  # central differences, eps = 1e-6


@pytest.fixture
def quad():
    """f(x) = x^T A x with a non-symmetric A: grad (A + A^T) x, Hessian A + A^T."""
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    return A, x, (lambda x: x @ (Tensor(A) @ x))


def logistic_data(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.hstack([np.ones((n, 1)), rng.standard_normal((n, d))])
    y = (rng.random(n) < 0.5).astype(float)
    beta = rng.standard_normal(d + 1) * 0.5
    return X, y, beta


def nll(X, y):
    return lambda b: F.binary_cross_entropy_with_logits(Tensor(X) @ b, Tensor(y), reduction="sum")


def sigma(t):
    return 1 / (1 + np.exp(-t))


def fd_jacobian(f, x, eps=1e-6):
    """J[i, j] = d f_i / d x_j of a numpy function by central differences (f: vector -> array)."""
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e.flat[j] = eps
        cols.append(((f(x + e) - f(x - e)) / (2 * eps)).ravel())
    return np.stack(cols, axis=1)


# -- grad, grad_and_value ----------------------------------------------------------------------

@pytest.mark.parametrize("as_tensor", [False, True])
def test_grad_of_quadratic_form_is_A_plus_AT_x(quad, as_tensor):
    A, x, f = quad
    g = func.grad(f)(Tensor(x) if as_tensor else x)
    assert isinstance(g, Tensor) and g.shape == (4,) and not g.requires_grad
    np.testing.assert_allclose(g.data, (A + A.T) @ x, rtol=RTOL, atol=ATOL)


def test_grad_and_value(quad):
    A, x, f = quad
    g, v = func.grad_and_value(f)(x)
    np.testing.assert_allclose(g.data, (A + A.T) @ x, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(v.data, x @ A @ x, rtol=RTOL)


def test_grad_argnums_tuple_and_has_aux():
    rng = np.random.default_rng(5)
    A, x, y = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal(2)

    def f(x, y, scale):
        out = (x @ (Tensor(A) @ y)) * scale
        return out, "aux"

    (gx, gy), aux = func.grad(f, argnums=(0, 1), has_aux=True)(x, y, 2.0)
    assert aux == "aux"
    np.testing.assert_allclose(gx.data, 2 * A @ y, rtol=RTOL)
    np.testing.assert_allclose(gy.data, 2 * A.T @ x, rtol=RTOL)
    gy_only = func.grad(lambda x, y: x @ (Tensor(A) @ y), argnums=1)(x, y)
    np.testing.assert_allclose(gy_only.data, A.T @ x, rtol=RTOL)
    gx_neg = func.grad(lambda x, y: x @ (Tensor(A) @ y), argnums=-2)(x, y)
    np.testing.assert_allclose(gx_neg.data, A @ y, rtol=RTOL)


def test_grad_of_logistic_nll_is_XT_p_minus_y():
    X, y, beta = logistic_data()
    g = func.grad(nll(X, y))(beta)
    np.testing.assert_allclose(g.data, X.T @ (sigma(X @ beta) - y), rtol=RTOL, atol=ATOL)


def test_grad_needs_a_one_element_output():
    with pytest.raises(ValueError, match="jacrev"):
        func.grad(lambda x: x * 2)(np.ones(3))


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        func.grad(lambda x: x.sum(), argnums=1)(np.ones(3))


def test_integer_data_is_refused():
    with pytest.raises(TypeError, match="float"):
        func.grad(lambda x: x.sum())(np.arange(3))


# -- second and third derivatives, and nesting --------------------------------------------------

def test_hessian_of_quadratic_form_is_A_plus_AT(quad):
    A, x, f = quad
    H = func.hessian(f)(x)
    assert H.shape == (4, 4)
    np.testing.assert_allclose(H.data, A + A.T, rtol=RTOL, atol=ATOL)


def test_hessian_of_logistic_nll_is_XT_diag_p1mp_X():
    X, y, beta = logistic_data()
    p = sigma(X @ beta)
    H = func.hessian(nll(X, y))(beta)
    np.testing.assert_allclose(H.data, X.T @ (X * (p * (1 - p))[:, None]), rtol=RTOL, atol=ATOL)


def test_hessian_of_a_matrix_argument_has_shape_in_plus_in():
    rng = np.random.default_rng(7)
    W = rng.standard_normal((2, 3))
    H = func.hessian(lambda W: (W * W * W).sum())(W)  # d2/dW2 sum W^3 = diag(6 W)
    assert H.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(H.data.reshape(6, 6), np.diag(6 * W.ravel()), rtol=RTOL)


def test_hessian_argnums_tuple_blocks():
    """f(x, y) = x^T A y + sum(x^2): H_xx = 2 I, H_xy = A, H_yx = A^T, H_yy = 0."""
    rng = np.random.default_rng(8)
    A, x, y = rng.standard_normal((3, 2)), rng.standard_normal(3), rng.standard_normal(2)
    (Hxx, Hxy), (Hyx, Hyy) = func.hessian(lambda x, y: x @ (Tensor(A) @ y) + (x * x).sum(),
                                          argnums=(0, 1))(x, y)
    np.testing.assert_allclose(Hxx.data, 2 * np.eye(3), atol=ATOL)
    np.testing.assert_allclose(Hxy.data, A, rtol=RTOL)
    np.testing.assert_allclose(Hyx.data, A.T, rtol=RTOL)
    np.testing.assert_allclose(Hyy.data, np.zeros((2, 2)), atol=ATOL)


def test_jacrev_of_grad_equals_hessian():
    rng = np.random.default_rng(9)
    x = rng.uniform(0.5, 1.5, size=4)
    f = lambda x: (x.tanh() * x.sigmoid()).sum() + (x.log() * x).sum()  # noqa: E731
    np.testing.assert_allclose(func.jacrev(func.grad(f))(x).data, func.hessian(f)(x).data,
                               rtol=1e-12, atol=1e-14)


def test_hessian_against_central_differences_of_the_closed_form_gradient():
    """d2/dx2 of sum(tanh(x) * sigmoid(x)): the closed-form gradient differenced numerically."""
    x = np.array([0.3, -0.8, 1.2])

    def closed_grad(x):
        t, s = np.tanh(x), sigma(x)
        return (1 - t ** 2) * s + t * s * (1 - s)

    H = func.hessian(lambda x: (x.tanh() * x.sigmoid()).sum())(x)
    np.testing.assert_allclose(H.data, fd_jacobian(closed_grad, x), rtol=FD_RTOL, atol=FD_ATOL)


@pytest.mark.parametrize("name, f, d3", [
    ("tanh", lambda x: x.tanh(), lambda x: -2 * (1 - np.tanh(x) ** 2) * (1 - 3 * np.tanh(x) ** 2)),
    ("sigmoid", lambda x: x.sigmoid(),
     lambda x: sigma(x) * (1 - sigma(x)) * (1 - 6 * sigma(x) + 6 * sigma(x) ** 2)),
    ("exp", lambda x: x.exp(), np.exp),
    ("log", lambda x: x.log(), lambda x: 2 / x ** 3),
    ("pow", lambda x: x ** 4, lambda x: 24 * x),
])
def test_third_derivative_by_nesting_grad(name, f, d3):
    x0 = 0.7
    d3f = func.grad(func.grad(func.grad(f)))(np.array(x0))
    assert d3f.shape == ()
    np.testing.assert_allclose(d3f.data, d3(x0), rtol=RTOL, err_msg=name)


def test_inner_closure_over_outer_variable():
    """g(y) = sum_i d/dx_i sum(x^2 * y) at x0 = sum(2 x0 y): dg/dy = 2 x0."""
    x0 = np.array([0.5, -1.0, 2.0])
    outer = func.grad(lambda y: func.grad(lambda x: (x * x * y).sum())(x0).sum())
    np.testing.assert_allclose(outer(np.array([1.0, 2.0, 3.0])).data, 2 * x0, rtol=RTOL)


def test_no_perturbation_confusion_with_a_closed_over_tensor():
    """grad(lambda x: sum(x * w))(w) = w: the closed-over w is a constant to this transform,
    even when the same tensor is the argument (torch.func's semantics)."""
    w = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    g = func.grad(lambda x: (x * w).sum())(w)
    np.testing.assert_allclose(g.data, w.data)
    assert w.grad is None


def test_results_are_differentiable_only_when_nested():
    x = np.array([1.0, 2.0])
    assert not func.grad(lambda x: (x ** 3).sum())(x).requires_grad
    w = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    g = func.grad(lambda x: (x ** 2 * w).sum())(x)  # depends on w: the graph is kept
    assert g.requires_grad
    (dw,) = grad(g.sum(), w)  # d/dw sum(2 x w) = 2 x
    np.testing.assert_allclose(dw.data, 2 * x)
    assert w.grad is None  # transforms never write .grad


def test_transforms_work_under_no_grad_and_keep_float32(quad):
    A, x, f = quad
    with no_grad():
        g = func.grad(f)(x)
        H = func.hessian(f)(x)
    np.testing.assert_allclose(g.data, (A + A.T) @ x, rtol=RTOL)
    np.testing.assert_allclose(H.data, A + A.T, rtol=RTOL)
    g32 = func.grad(lambda x: (x * x).sum())(x.astype(np.float32))
    assert g32.dtype == np.float32


# -- vjp, jvp, jacrev, hvp ---------------------------------------------------------------------

def vector_fn():
    """f: R^3 -> R^2 as Tensor code and as numpy code (for central differences)."""
    def f(x):
        return (Tensor(M) @ x).tanh() * x[:2].exp()

    def f_np(x):
        return np.tanh(M @ x) * np.exp(x[:2])

    M = np.array([[0.5, -1.0, 0.3], [1.2, 0.4, -0.7]])
    return f, f_np


def test_jacrev_against_central_differences():
    f, f_np = vector_fn()
    x = np.array([0.3, -0.5, 0.8])
    J = func.jacrev(f)(x)
    assert J.shape == (2, 3)
    np.testing.assert_allclose(J.data, fd_jacobian(f_np, x), rtol=FD_RTOL, atol=FD_ATOL)


def test_jacrev_shapes_out_plus_in():
    x = np.ones((2, 3))
    J = func.jacrev(lambda x: x.sum(axis=0) * 2)(x)
    assert J.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for j in range(3):
        expected[j, :, j] = 2
    np.testing.assert_array_equal(J.data, expected)
    Js = func.jacrev(lambda x, y: (x * y).sum(), argnums=(0, 1))(np.ones(2), np.full(2, 3.0))
    np.testing.assert_array_equal(Js[0].data, [3.0, 3.0])
    np.testing.assert_array_equal(Js[1].data, [1.0, 1.0])


def test_jvp_is_J_times_v_from_central_differences():
    f, f_np = vector_fn()
    x, v = np.array([0.3, -0.5, 0.8]), np.array([1.0, -2.0, 0.5])
    out, jv = func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(out.data, f_np(x), rtol=RTOL)
    assert jv.shape == (2,)
    np.testing.assert_allclose(jv.data, fd_jacobian(f_np, x) @ v, rtol=FD_RTOL, atol=FD_ATOL)


def test_jvp_with_two_primals():
    """f(a, b) = a * b elementwise: J v = b * va + a * vb."""
    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    va, vb = np.array([0.5, 0.25]), np.array([2.0, 4.0])
    _, jv = func.jvp(lambda a, b: a * b, (a, b), (va, vb))
    np.testing.assert_allclose(jv.data, b * va + a * vb, rtol=RTOL)


def test_vjp_returns_the_output_and_a_reusable_function():
    f, f_np = vector_fn()
    x = np.array([0.3, -0.5, 0.8])
    out, vjp_fn = func.vjp(f, x)
    np.testing.assert_allclose(out.data, f_np(x), rtol=RTOL)
    J = fd_jacobian(f_np, x)
    for u in (np.array([1.0, 0.0]), np.array([-0.5, 2.0])):  # called twice: the graph is kept
        (g,) = vjp_fn(u)
        np.testing.assert_allclose(g.data, u @ J, rtol=FD_RTOL, atol=FD_ATOL)


def test_hvp_is_hessian_times_v(quad):
    A, x, f = quad
    v = np.array([1.0, -1.0, 0.5, 2.0])
    out, hv = func.hvp(f, (x,), (v,))
    np.testing.assert_allclose(out.data, x @ A @ x, rtol=RTOL)
    np.testing.assert_allclose(hv.data, (A + A.T) @ v, rtol=RTOL)
    X, y, beta = logistic_data()
    v = np.linspace(-1, 1, beta.size)
    _, hv = func.hvp(nll(X, y), (beta,), (v,))
    np.testing.assert_allclose(hv.data, func.hessian(nll(X, y))(beta).data @ v, rtol=1e-12)


def test_jvp_of_grad_is_hvp():
    X, y, beta = logistic_data(seed=4)
    v = np.arange(beta.size, dtype=float)
    _, a = func.jvp(func.grad(nll(X, y)), (beta,), (v,))
    _, b = func.hvp(nll(X, y), (beta,), (v,))
    np.testing.assert_allclose(a.data, b.data, rtol=1e-12)


def test_tangent_shape_is_checked():
    with pytest.raises(ValueError, match="tangent 0"):
        func.jvp(lambda x: x * 2, (np.ones(3),), (np.ones(2),))


# -- grad() runs only the part of the graph between the outputs and the inputs, as PyTorch ----

def test_grad_wrt_a_non_leaf_leaves_the_graph_behind_it_usable():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x.exp()
    (g,) = grad((y * y).sum(), y)
    np.testing.assert_allclose(g.data, 2 * np.exp([1.0, 2.0]))
    y.sum().backward()  # the exp node was never needed by grad(.., y): must still be usable
    np.testing.assert_allclose(x.grad, np.exp([1.0, 2.0]))


def test_grad_of_an_unreachable_input_runs_and_frees_nothing():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)
    ga = (a * a).sum()
    (g,) = grad((b * 3).sum(), a, allow_unused=True)
    assert g is None
    ga.backward()  # the graph of ga was not part of that sweep: still usable
    np.testing.assert_allclose(a.grad, [2.0, 4.0])


def test_grad_touches_only_the_requested_leaves_and_skips_frozen_branches():
    x = Tensor(np.array([0.5, 1.5]), requires_grad=True)
    w = Tensor(np.array([2.0, -1.0]), requires_grad=True)
    out = (x.exp() * w).sum()
    (gw,) = grad(out, w, retain_graph=True)
    np.testing.assert_allclose(gw.data, np.exp([0.5, 1.5]))  # d/dw = exp(x)
    assert x.grad is None and w.grad is None
    (gx,) = grad(out, x)
    np.testing.assert_allclose(gx.data, np.exp([0.5, 1.5]) * [2.0, -1.0])


def _aux_fn(x):
    y = x * 3
    return (x ** 2).sum(), {"y": y, "pair": (x.sin(), [y.exp()]), "n": 5}


def _aux_tensors(aux):
    return [aux["y"], aux["pair"][0], aux["pair"][1][0]]


@pytest.mark.parametrize("transform", ["grad", "grad_and_value", "vjp", "jvp", "jacrev"])
def test_has_aux_returns_aux_detached_from_the_transforms_graph(transform):
    torch = pytest.importorskip("torch")
    x = np.array([0.5, -1.0, 2.0])
    tx = torch.tensor(x)

    def t_fn(x):
        y = x * 3
        return (x ** 2).sum(), {"y": y, "pair": (x.sin(), [y.exp()])}

    def run(mod, fn, x):
        if transform == "grad":
            return mod.grad(fn, has_aux=True)(x)[1]
        if transform == "grad_and_value":
            return mod.grad_and_value(fn, has_aux=True)(x)[1][1]
        if transform == "vjp":
            return mod.vjp(fn, x, has_aux=True)[2]
        if transform == "jvp":
            return mod.jvp(fn, (x,), (x,), has_aux=True)[2]
        return mod.jacrev(fn, has_aux=True)(x)[1]

    aux = run(func, _aux_fn, x)
    t_aux = run(torch.func, t_fn, tx)
    assert aux["n"] == 5
    t_leaves = [t_aux["y"], t_aux["pair"][0], t_aux["pair"][1][0]]
    assert isinstance(aux["pair"], tuple) and isinstance(aux["pair"][1], list)
    for a, t in zip(_aux_tensors(aux), t_leaves):
        assert isinstance(a, Tensor)
        assert a.requires_grad == t.requires_grad == False  # noqa: E712
        assert a.grad_fn is None
        np.testing.assert_allclose(a.data, t.numpy(), rtol=RTOL)


def test_has_aux_stays_differentiable_for_an_outer_derivative():
    """aux depends on an argument that requires grad outside the call: it keeps that graph, as
    torch.func's aux keeps autograd's; d/dx sum(3x) = 3."""
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    _, aux = func.grad(_aux_fn, has_aux=True)(x)
    assert aux["y"].requires_grad
    aux["y"].sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 3.0], rtol=RTOL)
