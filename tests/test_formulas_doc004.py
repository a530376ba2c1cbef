"""Document 004 ("概念", mlbook chapter 7 in Chinese): F4.1-F4.16, the F4.10/F4.11 and index
errata, mapping M4.

The document's names are swapped against 001/003: h is the pre-activation, z the activation:
h^(l) = W^(l) z^(l-1) + c^(l), z^(l) = f^(l)(h^(l)), z^(0) = x, yhat = z^(L). Column vectors,
W^(l) in R^(D_l x D_{l-1}) (out x in), numerator layout (a derivative of a scalar by a vector is
a row). Losses are vectors of per-output losses, summed over outputs and observations. Batch:
X (N x D_x, rows are observations) enters as Z^(0) = X^T, H^(l) = W^(l) Z^(l-1) + c^(l) with c
added to every column. The figures' network is 4-3-3-2.

Each formula's statement, the document's conventions and any erratum: docs/formulas.md,
section "Document 004".
"""
import numpy as np
import pytest

from autograd_mini import Tensor
from conftest import close, differs, sigma

SIZES = [4, 3, 3, 2]  # D_x, D_1, D_2, D_y
N = 6


F = {  # f, f', Tensor version
    "relu": (lambda t: np.maximum(t, 0), lambda t: (t > 0) * 1.0, Tensor.relu),
    "sigmoid": (sigma, lambda t: sigma(t) * (1 - sigma(t)), Tensor.sigmoid),
    "linear": (lambda t: t, lambda t: np.ones_like(t), lambda t: t),
}
LOSS = {  # per-output loss vector on Tensors, and dL/dyhat entry by entry (F4.1, F4.2)
    "rss": (lambda y, yh: (y - yh) ** 2, lambda y, yh: -2 * (y - yh)),
    "log": (lambda y, yh: -(y * yh.log() + (1 - y) * (1 - yh).log()),
            lambda y, yh: -y / yh + (1 - y) / (1 - yh)),
}


def params(seed=0, sizes=SIZES):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, len(sizes))]
    c = [rng.standard_normal((sizes[l], 1)) for l in range(1, len(sizes))]
    return W, c


def observations(seed=1, n=N, sizes=SIZES):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    Y = rng.integers(0, 2, (n, sizes[-1])).astype(float)  # binary: fits both losses
    Y[0] = [1.0, 0.0][: sizes[-1]] + [0.0] * (sizes[-1] - 2)
    return X, Y


def forward(W, c, Z0, acts):
    """H^(l) = W^(l) Z^(l-1) + c^(l), Z^(l) = f^(l)(H^(l)); lists indexed 0..L (H[0] unused)."""
    H, Z = [None], [Z0]
    for w, v, f in zip(W, c, acts):
        H.append(w @ Z[-1] + v)
        Z.append(F[f][0](H[-1]))
    return H, Z


def autodiff(W, c, Z0, Y_T, acts, loss):
    """The network on Tensors (columns are observations); backward of the loss summed over
    outputs and observations. Returns dW, dc, dH, dZ (lists indexed 1..L / 0..L)."""
    Wt = [Tensor(w, requires_grad=True) for w in W]
    ct = [Tensor(v, requires_grad=True) for v in c]
    z, Ht, Zt = Tensor(Z0), [None], []
    for w, v, f in zip(Wt, ct, acts):
        z.retain_grad()
        Zt.append(z)
        h = w @ z + v
        h.retain_grad()
        Ht.append(h)
        z = F[f][2](h)
    LOSS[loss][0](Y_T, z).sum().backward()
    return ([None] + [w.grad for w in Wt], [None] + [v.grad for v in ct],
            [None] + [h.grad for h in Ht[1:]], [t.grad for t in Zt])


def jacobian(fn, x):
    """Numerator-layout Jacobian d fn(x) / d x of column vectors, one backward per row."""
    rows = []
    out_size = fn(Tensor(x)).numel()
    for i in range(out_size):
        xt = Tensor(x, requires_grad=True)
        out = fn(xt)
        seed = np.zeros(out.shape)
        seed.flat[i] = 1.0
        out.backward(seed)
        rows.append(xt.grad.ravel())
    return np.array(rows)


