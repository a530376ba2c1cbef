"""Document 002 (许志钦, "深度神经网络极简介"): closed forms F2.1-F2.3, the F2.1 erratum, mapping M2.

The document's network: f(x) = sum_j a_j sigma(w_j x + b_j) with scalars x, w_j, b_j, a_j and
no output bias; h_i = f(x_i); L_S = 1/(2n) sum_i (y_i - h_i)^2. In its matrix form the samples
are the columns of X (d x n, here d = 1): Y = W^[2] sigma(W^[1] X + B^[1]), W^[1] = w (m x 1),
B^[1] = [b, ..., b] (m x n), W^[2] = a^T (1 x m).

Each formula's statement, the document's conventions and any erratum: docs/formulas.md,
section "Document 002".
"""
import numpy as np
import pytest

from autograd_mini import Tensor
from conftest import close

SIGMA = {  # sigma, sigma', Tensor method
    "tanh": (np.tanh, lambda t: 1 - np.tanh(t) ** 2, Tensor.tanh),
    "relu": (lambda t: np.maximum(t, 0), lambda t: (t > 0) * 1.0, Tensor.relu),
}
acts = pytest.mark.parametrize("act", ["tanh", "relu"])


def data(seed=0, n=7, m=5):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-2, 2, n), rng.standard_normal(n)
    w, b, a = rng.standard_normal(m), rng.standard_normal(m), rng.standard_normal(m)
    # ReLU's derivative is undefined at 0: keep every w_j x_i + b_j away from the kink
    assert np.abs(np.outer(w, x) + b[:, None]).min() > 1e-3
    return x, y, w, b, a


def autodiff(x, y, w, b, a, act):
    """L_S on Tensors in the matrix form, samples as columns; returns dL/da, dL/dw, dL/db."""
    X = Tensor(x[None, :])                             # 1 x n
    W1 = Tensor(w[:, None], requires_grad=True)        # m x 1
    b1 = Tensor(b[:, None], requires_grad=True)        # m x 1, broadcast to B^[1]
    W2 = Tensor(a[None, :], requires_grad=True)        # 1 x m
    H = W2 @ SIGMA[act][2](W1 @ X + b1)                # 1 x n: h_i
    n = len(x)
    L = ((Tensor(y[None, :]) - H) ** 2).sum() / (2 * n)
    L.backward()
    return W2.grad.ravel(), W1.grad.ravel(), b1.grad.ravel()


def h_of(x, w, b, a, act):
    s = SIGMA[act][0]
    return np.array([sum(a[j] * s(w[j] * xi + b[j]) for j in range(len(a))) for xi in x])


@acts
def test_F2_1_dL_da_corrected(act):
    """dL_S/da_j = 1/n sum_i (h_i - y_i) sigma(w_j x_i + b_j)."""
    x, y, w, b, a = data()
    h, s, n = h_of(x, w, b, a, act), SIGMA[act][0], len(x)
    corrected = np.array([sum((h[i] - y[i]) * s(w[j] * x[i] + b[j]) for i in range(n)) / n
                          for j in range(len(a))])
    close(autodiff(x, y, w, b, a, act)[0], corrected)


@acts
def test_F2_1_ERRATUM_printed_sample_index_lost(act):
    """Printed: 1/n sum_i (h_i - y_i) sigma(w_j x + b_j), x without the sample index. Whatever
    fixed sample x = x_k it stands for, the result is not dL_S/da_j (n >= 2)."""
    x, y, w, b, a = data()
    h, s, n = h_of(x, w, b, a, act), SIGMA[act][0], len(x)
    grad = autodiff(x, y, w, b, a, act)[0]
    for k in range(n):
        printed = np.array([sum((h[i] - y[i]) * s(w[j] * x[k] + b[j]) for i in range(n)) / n
                            for j in range(len(a))])
        assert not np.allclose(printed, grad, rtol=1e-3, atol=1e-6), k


@acts
def test_F2_2_dL_dw(act):
    """dL_S/dw_j = 1/n sum_i (h_i - y_i) a_j sigma'(w_j x_i + b_j) x_i."""
    x, y, w, b, a = data(1)
    h, ds, n = h_of(x, w, b, a, act), SIGMA[act][1], len(x)
    manual = np.array([sum((h[i] - y[i]) * a[j] * ds(w[j] * x[i] + b[j]) * x[i]
                           for i in range(n)) / n for j in range(len(a))])
    close(autodiff(x, y, w, b, a, act)[1], manual)


