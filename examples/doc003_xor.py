"""Document 003: XOR with a small sigmoid network, MSE + L2 regularisation, and its gradient check.

Network 2-3-1 with sigmoid on both layers, z(l) = W(l) a(l-1) + b(l). Loss, as in the document,
over the m = 4 samples: L = 1/(2m) sum_s ||a_s - y_s||^2 + lambda/2 sum_l ||W(l)||^2 (weights only,
biases are not penalised). Trained by batch gradient descent. Then the document's gradient check
(docs/formulas.md F3.10, corrected): for every weight entry,
[L(W + eps e_ij) - L(W - eps e_ij)] / (2 eps) with eps = 1e-4, compared with the autodiff
gradient; and the directional form
[L(W + E) - L(W - E)] / (2 ||E||) against <dL/dW, E> / ||E|| for a random E with ||E|| = 1e-4.

    python examples/doc003_xor.py [--quick]
"""
import numpy as np

import nn
from _common import parse_args
from autograd_mini import Tensor, no_grad

X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y = np.array([[0.0], [1.0], [1.0], [0.0]])


def objective(model, lam):
    """1/(2m) sum ||a - y||^2 + lambda/2 sum ||W||^2, the document's batch loss."""
    m = len(X)
    data_term = nn.MSELoss(reduction="sum")(model(Tensor(X)), Y) / (2 * m)
    penalty = sum((p * p).sum() for name, p in model.named_parameters() if name.endswith("weight"))
    return data_term + lam / 2 * penalty


def gradient_check(model, lam, rng, eps=1e-4):
    """Document 003's check, entrywise and directional, for every weight matrix; worst error."""
    model.zero_grad()
    objective(model, lam).backward()
    worst = 0.0
    for name, W in model.named_parameters():
        if not name.endswith("weight"):
            continue
        numeric = np.zeros_like(W.data)
        with no_grad():
            for idx in np.ndindex(W.shape):
                saved = W.data[idx]
                W.data[idx] = saved + eps
                up = objective(model, lam).item()
                W.data[idx] = saved - eps
                down = objective(model, lam).item()
                W.data[idx] = saved
                numeric[idx] = (up - down) / (2 * eps)
            E = rng.standard_normal(W.shape)
            E *= eps / np.linalg.norm(E)
            saved = W.data.copy()
            W.data = saved + E
            up = objective(model, lam).item()
            W.data = saved - E
            down = objective(model, lam).item()
            W.data = saved
        directional_fd = (up - down) / (2 * eps)
        directional_ad = np.sum(W.grad * E) / eps
        err = np.abs(numeric - W.grad).max()
        worst = max(worst, err, abs(directional_fd - directional_ad))
        print(f"  {name:8s} {str(W.shape):7s} max|dL/dW| = {np.abs(W.grad).max():.3e}  "
              f"max |autodiff - central diff| = {err:.1e};  directional: autodiff "
              f"{directional_ad:+.8e}, differences {directional_fd:+.8e}")
    model.zero_grad()
    return worst


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="gradient descent steps"),
                      lam=dict(type=float, default=1e-4, help="L2 strength lambda"))
    steps = args.steps or (1500 if args.quick else 6000)
    model = nn.MLP([2, 3, 1], activation="sigmoid", output_activation="sigmoid")
    rng = np.random.default_rng(args.seed)
    print("gradient check (eps = 1e-4) at the initial parameters:")
    worst = gradient_check(model, args.lam, rng)

    opt = nn.optim.SGD(model.parameters(), lr=5.0)
    for step in range(steps + 1):
        loss = objective(model, args.lam)
        if step % (steps // 4) == 0:
            print(f"step {step:5d}  L = {loss.item():.5f}")
        if step < steps:
            opt.zero_grad()
            loss.backward()
            opt.step()
    with no_grad():
        out = model(Tensor(X)).data[:, 0]
    for x, y, a in zip(X, Y[:, 0], out):
        print(f"  x = {x.astype(int)}  y = {int(y)}  a = {a:.4f}")
    print(f"xor correct: {int(((out > 0.5) == Y[:, 0]).sum())}/4")
    print("gradient check (eps = 1e-4) at the trained parameters:")
    worst = max(worst, gradient_check(model, args.lam, rng))
    print(f"gradient check max error: {worst:.1e}")


if __name__ == "__main__":
    main()
