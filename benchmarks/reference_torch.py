"""PyTorch as a second reference, used only when it is installed (never required)."""
import numpy as np

try:
    import torch
except ImportError:
    torch = None


class TorchMLP:
    """torch.nn.Sequential of Linear and activation layers, trained by torch.optim.SGD."""

    def __init__(self, weights, activation, loss, lr, dtype):
        act = torch.nn.ReLU if activation == "relu" else torch.nn.Tanh
        layers = []
        for i, (W, b) in enumerate(weights):
            lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=_dtype(dtype))
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.astype(dtype)))
                lin.bias.copy_(torch.from_numpy(b.astype(dtype)))
            layers.append(lin)
            if i < len(weights) - 1:
                layers.append(act())
        self.model = torch.nn.Sequential(*layers)
        self.params = [p for lin in layers[::2] for p in (lin.weight, lin.bias)]
        self.loss_fn = torch.nn.CrossEntropyLoss() if loss == "ce" else torch.nn.MSELoss()
        self.opt = torch.optim.SGD(self.params, lr=lr)

    def step(self, x, y):
        # from_numpy shares memory: the conversion costs what wrapping in a Tensor costs
        loss = self.loss_fn(self.model(torch.from_numpy(x)), torch.from_numpy(y))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def weights(self):
        return [p.detach().numpy() for p in self.params]

    def gradients(self):
        return [p.grad.numpy() for p in self.params]


def _dtype(dtype):
    return torch.float32 if np.dtype(dtype) == np.float32 else torch.float64


def chain(x, n):
    x0 = torch.from_numpy(x).requires_grad_(True)
    t = x0
    for _ in range(n // 3):
        t = torch.tanh(t * 1.0001 + 0.001)
    r = n % 3
    if r:
        t = t * 1.0001
    if r == 2:
        t = t + 0.001
    t.backward(torch.ones_like(t))
    return t.detach().numpy(), x0.grad.numpy()
