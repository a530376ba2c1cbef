"""Hand-derived gradients of the five course documents against autograd_mini's backward.

For each document's network, in the document's own layout, print the table of
`compare_gradients(closed forms, autodiff)`, then every erratum of docs/formulas.md that can be
computed: the formula as printed (expected to FAIL) next to the corrected one (expected to PASS).
Exits with status 1 if a closed form or a corrected formula disagrees with autodiff.

    python examples/manual_vs_autodiff.py [--quick]
"""
import argparse
import sys

import numpy as np

from autograd_mini import Tensor, compare_gradients

failures = []


def sigma(t):
    return 1 / (1 + np.exp(-t))


def softmax(t):
    e = np.exp(t - t.max(axis=0))
    return e / e.sum(axis=0)


def show(title, manual, autodiff, expect_ok=True, rtol=1e-9, atol=1e-12):
    report = compare_gradients(manual, autodiff, rtol=rtol, atol=atol)
    print(f"\n  {title}")
    print("    " + str(report).replace("\n", "\n    "))
    if expect_ok and not report.ok:
        failures.append(title)
    if not expect_ok and report.ok:
        print("    note: the printed formula happens to agree on this data")
    return report


def erratum(label, printed, corrected, autodiff, **tol):
    show(f"{label}: as printed (erratum)", printed, autodiff, expect_ok=False, **tol)
    show(f"{label}: corrected", corrected, autodiff, **tol)


def tensors(d):
    return {k: Tensor(v, requires_grad=True) for k, v in d.items()}


def doc000(rng):
    """3-4-1, sigmoid, log loss, column vectors, W out x in: F0.3-F0.6."""
    print("\n== 000 one hidden layer, one sample (F0.3-F0.6) ==")
    x, y = rng.standard_normal((3, 1)), 1.0
    p = tensors(dict(W1=rng.standard_normal((4, 3)), b1=rng.standard_normal((4, 1)),
                     W2=rng.standard_normal((1, 4)), b2=rng.standard_normal((1, 1))))
    a2 = (p["b2"] + p["W2"] @ (p["b1"] + p["W1"] @ Tensor(x)).sigmoid()).sigmoid()
    (-(y * a2.log() + (1 - y) * (1 - a2).log())).backward()
    W2 = p["W2"].data
    a1 = sigma(p["b1"].data + p["W1"].data @ x)
    a2 = sigma(p["b2"].data + W2 @ a1)
    D = np.diag((a1 * (1 - a1)).ravel())
    show("closed forms vs autodiff", {"W1": (a2 - y) * D @ W2.T @ x.T, "b1": (a2 - y) * D @ W2.T,
                                      "W2": (a2 - y) * a1.T, "b2": a2 - y}, p)


def doc001(rng):
    """5-4-3 worked example, W in x out, z = W^T a, softmax + cross-entropy: F1.7-F1.11."""
    print("\n== 001 worked example 5-4-3, W in x out (F1.7-F1.11) ==")
    x, y = rng.standard_normal((5, 1)), np.array([[0.0], [1.0], [0.0]])
    p = tensors(dict(V=rng.standard_normal((5, 4)), W=rng.standard_normal((4, 3))))
    (-(p["W"].T @ (p["V"].T @ Tensor(x)).sigmoid()).softmax(axis=0)[1, 0].log()).backward()
    V, W = p["V"].data, p["W"].data
    h = sigma(V.T @ x)
    yhat = softmax(W.T @ h)
    delta1 = np.diag((h * (1 - h)).ravel()) @ W @ (yhat - y)
    show("closed forms vs autodiff", {"V": x @ delta1.T, "W": h @ (yhat - y).T}, p)


def doc002(rng):
    """f(x) = sum_j a_j tanh(w_j x + b_j), L_S = 1/(2n) sum (y_i - h_i)^2: F2.1-F2.3."""
    print("\n== 002 scalar two-layer net, samples as columns (F2.1-F2.3) ==")
    n, m = 8, 5
    x, y = rng.uniform(-2, 2, n), rng.standard_normal(n)
    p = tensors(dict(w=rng.standard_normal((m, 1)), b=rng.standard_normal((m, 1)),
                     a=rng.standard_normal((1, m))))
    H = p["a"] @ (p["w"] @ Tensor(x[None, :]) + p["b"]).tanh()
    (((Tensor(y[None, :]) - H) ** 2).sum() / (2 * n)).backward()
    w, b, a = p["w"].data.ravel(), p["b"].data.ravel(), p["a"].data.ravel()
    S = np.tanh(np.outer(w, x) + b[:, None])            # S[j, i] = sigma(w_j x_i + b_j)
    r = a @ S - y                                       # h_i - y_i
    da = (S * r).sum(axis=1)[None, :] / n
    dw = (a[:, None] * (1 - S ** 2) * x * r).sum(axis=1)[:, None] / n
    db = (a[:, None] * (1 - S ** 2) * r).sum(axis=1)[:, None] / n
    show("closed forms vs autodiff (F2.3 is the catalog's, not the document's)",
         {"a": da, "w": dw, "b": db}, p)
    printed = {"a": (np.tanh(w * x[0] + b)[:, None] * r.sum()).T / n}  # x without its index
    erratum("F2.1 dL/da_j, x taken as sample 1", printed, {"a": da}, {"a": p["a"]})


