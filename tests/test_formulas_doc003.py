"""Document 003 (Shy_Vector, "(ML-2-1) 神经网络"): F3.1-F3.11, its errata, the gradient check.

The document's layout: column vectors, W^(l) in R^(n_l x n_{l-1}) (out x in), z^(l) = W^(l)
a^(l-1) + b^(l) (the training loops' bias index; F3.5 is the erratum about it), sigmoid on every
layer, per sample L = 1/2 ||a^(L) - y||^2 (+ lambda/2 sum_l ||W^(l)||^2); a batch of m samples
is A^(0) (n_0 x m) and Y (n_L x m), samples as columns, with
L = 1/(2m) ||A^(L) - Y||^2 + lambda/2 sum_l ||W^(l)||^2 (data term averaged, regulariser not).

Each formula's statement, the document's conventions and any erratum: docs/formulas.md,
section "Document 003".
"""
import numpy as np
import pytest

from autograd_mini import Tensor
from conftest import close, differs, sigma

SIZES = [4, 5, 3, 2]  # n_0 .. n_L, L = 3
LAM = 0.1
M = 5


def dsigma(t):
    return sigma(t) * (1 - sigma(t))


def params(seed=0, sizes=SIZES):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, len(sizes))]
    b = [rng.standard_normal((sizes[l], 1)) for l in range(1, len(sizes))]
    return W, b


def batch(seed=1, m=M, sizes=SIZES):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((sizes[0], m)), rng.uniform(size=(sizes[-1], m))


def forward(W, b, A0):
    """Z^(l) = W^(l) A^(l-1) + b^(l), A^(l) = sigma(Z^(l)); lists indexed 0..L (Z[0] unused)."""
    A, Z = [A0], [None]
    for w, v in zip(W, b):
        Z.append(w @ A[-1] + v)
        A.append(sigma(Z[-1]))
    return Z, A


def loss_np(W, b, A0, Y, lam=LAM):
    m = A0.shape[1]
    return (np.sum((forward(W, b, A0)[1][-1] - Y) ** 2) / (2 * m)
            + lam / 2 * sum(np.sum(w ** 2) for w in W))


def autodiff(W, b, A0, Y, lam=LAM, per_sample=False):
    """The network on Tensors. per_sample: L = 1/2 ||a - y||^2 (one column) + lambda/2 sum ||W||^2;
    else the batch loss. Returns dL/dW, dL/db, dL/dZ (lists indexed 1..L, [0] = None)."""
    Wt = [Tensor(w, requires_grad=True) for w in W]
    bt = [Tensor(v, requires_grad=True) for v in b]
    a, Zt = Tensor(A0), [None]
    for w, v in zip(Wt, bt):
        z = w @ a + v
        z.retain_grad()
        Zt.append(z)
        a = z.sigmoid()
    scale = 0.5 if per_sample else 1 / (2 * A0.shape[1])
    L = scale * ((a - Y) ** 2).sum() + lam / 2 * sum((w * w).sum() for w in Wt)
    L.backward()
    return ([None] + [w.grad for w in Wt], [None] + [v.grad for v in bt],
            [None] + [z.grad for z in Zt[1:]])


def one_sample(seed=2):
    W, b = params(seed)
    A0, Y = batch(seed + 1, m=1)
    return W, b, A0, Y


# -- F3.1: single-layer linear regression (the cited article's J) ------------------------------

def test_F3_1_linear_regression_gradient():
    """J = 1/(2m) ||X theta - y||^2, X m x n (samples as rows): grad = 1/m X^T (X theta - y)."""
    rng = np.random.default_rng(0)
    m, n = 8, 3
    X, y = rng.standard_normal((m, n)), rng.standard_normal((m, 1))
    theta = rng.standard_normal((n, 1))
    t = Tensor(theta, requires_grad=True)
    (((Tensor(X) @ t - y) ** 2).sum() / (2 * m)).backward()
    close(t.grad, X.T @ (X @ theta - y) / m)


