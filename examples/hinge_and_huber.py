"""A linear SVM (squared hinge) and a robust regression (Huber), fitted with the engine and checked
against scikit-learn's own fits of the same objectives.

1. Linear SVM on breast cancer (30 standardized features, labels y = +-1). scikit-learn's
   `LinearSVC()` minimizes, by default (loss="squared_hinge", penalty="l2", C=1) and with
   liblinear's intercept (a constant feature of value intercept_scaling = 1, penalized like a
   weight),

       J(w, b) = 1/2 (||w||^2 + b^2) + C sum_i max(0, 1 - y_i (x_i . w + b))^2,

   written here with clamp(1 - y f, min=0) as the hinge. J is strongly convex and once
   differentiable, with a piecewise constant Hessian I + 2C X_A^T X_A (A: the samples inside the
   margin), so Newton's method (func.grad, func.hessian) reaches the minimum in a few steps,
   and the same minimum as scikit-learn: the coefficients agree to its tolerance and the
   decisions sign(x . w + b) on every sample.

2. Robust regression on diabetes, with 5% of the targets corrupted by +-200 to 400.
   scikit-learn's `HuberRegressor(epsilon=1.35, alpha=1e-4)` estimates the scale sigma jointly
   with the coefficients, minimizing

       J(w, c, sigma) = sum_i [sigma + sigma H(r_i / sigma)] + alpha ||w||^2,  r = y - X w - c,
       H(z) = z^2 for |z| <= epsilon, 2 epsilon |z| - epsilon^2 beyond,

   i.e. H(z) = 2 huber_loss(z, 0, delta=epsilon) with torch's huber_loss, which the engine has
   (F.huber_loss). J is jointly convex (sigma H(r / sigma) is the perspective of H), so Newton's
   method with a backtracking line search (keeping sigma > 0) finds scikit-learn's minimum: the
   coefficients, intercept and scale agree, and the same samples are flagged as outliers
   (|r| > epsilon sigma). Least squares, for contrast, is pulled by the corrupted targets.

    python examples/hinge_and_huber.py [--quick]

--quick is accepted (as by every example) and changes nothing: each fit takes a handful of
Newton steps and the script runs in a few seconds.
"""
import numpy as np
from _common import parse_args, standardize  # first: names the extra if one is missing
from sklearn.datasets import load_breast_cancer, load_diabetes

import autograd_mini.functional as F
from autograd_mini import Tensor, func, no_grad


def newton(objective, theta, name, feasible=lambda t: True, tol=1e-9, max_iter=50):
    """Minimize a convex objective by Newton steps with Armijo backtracking; prints each step."""
    gradient, hessian = func.grad(objective), func.hessian(objective)
    value = lambda t: objective(Tensor(t)).item()  # noqa: E731
    print(f"\n{name}: Newton's method with backtracking")
    with no_grad():
        for it in range(max_iter + 1):
            g = gradient(theta).numpy()
            norm = np.linalg.norm(g)
            print(f"  iteration {it:2d}   J = {value(theta):.10f}   ||gradient|| = {norm:.3e}")
            if norm < tol or it == max_iter:
                break
            step = -np.linalg.solve(hessian(theta).numpy(), g)
            t, j0 = 1.0, value(theta)
            while not (feasible(theta + t * step)
                       and value(theta + t * step) <= j0 + 1e-4 * t * (g @ step)):
                t /= 2
            theta = theta + t * step
    print(f"  {'converged' if norm < tol else 'stopped'} after {it} steps")
    return theta


def svm(seed):
    from sklearn.svm import LinearSVC

    data = load_breast_cancer()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.target))
    train, test = order[:400], order[400:]
    Xtr, Xte = standardize(data.data[train], data.data[test])
    y = np.where(data.target == 1, 1.0, -1.0)  # benign = +1, as LinearSVC's classes_[1]
    ytr, yte = y[train], y[test]
    C = 1.0
    print(f"breast cancer: {len(train)} training and {len(test)} test samples, 30 standardized "
          f"features; J = 1/2 (||w||^2 + b^2) + C sum max(0, 1 - y (x.w + b))^2, C = {C}")

    Xt, yt = Tensor(Xtr), Tensor(ytr)

    def objective(theta):
        w, b = theta[:-1], theta[-1]
        hinge = F.clamp(1 - yt * (Xt @ w + b), min=0)
        return 0.5 * (theta * theta).sum() + C * (hinge * hinge).sum()

    theta = newton(objective, np.zeros(Xtr.shape[1] + 1), "linear SVM")
    w, b = theta[:-1], theta[-1]

    ref = LinearSVC(C=C, loss="squared_hinge", penalty="l2", dual=False, tol=1e-12,
                    max_iter=100_000).fit(Xtr, ytr)
    diff = max(np.abs(w - ref.coef_[0]).max(), abs(b - ref.intercept_[0]))
    X = np.vstack([Xtr, Xte])
    ours, theirs = np.sign(X @ w + b), np.sign(ref.decision_function(X))
    gap = np.abs((X @ w + b) - ref.decision_function(X)).max()
    print(f"LinearSVC(loss='squared_hinge', C={C}), the same objective: max abs difference of "
          f"the coefficients and intercept: {diff:.2e}")
    print(f"decision agreement with LinearSVC: {int((ours == theirs).sum())}/{len(X)} samples "
          f"(max |decision difference| = {gap:.2e})")
    print(f"support vectors (y f(x) < 1): {int((ytr * (Xtr @ w + b) < 1).sum())} of "
          f"{len(train)}; test accuracy: {float((np.sign(Xte @ w + b) == yte).mean()):.4f}")


