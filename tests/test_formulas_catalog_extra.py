"""The documents' gradient errata against central differences, without the engine.

docs/formulas.md names these tests next to the `..._ERRATUM_...` tests of
test_formulas_doc00N.py. Those compare each printed formula with the engine's backward; here
the same printed and corrected closed forms meet central differences of the loss itself
(float64, eps = 1e-6), written in plain numpy with no Tensor, so an erratum does not rest on
the engine being right. Each test: the printed formula disagrees, the corrected one agrees.
"""
import numpy as np

from conftest import differs, numeric_grad, sigma


def dsigma(t):
    return sigma(t) * (1 - sigma(t))


def central(loss, arrays, i):
    """d loss(*arrays) / d arrays[i] by central differences, eps = 1e-6."""
    return numeric_grad(loss, arrays, i, eps=1e-6)


def agree(closed, numeric):
    # central differences at eps = 1e-6 carry ~1e-10 of rounding: far below any erratum
    assert np.shape(closed) == np.shape(numeric)
    np.testing.assert_allclose(closed, numeric, rtol=1e-6, atol=1e-8)


# -- document 002 --------------------------------------------------------------------------------

def test_F2_1_printed_and_corrected_against_central_differences():
    """L_S = 1/(2n) sum_i (y_i - h_i)^2, h_i = sum_j a_j tanh(w_j x_i + b_j). Corrected:
    dL_S/da_j = 1/n sum_i (h_i - y_i) sigma(w_j x_i + b_j); printed: sigma(w_j x + b_j), for
    every choice of the fixed sample x = x_k."""
    rng = np.random.default_rng(0)
    n, m = 6, 4
    x, y = rng.uniform(-2, 2, n), rng.standard_normal(n)
    w, b, a = rng.standard_normal(m), rng.standard_normal(m), rng.standard_normal(m)

    def loss(a):
        h = np.tanh(np.outer(x, w) + b) @ a
        return np.sum((y - h) ** 2) / (2 * n)

    numeric = central(loss, [a], 0)
    S = np.tanh(np.outer(x, w) + b)        # S[i, j] = sigma(w_j x_i + b_j)
    r = S @ a - y                          # h_i - y_i
    agree(S.T @ r / n, numeric)            # corrected
    for k in range(n):                     # printed, x read as the fixed sample x_k
        assert differs(r.sum() * np.tanh(w * x[k] + b) / n, numeric), k


# -- document 003 --------------------------------------------------------------------------------

LAM = 0.1


def net003(seed, sizes, m):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, len(sizes))]
    b = [rng.standard_normal((sizes[l], 1)) for l in range(1, len(sizes))]
    return W, b, rng.standard_normal((sizes[0], m)), rng.uniform(size=(sizes[-1], m))


def forward003(W, b, A0):
    """Z^(l) = W^(l) A^(l-1) + b^(l), A^(l) = sigma(Z^(l)); Z[k], A[k+1] are layer k+1's."""
    Z, A = [], [A0]
    for w, v in zip(W, b):
        Z.append(w @ A[-1] + v)
        A.append(sigma(Z[-1]))
    return Z, A


def loss003(W, b, A0, Y):
    """1/(2m) ||A^(L) - Y||^2 + lambda/2 sum_l ||W^(l)||^2, samples as columns."""
    return (np.sum((forward003(W, b, A0)[1][-1] - Y) ** 2) / (2 * A0.shape[1])
            + LAM / 2 * sum(np.sum(w ** 2) for w in W))


def deltas(W, Z, top):
    """Delta^(l) = ((W^(l+1))^T Delta^(l+1)) (.) sigma'(Z^(l)) down from Delta^(L) = top."""
    D = [top]
    for k in range(len(W) - 2, -1, -1):
        D.insert(0, (W[k + 1].T @ D[0]) * dsigma(Z[k]))
    return D


def central003(W, b, A0, Y):
    """dL/dW^(l), dL/db^(l) of the batch loss by central differences, for every layer."""
    k = len(W)
    gW = [central(lambda *p: loss003(p[:k], p[k:], A0, Y), W + b, i) for i in range(k)]
    gb = [central(lambda *p: loss003(p[:k], p[k:], A0, Y), W + b, k + i) for i in range(k)]
    return gW, gb


def test_F3_5_printed_bias_index_against_central_differences():
    """Printed forward rule z^(l) = W^(l) a^(l-1) + b^(l-1): b^(l) feeds z^(l+1), so dL/db^(l)
    is delta^(l+1), not the printed delta^(l). Sizes 3-4-4-2 give b^(1) the shape of delta^(1)."""
    W, bb, x, y = net003(1, [3, 4, 4, 2], 1)   # bb[k] is the printed b^(k), k = 0 .. L-1

    def loss(*bb):
        return 0.5 * np.sum((forward003(W, bb, x)[1][-1] - y) ** 2)

    Z, A = forward003(W, bb, x)
    D = deltas(W, Z, (A[-1] - y) * dsigma(Z[-1]))   # D[k] is delta^(k+1)
    numeric = [central(loss, bb, k) for k in range(len(bb))]
    assert differs(D[0], numeric[1])                 # printed: dL/db^(1) = delta^(1)
    for k in range(len(bb)):                         # corrected: dL/db^(l-1) = delta^(l)
        agree(D[k], numeric[k])