# -- one sample: F3.2-F3.7 ---------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_F3_2_output_delta_elementwise_activation(loss):
    """delta^(L) = (da/dz)^T dL/da = diag(sigma'(z)) dL/da = dL/da (.) sigma'(z), sigmoid output;
    dL/da = a - y for 1/2 ||a - y||^2, -y/a for -sum y log a."""
    rng = np.random.default_rng(3)
    z, y = rng.standard_normal((4, 1)), rng.uniform(size=(4, 1))
    zt = Tensor(z, requires_grad=True)
    a_t = zt.sigmoid()
    L = 0.5 * ((a_t - y) ** 2).sum() if loss == "mse" else -(y * a_t.log()).sum()
    L.backward()
    a = sigma(z)
    dL_da = a - y if loss == "mse" else -y / a
    jac = np.diag(dsigma(z).ravel())  # numerator-style da/dz of an element-wise sigma
    close(zt.grad, jac.T @ dL_da)
    close(zt.grad, np.diag(dsigma(z).ravel()) @ dL_da)
    close(zt.grad, dL_da * dsigma(z))


def test_F3_2_first_form_also_holds_for_softmax():
    """With softmax the Jacobian is not diagonal, so only delta = (da/dz)^T dL/da applies; for
    cross-entropy it gives a - y (the document defines this loss but gives no gradient)."""
    rng = np.random.default_rng(4)
    z, y = rng.standard_normal((4, 1)), np.eye(4)[:, [2]]
    zt = Tensor(z, requires_grad=True)
    (-(y * zt.softmax(axis=0).log()).sum()).backward()
    a = np.exp(z) / np.exp(z).sum()
    jac = np.diag(a.ravel()) - a @ a.T
    close(zt.grad, jac.T @ (-y / a))
    close(zt.grad, a - y)


def test_F3_3_delta_recursion():
    """delta^(l) = (dz^(l+1)/dz^(l))^T delta^(l+1) = ((W^(l+1))^T delta^(l+1)) (.) sigma'(z^(l)),
    with dz^(l+1)/dz^(l) = W^(l+1) diag(sigma'(z^(l)))."""
    W, b, A0, Y = one_sample()
    Z, _ = forward(W, b, A0)
    _, _, dZ = autodiff(W, b, A0, Y, lam=0.0, per_sample=True)
    for l in range(1, len(W)):
        jac = W[l] @ np.diag(dsigma(Z[l]).ravel())  # W[l] is W^(l+1)
        close(dZ[l], jac.T @ dZ[l + 1])
        close(dZ[l], (W[l].T @ dZ[l + 1]) * dsigma(Z[l]))


def test_F3_4_weight_gradient():
    """dL/dW_ij^(l) = delta_i^(l) a_j^(l-1); dL/dW^(l) = delta^(l) (a^(l-1))^T (n_l x n_{l-1})."""
    W, b, A0, Y = one_sample()
    _, A = forward(W, b, A0)
    dW, _, dZ = autodiff(W, b, A0, Y, lam=0.0, per_sample=True)
    for l in range(1, len(W) + 1):
        d, a = dZ[l], A[l - 1]
        close(dW[l], d @ a.T)
        entry = np.array([[d[i, 0] * a[j, 0] for j in range(SIZES[l - 1])]
                          for i in range(SIZES[l])])
        close(dW[l], entry)