def huber(seed):
    from sklearn.linear_model import HuberRegressor

    data = load_diabetes()
    (X,) = standardize(data.data)
    y = data.target.copy()
    rng = np.random.default_rng(seed)
    bad = rng.choice(len(y), size=len(y) // 20, replace=False)
    y[bad] += rng.choice([-1.0, 1.0], size=len(bad)) * rng.uniform(200, 400, size=len(bad))
    epsilon, alpha = 1.35, 1e-4
    n, d = X.shape
    print(f"\ndiabetes: {n} samples, {d} standardized features, {len(bad)} targets corrupted by "
          f"+-200 to 400; J = sum [sigma + sigma H(r / sigma)] + alpha ||w||^2, "
          f"epsilon = {epsilon}, alpha = {alpha}")

    Xt, yt, zero = Tensor(X), Tensor(y), Tensor(np.zeros(n))

    def objective(theta):
        w, c, sigma = theta[:d], theta[d], theta[d + 1]
        r = yt - Xt @ w - c
        H = 2 * F.huber_loss(r / sigma, zero, reduction="none", delta=epsilon)
        return (sigma + sigma * H).sum() + alpha * (w * w).sum()

    start = np.concatenate([np.zeros(d), [np.median(y)], [np.std(y)]])
    theta = newton(objective, start, "Huber regression", feasible=lambda t: t[-1] > 0)
    w, c, sigma = theta[:d], theta[d], theta[d + 1]

    ref = HuberRegressor(epsilon=epsilon, alpha=alpha, max_iter=100_000, tol=1e-12).fit(X, y)
    theirs = np.concatenate([ref.coef_, [ref.intercept_, ref.scale_]])
    rel = np.abs(theta - theirs).max() / np.abs(theirs).max()
    print(f"HuberRegressor(epsilon={epsilon}, alpha={alpha}), the same objective: max abs "
          f"difference of the coefficients: {np.abs(w - ref.coef_).max():.2e}, intercept: "
          f"{abs(c - ref.intercept_):.2e}, scale: {abs(sigma - ref.scale_):.2e} "
          f"(sigma = {sigma:.4f}); relative to the largest: {rel:.2e}")
    # scikit-learn's L-BFGS-B stops on a relative change of J of about 2e-9 (scipy's ftol, not
    # settable through HuberRegressor): its J is a little higher, hence the small difference
    with no_grad():
        j_ours, j_theirs = objective(Tensor(theta)).item(), objective(Tensor(theirs)).item()
    print(f"J at our minimum: {j_ours:.10f}, at HuberRegressor's: {j_theirs:.10f} "
          f"(ours lower by {j_theirs - j_ours:.2e})")
    outliers = np.abs(y - X @ w - c) > epsilon * sigma
    print(f"outliers flagged (|r| > epsilon sigma): {int(outliers.sum())}, the same as "
          f"HuberRegressor's: {bool(np.array_equal(outliers, ref.outliers_))}; corrupted targets "
          f"among them: {int(outliers[bad].sum())}/{len(bad)}")

    clean = np.setdiff1d(np.arange(n), bad)
    A = np.hstack([X, np.ones((n, 1))])
    ols = np.linalg.lstsq(A, y, rcond=None)[0]
    truth = np.linalg.lstsq(A[clean], y[clean], rcond=None)[0]  # least squares without them
    print(f"distance to the least-squares fit of the clean data: Huber "
          f"{np.linalg.norm(np.append(w, c) - truth):.2f}, least squares on the corrupted data "
          f"{np.linalg.norm(ols - truth):.2f}")


def main():
    args = parse_args(__doc__.splitlines()[0])
    svm(args.seed)
    huber(args.seed)


if __name__ == "__main__":
    main()
