"""Document 000 (王中雷, "2-1 只有一个隐藏层的神经网络 I"): closed forms F0.1-F0.6 and mapping M0.

The document's layout: column vectors, a^[0] = x (3x1), W^[l] out x in (row j = unit j's
weights), z^[l] = b^[l] + W^[l] a^[l-1], a^[l] = sigma(z^[l]), sigmoid on both layers,
J = -[y log a^[2] + (1-y) log(1-a^[2])] for one sample. "dJ/dX has the shape of X".

Each formula's statement, the document's conventions and any erratum: docs/formulas.md,
section "Document 000".
"""
import numpy as np
import pytest

from autograd_mini import Tensor
from conftest import close, sigma



def params(seed=0):
    rng = np.random.default_rng(seed)
    return dict(x=rng.standard_normal((3, 1)), W1=rng.standard_normal((4, 3)),
                b1=rng.standard_normal((4, 1)), W2=rng.standard_normal((1, 4)),
                b2=rng.standard_normal((1, 1)))


def autodiff(p, y):
    """The document's forward pass on Tensors; returns the gradients of J."""
    x = Tensor(p["x"])
    W1, b1, W2, b2 = (Tensor(p[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2"))
    a1 = (b1 + W1 @ x).sigmoid()
    a2 = (b2 + W2 @ a1).sigmoid()
    J = -(y * a2.log() + (1 - y) * (1 - a2).log())
    J.backward()
    return dict(W1=W1.grad, b1=b1.grad, W2=W2.grad, b2=b2.grad)


def manual(p, y):
    """F0.3-F0.6 exactly as printed, with D = diag(a_j^[1](1 - a_j^[1]))."""
    x, W1, b1, W2, b2 = (p[k] for k in ("x", "W1", "b1", "W2", "b2"))
    a1 = sigma(b1 + W1 @ x)
    a2 = sigma(b2 + W2 @ a1)
    D = np.diag((a1 * (1 - a1)).ravel())
    return {"F0.3": a2 - y,                        # dJ/db^[2], 1x1
            "F0.4": (a2 - y) * a1.T,                # dJ/dW^[2] = (a2 - y)(a^[1])^T, 1x4
            "F0.5": (a2 - y) * D @ W2.T,            # dJ/db^[1] = (a2 - y) D (W^[2])^T, 4x1
            "F0.6": (a2 - y) * D @ W2.T @ x.T}      # dJ/dW^[1] = (a2 - y) D (W^[2])^T x^T, 4x3


ys = pytest.mark.parametrize("y", [0.0, 1.0], ids=["y0", "y1"])


def test_F0_1_inner_product_gradients_have_the_variable_shape():
    """f = x^T y: df/dx = y, df/dy = x (columns); df/dx^T = y^T, df/dy^T = x^T (rows)."""
    rng = np.random.default_rng(1)
    xv, yv = rng.standard_normal((5, 1)), rng.standard_normal((5, 1))
    x, y = Tensor(xv, requires_grad=True), Tensor(yv, requires_grad=True)
    (x.T @ y).backward()
    close(x.grad, yv)
    close(y.grad, xv)
    xt, yt = Tensor(xv.T, requires_grad=True), Tensor(yv.T, requires_grad=True)  # rows
    (xt @ yt.T).backward()
    close(xt.grad, yv.T)
    close(yt.grad, xv.T)


def test_F0_2_vectorised_chain_rule():
    """f = g(h(x)), x in R^(n x 1), h = tanh(A x) in R^m, g(h) = sum_j c_j h_j^2.

    df/dx = sum_j (dg/dh_j)(dh_j/dx) = (dh^T/dx)(dg/dh), where dh^T/dx = (dh_1/dx, ..., dh_m/dx)
    is n x m: column j is dh_j/dx = A[j, :]^T (1 - h_j^2).
    """
    rng = np.random.default_rng(2)
    n, m = 3, 4
    A, c, xv = rng.standard_normal((m, n)), rng.standard_normal((m, 1)), rng.standard_normal((n, 1))
    x = Tensor(xv, requires_grad=True)
    h = (Tensor(A) @ x).tanh()
    (c * h * h).sum().backward()
    hv = np.tanh(A @ xv)
    dg_dh = 2 * c * hv                                   # m x 1
    dhT_dx = np.column_stack([A[j][:, None] * (1 - hv[j] ** 2) for j in range(m)])  # n x m
    assert dhT_dx.shape == (n, m)
    close(x.grad, dhT_dx @ dg_dh)
    close(x.grad, sum(dg_dh[j] * dhT_dx[:, [j]] for j in range(m)))


@ys
def test_F0_3_dJ_db2(y):
    close(autodiff(params(), y)["b2"], manual(params(), y)["F0.3"])


@ys
def test_F0_4_dJ_dW2(y):
    close(autodiff(params(), y)["W2"], manual(params(), y)["F0.4"])


@ys
def test_F0_5_dJ_db1_needs_no_transpose(y):
    g = manual(params(), y)["F0.5"]
    assert g.shape == (4, 1)  # the shape of b^[1], as the document's convention says
    close(autodiff(params(), y)["b1"], g)


@ys
def test_F0_6_dJ_dW1_needs_no_transpose(y):
    g = manual(params(), y)["F0.6"]
    assert g.shape == (4, 3)
    close(autodiff(params(), y)["W1"], g)


@ys
def test_F0_3_to_F0_6_delta_form(y):
    """The same gradients in delta form: delta2 = a2 - y, delta1 = W2^T delta2 * a1(1 - a1)."""
    p = params()
    a1 = sigma(p["b1"] + p["W1"] @ p["x"])
    a2 = sigma(p["b2"] + p["W2"] @ a1)
    d2 = a2 - y
    d1 = p["W2"].T @ d2 * a1 * (1 - a1)
    g = autodiff(p, y)
    close(g["b2"], d2)
    close(g["W2"], d2 @ a1.T)
    close(g["b1"], d1)
    close(g["W1"], d1 @ p["x"].T)


# -- M0: the PyTorch-style layout of nn ------------------------------------------------------

def _nn_model(p):
    import nn
    l1, l2 = nn.Linear(3, 4), nn.Linear(4, 1)
    l1.weight.data, l1.bias.data = p["W1"].copy(), p["b1"].ravel().copy()
    l2.weight.data, l2.bias.data = p["W2"].copy(), p["b2"].ravel().copy()
    return l1, l2


@pytest.mark.parametrize("loss", ["BCELoss", "BCEWithLogitsLoss"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@ys
def test_M0_nn_linear_single_sample(loss, reduction, y):
    """X = x^T (1, 3); l1.weight.grad = F0.6, l1.bias.grad = F0.5 raveled, l2 = F0.4, F0.3."""
    import nn
    p = params()
    l1, l2 = _nn_model(p)
    z2 = l2(l1(Tensor(p["x"].T)).sigmoid())
    out = z2.sigmoid() if loss == "BCELoss" else z2
    getattr(nn, loss)(reduction=reduction)(out, np.array([[y]])).backward()
    f = manual(p, y)
    close(l1.weight.grad, f["F0.6"])
    close(l1.bias.grad, f["F0.5"].ravel())
    close(l2.weight.grad, f["F0.4"])
    close(l2.bias.grad, f["F0.3"].ravel())


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_M0_nn_batch_sum_and_mean_of_per_sample_gradients(reduction):
    """B rows: `sum` gives the sum over samples of F0.3-F0.6, `mean` 1/B of it."""
    import nn
    p, rng = params(), np.random.default_rng(3)
    B = 6
    X, Y = rng.standard_normal((B, 3)), rng.integers(0, 2, (B, 1)).astype(float)
    l1, l2 = _nn_model(p)
    nn.BCELoss(reduction=reduction)(l2(l1(Tensor(X)).sigmoid()).sigmoid(), Y).backward()
    per = [manual({**p, "x": X[[i]].T}, Y[i, 0]) for i in range(B)]
    scale = 1.0 if reduction == "sum" else 1.0 / B
    close(l1.weight.grad, scale * sum(f["F0.6"] for f in per))
    close(l1.bias.grad, scale * sum(f["F0.5"] for f in per).ravel())
    close(l2.weight.grad, scale * sum(f["F0.4"] for f in per))
    close(l2.bias.grad, scale * sum(f["F0.3"] for f in per).ravel())