def test_F3_4_ERRATUM_forward_sum_runs_to_n_l():
    """Printed: z_i^(l) = sum_{j=1}^{n_l} W_ij^(l) a_j^(l-1) + b_i^(l); the sum must run to
    n_{l-1}. With n_1 = 5 > n_0 = 4 the printed sum reads past a^(0); with n_2 = 3 < n_1 = 5 it
    drops a^(1)_4, a^(1)_5, and the gradient it implies for W_i4, W_i5 is 0, not delta_i a_j."""
    W, b, A0, Y = one_sample()
    _, A = forward(W, b, A0)
    dW, _, dZ = autodiff(W, b, A0, Y, lam=0.0, per_sample=True)
    with pytest.raises(IndexError):  # layer 1: j runs to n_1 = 5 but a^(0) has 4 entries
        [sum(W[0][i, j] * A[0][j, 0] for j in range(SIZES[1])) for i in range(SIZES[1])]
    l = 2  # layer 2: n_2 = 3 < n_1 = 5
    Wl, a = Tensor(W[l - 1], requires_grad=True), A[l - 1]
    printed = [sum(Wl[i, j] * a[j, 0] for j in range(SIZES[l])) + b[l - 1][i, 0]
               for i in range(SIZES[l])]
    corrected = [sum(Wl[i, j] * a[j, 0] for j in range(SIZES[l - 1])) + b[l - 1][i, 0]
                 for i in range(SIZES[l])]
    z_true = W[l - 1] @ a + b[l - 1]
    assert differs(np.array([[p.item()] for p in printed]), z_true)
    close(np.array([[c.item()] for c in corrected]), z_true)
    # the gradient each forward rule implies for the same upstream delta^(l)
    def implied_grad(rule):
        Wl.grad = None
        sum(zi * dZ[l][i, 0] for i, zi in enumerate(rule)).backward()
        return Wl.grad

    g = implied_grad(printed)
    assert differs(g, dW[l]) and not g[:, SIZES[l]:].any()  # W_i4, W_i5 get no gradient
    close(implied_grad(corrected), dW[l])


def test_F3_5_bias_gradient_corrected():
    """With z^(l) = W^(l) a^(l-1) + b^(l) (the training loops' rule): dL/db^(l) = delta^(l)."""
    W, b, A0, Y = one_sample()
    _, db, dZ = autodiff(W, b, A0, Y, lam=0.0, per_sample=True)
    for l in range(1, len(W) + 1):
        close(db[l], dZ[l])


def test_F3_5_ERRATUM_printed_bias_index():
    """Printed forward rule z^(l) = W^(l) a^(l-1) + b^(l-1), biases b^(0) .. b^(L-1). Then b^(l)
    feeds z^(l+1): dL/db^(l) = delta^(l+1), not the printed delta^(l). Sizes 3-4-4-2 make
    b^(1) and delta^(1) the same shape, so the values themselves disagree."""
    sizes = [3, 4, 4, 2]
    W, bb = params(5, sizes)  # bb[k] is the printed b^(k), k = 0..L-1, of size n_{k+1}
    A0, Y = batch(6, m=1, sizes=sizes)
    Wt = [Tensor(w) for w in W]
    bt = [Tensor(v, requires_grad=True) for v in bb]
    a, Zt = Tensor(A0), [None]
    for l in range(1, len(sizes)):
        z = Wt[l - 1] @ a + bt[l - 1]  # z^(l) = W^(l) a^(l-1) + b^(l-1)
        z.retain_grad()
        Zt.append(z)
        a = z.sigmoid()
    (0.5 * ((a - Y) ** 2).sum()).backward()
    delta = [None] + [z.grad for z in Zt[1:]]
    assert differs(bt[1].grad, delta[1])          # printed: dL/db^(1) = delta^(1)
    for k in range(len(bb)):                      # corrected: dL/db^(l-1) = delta^(l)
        close(bt[k].grad, delta[k + 1])


def test_F3_6_L2_regularised_gradients():
    """L = 1/2 ||a - y||^2 + lambda/2 sum ||W||^2: dL/dW^(l) = delta^(l) (a^(l-1))^T + lambda W^(l),
    dL/db^(l) = delta^(l) unchanged (delta^(L) = (a - y) (.) sigma', F3.7)."""
    W, b, A0, Y = one_sample()
    Z, A = forward(W, b, A0)
    dW, db, _ = autodiff(W, b, A0, Y, lam=LAM, per_sample=True)
    delta = [None] * (len(W) + 1)
    delta[-1] = (A[-1] - Y) * dsigma(Z[-1])
    for l in range(len(W) - 1, 0, -1):
        delta[l] = (W[l].T @ delta[l + 1]) * dsigma(Z[l])
    for l in range(1, len(W) + 1):
        close(dW[l], delta[l] @ A[l - 1].T + LAM * W[l - 1])
        close(db[l], delta[l])


