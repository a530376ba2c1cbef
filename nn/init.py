"""nn.init: fill a parameter in place, with torch.nn.init's names, arguments, defaults and fans.

Each function writes into the tensor's array (as under `torch.no_grad()`), bumps the tensor's
version as an optimizer step does (a backward through a graph recorded before raises), and
returns the tensor. A read-only array (e.g. loaded from a file) is replaced instead of written.

Fans, as PyTorch, for a weight of shape (out, in, *kernel): fan_in = in * prod(kernel),
fan_out = out * prod(kernel); a 2-D (out, in) weight has no kernel.

`generator`: a `numpy.random.Generator` (or an int seed), where PyTorch takes a
`torch.Generator`. Numbers differ from PyTorch's for the same seed (another bit generator and
other sampling algorithms), and the generator advances by numpy's rules. Without one, the
module-wide generator that `nn.manual_seed` reseeds is used (the one `nn.Linear` uses).
"""
import math
import warnings

import numpy as np

from autograd_mini import Tensor

from . import layers as _layers

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity, as torch.nn.init.calculate_gain: 1 for linear,
    conv and sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu
    (slope `param`, default 0.01), 3/4 for selu."""
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch."""
    shape = np.shape(tensor.data if isinstance(tensor, Tensor) else tensor)
    if len(shape) < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {shape}); nn.init's xavier_* and kaiming_* need "
                         f"a weight of shape (out, in, *kernel)")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _write(tensor, values, what):
    """tensor[...] = values in place, with the version bumped as an optimizer step does."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{what}: expected a Tensor (e.g. an nn.Parameter), got "
                        f"{type(tensor).__name__}")
    d = tensor.data
    try:
        d[...] = values
    except ValueError:  # a read-only array: replace it instead
        d = np.array(np.broadcast_to(values, d.shape), dtype=d.dtype)
    tensor.data = d  # the tracked setter: graphs that saved the old values go stale
    return tensor


def _random(tensor, what, generator):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{what}: expected a Tensor (e.g. an nn.Parameter), got "
                        f"{type(tensor).__name__}")
    if tensor.dtype.kind != "f":
        raise TypeError(f"nn.init.{what}: random values need a floating point tensor, got "
                        f"dtype {tensor.dtype}")
    return _layers._as_rng(generator)


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    rng = _random(tensor, "uniform_", generator)
    return _write(tensor, rng.uniform(a, b, tensor.shape), "uniform_")


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    rng = _random(tensor, "normal_", generator)
    return _write(tensor, rng.normal(mean, std, tensor.shape), "normal_")


def constant_(tensor, val):
    """Fill with the value `val`."""
    return _write(tensor, val, "constant_")


def ones_(tensor):
    return _write(tensor, 1, "ones_")


def zeros_(tensor):
    return _write(tensor, 0, "zeros_")


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    rng = _random(tensor, "xavier_uniform_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _write(tensor, rng.uniform(-a, a, tensor.shape), "xavier_uniform_")


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    rng = _random(tensor, "xavier_normal_", generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _write(tensor, rng.normal(0.0, std, tensor.shape), "xavier_normal_")


def _kaiming_std(tensor, a, mode, nonlinearity, what):
    if 0 in tensor.shape:
        warnings.warn(f"nn.init.{what}: initializing zero-element tensors is a no-op",
                      stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain =
    calculate_gain(nonlinearity, a) and fan the fan_in or fan_out (`mode`). The defaults (a=0,
    leaky_relu) give gain sqrt(2), as PyTorch's."""
    rng = _random(tensor, "kaiming_uniform_", generator)
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return _write(tensor, rng.uniform(-bound, bound, tensor.shape), "kaiming_uniform_")


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He: N(0, std^2) with std = gain / sqrt(fan), gain and fan as in kaiming_uniform_."""
    rng = _random(tensor, "kaiming_normal_", generator)
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    if std is None:
        return tensor
    return _write(tensor, rng.normal(0.0, std, tensor.shape), "kaiming_normal_")
