"""Activation functions, as torch.nn.functional (names, arguments, defaults and the gradient at
the kinks as PyTorch).

Every one is a composition of the primitives, written as the math reads (leaky_relu is
`where(x > 0, x, slope * x)`): none has a VJP of its own, so first and higher derivatives come
from the primitives for free.

Two rules keep them finite for any input (+-1000 included, gradients too):
- `where(c, a, b)` computes both branches and sends the branch it did not take a gradient of 0;
  0 * inf is nan, so an exponential in a branch gets an input it can take
  (`exp(where(x > 0, 0, x))` in elu), never the raw x.
- log(1 + exp(z)) is elementwise's logaddexp(z, 0) = max + log1p(exp(-|z|)): exp never
  overflows, and log1p keeps softplus(-40) = 4.2e-18 from rounding to 0. softplus, logsigmoid
  and mish build on it.

A piecewise function takes PyTorch's branch at its kink: leaky_relu and elu take the left branch
at 0 (gradient `negative_slope`, `alpha`), hardtanh, relu6 and hardsigmoid pass no gradient at
their bounds, hardswish takes the outer pieces at -3 and 3 (gradient 0 and 1, as PyTorch 2).

`inplace=True` (as PyTorch) writes the result into `input`: on a leaf that requires grad it
raises as the other in-place ops do (wrap it in `no_grad()`).
"""
import numpy as np

from .. import primitives as P
from ..inplace import inplace as _inplace_op
from ..losses import LabelError
from ..tape import result
from ..tensor import Tensor
from . import elementwise as E
from ._args import _axis, _one_dim, _reduce_args
from .reductions import norm, softmax

where, exp, tanh, sigmoid = P.where, P.exp, P.tanh, P.sigmoid

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _in_place(name, fn, input, inplace, **options):
    """fn(input, **options), written into `input` when inplace (as PyTorch's `inplace=True`)."""
    if not inplace:
        return fn(input, **options)
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): inplace=True needs a Tensor, got {type(input).__name__}")

    def array_op(a):  # no graph to record: compute on the array and write it back
        np.copyto(a, fn(Tensor(a), **options)._data, casting="same_kind")

    return _inplace_op(name + "_", lambda t: fn(t, **options), array_op)(input)


# -- piecewise linear --------------------------------------------------------------------------

def _leaky_relu(x, negative_slope):
    return where(x > 0, x, negative_slope * x)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x > 0, else negative_slope * x. d/dx = 1, or negative_slope (at 0 too)."""
    return _in_place("leaky_relu", _leaky_relu, input, inplace, negative_slope=negative_slope)


def _hardtanh(x, min_val, max_val):
    return where(x <= min_val, min_val, where(x >= max_val, max_val, x))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """x clipped to [min_val, max_val]. d/dx = 1 strictly inside, 0 elsewhere (the bounds
    included, as PyTorch)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh(): min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")
    return _in_place("hardtanh", _hardtanh, input, inplace, min_val=min_val, max_val=max_val)


def relu6(input, inplace=False):
    """min(max(x, 0), 6): hardtanh(x, 0, 6), as PyTorch (no gradient at 0 and 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def _hardsigmoid(x):
    return where(x <= -3, 0.0, where(x >= 3, 1.0, x / 6 + 0.5))


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, x / 6 + 1/2 between. d/dx = 1/6 strictly
    between, 0 elsewhere."""
    return _in_place("hardsigmoid", _hardsigmoid, input, inplace)


def _hardswish(x):
    return where(x <= -3, 0.0, where(x >= 3, x, x * (x + 3) / 6))


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6: 0 up to -3, x from 3 on, x (x + 3) / 6 between. d/dx = 0, 1, or
    (2x + 3) / 6 strictly between: 0 at -3 and 1 at 3, as PyTorch."""
    return _in_place("hardswish", _hardswish, input, inplace)


# -- exponential family ------------------------------------------------------------------------

def _elu(x, alpha, scale=1.0, input_scale=1.0):
    neg = where(x > 0, 0, x)  # the input of exp where x <= 0; 0 elsewhere, so exp never overflows
    return where(x > 0, scale * x, (scale * alpha) * E.expm1(input_scale * neg))


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x) - 1). d/dx = 1, or alpha exp(x) (at 0 too)."""
    return _in_place("elu", _elu, input, inplace, alpha=alpha)


def selu(input, inplace=False):
    """scale * elu(x, alpha) with the self-normalizing constants alpha = 1.6733, scale = 1.0507."""
    return _in_place("selu", _elu, input, inplace, alpha=SELU_ALPHA, scale=SELU_SCALE)


def celu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x / alpha) - 1). d/dx = 1, or exp(x / alpha)."""
    if alpha == 0:
        raise ValueError("celu(): alpha cannot be 0 (it divides x)")
    return _in_place("celu", _elu, input, inplace, alpha=alpha, input_scale=1.0 / alpha)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule: the
    two differ by less than exp(-threshold)). d/dx = sigmoid(beta x), or 1."""
    bx = beta * input
    return where(bx > threshold, input, E.logaddexp(bx, 0.0) / beta)