def test_F3_7_mse_sigmoid_output_delta():
    """dL/da^(L) = a^(L) - y, sigma' = sigma(1 - sigma): delta^(L) = (a - y) (.) a (.) (1 - a)."""
    W, b, A0, Y = one_sample()
    _, A = forward(W, b, A0)
    _, _, dZ = autodiff(W, b, A0, Y, lam=LAM, per_sample=True)
    a = A[-1]
    close(dZ[-1], (a - Y) * a * (1 - a))


# -- a batch of m samples: F3.8, F3.9 and their errata ------------------------------------------

def backprop(W, Z, A, dL_dZL):
    """Delta^(l) = ((W^(l+1))^T Delta^(l+1)) (.) sigma'(Z^(l)) from Delta^(L); index 1..L."""
    D = [None] * (len(W) + 1)
    D[-1] = dL_dZL
    for l in range(len(W) - 1, 0, -1):
        D[l] = (W[l].T @ D[l + 1]) * dsigma(Z[l])
    return D


def loop_printed(W, b, A0, Y, as_numbered=False):
    """F3.8 as printed. Per sample: L += 1/(2m) ||a - y||^2, so dL/da^(L) = (a - y)/m, then
    delta^(L) = dL/da (.) sigma', accumulate 1/m delta a^T and 1/m delta; + lambda W once.
    as_numbered: the steps in their printed nesting, the sample loop around the forward pass
    only, then one back-propagation from the cached (last) sample."""
    m = A0.shape[1]
    dW = [np.zeros_like(w) for w in W]
    db = [np.zeros_like(v) for v in b]
    samples = [m - 1] if as_numbered else range(m)
    for s in samples:
        Z, A = forward(W, b, A0[:, [s]])
        D = backprop(W, Z, A, (A[-1] - Y[:, [s]]) / m * dsigma(Z[-1]))
        for l in range(1, len(W) + 1):
            dW[l - 1] += D[l] @ A[l - 1].T / m
            db[l - 1] += D[l] / m
    return [g + LAM * w for g, w in zip(dW, W)], db


def loop_corrected(W, b, A0, Y):
    """F3.8 corrected: delta_s^(L) = (a_s - y_s) (.) sigma'(z_s^(L)) from the per-sample
    1/2 ||a - y||^2; dL/dW = 1/m sum_s delta_s a_s^T + lambda W; dL/db = 1/m sum_s delta_s."""
    m = A0.shape[1]
    dW = [LAM * w for w in W]
    db = [np.zeros_like(v) for v in b]
    for s in range(m):
        Z, A = forward(W, b, A0[:, [s]])
        D = backprop(W, Z, A, (A[-1] - Y[:, [s]]) * dsigma(Z[-1]))
        for l in range(1, len(W) + 1):
            dW[l - 1] += D[l] @ A[l - 1].T / m
            db[l - 1] += D[l] / m
    return dW, db


def test_F3_8_per_sample_loop_corrected():
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    mW, mb = loop_corrected(W, b, A0, Y)
    for l in range(1, len(W) + 1):
        close(dW[l], mW[l - 1])
        close(db[l], mb[l - 1])


@pytest.mark.parametrize("as_numbered", [False, True], ids=["per_sample", "as_numbered"])
def test_F3_8_ERRATUM_per_sample_loop_counts_1_over_m_twice(as_numbered):
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    pW, pb = loop_printed(W, b, A0, Y, as_numbered)
    for l in range(1, len(W) + 1):
        assert differs(pW[l - 1], dW[l]) and differs(pb[l - 1], db[l])
    if not as_numbered:  # the data term is exactly 1/m times too small
        for l in range(1, len(W) + 1):
            close(M * (pW[l - 1] - LAM * W[l - 1]) + LAM * W[l - 1], dW[l])


