"""Normalisation layers as torch.nn: BatchNorm1d, BatchNorm2d, LayerNorm.

Parameters, buffers, defaults and state_dict keys are PyTorch's (`weight`, `bias`, and for
batch norm the buffers `running_mean`, `running_var`, `num_batches_tracked`), so a state_dict
loads into the same torch model by key. The math is F.batch_norm / F.layer_norm
(compositions/normalization.py).
"""
import numpy as np

from autograd_mini import functional as F

from .layers import _cast_input, _check_size
from .module import Module, Parameter


class _BatchNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1), the statistics
    taken over every other dim.

    In training the batch's statistics are used (biased variance), and the running ones are
    updated: running = (1 - momentum) running + momentum batch, with the batch's unbiased
    variance; `num_batches_tracked` counts the batches; momentum=None uses the cumulative
    average (factor 1 / num_batches_tracked). In eval() the running statistics are used.
    `affine=False`: no weight and bias (None). `track_running_stats=False`: no buffers (None),
    and the batch's statistics are used in eval() too. weight starts at ones, bias at zeros,
    running_mean at zeros, running_var at ones; all in `dtype` (num_batches_tracked is int64).
    An input of another dtype is cast to the layer's (differentiably), as in Linear; PyTorch
    raises on the mixed dtypes instead.
    """

    _dims = ()  # the input ndims a subclass accepts

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float64):
        super().__init__()
        self.num_features = _check_size(type(self).__name__, "num_features", num_features)
        self.eps, self.momentum = eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        c = self.num_features
        if affine:
            self.weight = Parameter(np.ones(c), dtype)
            self.bias = Parameter(np.zeros(c), dtype)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(c, dtype))
            self.register_buffer("running_var", np.ones(c, dtype))
            self.register_buffer("num_batches_tracked", np.array(0, np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            self.weight.data = np.ones_like(self.weight.data)
            self.bias.data = np.zeros_like(self.bias.data)

    def forward(self, input):
        ndim = np.ndim(input)
        if ndim not in self._dims:
            raise ValueError(f"{type(self).__name__}: expected "
                             f"{' or '.join(f'{d}D' for d in self._dims)} input (got {ndim}D "
                             f"input of shape {np.shape(input)})")
        own = self.weight if self.weight is not None else self.running_mean
        if own is not None:
            input = _cast_input(input, own.dtype)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.copy_(self.num_batches_tracked.data + 1)
            if self.momentum is None:  # the cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.data)
        # batch statistics in training, and in eval() when there are no running statistics
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of an (N, C) or (N, C, L) input over N (and L), per channel C."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of an (N, C, H, W) input over N, H and W, per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    """y = (x - mean) / sqrt(var + eps) * weight + bias over the last dims, which must be
    `normalized_shape` (an int or a tuple): each sample normalised on its own, the same in
    training and eval(). weight (ones) and bias (zeros) have shape normalized_shape;
    `elementwise_affine=False`: neither; `bias=False`: no bias. Both in `dtype`; an input of
    another dtype is cast to it (differentiably), as in Linear."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 dtype=np.float64):
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(
            _check_size("LayerNorm", "normalized_shape", n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape), dtype)
        else:
            self.register_parameter("weight", None)
        if elementwise_affine and bias:
            self.bias = Parameter(np.zeros(self.normalized_shape), dtype)
        else:
            self.register_parameter("bias", None)

    def forward(self, input):
        if self.weight is not None:
            input = _cast_input(input, self.weight.dtype)
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