# -- one observation: F4.1-F4.8 ------------------------------------------------------------------

def test_F4_1_rss_derivative_is_a_row():
    rng = np.random.default_rng(2)
    y, yhat = rng.standard_normal((2, 1)), rng.standard_normal((2, 1))
    row = -2 * (y - yhat).T                                    # 1 x D_y
    assert row.shape == (1, 2)
    close(jacobian(lambda t: (y - t) ** 2, yhat), np.diag(row.ravel()))  # per-output losses
    t = Tensor(yhat, requires_grad=True)
    ((y - t) ** 2).sum().backward()
    close(t.grad.T, row)


def test_F4_2_log_loss_derivative_is_a_row():
    rng = np.random.default_rng(3)
    y, yhat = np.array([[1.0], [0.0], [1.0]]), rng.uniform(0.1, 0.9, (3, 1))
    row = (-y / yhat + (1 - y) / (1 - yhat)).T
    loss = LOSS["log"][0]
    close(jacobian(lambda t: loss(y, t), yhat), np.diag(row.ravel()))
    t = Tensor(yhat, requires_grad=True)
    loss(y, t).sum().backward()
    close(t.grad.T, row)


def test_F4_3_relu_jacobian_with_zero_at_the_kink():
    """dz/dh = diag(h > 0); the document sets the derivative at 0 to 0, and so does the engine."""
    h = np.array([[1.5], [-0.7], [0.0], [0.2]])
    close(jacobian(Tensor.relu, h), np.diag((h > 0).ravel() * 1.0))


def test_F4_4_sigmoid_jacobian():
    h = np.random.default_rng(4).standard_normal((3, 1))
    d = np.exp(-h) / (1 + np.exp(-h)) ** 2
    close(d, sigma(h) * (1 - sigma(h)))
    close(jacobian(Tensor.sigmoid, h), np.diag((sigma(h) * (1 - sigma(h))).ravel()))


def test_F4_5_linear_activation_jacobian_is_identity():
    """In the network: yhat = z^(L) = h^(L) with a linear last layer, so dyhat/dh^(L) = I."""
    W, c = params(5)
    x = np.random.default_rng(5).standard_normal((4, 1))
    _, Z = forward(W[:2], c[:2], x, ["relu", "sigmoid"])
    fn = lambda h: F["linear"][2](h)  # noqa: E731
    close(jacobian(fn, W[2] @ Z[2] + c[2]), np.eye(2))


def test_F4_6_dh_dc_is_identity():
    W, c = params(6)
    z = np.random.default_rng(6).standard_normal((3, 1))
    close(jacobian(lambda v: Tensor(W[1]) @ Tensor(z) + v, c[1]), np.eye(3))


def test_F4_7_dh_dW_is_the_tensor_T():
    """T in R^(D_l x (D_l x D_{l-1})): slice i has (z^(l-1))^T in row i, zeros elsewhere; a row g
    contracted with T over i gives g^T (z^(l-1))^T."""
    W, c = params(7)
    z = np.random.default_rng(7).standard_normal((3, 1))
    Dl, Dp = W[1].shape
    T = np.zeros((Dl, Dl, Dp))
    for i in range(Dl):
        T[i, i, :] = z.ravel()
    for i in range(Dl):  # slice i = dh_i/dW
        Wt = Tensor(W[1], requires_grad=True)
        (Wt @ Tensor(z) + c[1])[i, 0].backward()
        close(Wt.grad, T[i])
    g = np.random.default_rng(8).standard_normal((1, Dl))
    Wt = Tensor(W[1], requires_grad=True)
    (Wt @ Tensor(z) + c[1]).backward(g.T)
    close(Wt.grad, np.einsum("i,ikj->kj", g.ravel(), T))
    close(Wt.grad, g.T @ z.T)


def test_F4_8_dh_dz_prev_is_W():
    W, c = params(9)
    z = np.random.default_rng(9).standard_normal((3, 1))
    close(jacobian(lambda t: Tensor(W[1]) @ t + c[1], z), W[1])