def batched(W, b, A0, Y, variant):
    """F3.9: 'printed' Delta^(L) = dL/dA^(L) (.) sigma' with dL/dA^(L) = (A - Y)/m, then
    1/m Delta A^T + lambda W and 1/m Delta 1_m; 'corrected' Delta^(L) = (A - Y) (.) sigma';
    'corrected_no_1/m' keeps dL/dA^(L) and drops the 1/m of both gradient lines."""
    m = A0.shape[1]
    Z, A = forward(W, b, A0)
    dL_dA = (A[-1] - Y) / m if variant != "corrected" else A[-1] - Y
    D = backprop(W, Z, A, dL_dA * dsigma(Z[-1]))
    k = 1.0 if variant == "corrected_no_1/m" else 1.0 / m
    ones = np.ones((m, 1))
    return ([k * D[l] @ A[l - 1].T + LAM * W[l - 1] for l in range(1, len(W) + 1)],
            [k * D[l] @ ones for l in range(1, len(W) + 1)], D)


@pytest.mark.parametrize("variant", ["corrected", "corrected_no_1/m"])
def test_F3_9_batched_corrected(variant):
    W, b = params()
    A0, Y = batch()
    dW, db, dZ = autodiff(W, b, A0, Y)
    mW, mb, D = batched(W, b, A0, Y, variant)
    for l in range(1, len(W) + 1):
        assert mW[l - 1].shape == (SIZES[l], SIZES[l - 1]) and mb[l - 1].shape == (SIZES[l], 1)
        close(dW[l], mW[l - 1])
        close(db[l], mb[l - 1])
        close(dZ[l], D[l] / M if variant == "corrected" else D[l])  # dL/dZ^(l)


def test_F3_9_ERRATUM_batched_counts_1_over_m_twice():
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    pW, pb, _ = batched(W, b, A0, Y, "printed")
    for l in range(1, len(W) + 1):
        assert differs(pW[l - 1], dW[l]) and differs(pb[l - 1], db[l])
        close(M * pb[l - 1], db[l])  # exactly a factor m


# -- F3.10: the document's gradient check, eps = 1e-4, on the L2-regularised batch loss ----------

EPS = 1e-4


def test_F3_10_gradient_check_entrywise_eps_1e_4():
    """For every layer and entry: [L(W + eps e_ij) - L(W - eps e_ij)] / (2 eps) = dL/dW_ij."""
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    for l in range(1, len(W) + 1):
        fd = np.zeros_like(W[l - 1])
        for idx in np.ndindex(fd.shape):
            E = np.zeros_like(fd)
            E[idx] = EPS
            Wp = [w + E if k == l - 1 else w for k, w in enumerate(W)]
            Wm = [w - E if k == l - 1 else w for k, w in enumerate(W)]
            fd[idx] = (loss_np(Wp, b, A0, Y) - loss_np(Wm, b, A0, Y)) / (2 * EPS)
        close(dW[l], fd, rtol=1e-6, atol=1e-9)


def test_F3_10_gradient_check_directional_and_from_cached_activations():
    """dL/(2||E||) = <dL/dW, E>/||E|| for a random E with ||E|| = 1e-4; the perturbed loss may
    start from the cached a^(l-1) (skipping layers 1..l-1) and gives the same dL."""
    W, b = params()
    A0, Y = batch()
    dW, _, _ = autodiff(W, b, A0, Y)
    _, A = forward(W, b, A0)
    rng = np.random.default_rng(7)
    for l in range(1, len(W) + 1):
        E = rng.standard_normal(W[l - 1].shape)
        E *= EPS / np.linalg.norm(E)
        Wp = [w + E if k == l - 1 else w for k, w in enumerate(W)]
        Wm = [w - E if k == l - 1 else w for k, w in enumerate(W)]
        dL = loss_np(Wp, b, A0, Y) - loss_np(Wm, b, A0, Y)
        close(dL / (2 * EPS), np.sum(dW[l] * E) / EPS, rtol=1e-6, atol=1e-9)

        def from_cache(Ws):  # layers l..L from the cached A^(l-1), plus the full regulariser
            a = A[l - 1]
            for w, v in zip(Ws[l - 1:], b[l - 1:]):
                a = sigma(w @ a + v)
            return np.sum((a - Y) ** 2) / (2 * M) + LAM / 2 * sum(np.sum(w ** 2) for w in Ws)

        close(from_cache(Wp) - from_cache(Wm), dL, rtol=1e-8, atol=1e-14)


