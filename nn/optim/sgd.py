"""SGD with momentum, dampening and Nesterov momentum, as torch.optim.SGD."""
from autograd_mini.tensor import _wrote

from .optimizer import Optimizer, _check, _update


class SGD(Optimizer):
    """torch.optim.SGD's algorithm, per parameter and step t:

        g = grad (-grad if maximize) + weight_decay * p
        with momentum: b = g at t = 1, else b = momentum * b + (1 - dampening) * g
                       g = g + momentum * b (nesterov) or g = b
        p = p - lr * g

    Nesterov needs momentum > 0 and dampening 0 (ValueError otherwise, as PyTorch). The
    momentum buffer is `state[p]["momentum_buffer"]`.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        _check("SGD", "learning rate lr", lr, lr >= 0)
        _check("SGD", "momentum", momentum, momentum >= 0)
        _check("SGD", "weight_decay", weight_decay, weight_decay >= 0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening "
                             f"(got momentum={momentum!r}, dampening={dampening!r})")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def step(self):
        state = self.state
        for group in self.param_groups:
            lr, mu, damp, nesterov = (group["lr"], group["momentum"], group["dampening"],
                                      group["nesterov"])
            if not (mu or group["weight_decay"] or group["maximize"]):  # p -= lr * grad
                # (most runs: written out, the writes recorded in one call, not one per param)
                written = []
                for p in group["params"]:
                    g = p.grad
                    if g is not None:
                        d = p._data
                        try:
                            d -= lr * g
                        except ValueError:  # read-only: _update replaces it
                            _update(p, lr * g)
                        else:
                            written.append(d)
                _wrote(*written)
                continue
            for p, g in self._gradients(group):
                if mu:
                    s = state.get(p)
                    b = s.get("momentum_buffer") if s else None
                    if b is None:
                        b = g.copy() if g is p.grad else g  # the first step: b = g, undampened
                        state[p] = {"momentum_buffer": b}
                    else:
                        b *= mu
                        b += (1 - damp) * g if damp else g
                    g = g + mu * b if nesterov else b
                _update(p, lr * g)
