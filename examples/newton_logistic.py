"""Logistic regression on breast cancer, fitted by Newton's method with func.grad and func.hessian.

Document 000 starts from logistic regression: P(y = 1 | x) = sigmoid(x^T beta). Its negative
log-likelihood over the n samples (rows of X, with a column of ones for the intercept),

    NLL(beta) = sum_i [log(1 + exp(z_i)) - y_i z_i],   z = X beta,

has gradient X^T (p - y) and Hessian X^T diag(p (1 - p)) X, p = sigmoid(z). Newton's method
steps beta <- beta - H^-1 g and converges quadratically: the gradient norm roughly squares at
each step. The inverse Hessian at the optimum is the estimates' asymptotic covariance, so the
standard errors are sqrt(diag(H^-1)).

Here g and H come from autodiff (`func.grad`, `func.hessian`: a second derivative of the fused,
stable binary_cross_entropy_with_logits), and the script checks H against the closed form
above and the coefficients against scikit-learn's unpenalized fit.

Five standardized features (all 30 separate the classes almost perfectly, and then the maximum
likelihood estimate does not exist: Newton's steps would grow without end). Label 1 = benign.

    python examples/newton_logistic.py [--quick]

--quick is accepted (as by every example) and changes nothing: Newton needs about ten steps and
the script takes a few seconds.
"""
import numpy as np
from _common import parse_args, standardize  # first: names the extra if one is missing
from sklearn.datasets import load_breast_cancer

import autograd_mini.functional as F
from autograd_mini import Tensor, func, no_grad

FEATURES = ["worst radius", "worst texture", "worst concave points", "mean smoothness",
            "worst symmetry"]


def nll(beta, X, y):
    """Negative log-likelihood of logistic regression: sum_i log(1 + e^z_i) - y_i z_i."""
    return F.binary_cross_entropy_with_logits(X @ beta, y, reduction="sum")


def sklearn_coefficients(X, y):
    """The same model by scikit-learn (no penalty, tight tolerance), intercept first."""
    from sklearn.linear_model import LogisticRegression
    m = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X[:, 1:], y)
    return np.concatenate([m.intercept_, m.coef_[0]])


def main():
    args = parse_args(__doc__.splitlines()[0],
                      iterations=dict(type=int, default=None, help="at most this many steps"),
                      tol=dict(type=float, default=1e-10, help="stop when ||gradient|| < tol"))
    max_iter = args.iterations or 25

    data = load_breast_cancer()
    cols = [list(data.feature_names).index(f) for f in FEATURES]
    (Xf,) = standardize(data.data[:, cols])
    X = np.hstack([np.ones((len(Xf), 1)), Xf])  # the intercept's column first
    y = data.target.astype(np.float64)
    names = ["intercept"] + FEATURES
    print(f"breast cancer: {len(y)} samples, {len(FEATURES)} standardized features and an "
          f"intercept; NLL = sum of log(1 + e^z) - y z, z = X beta")

    Xt, yt = Tensor(X), Tensor(y)
    objective = lambda b: nll(b, Xt, yt)  # noqa: E731
    gradient, hessian = func.grad(objective), func.hessian(objective)

    beta = np.zeros(X.shape[1])
    print("\nNewton's method, beta <- beta - H^-1 g, from beta = 0:")
    with no_grad():  # the transforms differentiate anyway; nothing else needs recording
        for it in range(max_iter + 1):
            g = gradient(beta).numpy()
            norm = np.linalg.norm(g)
            print(f"iteration {it:2d}   NLL = {objective(Tensor(beta)).item():.10f}   "
                  f"||gradient|| = {norm:.3e}")
            if norm < args.tol or it == max_iter:
                break
            H = hessian(beta).numpy()
            beta = beta - np.linalg.solve(H, g)
        H = hessian(beta).numpy()
    converged = norm < args.tol
    print(f"{'converged' if converged else 'stopped'} after {it} Newton steps "
          f"(||gradient|| = {norm:.3e}, tolerance {args.tol:g})")

    p = 1 / (1 + np.exp(-(X @ beta)))
    closed = X.T @ (X * (p * (1 - p))[:, None])  # X^T diag(p (1 - p)) X
    print(f"\nHessian: autodiff vs closed form X^T diag(p(1-p)) X, max abs difference: "
          f"{np.abs(H - closed).max():.3e}  (entries up to {np.abs(closed).max():.1f})")
    grad_closed = X.T @ (p - y)
    print(f"gradient: autodiff vs closed form X^T (p - y), max abs difference: "
          f"{np.abs(g - grad_closed).max():.3e}")

    se = np.sqrt(np.diag(np.linalg.inv(H)))
    print("\ncoefficient              estimate   std. error   z = estimate / s.e.")
    for name, b, s in zip(names, beta, se):
        print(f"{name:22s} {b:10.4f}   {s:10.4f}   {b / s:8.2f}")

    ref = sklearn_coefficients(X, y)
    print(f"\nscikit-learn's unpenalized fit, max abs difference of the coefficients: "
          f"{np.abs(beta - ref).max():.2e}")
    acc = float(((p > 0.5) == (y == 1)).mean())
    print(f"training accuracy: {acc:.4f}")


if __name__ == "__main__":
    main()