# -- F4.9: the chain rule through the whole 4-3-3-2 network ---------------------------------------

NETS = pytest.mark.parametrize("acts,loss", [
    (("relu", "relu", "linear"), "rss"),
    (("sigmoid", "sigmoid", "sigmoid"), "log"),
    (("relu", "sigmoid", "sigmoid"), "log"),
], ids=["relu-relu-linear-rss", "sigmoid-log", "relu-sigmoid-sigmoid-log"])


def chain_rows(W, H, Z, y, acts, loss):
    """grad h^(L) = dL/dyhat diag(f'(h^(L))); grad h^(l-1) = grad h^(l) W^(l) diag(f'(h^(l-1)))
    (rows, numerator layout); returns them indexed 1..L."""
    L = len(W)
    g = [None] * (L + 1)
    g[L] = LOSS[loss][1](y, Z[L]).T @ np.diag(F[acts[-1]][1](H[L]).ravel())
    for l in range(L, 1, -1):
        g[l - 1] = g[l] @ W[l - 1] @ np.diag(F[acts[l - 2]][1](H[l - 1]).ravel())
    return g


@NETS
def test_F4_9_chain_rule(acts, loss):
    W, c = params(10)
    X, Y = observations(11)
    x, y = X[[0]].T, Y[[0]].T  # one observation as columns
    H, Z = forward(W, c, x, acts)
    dW, dc, _, _ = autodiff(W, c, x, y, acts, loss)
    g = chain_rows(W, H, Z, y, acts, loss)
    for l in range(1, len(W) + 1):
        close(dW[l], g[l].T @ Z[l - 1].T)   # dL/dW^(l) = (grad h^(l))^T (z^(l-1))^T
        close(dc[l].T, g[l])                # dL/dc^(l) = grad h^(l), a row
    # the last two layers once more as the printed products with the tensor T of F4.7
    L = len(W)
    dyhat_dh = np.diag(F[acts[-1]][1](H[L]).ravel())
    T = np.einsum("ik,j->ikj", np.eye(SIZES[L]), Z[L - 1].ravel())
    close(dW[L], np.einsum("i,ikj->kj", (LOSS[loss][1](y, Z[L]).T @ dyhat_dh).ravel(), T))
    dh_dz = W[L - 1]
    dz_dh = np.diag(F[acts[-2]][1](H[L - 1]).ravel())
    T1 = np.einsum("ik,j->ikj", np.eye(SIZES[L - 1]), Z[L - 2].ravel())
    row = LOSS[loss][1](y, Z[L]).T @ dyhat_dh @ dh_dz @ dz_dh
    close(dW[L - 1], np.einsum("i,ikj->kj", row.ravel(), T1))


# -- section 2.3: F4.10, F4.11 and their sign errata (2 layers, sigmoid output, log loss) ---------

def two_layer(seed=12):
    W, c = params(seed, [4, 3, 2])
    x = np.random.default_rng(seed).standard_normal((4, 1))
    y = np.array([[1.0], [0.0]])  # the sign slip shows where y_i = 0
    H, Z = forward(W, c, x, ["relu", "sigmoid"])
    dW, dc, _, _ = autodiff(W, c, x, y, ["relu", "sigmoid"], "log")
    return W, H, Z, y, dW, dc


def test_F4_10_dL_dW2_corrected():
    W, H, Z, y, dW, _ = two_layer()
    yhat, z1 = Z[2], Z[1]
    s = sigma(H[2])
    T = np.einsum("ik,j->ikj", np.eye(2), z1.ravel())
    row = (-y / yhat + (1 - y) / (1 - yhat)).T @ np.diag((s * (1 - s)).ravel())
    close(dW[2], np.einsum("i,ikj->kj", row.ravel(), T))
    close(dW[2], (yhat - y) @ z1.T)