def doc003(rng, quick):
    """n 4-5-3-2, sigmoid, batch L = 1/(2m)||A - Y||^2 + lambda/2 sum ||W||^2: F3.8-F3.11."""
    print("\n== 003 batch of m, samples as columns, L2 (F3.6-F3.11) ==")
    sizes, m, lam = [4, 5, 3, 2], 5, 0.1
    A0, Y = rng.standard_normal((4, m)), rng.uniform(size=(2, m))
    W = [rng.standard_normal((sizes[l], sizes[l - 1])) for l in range(1, 4)]
    b = [rng.standard_normal((sizes[l], 1)) for l in range(1, 4)]
    p = tensors({**{f"W{l}": W[l - 1] for l in (1, 2, 3)},
                 **{f"b{l}": b[l - 1] for l in (1, 2, 3)}})

    def loss(Ws, bs, A=A0):
        for w, v in zip(Ws, bs):
            A = (w @ A + v).sigmoid() if isinstance(w, Tensor) else sigma(w @ A + v)
        reg = sum((w * w).sum() for w in Ws)
        return ((A - Y) ** 2).sum() / (2 * m) + lam / 2 * reg

    loss([p[f"W{l}"] for l in (1, 2, 3)], [p[f"b{l}"] for l in (1, 2, 3)]).backward()
    Z, A = [None], [A0]
    for w, v in zip(W, b):
        Z.append(w @ A[-1] + v)
        A.append(sigma(Z[-1]))

    def grads(dL_dA, k, order="all_first", alpha=0.5):
        Ws = [w.copy() for w in W]
        D, out = dL_dA * A[3] * (1 - A[3]), {}
        for l in (3, 2, 1):
            if l < 3:
                D = (Ws[l].T @ D) * A[l] * (1 - A[l])
            out[f"W{l}"] = k * D @ A[l - 1].T + lam * W[l - 1]
            out[f"b{l}"] = k * D @ np.ones((m, 1))
            if order == "printed":  # F3.11: update W^(l) before going down to layer l-1
                Ws[l - 1] = Ws[l - 1] - alpha * (k * D @ A[l - 1].T + lam * Ws[l - 1])
        return out

    show("F3.9 corrected: Delta^(L) = (A - Y) o sigma', 1/m Delta A^T + lambda W",
         grads(A[3] - Y, 1 / m), p)
    erratum("F3.8/F3.9 Delta^(L) = dL/dA o sigma' and 1/m again", grads((A[3] - Y) / m, 1 / m),
            grads((A[3] - Y) / m, 1.0), p)
    erratum("F3.11 update W^(l) before back-propagating (alpha = 0.5)",
            grads(A[3] - Y, 1 / m, order="printed"), grads(A[3] - Y, 1 / m), p)

    # F3.10: the gradient check with eps = 1e-4, entrywise (corrected) and as printed
    eps, fd, printed = 1e-4, {}, {}
    Wn = {f"W{l}": W[l - 1] for l in (1, 2, 3)}
    for name, w in Wn.items():
        g = np.zeros_like(w)
        for idx in (list(np.ndindex(w.shape))[:3] if quick else np.ndindex(w.shape)):
            E = np.zeros_like(w)
            E[idx] = eps
            plus = [v + E if k == name else v for k, v in Wn.items()]
            minus = [v - E if k == name else v for k, v in Wn.items()]
            g[idx] = (loss(plus, b) - loss(minus, b)) / (2 * eps)
        if quick:  # only the first entries were perturbed: compare just those
            g = np.where(np.arange(g.size).reshape(g.shape) < 3, g, p[name].grad)
        fd[name] = g
        # printed: ||dL/dW - dL/(2||E||)|| ~ 0 for a perturbation E with ||E|| = 1e-4, i.e. the
        # one number dL/(2||E||) is taken for every entry of the gradient
        E = rng.standard_normal(w.shape)
        E *= eps / np.linalg.norm(E)
        plus = [v + E if k == name else v for k, v in Wn.items()]
        minus = [v - E if k == name else v for k, v in Wn.items()]
        printed[name] = np.full(w.shape, (loss(plus, b) - loss(minus, b)) / (2 * eps))
    print("\n  F3.10 below: central differences with eps = 1e-4 carry an O(eps^2) error, so the")
    print("  tolerance is rtol = 1e-6, atol = 1e-9")
    erratum("F3.10 gradient check, eps = 1e-4", printed, fd, {k: p[k] for k in Wn},
            rtol=1e-6, atol=1e-9)