def test_F3_10_ERRATUM_printed_check_subtracts_a_scalar_from_a_matrix():
    """Printed: ||dL/dW^(l) - dL/(2||E||)|| ~ 0. dL/(2||E||) is one number, so even with the
    exact gradient the norm is far from 0, for a random E and for E = eps e_ij alike."""
    W, b = params()
    A0, Y = batch()
    dW, _, _ = autodiff(W, b, A0, Y)
    rng = np.random.default_rng(8)
    for l in range(1, len(W) + 1):
        unit = np.zeros(W[l - 1].shape)
        unit[0, 0] = 1.0
        for E in (rng.standard_normal(W[l - 1].shape), unit):
            E = E * EPS / np.linalg.norm(E)
            Wp = [w + E if k == l - 1 else w for k, w in enumerate(W)]
            Wm = [w - E if k == l - 1 else w for k, w in enumerate(W)]
            dL = loss_np(Wp, b, A0, Y) - loss_np(Wm, b, A0, Y)
            printed = np.linalg.norm(dW[l] - dL / (2 * np.linalg.norm(E)))
            assert printed > 0.1 * np.linalg.norm(dW[l])


# -- F3.11: the order of the training loop ------------------------------------------------------

def step(W, b, A0, Y, alpha, printed):
    """One iteration of the batched loop (F3.9 corrected). printed: at each layer l, going down,
    compute Delta^(l) with the current (already updated) W^(l+1), the gradient, then update
    W^(l) at once. corrected: every Delta and gradient at the current W first, then update."""
    m = A0.shape[1]
    W, b = [w.copy() for w in W], [v.copy() for v in b]
    Z, A = forward(W, b, A0)
    grads = {}
    D = (A[-1] - Y) * dsigma(Z[-1])
    for l in range(len(W), 0, -1):
        if l < len(W):
            D = (W[l].T @ D) * dsigma(Z[l])  # W[l] is W^(l+1): updated already if printed
        gW, gb = D @ A[l - 1].T / m + LAM * W[l - 1], D.sum(axis=1, keepdims=True) / m
        grads[l] = (gW, gb)
        if printed:
            W[l - 1] -= alpha * gW
            b[l - 1] -= alpha * gb
    if not printed:
        for l, (gW, gb) in grads.items():
            W[l - 1] -= alpha * gW
            b[l - 1] -= alpha * gb
    return W, b, grads


def test_F3_11_corrected_order_is_a_gradient_step():
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    W1, b1, grads = step(W, b, A0, Y, 0.5, printed=False)
    for l in range(1, len(W) + 1):
        close(grads[l][0], dW[l])
        close(W1[l - 1], W[l - 1] - 0.5 * dW[l])
        close(b1[l - 1], b[l - 1] - 0.5 * db[l])


def test_F3_11_ERRATUM_updating_before_backpropagating():
    """alpha = 0.5: below the top layer the printed loop's 'gradients' are not gradients of L at
    the current parameters, so the step is not gradient descent; the top layer is still right."""
    W, b = params()
    A0, Y = batch()
    dW, db, _ = autodiff(W, b, A0, Y)
    W1, b1, grads = step(W, b, A0, Y, 0.5, printed=True)
    L = len(W)
    close(grads[L][0], dW[L])
    for l in range(1, L):
        assert differs(grads[l][0], dW[l])
        assert differs(W1[l - 1], W[l - 1] - 0.5 * dW[l])


# -- M3: the PyTorch-style layout of nn ---------------------------------------------------------

def _nn_layers(W, b):
    import nn
    layers = []
    for w, v in zip(W, b):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data, lin.bias.data = w.copy(), v.ravel().copy()
        layers.append(lin)
    return layers