def test_F4_10_ERRATUM_printed_sign():
    """Printed: -(y/yhat + (1-y)/(1-yhat))^T diag(sigma'(h^(2))) T, row i times z^(1)."""
    W, H, Z, y, dW, _ = two_layer()
    yhat, z1 = Z[2], Z[1]
    s = sigma(H[2])
    bracket = -(y / yhat + (1 - y) / (1 - yhat))
    rows = [bracket[i, 0] * s[i, 0] * (1 - s[i, 0]) * z1 for i in range(2)]  # z^(1) as printed
    assert np.vstack(rows).shape == (6, 1)  # stacking the printed column blocks: not n_2 x n_1
    printed = np.vstack([r.T for r in rows])  # read with the row (z^(1))^T
    assert differs(printed, dW[2])
    close(printed[0], dW[2][0])  # the y_1 = 1 row agrees: -(1/yhat) either way


def test_F4_11_dL_dc2_corrected():
    W, H, Z, y, _, dc = two_layer()
    yhat = Z[2]
    s = sigma(H[2])
    row = (-y / yhat + (1 - y) / (1 - yhat)).T @ np.diag((s * (1 - s)).ravel()) @ np.eye(2)
    close(dc[2].T, row)
    close(dc[2], yhat - y)


def test_F4_11_ERRATUM_printed_sign():
    W, H, Z, y, _, dc = two_layer()
    s = sigma(H[2])
    printed = (-(y / Z[2] + (1 - y) / (1 - Z[2])).T @ np.diag((s * (1 - s)).ravel()) @ np.eye(2))
    assert differs(printed, dc[2].T)


# -- several observations: F4.12-F4.16 -------------------------------------------------------------

def batch_net(acts=("relu", "sigmoid", "sigmoid"), loss="log", seed=13, sizes=SIZES):
    W, c = params(seed, sizes)
    X, Y = observations(seed + 1, sizes=sizes)
    H, Z = forward(W, c, X.T, acts)
    grads = autodiff(W, c, X.T, Y.T, acts, loss)
    gradH = [None] * len(H)  # grad H^(L) = dL/dYhat^T o f'(H^(L)), then F4.16 and o f'
    gradH[-1] = LOSS[loss][1](Y.T, Z[-1]) * F[acts[-1]][1](H[-1])
    for l in range(len(W), 1, -1):
        gradH[l - 1] = (W[l - 1].T @ gradH[l]) * F[acts[l - 2]][1](H[l - 1])
    return W, c, X, Y, H, Z, grads, gradH


@NETS
def test_F4_12_sum_over_observations(acts, loss):
    W, c = params(14)
    X, Y = observations(15)
    dW, dc, _, _ = autodiff(W, c, X.T, Y.T, acts, loss)
    per = []
    for n in range(N):
        x, y = X[[n]].T, Y[[n]].T
        H, Z = forward(W, c, x, acts)
        g = chain_rows(W, H, Z, y, acts, loss)
        per.append([(g[l].T @ Z[l - 1].T, g[l].T) for l in range(1, len(W) + 1)])
    for l in range(1, len(W) + 1):
        close(dW[l], sum(p[l - 1][0] for p in per))
        close(dc[l], sum(p[l - 1][1] for p in per))


@NETS
def test_F4_13_grad_H_L_hadamard(acts, loss):
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net(acts, loss)
    dL_dYT = LOSS[loss][1](Y.T, Z[-1])                  # D_y x N, entry (d, n) = dL_d/dYhat^T_dn
    dYT_dH = F[acts[-1]][1](H[-1])                      # element-wise f'(H^(L))
    assert dL_dYT.shape == (SIZES[-1], N)
    close(dH[-1], dL_dYT * dYT_dH)


