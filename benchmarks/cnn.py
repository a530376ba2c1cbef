"""The `cnn_digits` workload: one SGD train step of the small CNN of examples/cnn_digits.py
without its dropout (the masks would differ between the sides), BatchNorm in training mode:

    x (N, 1, 8, 8) -> [conv 3x3 pad 1 -> BatchNorm2d -> ReLU -> max pool 2] x 2 -> flatten
                   -> linear -> softmax cross-entropy        (channels 1 -> c1 -> c2, 8 -> 4 -> 2)

NumpyCNN is the hand-written limit: im2col (sliding_window_view) and the same batched matmuls
as F.conv2d forward, the closed-form backward (col2im for the input's gradient), the batch-norm
backward in closed form, the running statistics updated as PyTorch. EngineCNN is the same
network in nn, trained by nn.optim.SGD (and, on the compiled side, the same step through
autograd_mini.compile). Parameters in nn's order: conv1 W, bn1 gamma beta, conv2 W, bn2 gamma
beta, linear W b (the convolutions have no bias, as the example's).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


import nn

from .baseline import softmax_cross_entropy
from .compiled import CompiledStep
from .engine import TrainStep

EPS, MOMENTUM = 1e-5, 0.1  # BatchNorm2d's defaults


def init_weights(c1=16, c2=32, seed=0):
    """Conv and linear weights uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) as PyTorch's; the
    batch-norm scale and shift random too (not 1 and 0), so their gradients are tested; float64."""
    rng = np.random.default_rng(seed)
    u = lambda shape, fan: rng.uniform(-1, 1, shape) / np.sqrt(fan)
    return [u((c1, 1, 3, 3), 9), rng.uniform(0.5, 1.5, c1), rng.uniform(-.2, .2, c1),
            u((c2, c1, 3, 3), 9 * c1), rng.uniform(0.5, 1.5, c2), rng.uniform(-.2, .2, c2),
            u((10, 4 * c2), 4 * c2), u(10, 4 * c2)]


# -- the hand-written numpy limit --------------------------------------------------------------

def _cols(x):
    """im2col of a 3x3 convolution with padding 1: (N, C*9, H*W), the (c, p, q) rows ordered as
    the weight's (C, 3, 3) axes."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    win = sliding_window_view(xp, (3, 3), axis=(2, 3))             # (N, C, H, W, 3, 3)
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * 9, h * w)


def _col2im(dcols, c, h, w):
    """The adjoint of _cols: (N, C*9, H*W) windows added back into (N, C, H, W) images."""
    n = len(dcols)
    d = dcols.reshape(n, c, 3, 3, h, w)
    out = np.zeros((n, c, h + 2, w + 2), dcols.dtype)
    for p in range(3):
        for q in range(3):
            out[:, :, p:p + h, q:q + w] += d[:, :, p, q]
    return out[:, :, 1:-1, 1:-1]


