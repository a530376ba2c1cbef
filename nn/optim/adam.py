"""Adam and AdamW (decoupled weight decay), with amsgrad, as torch.optim.Adam / AdamW."""
import numpy as np

from .optimizer import Optimizer, _check, _update


class Adam(Optimizer):
    """torch.optim.Adam's algorithm, per parameter, t counting the steps that parameter took:

        g = grad (-grad if maximize) + weight_decay * p      (AdamW: p = p * (1 - lr * wd))
        m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2
        amsgrad: v_max = max(v_max, v), used instead of v below
        p = p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

    (that is lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t),
    arranged as PyTorch computes it). State: "step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq".
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        name = type(self).__name__
        _check(name, "learning rate lr", lr, lr >= 0)
        _check(name, "epsilon eps", eps, eps >= 0)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise ValueError(f"{name}: betas must be in [0, 1), got {betas!r}")
        _check(name, "weight_decay", weight_decay, weight_decay >= 0)
        super().__init__(params, dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def step(self):
        state, decoupled = self.state, self._decoupled
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            amsgrad = group["amsgrad"]
            for p, g in self._gradients(group, weight_decay=not decoupled):
                s = state.get(p)
                if s is None:
                    s = state[p] = {"step": 0, "exp_avg": np.zeros_like(p.data),
                                    "exp_avg_sq": np.zeros_like(p.data)}
                if amsgrad and "max_exp_avg_sq" not in s:
                    s["max_exp_avg_sq"] = np.zeros_like(p.data)
                s["step"] = t = s["step"] + 1
                m, v = s["exp_avg"], s["exp_avg_sq"]
                m *= b1
                m += (1 - b1) * g
                v *= b2
                v += (1 - b2) * (g * g)
                if amsgrad:
                    v = np.maximum(s["max_exp_avg_sq"], v, out=s["max_exp_avg_sq"])
                denom = np.sqrt(v)
                denom /= np.sqrt(1 - b2 ** t)
                denom += eps
                delta = np.divide(m, denom, out=denom)
                delta *= lr / (1 - b1 ** t)
                _update(p, delta, 1 - lr * wd if wd and decoupled else None)


class AdamW(Adam):
    """Adam with decoupled weight decay (torch.optim.AdamW): each step first shrinks the weights,
    p = p * (1 - lr * weight_decay), then takes the Adam step of the plain gradient. The default
    weight_decay is 1e-2, as PyTorch."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