def test_F4_13_ERRATUM_index_typos_in_dYhat_dH():
    """The printed bottom-left entry dYhat^T_{D_y,1} / dH^(1)_{D_y,1} differentiates by layer 1's
    pre-activation; it must be H^(L). (The bottom-right denominator "L^(L)_{D_y,N}" names no
    quantity of the network, so only its corrected form H^(L)_{D_y,N} can be computed.)"""
    acts = ("relu", "sigmoid", "sigmoid")
    W, c = params(16)
    X, _ = observations(17)
    H, _ = forward(W, c, X.T, acts)
    Dy = SIZES[-1]
    for n, label in ((0, "bottom-left"), (N - 1, "bottom-right")):
        z, Ht = Tensor(X.T, requires_grad=True), []
        for w, v, f in zip(W, c, acts):
            h = Tensor(w) @ z + v
            h.retain_grad()
            Ht.append(h)
            z = F[f][2](h)
        seed = np.zeros(z.shape)
        seed[Dy - 1, n] = 1.0  # d Yhat^T_{D_y, n} / d (everything)
        z.backward(seed)
        corrected = F[acts[-1]][1](H[-1])[Dy - 1, n]
        close(Ht[-1].grad[Dy - 1, n], corrected)              # d Yhat^T / d H^(L)
        if label == "bottom-left":
            assert differs(Ht[0].grad[Dy - 1, n], corrected)  # printed: d Yhat^T / d H^(1)


@NETS
def test_F4_14_dL_dc_row_sums(acts, loss):
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net(acts, loss)
    for l in range(1, len(W) + 1):
        close(dc[l], np.array([[sum(gradH[l][i, n] for n in range(N))]
                               for i in range(SIZES[l])]))
        close(dc[l], gradH[l] @ np.ones((N, 1)))


def test_F4_14_ERRATUM_prose_says_c1():
    """Prose: "the derivative w.r.t. c^(1) is the row sum of dL/dH^(L)". With D_1 = D_L = 3 the
    shapes agree but the values do not; c^(L) gets those row sums, c^(1) those of grad H^(1)."""
    sizes = [4, 3, 3, 3]
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net(sizes=sizes)
    printed = gradH[-1].sum(axis=1, keepdims=True)
    assert differs(dc[1], printed)
    close(dc[len(W)], printed)
    close(dc[1], gradH[1].sum(axis=1, keepdims=True))


@NETS
def test_F4_15_dL_dW_tensor_dot(acts, loss):
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net(acts, loss)
    for l in range(1, len(W) + 1):
        close(dW[l], np.tensordot(gradH[l], Z[l - 1], axes=([1], [1])))
        close(dW[l], gradH[l] @ Z[l - 1].T)
        i, j = SIZES[l] - 1, 0
        close(dW[l][i, j], sum(gradH[l][i, n] * Z[l - 1][j, n] for n in range(N)))


def test_F4_15_ERRATUM_supporting_equation():
    """Printed: H_{i,n} = W_{i,j} Z_{j,n} for all n (one term, no intercept). Corrected:
    H_{i,n} = sum_j W_{i,j} Z_{j,n} + c_i. The stated dH_{i,n}/dW_{i,j} = Z_{j,n} is right."""
    W, c, X, Y, H, Z, *_ = batch_net()
    Wl, Zp, Hl, cl = W[-1], Z[-2], H[-1], c[-1]
    i, j = 1, 2
    assert differs(Wl[i, j] * Zp[j], Hl[i])
    close(sum(Wl[i, k] * Zp[k] for k in range(Zp.shape[0])) + cl[i, 0], Hl[i])
    for n in range(N):
        Wt = Tensor(Wl, requires_grad=True)
        (Wt @ Tensor(Zp) + cl)[i, n].backward()
        close(Wt.grad[i, j], Zp[j, n])


@NETS
def test_F4_16_dL_dZ_prev(acts, loss):
    """dL/dZ^(L-1)_{i,n} = sum_{r=1}^{D_L} (grad H^(L))_{r,n} W^(L)_{r,i}; then
    grad H^(L-1) = dL/dZ^(L-1) o f'(H^(L-1)) and F4.14-F4.16 repeat down to layer 1."""
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net(acts, loss)
    L = len(W)
    close(dZ[L - 1], W[L - 1].T @ gradH[L])
    close(dZ[L - 1][1, 2], sum(gradH[L][r, 2] * W[L - 1][r, 1] for r in range(SIZES[L])))
    for l in range(L, 0, -1):
        close(dH[l], gradH[l])
        if l > 1:  # Z^(0) = X^T is data
            close(dZ[l - 1], W[l - 1].T @ gradH[l])


