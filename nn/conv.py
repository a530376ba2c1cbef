"""Convolution and pooling layers as torch.nn: Conv1d, Conv2d, MaxPool2d, AvgPool2d,
AdaptiveAvgPool2d, Flatten.

Arguments, defaults, parameter shapes and state_dict keys (`weight`, `bias`) are PyTorch's, so a
state_dict loads into the same torch model by key. The math is F.conv2d and the pooling ops
(autograd_mini/compositions/conv.py).
"""
import math

import numpy as np

from autograd_mini import functional as F

from . import init
from .layers import _as_rng, _cast_input, _check_size
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class _ConvNd(Module):
    """weight (out_channels, in_channels/groups, *kernel_size), bias (out_channels,), both in
    `dtype` (float64 by default, as Linear). Initialised as PyTorch: weight by
    kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias by the same
    bound, fan_in = in_channels/groups * prod(kernel_size). `padding_mode` other than 'zeros'
    pads with F.pad ('reflect', 'replicate', 'circular') and convolves without padding. `rng`:
    an int seed or a numpy Generator, kept for `reset_parameters()` (default: the generator
    `nn.manual_seed` reseeds). An input
    of another dtype is cast to the weight's (differentiably), as in Linear: float64 data into
    a float32 layer computes in float32; PyTorch raises on the mixed dtypes instead."""

    _n = 0  # spatial dims

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", dtype=np.float64, rng=None):
        super().__init__()
        name, n = type(self).__name__, self._n
        self.in_channels = _check_size(name, "in_channels", in_channels)
        self.out_channels = _check_size(name, "out_channels", out_channels)
        self.groups = _check_size(name, "groups", groups)
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, got "
                             f"{padding_mode!r}")
        self.kernel_size, self.stride = _tuple(kernel_size, n), _tuple(stride, n)
        self.dilation = _tuple(dilation, n)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 f"['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions")
            self.padding = padding
        else:
            self.padding = _tuple(padding, n)
        self.padding_mode = padding_mode
        self.rng = None if rng is None else _as_rng(rng)  # a seed becomes one Generator, kept
        self.weight = Parameter(
            np.zeros((out_channels, in_channels // groups) + self.kernel_size), dtype)
        self.bias = Parameter(np.zeros(out_channels), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Initialise weight and bias as PyTorch (see the class), with the layer's generator."""
        rng = _as_rng(self.rng)
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=rng)
        if self.bias is not None:
            fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound, generator=rng)

    def _pads(self):
        """F.pad's argument for a non-zeros padding_mode: (left, right) of the last dim first;
        "same" puts the odd one at the end, as PyTorch."""
        if self.padding == "valid":
            return (0, 0) * self._n
        if self.padding == "same":
            total = [d * (k - 1) for k, d in zip(self.kernel_size, self.dilation)]
            return tuple(x for t in reversed(total) for x in (t // 2, t - t // 2))
        return tuple(x for p in reversed(self.padding) for x in (p, p))

    def _conv(self, x, conv):
        x = _cast_input(x, self.weight.dtype)
        if self.padding_mode == "zeros":
            return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                        self.groups)
        x = F.pad(x, self._pads(), mode=self.padding_mode)
        return conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * self._n:
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) \
                else f", padding={self.padding}"
        if self.dilation != (1,) * self._n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv1d(_ConvNd):
    """out = conv1d(x, weight, bias): x (N, C_in, L) or (C_in, L) -> (N, C_out, L_out)."""

    _n = 1

    def forward(self, input):
        return self._conv(input, F.conv1d)


class Conv2d(_ConvNd):
    """out = conv2d(x, weight, bias): x (N, C_in, H, W) or (C_in, H, W) -> (N, C_out, H', W')."""

    _n = 2

    def forward(self, input):
        return self._conv(input, F.conv2d)


class MaxPool2d(Module):
    """F.max_pool2d over windows of kernel_size (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input):
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """F.avg_pool2d over windows of kernel_size (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """F.adaptive_avg_pool2d to output_size (an int, or (OH, OW) with None keeping a size)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Flatten(Module):
    """Dims start_dim..end_dim merged into one (default: everything but the batch axis)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return F.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
