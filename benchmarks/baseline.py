"""The limit: each workload written by hand in numpy, forward plus closed-form backward.

Same BLAS calls as the engine (`x @ W.T + b` forward; `d.T @ a` and `d @ W` backward, the delta
rule of docs/formulas.md), no tape, no bookkeeping. Weights use the PyTorch layout: W is (out, in).
"""
import numpy as np


def softmax_cross_entropy(z, y):
    """Mean cross-entropy of logits z (n, C) at integer labels y, and its gradient
    (softmax(z) - onehot(y)) / n."""
    n = len(z)
    m = z.max(axis=1, keepdims=True)
    e = np.exp(z - m)
    s = e.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    loss = (np.log(s) + m).mean() - z[rows, y].mean()
    d = e / s
    d[rows, y] -= 1
    d /= n
    return loss, d


class NumpyMLP:
    """An MLP trained by plain SGD, gradients from the delta rule.

    Forward: a_0 = x, z_l = a_{l-1} W_l^T + b_l, a_l = act(z_l), the last layer linear.
    Loss "ce": mean over rows of logsumexp(z) - z[y]; dL/dz = (softmax(z) - onehot(y)) / n.
    Loss "mse": mean of (z - y)^2 over all entries; dL/dz = 2 (z - y) / z.size.
    Backward: dW_l = d_l^T a_{l-1}, db_l = sum_rows d_l, d_{l-1} = (d_l W_l) * act'(a_{l-1}).
    """

    def __init__(self, weights, activation, loss, lr, keep_grads=False):
        self.params = [(W.copy(), b.copy()) for W, b in weights]
        self.relu = activation == "relu"
        if not self.relu and activation != "tanh":
            raise ValueError(f"NumpyMLP: activation must be 'relu' or 'tanh', got {activation!r}")
        self.ce = loss == "ce"
        self.lr = lr
        self.keep_grads = keep_grads  # for the checks; the limit keeps nothing between steps
        self.grads = None

    def step(self, x, y):
        """One SGD step on the batch (x, y); returns the loss before the update."""
        params, relu, last = self.params, self.relu, len(self.params) - 1
        acts = [x]  # the input of each layer: all the backward pass needs
        h = x
        for i, (W, b) in enumerate(params):
            z = h @ W.T + b
            if i < last:
                h = np.maximum(z, 0) if relu else np.tanh(z)
                acts.append(h)
        if self.ce:
            loss, d = softmax_cross_entropy(z, y)
        else:
            r = z - y
            loss = (r * r).mean()
            d = r * (2 / r.size)
        grads = [None] * len(params)
        for i in range(last, -1, -1):
            W, b = params[i]
            a = acts[i]
            dW, db = d.T @ a, d.sum(axis=0)
            if i:
                d = d @ W
                d *= (a > 0) if relu else 1 - a * a
            grads[i] = (dW, db)
            W -= self.lr * dW
            b -= self.lr * db
        if self.keep_grads:
            self.grads = grads
        return loss

    def weights(self):
        return [a for wb in self.params for a in wb]

    def gradients(self):
        return [a for wb in self.grads for a in wb]


def chain(x, n):
    """n elementwise ops cycling (* 1.0001, + 0.001, tanh) on x, then the gradient of
    sum(output) with respect to x: d/dx (x * c) = c, d/dx (x + c) = 1, d tanh = 1 - t^2."""
    saved = []
    for _ in range(n // 3):
        x = np.tanh(x * 1.0001 + 0.001)
        saved.append(x)
    r = n % 3
    if r:
        x = x * 1.0001
    if r == 2:
        x = x + 0.001
    g = np.ones_like(x)
    if r:
        g = g * 1.0001
    for t in reversed(saved):
        g = g * (1 - t * t) * 1.0001
    return x, g