def test_F4_16_ERRATUM_sum_bound_R_is_D_L():
    """R is undefined in the source: R = D_L gives the gradient, a shorter sum does not."""
    W, c, X, Y, H, Z, (dW, dc, dH, dZ), gradH = batch_net()
    L = len(W)

    def by_R(R):
        return np.array([[sum(gradH[L][r, n] * W[L - 1][r, i] for r in range(R))
                          for n in range(N)] for i in range(SIZES[L - 1])])

    close(dZ[L - 1], by_R(SIZES[L]))
    assert differs(dZ[L - 1], by_R(SIZES[L] - 1))


def test_F4_section_1_3_relu_example_is_abs():
    """W^(1) = (1, -1)^T, c^(1) = 0, W^(2) = (1 1), c^(2) = 0: y = ReLU(x) + ReLU(-x) = |x|."""
    x = np.array([[-2.0, -0.5, 0.0, 0.7, 3.0]])
    H, Z = forward([np.array([[1.0], [-1.0]]), np.array([[1.0, 1.0]])],
                   [np.zeros((2, 1)), np.zeros((1, 1))], x, ["relu", "linear"])
    close(Z[-1], np.abs(x))


# -- M4: the PyTorch-style layout of nn ---------------------------------------------------------

def _nn_layers(W, c):
    import nn
    layers = []
    for w, v in zip(W, c):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data, lin.bias.data = w.copy(), v.ravel().copy()
        layers.append(lin)
    return layers


@pytest.mark.parametrize("loss_fn", ["MSELoss", "BCELoss", "BCEWithLogitsLoss"])
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_M4_nn_batch(loss_fn, reduction):
    """X (N, D_x) as given; Linear(D_{l-1}, D_l): weight = W^(l), bias = c^(l). RSS is
    MSELoss(sum), log loss BCELoss(sum) on sigmoid outputs or BCEWithLogitsLoss(sum) on H^(L).
    weight.grad = grad H^(l) (Z^(l-1))^T, bias.grad = grad H^(l) 1_N, the pre-activation's
    .grad = (grad H^(l))^T; `mean` divides every gradient by N * D_y."""
    import nn
    acts, loss = (("relu", "relu", "linear"), "rss") if loss_fn == "MSELoss" else \
        (("relu", "sigmoid", "sigmoid"), "log")
    W, c, X, Y, H, Z, _, gradH = batch_net(acts, loss, seed=20)
    layers = _nn_layers(W, c)
    a, pre = Tensor(X), []
    for lin, f in zip(layers, acts):
        h = lin(a)
        h.retain_grad()
        pre.append(h)
        a = F[f][2](h)
    out = pre[-1] if loss_fn == "BCEWithLogitsLoss" else a
    close(a.data, Z[-1].T)  # the output is Yhat = (Yhat^T)^T
    getattr(nn, loss_fn)(reduction=reduction)(out, Y).backward()
    k = 1.0 if reduction == "sum" else 1.0 / (N * SIZES[-1])
    for l, (lin, h) in enumerate(zip(layers, pre), start=1):
        close(h.data, H[l].T)
        close(lin.weight.grad, k * gradH[l] @ Z[l - 1].T)
        close(lin.bias.grad, k * (gradH[l] @ np.ones((N, 1))).ravel())
        close(h.grad, k * gradH[l].T)


def test_M4_nn_single_observation_rows():
    """The single-observation numerator-layout rows are torch gradients of shape (1, D)."""
    import nn
    acts = ("relu", "relu", "linear")
    W, c = params(21)
    X, Y = observations(22)
    x, y = X[[0]].T, Y[[0]].T
    H, Z = forward(W, c, x, acts)
    g = chain_rows(W, H, Z, y, acts, "rss")
    layers = _nn_layers(W, c)
    a = Tensor(x.T)
    for lin, f in zip(layers, acts):
        a = F[f][2](lin(a))
    nn.MSELoss(reduction="sum")(a, y.T).backward()
    for l, lin in enumerate(layers, start=1):
        close(lin.bias.grad[None, :], g[l])
        close(lin.weight.grad, g[l].T @ Z[l - 1].T)
