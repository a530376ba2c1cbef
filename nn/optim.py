"""Optimizers with PyTorch's documented update rules (torch.optim.SGD and torch.optim.Adam).

A step changes each parameter's array in place (as PyTorch: arrays shared with a parameter see
the update; copy one first to keep the old values) and then re-assigns it through the tracked
`.data` setter, so a backward through a graph recorded before the step raises RuntimeError
instead of using stale values. Parameters whose `.grad` is None are skipped; `.grad` itself is
never modified.
"""
import numpy as np

from autograd_mini import Tensor


def _update(p, delta):
    """p -= delta, through the tracked setter."""
    d = p.data
    try:
        d -= delta
    except ValueError:  # a read-only array (e.g. loaded from a file): replace it instead
        d = d - delta
    p.data = d


class Optimizer:
    def __init__(self, params, lr):
        name = type(self).__name__
        params = list(params)
        if not params:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters()")
        unique = []
        for p in params:
            if not (isinstance(p, Tensor) and p.requires_grad and p.is_leaf):
                raise TypeError(f"{name}: can only optimize leaf Tensors that require grad "
                                f"(nn.Parameter), got {type(p).__name__}")
            if not any(p is q for q in unique):
                unique.append(p)
        if not lr >= 0:
            raise ValueError(f"{name}: lr must be >= 0, got {lr!r}")
        self.params = unique
        self.lr = lr

    def zero_grad(self):
        """Set every parameter's `.grad` to None."""
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """g = grad + weight_decay * p; with momentum, b = momentum * b + g (b = g at the first
    step) and g = b; then p = p - lr * g."""

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        if not momentum >= 0 or not weight_decay >= 0:
            raise ValueError(f"SGD: momentum and weight_decay must be >= 0, got {momentum!r} "
                             f"and {weight_decay!r}")
        self.momentum, self.weight_decay = momentum, weight_decay
        self.buffers = [None] * len(self.params)

    def step(self):
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data  # a new array: p.grad stays untouched
            if mu:
                b = self.buffers[i]
                if b is None:
                    b = self.buffers[i] = g.copy() if g is p.grad else g
                else:
                    b *= mu
                    b += g
                g = b
            _update(p, lr * g)


class Adam(Optimizer):
    """g = grad + weight_decay * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p = p - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
    t counting the steps that parameter took."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        if not eps >= 0 or not weight_decay >= 0:
            raise ValueError(f"Adam: eps and weight_decay must be >= 0, got {eps!r} and "
                             f"{weight_decay!r}")
        self.betas, self.eps, self.weight_decay = (b1, b2), eps, weight_decay
        self.state = [None] * len(self.params)  # (t, m, v) per parameter

    def step(self):
        lr, (b1, b2), eps, wd = self.lr, self.betas, self.eps, self.weight_decay
        for i, p in enumerate(self.params):
            g = p.grad
            if g is None:
                continue
            if wd:
                g = g + wd * p.data
            if self.state[i] is None:
                self.state[i] = [0, np.zeros_like(p.data), np.zeros_like(p.data)]
            s = self.state[i]
            s[0] += 1
            t, m, v = s
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            # m_hat / (sqrt(v_hat) + eps) rearranged as PyTorch computes it
            denom = np.sqrt(v)
            denom /= np.sqrt(1 - b2 ** t)
            denom += eps
            step = np.divide(m, denom, out=denom)
            step *= lr / (1 - b1 ** t)
            _update(p, step)
