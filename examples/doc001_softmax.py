"""Document 001: the 5-4-3 sigmoid/softmax network (no biases) and the updates of w_32 and v_43.

The document's worked example: p_l = sum_i x_i v_il, h_l = sigmoid(p_l) (l = 1..4),
o_j = sum_l h_l w_lj, y_hat = softmax(o), J = -log y_hat_y (cross-entropy, one sample).
Its closed forms (docs/formulas.md F1.8 and F1.11):

    dJ/dw_32 = h_3 (y_hat_2 - y_2)
    dJ/dv_43 = x_4 h_3 (1 - h_3) sum_j w_3j (y_hat_j - y_j)

and the update rule w <- w - alpha dJ/dw. In the PyTorch layout, Linear(5, 4).weight[l-1, i-1]
is v_il and Linear(4, 3).weight[j-1, l-1] is w_lj, so v_43 is weight[2, 3] of the first layer and
w_32 is weight[1, 2] of the second. The script takes one nn.optim.SGD step on the autodiff
gradient and prints it next to the update computed from the closed forms.

    python examples/doc001_softmax.py [--quick]
"""
import numpy as np

import nn
from _common import parse_args
from autograd_mini import Tensor


def main():
    args = parse_args(__doc__.splitlines()[0],
                      lr=dict(type=float, default=0.5, help="step size alpha"))
    rng = np.random.default_rng(args.seed)
    model = nn.Sequential(nn.Linear(5, 4, bias=False), nn.Sigmoid(), nn.Linear(4, 3, bias=False))
    V = model[0].weight.data.T.copy()   # document layout: V[i-1, l-1] = v_il, 5x4
    W = model[2].weight.data.T.copy()   # W[l-1, j-1] = w_lj, 4x3
    x = rng.standard_normal(5)
    label = 1                            # class 2 in the document's 1-based numbering
    y = np.eye(3)[label]

    # autodiff: cross-entropy on the logits o, one sample (sum == mean for a batch of one)
    loss = nn.CrossEntropyLoss(reduction="sum")(model(Tensor(x[None, :])), np.array([label]))
    opt = nn.optim.SGD(model.parameters(), lr=args.lr)
    opt.zero_grad()
    loss.backward()
    g_w32, g_v43 = model[2].weight.grad[1, 2], model[0].weight.grad[2, 3]

    # the document's closed forms, from a plain-numpy forward pass
    h = 1 / (1 + np.exp(-(x @ V)))
    o = h @ W
    y_hat = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
    c_w32 = h[2] * (y_hat[1] - y[1])                                     # F1.8
    c_v43 = x[3] * h[2] * (1 - h[2]) * np.sum(W[2, :] * (y_hat - y))     # F1.11

    opt.step()
    new_w32, new_v43 = model[2].weight.data[1, 2], model[0].weight.data[2, 3]

    print(f"5-4-3 network, one sample x = {np.round(x, 3)}, class y = 2, J = {loss.item():.6f}, "
          f"alpha = {args.lr}")
    print(f"{'':6s} {'dJ/dw autodiff':>16s} {'dJ/dw closed form':>17s} {'|diff|':>8s} "
          f"{'w after SGD step':>17s} {'w - alpha*closed':>17s}")
    rows = [("w_32", g_w32, c_w32, new_w32, W[2, 1] - args.lr * c_w32),
            ("v_43", g_v43, c_v43, new_v43, V[3, 2] - args.lr * c_v43)]
    for name, g, c, new, expected in rows:
        print(f"{name:6s} {g:16.10f} {c:17.10f} {abs(g - c):8.1e} {new:17.10f} {expected:17.10f}")

    # the full matrices too: F1.7 dJ/dW = h (y_hat - y)^T, F1.10 dJ/dV = x delta1^T
    delta1 = h * (1 - h) * (W @ (y_hat - y))                             # F1.9
    err_W = np.abs(model[2].weight.grad.T - np.outer(h, y_hat - y)).max()
    err_V = np.abs(model[0].weight.grad.T - np.outer(x, delta1)).max()
    print(f"max |autodiff - closed form| over all of W (F1.7): {err_W:.1e}, "
          f"over all of V (F1.10): {err_V:.1e}")
    print(f"max gradient error: {max(abs(g_w32 - c_w32), abs(g_v43 - c_v43), err_W, err_V):.1e}")


if __name__ == "__main__":
    main()
