"""RMSprop, as torch.optim.RMSprop (centered and momentum variants)."""
import numpy as np

from .optimizer import Optimizer, _check, _update


class RMSprop(Optimizer):
    """torch.optim.RMSprop's algorithm, per parameter and step:

        g = grad (-grad if maximize) + weight_decay * p
        v = alpha v + (1 - alpha) g^2
        centered: g_avg = alpha g_avg + (1 - alpha) g;  d = sqrt(v - g_avg^2) + eps
        otherwise: d = sqrt(v) + eps
        momentum > 0: b = momentum b + g / d;  p = p - lr b      (b starts at 0)
        otherwise:    p = p - lr g / d

    State: "step", "square_avg", "momentum_buffer", "grad_avg".
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        _check("RMSprop", "learning rate lr", lr, lr >= 0)
        _check("RMSprop", "epsilon eps", eps, eps >= 0)
        _check("RMSprop", "momentum", momentum, momentum >= 0)
        _check("RMSprop", "weight_decay", weight_decay, weight_decay >= 0)
        _check("RMSprop", "alpha", alpha, alpha >= 0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def step(self):
        state = self.state
        for group in self.param_groups:
            lr, alpha, eps, mu, centered = (group["lr"], group["alpha"], group["eps"],
                                            group["momentum"], group["centered"])
            for p, g in self._gradients(group):
                s = state.get(p)
                if s is None:
                    s = state[p] = {"step": 0, "square_avg": np.zeros_like(p.data)}
                if mu > 0 and "momentum_buffer" not in s:
                    s["momentum_buffer"] = np.zeros_like(p.data)
                if centered and "grad_avg" not in s:
                    s["grad_avg"] = np.zeros_like(p.data)
                s["step"] += 1
                v = s["square_avg"]
                v *= alpha
                v += (1 - alpha) * (g * g)
                if centered:
                    ga = s["grad_avg"]
                    ga *= alpha
                    ga += (1 - alpha) * g
                    d = np.sqrt(v - ga * ga)
                else:
                    d = np.sqrt(v)
                d += eps
                if mu > 0:
                    b = s["momentum_buffer"]
                    b *= mu
                    b += g / d
                    _update(p, lr * b)
                else:
                    _update(p, lr * (g / d))