def doc004(rng):
    """h/z swapped: H = W Z + c, 4-3-3-2, sigmoid output, log loss summed: F4.10-F4.16."""
    print("\n== 004 h = pre-activation, z = activation, observations as columns (F4.9-F4.16) ==")
    sizes, N = [4, 3, 3, 2], 6
    X, Y = rng.standard_normal((N, 4)), rng.integers(0, 2, (N, 2)).astype(float)
    Y[0] = [1.0, 0.0]
    p = tensors({**{f"W{l}": rng.standard_normal((sizes[l], sizes[l - 1])) for l in (1, 2, 3)},
                 **{f"c{l}": rng.standard_normal((sizes[l], 1)) for l in (1, 2, 3)}})
    z = Tensor(X.T)
    for l, f in zip((1, 2, 3), ("relu", "relu", "sigmoid")):
        z = getattr(p[f"W{l}"] @ z + p[f"c{l}"], f)()
    (-(Y.T * z.log() + (1 - Y.T) * (1 - z).log())).sum().backward()
    W = {l: p[f"W{l}"].data for l in (1, 2, 3)}
    H, Z = {}, {0: X.T}
    for l in (1, 2, 3):
        H[l] = W[l] @ Z[l - 1] + p[f"c{l}"].data
        Z[l] = sigma(H[l]) if l == 3 else np.maximum(H[l], 0)
    gH = {3: (-Y.T / Z[3] + (1 - Y.T) / (1 - Z[3])) * Z[3] * (1 - Z[3])}  # F4.13
    for l in (2, 1):
        gH[l] = (W[l + 1].T @ gH[l + 1]) * (H[l] > 0)                      # F4.16, then o f'
    manual = {**{f"W{l}": gH[l] @ Z[l - 1].T for l in (1, 2, 3)},          # F4.15
              **{f"c{l}": gH[l] @ np.ones((N, 1)) for l in (1, 2, 3)}}     # F4.14
    assert all(np.abs(g).max() > 0 for g in manual.values()), "dead ReLUs: change the seed"
    show("closed forms vs autodiff", manual, p)
    # F4.10/F4.11 (section 2.3) for one observation: the last layer, sigmoid output, log loss
    y, yhat, s = Y[[0]].T, Z[3][:, [0]], sigma(H[3][:, [0]])
    q = tensors({"W3": W[3], "c3": p["c3"].data})
    zz = (q["W3"] @ Tensor(Z[2][:, [0]]) + q["c3"]).sigmoid()
    (-(y * zz.log() + (1 - y) * (1 - zz).log())).sum().backward()
    printed = -(y / yhat + (1 - y) / (1 - yhat)) * s * (1 - s)  # column of the row's entries
    corrected = (-y / yhat + (1 - y) / (1 - yhat)) * s * (1 - s)  # = yhat - y
    z1 = Z[2][:, [0]]
    erratum("F4.10/F4.11 bracket -(y/yhat + (1-y)/(1-yhat)), y = (1, 0)",
            {"W3": printed @ z1.T, "c3": printed}, {"W3": corrected @ z1.T, "c3": corrected}, q)
    # F4.14 prose: "the derivative w.r.t. c^(1) is the row sum of dL/dH^(L)" (shapes 3 vs 2)
    print(f"\n  F4.14 prose erratum: c^(1).grad has shape {p['c1'].grad.shape}, the row sums "
          f"of grad H^(L) have shape {gH[3].sum(1, keepdims=True).shape}; they belong to c^(L)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="perturb only a few entries in F3.10")
    args = ap.parse_args(argv)
    doc000(np.random.default_rng(0))
    doc001(np.random.default_rng(1))
    doc002(np.random.default_rng(2))
    doc003(np.random.default_rng(3), args.quick)
    doc004(np.random.default_rng(4))
    print()
    if failures:
        print(f"FAILED: {len(failures)} closed-form comparison(s): {failures}")
        return 1
    print("all closed forms and corrected formulas agree with autodiff; "
          "every printed erratum was shown to disagree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
