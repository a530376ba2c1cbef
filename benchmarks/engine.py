"""The engine side of each workload, through the public API only (API.md)."""
import numpy as np

import autograd_mini
from autograd_mini import Tensor

import nn


class TrainStep:
    """A model trained by nn.optim.SGD from given weights: forward, loss, zero_grad, backward,
    step. Subclasses build the model."""

    def __init__(self, model, weights, loss_fn, lr, dtype):
        self.model, self.loss_fn = model, loss_fn
        self.params = list(model.parameters())
        for p, a in zip(self.params, weights, strict=True):
            if p.shape != a.shape:
                raise ValueError(f"{type(self).__name__}: parameter of shape {p.shape} given "
                                 f"weights {a.shape}")
            p.data = a.astype(dtype)
        self.opt = nn.optim.SGD(self.params, lr=lr)

    def step(self, x, y):
        loss = self.loss_fn(self.model(Tensor(x)), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def weights(self):
        return [p.data for p in self.params]

    def gradients(self):
        return [p.grad for p in self.params]


class EngineMLP(TrainStep):
    """nn.MLP of the weights' sizes, with cross-entropy ("ce") or MSE."""

    def __init__(self, weights, activation, loss, lr, dtype):
        sizes = [weights[0][0].shape[1]] + [W.shape[0] for W, _ in weights]
        super().__init__(nn.MLP(sizes, activation=activation, dtype=dtype),
                         [a for wb in weights for a in wb],
                         nn.CrossEntropyLoss() if loss == "ce" else nn.MSELoss(), lr, dtype)


def chain_ops(t, n):
    """baseline.chain's n ops (cycling * 1.0001, + 0.001, tanh) on the Tensor t."""
    for _ in range(n // 3):
        t = (t * 1.0001 + 0.001).tanh()
    r = n % 3
    if r:
        t = t * 1.0001
    if r == 2:
        t = t + 0.001
    return t


def chain(x, n):
    """The same n-op chain as baseline.chain, recorded on the tape and backpropagated."""
    x0 = Tensor(x, requires_grad=True)
    t = chain_ops(x0, n)
    t.backward(np.ones_like(x))
    return t.data, x0.grad


class EngineHVP:
    """The Hessian-vector product H v of an nn.MLP's cross-entropy loss with respect to all
    its weights, by differentiating <grad, v> once more (two reverse sweeps over a recorded
    gradient), next to one plain gradient of the same loss for comparison."""

    def __init__(self, weights, activation, dtype, seed=0):
        sizes = [weights[0][0].shape[1]] + [W.shape[0] for W, _ in weights]
        self.model = nn.MLP(sizes, activation=activation, dtype=dtype)
        self.params = list(self.model.parameters())
        for p, a in zip(self.params, [a for wb in weights for a in wb], strict=True):
            p.data = a.astype(dtype)
        rng = np.random.default_rng(seed)
        self.v = [Tensor(rng.standard_normal(p.shape).astype(dtype)) for p in self.params]
        self.loss_fn = nn.CrossEntropyLoss()

    def gradient(self, x, y):
        loss = self.loss_fn(self.model(Tensor(x)), y)
        return [g.data for g in autograd_mini.grad(loss, self.params)]

    def hvp(self, x, y):
        loss = self.loss_fn(self.model(Tensor(x)), y)
        gs = autograd_mini.grad(loss, self.params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(gs, self.v))
        return [h.data for h in autograd_mini.grad(dot, self.params)]