def logsigmoid(input):
    """log(sigmoid(x)) = -log(1 + exp(-x)), finite for any x (-1000 gives -1000).
    d/dx = sigmoid(-x) = 1 - sigmoid(x)."""
    return -E.logaddexp(-input, 0.0)


def silu(input, inplace=False):
    """x * sigmoid(x) (swish). d/dx = s (1 + x (1 - s)), s = sigmoid(x)."""
    return _in_place("silu", lambda x: x * sigmoid(x), input, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x)) (softplus without threshold, as PyTorch's mish)."""
    return _in_place("mish", lambda x: x * tanh(E.logaddexp(x, 0.0)), input, inplace)


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF: 0.5 x (1 + erf(x / sqrt(2))), or with
    approximate="tanh" 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))."""
    if approximate == "none":
        return 0.5 * input * (1 + E.erf(input * np.sqrt(0.5)))
    if approximate == "tanh":
        return 0.5 * input * (1 + tanh(np.sqrt(2 / np.pi) * (input + 0.044715 * input ** 3)))
    raise ValueError(f"gelu(): approximate must be 'none' or 'tanh', got {approximate!r}")


def softsign(input):
    """x / (1 + |x|). d/dx = 1 / (1 + |x|)^2."""
    return input / (1 + P.abs(input))


# -- along an axis -----------------------------------------------------------------------------

def softmin(input, dim=None, _stacklevel=3, dtype=None, *, axis=None):
    """softmax(-x) along `dim`: the smallest entries get the largest weights. Without a dim the
    last axis, as this engine's softmax (PyTorch guesses a legacy dim and warns). `dtype`: the
    input is cast to it first, as PyTorch."""
    dim = _one_dim("softmin", input, _axis("softmin", dim, axis))
    if dtype is not None:
        input = E.to(input, dtype)
    return softmax(-input, dim)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """x / max(||x||_p, eps) along `dim` (an int or a tuple): unit p-norm vectors, and vectors
    shorter than eps divided by eps (the p-norm is reductions' norm). The gradient does not flow
    through the clamp where ||x||_p < eps, as PyTorch's clamp_min: 1 / eps at a zero vector."""
    if out is not None:
        raise TypeError("normalize(): out= is not supported; use the returned tensor")
    _reduce_args("normalize", input, dim, True, None, None)  # errors that name normalize
    n = norm(input, p, dim, keepdim=True)
    return input / where(n >= eps, n, eps)


# -- random and integer ------------------------------------------------------------------------

_generator = np.random.default_rng()  # dropout's default source of randomness


def dropout(input, p=0.5, training=True, inplace=False, *, generator=None):
    """Inverted dropout: each element is zeroed with probability p and the others are scaled by
    1 / (1 - p), so the expectation is unchanged; `input` itself when not training (or p = 0).
    d/dx = the same mask.

    `generator`: a numpy.random.Generator (or a seed) for reproducible masks, e.g.
    `np.random.default_rng(0)`; PyTorch's torch.Generator has no numpy equivalent. Default: this
    module's `_generator`, a `np.random.default_rng()`."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout(): probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    rng = _generator if generator is None else np.random.default_rng(generator)
    x = input if isinstance(input, Tensor) else Tensor(input)
    keep = rng.random(x.shape) >= p
    mask = (keep / (1 - p) if p < 1 else keep * 0.0).astype(x.dtype)
    return _in_place("dropout", lambda t: t * mask, x, inplace)


def one_hot(tensor, num_classes=-1):
    """out[..., k] = 1 where tensor == k, else 0: an int64 Tensor of shape tensor.shape +
    (num_classes,), without grad. num_classes=-1: max(tensor) + 1. Any integer dtype is taken
    (PyTorch takes int64 only)."""
    t = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if t.dtype.kind not in "iu":
        raise ValueError(f"one_hot(): needs integer class indices, got dtype {t.dtype} (shape "
                         f"{t.shape}); convert with .long()")
    if t.size == 0:
        if num_classes <= 0:
            raise ValueError("one_hot(): cannot infer the number of classes from an empty "
                             "tensor; pass num_classes")
    elif t.min() < 0:
        raise LabelError(f"one_hot(): class values must be non-negative, got {t.min()}")
    elif num_classes == -1:
        num_classes = int(t.max()) + 1
    elif t.max() >= num_classes:
        raise LabelError(f"one_hot(): class values must be smaller than num_classes="
                         f"{num_classes}, got {t.max()}")
    return result((t[..., None] == np.arange(num_classes)).astype(np.int64))


__all__ = ["leaky_relu", "hardtanh", "relu6", "hardsigmoid", "hardswish", "elu", "selu", "celu",
           "softplus", "logsigmoid", "silu", "mish", "gelu", "softsign", "softmin", "normalize",
           "dropout", "one_hot"]
METHODS = []  # torch.Tensor has none of these as methods (x.relu(), x.sigmoid() are elementwise's)