def batched(W, b, A0, Y, printed):
    """F3.9. printed: Delta^(L) = dL/dA^(L) (.) sigma' with dL/dA^(L) = (A - Y)/m, then
    1/m Delta A^T + lambda W and 1/m Delta 1_m. corrected: Delta^(L) = (A - Y) (.) sigma'."""
    m = A0.shape[1]
    Z, A = forward003(W, b, A0)
    D = deltas(W, Z, (A[-1] - Y) / (m if printed else 1) * dsigma(Z[-1]))
    return ([d @ a.T / m + LAM * w for d, a, w in zip(D, A, W)],
            [d @ np.ones((m, 1)) / m for d in D])


def test_F3_9_printed_batched_against_central_differences():
    W, b, A0, Y = net003(2, [4, 5, 3, 2], 5)
    nW, nb = central003(W, b, A0, Y)
    pW, pb = batched(W, b, A0, Y, printed=True)
    cW, cb = batched(W, b, A0, Y, printed=False)
    for l in range(len(W)):
        assert differs(pW[l], nW[l]) and differs(pb[l], nb[l]), l
        agree(cW[l], nW[l])
        agree(cb[l], nb[l])


def test_F3_8_printed_per_sample_loop_against_central_differences():
    """F3.8, one sample at a time. printed: L += 1/(2m) ||a_s - y_s||^2, so dL/da^(L) =
    (a_s - y_s)/m, accumulate 1/m delta a^T and 1/m delta, then + lambda W once.
    corrected: delta_s^(L) = (a_s - y_s) (.) sigma'(z_s^(L)) from the per-sample 1/2||a - y||^2."""
    W, b, A0, Y = net003(3, [4, 5, 3, 2], 5)
    m = A0.shape[1]
    nW, nb = central003(W, b, A0, Y)
    for printed in (True, False):
        gW, gb = [LAM * w for w in W], [np.zeros_like(v) for v in b]
        for s in range(m):
            Z, A = forward003(W, b, A0[:, [s]])
            D = deltas(W, Z, (A[-1] - Y[:, [s]]) / (m if printed else 1) * dsigma(Z[-1]))
            for l in range(len(W)):
                gW[l] += D[l] @ A[l].T / m
                gb[l] += D[l] / m
        for l in range(len(W)):
            if printed:
                assert differs(gW[l], nW[l]) and differs(gb[l], nb[l]), l
            else:
                agree(gW[l], nW[l])
                agree(gb[l], nb[l])


def test_F3_11_printed_order_against_central_differences():
    """The printed loop updates W^(l) before it back-propagates to layer l-1, so below the top
    layer its 'gradients' (alpha = 0.5) are not the derivatives of L at the current parameters;
    computing every Delta first gives them exactly."""
    W, b, A0, Y = net003(4, [4, 5, 3, 2], 5)
    m, alpha = A0.shape[1], 0.5
    nW, _ = central003(W, b, A0, Y)
    Z, A = forward003(W, b, A0)
    Wcur = [w.copy() for w in W]
    D = (A[-1] - Y) * dsigma(Z[-1])
    printed = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):   # 0-based: layer l+1, going down
        if l < len(W) - 1:
            D = (Wcur[l + 1].T @ D) * dsigma(Z[l])   # Wcur[l+1] already updated
        printed[l] = D @ A[l].T / m + LAM * Wcur[l]
        Wcur[l] = Wcur[l] - alpha * printed[l]
    agree(printed[-1], nW[-1])            # the top layer is still right
    for l in range(len(W) - 1):
        assert differs(printed[l], nW[l]), l
    corrected, _ = batched(W, b, A0, Y, printed=False)
    for l in range(len(W)):
        agree(corrected[l], nW[l])


# -- document 004 --------------------------------------------------------------------------------

def net004():
    """Section 2.3's case: h^(1) = W^(1) x + c^(1), z^(1) = ReLU(h^(1)), h^(2) = W^(2) z^(1) +
    c^(2), yhat = sigmoid(h^(2)), L = sum_i -(y_i log yhat_i + (1 - y_i) log(1 - yhat_i))."""
    rng = np.random.default_rng(5)
    W1, c1 = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    W2, c2 = rng.standard_normal((2, 3)), rng.standard_normal((2, 1))
    x, y = rng.standard_normal((4, 1)), np.array([[1.0], [0.0]])  # the slip shows where y_i = 0
    z1 = np.maximum(W1 @ x + c1, 0)

    def loss(W2, c2):
        yhat = sigma(W2 @ z1 + c2)
        return -np.sum(y * np.log(yhat) + (1 - y) * np.log(1 - yhat))

    h2 = W2 @ z1 + c2
    return dict(W2=W2, c2=c2, z1=z1, y=y, yhat=sigma(h2), s1=dsigma(h2), loss=loss)


def test_F4_10_printed_sign_against_central_differences():
    n = net004()
    y, yhat, z1 = n["y"], n["yhat"], n["z1"]
    numeric = central(n["loss"], [n["W2"], n["c2"]], 0)
    printed = -(y / yhat + (1 - y) / (1 - yhat)) * n["s1"] @ z1.T   # rows read with (z^(1))^T
    corrected = (-y / yhat + (1 - y) / (1 - yhat)) * n["s1"] @ z1.T
    assert differs(printed, numeric)
    agree(corrected, numeric)
    agree((yhat - y) @ z1.T, numeric)


def test_F4_11_printed_sign_against_central_differences():
    n = net004()
    y, yhat = n["y"], n["yhat"]
    numeric = central(n["loss"], [n["W2"], n["c2"]], 1)
    assert differs(-(y / yhat + (1 - y) / (1 - yhat)) * n["s1"], numeric)
    agree((-y / yhat + (1 - y) / (1 - yhat)) * n["s1"], numeric)
    agree(yhat - y, numeric)