class NumpyCNN:
    """The CNN step by hand. Per block, forward and its closed-form backward:

    conv (no bias: the batch norm after it would cancel one):
           z = W (O, C*9) @ cols(x);  dW = sum_n g cols^T,  dx = col2im(W^T g)
    batch norm (batch statistics, biased variance): xh = (z - mean) / s, s = sqrt(var + eps),
           y = gamma xh + beta;  dgamma = sum g xh,  dbeta = sum g,
           dz = gamma / s (g - mean(g) - xh mean(g xh))  (means over N, H, W per channel)
    ReLU:  a = max(y, 0);  dy = g [y > 0]
    max pool 2x2 (stride 2): the first maximum of each window takes the gradient
    linear + cross-entropy: as NumpyMLP (dL/dz = (softmax(z) - onehot(y)) / N).
    """

    def __init__(self, weights, lr, keep_grads=False):
        self.params = [a.copy() for a in weights]
        c1, c2 = len(weights[1]), len(weights[4])
        dt = weights[0].dtype
        self.running = [np.zeros(c1, dt), np.ones(c1, dt), np.zeros(c2, dt), np.ones(c2, dt)]
        self.lr, self.keep_grads, self.grads = lr, keep_grads, None

    def _block(self, x, W, gamma, beta, running_mean, running_var):
        n, c, h, w = x.shape
        o = len(W)
        cols = _cols(x)
        z = (W.reshape(o, c * 9) @ cols).reshape(n, o, h, w)
        mean = z.mean(axis=(0, 2, 3), keepdims=True)
        zc = z - mean
        var = (zc * zc).mean(axis=(0, 2, 3), keepdims=True)
        inv = 1 / np.sqrt(var + EPS)
        xh = zc * inv
        y = xh * gamma[:, None, None] + beta[:, None, None]
        m = n * h * w
        running_mean *= 1 - MOMENTUM
        running_mean += MOMENTUM * mean.reshape(o)
        running_var *= 1 - MOMENTUM
        running_var += MOMENTUM * m / (m - 1) * var.reshape(o)
        a = np.maximum(y, 0)
        win = a.reshape(n, o, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, o, h // 2, w // 2, 4)
        first = win.argmax(axis=-1)[..., None]
        out = np.take_along_axis(win, first, axis=-1)[..., 0]
        return out, (x.shape, cols, xh, inv, y, first)

    def _block_back(self, g, W, gamma, saved, need_dx):
        (n, c, h, w), cols, xh, inv, y, first = saved
        o = len(W)
        dwin = np.zeros((n, o, h // 2, w // 2, 4), g.dtype)
        np.put_along_axis(dwin, first, g[..., None], axis=-1)
        da = dwin.reshape(n, o, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, o, h, w)
        dy = da * (y > 0)
        dgamma, dbeta = (dy * xh).sum(axis=(0, 2, 3)), dy.sum(axis=(0, 2, 3))
        dz = (gamma[:, None, None] * inv) * (
            dy - dbeta.reshape(1, o, 1, 1) / (n * h * w)
            - xh * (dgamma.reshape(1, o, 1, 1) / (n * h * w)))
        dz = dz.reshape(n, o, h * w)
        dW = (dz @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(W.shape)
        dx = _col2im(W.reshape(o, c * 9).T @ dz, c, h, w) if need_dx else None
        return dx, (dW, dgamma, dbeta)

    def step(self, x, y):
        """One SGD step on the batch (x (N, 1, 8, 8), y); returns the loss before the update."""
        p, r = self.params, self.running
        h1, s1 = self._block(x, *p[0:3], r[0], r[1])
        h2, s2 = self._block(h1, *p[3:6], r[2], r[3])
        n = len(x)
        flat = h2.reshape(n, -1)
        Wl, bl = p[6], p[7]
        z = flat @ Wl.T + bl
        loss, d = softmax_cross_entropy(z, y)
        dWl, dbl = d.T @ flat, d.sum(axis=0)
        dh2 = (d @ Wl).reshape(h2.shape)
        dh1, g2 = self._block_back(dh2, p[3], p[4], s2, need_dx=True)
        _, g1 = self._block_back(dh1, p[0], p[1], s1, need_dx=False)  # x needs no gradient
        grads = [*g1, *g2, dWl, dbl]
        for a, g in zip(p, grads):
            a -= self.lr * g
        if self.keep_grads:
            self.grads = grads
        return loss

    def weights(self):
        return list(self.params)

    def buffers(self):
        """The running means and variances of the two batch norms."""
        return list(self.running)

    def gradients(self):
        return list(self.grads)


# -- the engine --------------------------------------------------------------------------------

def make_cnn(c1, c2, dtype):
    """examples/cnn_digits.py's network without the dropout."""
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False, dtype=dtype), nn.BatchNorm2d(c1, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False, dtype=dtype), nn.BatchNorm2d(c2, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * 4, 10, dtype=dtype))


class EngineCNN(TrainStep):
    """The network in nn, trained by nn.optim.SGD."""

    def __init__(self, weights, lr, dtype):
        super().__init__(make_cnn(len(weights[1]), len(weights[4]), dtype), weights,
                         nn.CrossEntropyLoss(), lr, dtype)

    def buffers(self):
        return [np.asarray(getattr(b, "data", b)) for i in (1, 5)
                for b in (self.model[i].running_mean, self.model[i].running_var)]


def sides(dtype, batches, lr=0.05, seed=0, trace_batches=None):
    """The three sides from the same weights (numpy, engine, and the engine's step compiled,
    traced on the image batches or on `trace_batches(image batches)`), and the batches ((N, 64)
    rows, labels) as images in `dtype`."""
    w = init_weights(seed=seed)
    images = [(x.reshape(-1, 1, 8, 8).astype(dtype), y) for x, y in batches]
    return ({"numpy": NumpyCNN([a.astype(dtype) for a in w], lr),
             "engine": EngineCNN(w, lr, dtype),
             "compiled": CompiledStep(EngineCNN(w, lr, dtype),
                                      trace_batches(images) if trace_batches else images)},
            images)