@acts
def test_F2_3_dL_db_not_stated_in_the_document(act):
    """Catalog addition (the document stops at w_j): the same chain without the factor x_i."""
    x, y, w, b, a = data(2)
    h, ds, n = h_of(x, w, b, a, act), SIGMA[act][1], len(x)
    manual = np.array([sum((h[i] - y[i]) * a[j] * ds(w[j] * x[i] + b[j]) for i in range(n)) / n
                       for j in range(len(a))])
    close(autodiff(x, y, w, b, a, act)[2], manual)


def test_F2_matrix_form_equals_the_scalar_form():
    """Y = W^[2] sigma(W^[1] X + B^[1]) (samples as columns) is the row of h_i = f(x_i)."""
    x, y, w, b, a = data(3)
    B1 = np.column_stack([b] * len(x))  # B^[1] = [b^[1], ..., b^[1]]
    Y = a[None, :] @ np.tanh(w[:, None] @ x[None, :] + B1)
    close(Y.ravel(), h_of(x, w, b, a, "tanh"))


# -- M2: the PyTorch-style layout of nn ------------------------------------------------------

@acts
def test_M2_nn_scalar_net(act):
    """X (n, 1); hidden Linear(1, m): weight[j, 0] = w_j, bias[j] = b_j; output
    Linear(m, 1, bias=False): weight[0, j] = a_j; L_S = 0.5 * MSELoss(mean)."""
    import nn
    x, y, w, b, a = data(4)
    hidden, out = nn.Linear(1, len(w)), nn.Linear(len(w), 1, bias=False)
    hidden.weight.data, hidden.bias.data = w[:, None].copy(), b.copy()
    out.weight.data = a[None, :].copy()
    pred = out(SIGMA[act][2](hidden(Tensor(x[:, None]))))
    (0.5 * nn.MSELoss()(pred, y[:, None])).backward()
    h, s, ds, n = h_of(x, w, b, a, act), SIGMA[act][0], SIGMA[act][1], len(x)
    r = range(len(a))
    close(out.weight.grad[0], [sum((h[i] - y[i]) * s(w[j] * x[i] + b[j]) for i in range(n)) / n
                               for j in r])                                    # F2.1 corrected
    close(hidden.weight.grad[:, 0], [sum((h[i] - y[i]) * a[j] * ds(w[j] * x[i] + b[j]) * x[i]
                                         for i in range(n)) / n for j in r])   # F2.2
    close(hidden.bias.grad, [sum((h[i] - y[i]) * a[j] * ds(w[j] * x[i] + b[j])
                                 for i in range(n)) / n for j in r])           # F2.3


def test_M2_nn_matrix_form():
    """d inputs, d_o outputs: the torch input is X^T (n, d); Linear(d, m).weight = W^[1],
    bias = b^[1]; Linear(m, d_o, bias=False).weight = W^[2]; the output is Y^T. The gradients
    are F2.1 corrected / F2.2 / F2.3 with the sums over i and outputs written as products:
    with R = (Y - Y*)/n (residuals, samples as columns) and S = sigma(W^[1] X + B^[1]),
    dL/dW^[2] = R S^T, dL/dW^[1] = ((W^[2])^T R (.) sigma') X^T, dL/db^[1] = (...) 1_n."""
    import nn
    rng = np.random.default_rng(5)
    d, m, d_o, n = 3, 4, 2, 6
    X, Ystar = rng.standard_normal((d, n)), rng.standard_normal((d_o, n))
    W1, b1 = rng.standard_normal((m, d)), rng.standard_normal((m, 1))
    W2 = rng.standard_normal((d_o, m))
    l1, l2 = nn.Linear(d, m), nn.Linear(m, d_o, bias=False)
    l1.weight.data, l1.bias.data, l2.weight.data = W1.copy(), b1.ravel().copy(), W2.copy()
    out = l2(l1(Tensor(X.T)).tanh())
    B1 = np.column_stack([b1.ravel()] * n)
    S = np.tanh(W1 @ X + B1)
    Y = W2 @ S
    close(out.data, Y.T)
    # L_S = 1/(2n) sum over samples and outputs = (d_o / 2) * MSELoss(mean)
    (d_o / 2 * nn.MSELoss()(out, Ystar.T)).backward()
    R = (Y - Ystar) / n
    G = (W2.T @ R) * (1 - S ** 2)
    close(l2.weight.grad, R @ S.T)
    close(l1.weight.grad, G @ X.T)
    close(l1.bias.grad, G.sum(axis=1))