def _nn_forward(layers, X):
    a, pre = Tensor(X), []
    for lin in layers:
        z = lin(a)
        z.retain_grad()
        pre.append(z)
        a = z.sigmoid()
    return a, pre


@pytest.mark.parametrize("form", ["mse_sum", "mse_mean"])
def test_M3_nn_batch_with_explicit_L2(form):
    """X = (A^(0))^T; 1/(2m)||A - Y||^2 = MSELoss(sum)/(2m) = (n_L/2) MSELoss(mean); the
    regulariser added explicitly on the weights. weight.grad = corrected F3.9, bias.grad =
    1/m Delta 1_m, the pre-activation grad = 1/m Delta^T."""
    import nn
    W, b = params()
    A0, Y = batch()
    layers = _nn_layers(W, b)
    out, pre = _nn_forward(layers, A0.T)
    data = (nn.MSELoss(reduction="sum")(out, Y.T) / (2 * M) if form == "mse_sum"
            else SIZES[-1] / 2 * nn.MSELoss()(out, Y.T))
    (data + LAM / 2 * sum((lin.weight ** 2).sum() for lin in layers)).backward()
    mW, mb, D = batched(W, b, A0, Y, "corrected")
    for l, lin in enumerate(layers, start=1):
        close(lin.weight.grad, mW[l - 1])
        close(lin.bias.grad, mb[l - 1].ravel())
        close(pre[l - 1].grad, D[l].T / M)


def test_M3_nn_sgd_weight_decay_only_on_the_weights():
    """SGD weight_decay = lambda in a group holding only the weights reproduces one step of the
    document's regularised gradient descent; decaying the biases too would not."""
    import nn
    W, b = params()
    A0, Y = batch()
    alpha = 0.5
    layers = _nn_layers(W, b)
    opt_w = nn.optim.SGD([lin.weight for lin in layers], lr=alpha, weight_decay=LAM)
    opt_b = nn.optim.SGD([lin.bias for lin in layers], lr=alpha)
    out, _ = _nn_forward(layers, A0.T)
    (nn.MSELoss(reduction="sum")(out, Y.T) / (2 * M)).backward()
    opt_w.step()
    opt_b.step()
    mW, mb, _ = batched(W, b, A0, Y, "corrected")
    for l, lin in enumerate(layers, start=1):
        close(lin.weight.data, W[l - 1] - alpha * mW[l - 1])
        close(lin.bias.data, (b[l - 1] - alpha * mb[l - 1]).ravel())
        assert differs(lin.bias.data, (b[l - 1] - alpha * (mb[l - 1] + LAM * b[l - 1])).ravel())


def test_M3_nn_one_sample_is_half_mse_sum():
    """One sample: 1/2 ||a - y||^2 = 0.5 * MSELoss(sum); grads F3.4, F3.5 corrected, F3.7."""
    import nn
    W, b, A0, Y = one_sample()
    Z, A = forward(W, b, A0)
    layers = _nn_layers(W, b)
    out, _ = _nn_forward(layers, A0.T)
    (0.5 * nn.MSELoss(reduction="sum")(out, Y.T)).backward()
    D = backprop(W, Z, A, (A[-1] - Y) * A[-1] * (1 - A[-1]))
    for l, lin in enumerate(layers, start=1):
        close(lin.weight.grad, D[l] @ A[l - 1].T)
        close(lin.bias.grad, D[l].ravel())


def test_M3_nn_F3_1_linear_regression():
    """F3.1: X as given (rows are samples), theta = Linear(n, 1, bias=False).weight^T,
    J = 0.5 * MSELoss(mean)."""
    import nn
    rng = np.random.default_rng(9)
    m, n = 8, 3
    X, y = rng.standard_normal((m, n)), rng.standard_normal((m, 1))
    theta = rng.standard_normal((n, 1))
    lin = nn.Linear(n, 1, bias=False)
    lin.weight.data = theta.T.copy()
    (0.5 * nn.MSELoss()(lin(Tensor(X)), y)).backward()
    close(lin.weight.grad.T, X.T @ (X @ theta - y) / m)
