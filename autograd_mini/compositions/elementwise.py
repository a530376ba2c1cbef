"""Elementwise ops: the math functions, clamp, masks, rounding, remainders, tests of values, casts.

Primitives of the op table, re-exported here: the arithmetic, maximum, where, abs exp log sqrt
sign sigmoid tanh relu, and sin cos log1p expm1 erf atan2 round remainder. Everything else is a
composition written as the math reads (`tan = sin / cos`, `lerp = a + w (b - a)`), with no VJP
of its own: first and higher derivatives come from the primitives for free. Where the textbook
formula loses accuracy, the docstring says which form is used and why.

Tests of values (isnan, isclose, logical_and...) and floor division are Tensors without grad.
"""
import math

import numpy as np

from .. import primitives as P
from ..tape import ShapeError, result
from ..tensor import Tensor

abs, exp, log, sqrt, sign, sigmoid, tanh, relu = (P.abs, P.exp, P.log, P.sqrt, P.sign,
                                                  P.sigmoid, P.tanh, P.relu)
mul, pow, neg, maximum, where = P.mul, P.pow, P.neg, P.maximum, P.where
sin, cos, log1p, expm1, erf, atan2 = P.sin, P.cos, P.log1p, P.expm1, P.erf, P.atan2
arctan2 = atan2

LN2, LN10 = math.log(2), math.log(10)


def _data(x):
    return x._data if isinstance(x, Tensor) else np.asarray(x)


def _raw(x):
    """A Tensor's array; a number stays a Python number, so that numpy's weak promotion keeps
    a float32 array float32 beside it (as PyTorch)."""
    return x._data if isinstance(x, Tensor) else P._constant(x)


def _test(name, ufunc, *args, **kwargs):
    """ufunc of the arrays, as a Tensor without grad (tests of values, floor division)."""
    try:
        return result(ufunc(*[_raw(a) for a in args], **kwargs))
    except ValueError as err:  # operands that do not broadcast
        shapes = ", ".join(str(np.shape(_raw(a))) for a in args)
        raise ShapeError(f"{name}: {err} (input shapes: {shapes})") from None


# -- arithmetic with PyTorch's options (the operators + - / are the primitives themselves) -----

def add(input, other, *, alpha=1):
    """input + alpha * other."""
    return P.add(input, other if alpha == 1 else P.mul(other, alpha))


def sub(input, other, *, alpha=1):
    """input - alpha * other."""
    return P.sub(input, other if alpha == 1 else P.mul(other, alpha))


def div(input, other, *, rounding_mode=None):
    """input / other; with rounding_mode "trunc" the quotient rounded toward 0 (C's division),
    "floor" rounded down (Python's //, exactly as numpy's floor_divide), integers staying
    integers, both with gradient 0 (as PyTorch)."""
    if rounding_mode is None:
        return P.div(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise ValueError(f"div(): rounding_mode must be None, 'trunc' or 'floor', got "
                         f"{rounding_mode!r}")
    a, b = _raw(input), _raw(other)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype != b.dtype:
        a, b = P._promote(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        if rounding_mode == "floor":
            q = _test("div", np.floor_divide, a, b)._data
        elif np.result_type(a, b).kind in "iub":  # exact for integers: (a - fmod(a, b)) // b
            q = _test("div", np.floor_divide, np.subtract(a, np.fmod(a, b)), b)._data
        else:
            q = np.trunc(_test("div", np.true_divide, a, b)._data)
    if not any(isinstance(t, Tensor) and t.requires_grad for t in (input, other)):
        return result(q)
    return where(True, q, P.add(input, other))  # gradient 0 to both, as PyTorch


# -- powers, logarithms, trigonometry ----------------------------------------------------------

def tan(input):
    """sin(x) / cos(x); d/dx = 1 / cos(x)^2."""
    return sin(input) / cos(input)


def exp2(input):
    """2^x, as pow(2, x) (exact at integers, unlike exp(x ln 2)); d/dx = 2^x ln 2."""
    return pow(2.0, input)


def log2(input):
    """log(x) / ln 2; d/dx = 1 / (x ln 2)."""
    return log(input) / LN2


def log10(input):
    """log(x) / ln 10; d/dx = 1 / (x ln 10)."""
    return log(input) / LN10


def rsqrt(input):
    """1 / sqrt(x); d/dx = -x^(-3/2) / 2."""
    return 1 / sqrt(input)


def square(input):
    """x * x; d/dx = 2x."""
    return mul(input, input)


def reciprocal(input):
    """1 / x; d/dx = -1 / x^2."""
    return div(1.0, input)


def sinh(input):
    """(expm1(x) - expm1(-x)) / 2: no cancellation at small x, where (exp(x) - exp(-x)) / 2
    loses digits. Overflows at |x| > 709.78 (numpy's sinh at 710.48). d/dx = cosh(x)."""
    return (expm1(input) - expm1(-input)) / 2


def cosh(input):
    """(exp(x) + exp(-x)) / 2. Overflows at |x| > 709.78 (numpy's cosh at 710.48).
    d/dx = sinh(x)."""
    return (exp(input) + exp(-input)) / 2


def asin(input):
    """atan2(x, sqrt(1 - x^2)), with 1 - x^2 as (1 - x)(1 + x), exact near |x| = 1.
    d/dx = 1 / sqrt(1 - x^2); nan outside [-1, 1], as numpy."""
    return atan2(input, sqrt((1 - input) * (1 + input)))


def acos(input):
    """atan2(sqrt(1 - x^2), x), accurate near x = 1 (where pi/2 - asin(x) cancels).
    d/dx = -1 / sqrt(1 - x^2)."""
    return atan2(sqrt((1 - input) * (1 + input)), input)


def atan(input):
    """atan2(x, 1); d/dx = 1 / (1 + x^2)."""
    return atan2(input, 1.0)


def asinh(input):
    """log(a + sqrt(a^2 + 1)) for a = |x|, with the sign of x (asinh is odd; the gradient at 0
    is 1). Computed as log1p(a + a^2 / (1 + sqrt(1 + a^2))), which does not cancel at small a,
    and as log(a) + ln 2 beyond a = 1e8, where the two agree to 1e-17 and a^2 would soon
    overflow. d/dx = 1 / sqrt(x^2 + 1)."""
    neg = np.signbit(_data(input))  # -0.0 too: asinh(-0.0) = -0.0
    a = where(neg, -input, input)
    big = a > 1e8
    s = where(big, 0.0, a)  # each branch gets inputs it can take: where's gradient of 0
    y = where(big, log(where(big, a, 1.0)) + LN2,  # times an inf would be nan
              log1p(s + s * s / (1 + sqrt(1 + s * s))))
    return where(neg, -y, y)


def acosh(input):
    """log(x + sqrt(x^2 - 1)) as log1p(t + sqrt(t) sqrt(x + 1)), t = x - 1: exact near x = 1
    and no x^2 to overflow. d/dx = 1 / sqrt(x^2 - 1); nan below 1, as numpy."""
    t = input - 1
    return log1p(t + sqrt(t) * sqrt(input + 1))


def atanh(input):
    """(log1p(x) - log1p(-x)) / 2; d/dx = 1 / (1 - x^2); +-inf at +-1, nan beyond, as numpy."""
    return (log1p(input) - log1p(-input)) / 2


arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh


# -- two operands ------------------------------------------------------------------------------

def minimum(input, other):
    """-maximum(-a, -b): the smaller value; ties split the gradient equally, as PyTorch."""
    return -maximum(-input, -other)


def logaddexp(input, other):
    """log(exp(a) + exp(b)) = hi + log1p(exp(lo - hi)), hi and lo the larger and the smaller:
    never overflows, exact where exp(lo - hi) is tiny. hi and lo are chosen by a constant mask,
    and both choices are the same smooth function, so every derivative is exact, ties included
    (d/da = sigmoid(a - b) = 1/2 there)."""
    input, other = _weak(input, other), _weak(other, input)
    a, b = _data(input), _data(other)
    first = _test("logaddexp", np.greater_equal, a, b)._data
    hi, lo = where(first, input, other), where(first, other, input)
    with np.errstate(invalid="ignore"):  # inf - inf where a == b == +-inf: replaced by 0, the
        d = lo - hi                      # result being that inf
    return hi + log1p(exp(where(np.isinf(a) & (a == b), 0.0, d)))


def lerp(input, end, weight):
    """input + weight * (end - input); d/dinput = 1 - weight, d/dend = weight,
    d/dweight = end - input."""
    return add(input, mul(weight, sub(end, input)))


def copysign(input, other):
    """|input| with the sign (bit) of other. d/dinput = sign(input) * sign(out): 0 at input = 0,
    as PyTorch; d/dother = 0 (a sign bit is piecewise constant)."""
    s = np.where(np.signbit(_data(other)), -1.0, 1.0)
    x = _data(input)
    out = abs(input) * (s.astype(x.dtype) if x.dtype.kind == "f" else s)
    if isinstance(other, Tensor) and other.requires_grad:  # a zero gradient, as PyTorch
        out = where(False, _weak(other, input), out)
    return out


def remainder(input, other):
    """input - q * other for q = floor(input / other) (Python's %, numpy's remainder: the sign
    of other). d/dinput = 1, d/dother = -q."""
    return P.remainder(input, other)


def fmod(input, other):
    """input - q * other for q = trunc(input / other) (C's fmod: the sign of input).
    d/dinput = 1, d/dother = -q."""
    return P.remainder(input, other, fmod=True)


def floor_divide(input, other):
    """floor(input / other) exactly as numpy's // (so a == (a // b) * b + a % b): a Tensor
    without grad. PyTorch's floor_divide has no derivative either; for a zero gradient instead,
    use floor(a / b)."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        # a 0-d operand takes the other's float dtype, as PyTorch
        input, other = P._promote(input._data, other._data)
    return _test("floor_divide", np.floor_divide, input, other)


def positive(input):
    """+x: input itself, as PyTorch."""
    return input


def __mod__(self, other):
    return remainder(self, other)


def __rmod__(self, other):
    return remainder(other, self)


def __floordiv__(self, other):
    return floor_divide(self, other)


def __rfloordiv__(self, other):
    return floor_divide(other, self)


__pos__ = positive


# -- rounding: zero gradient, as PyTorch -------------------------------------------------------

def floor(input):
    """The largest integer <= x; d/dx = 0."""
    return P.round(input, mode="floor")


def ceil(input):
    """The smallest integer >= x; d/dx = 0."""
    return P.round(input, mode="ceil")


def trunc(input):
    """x rounded toward 0; d/dx = 0."""
    return P.round(input, mode="trunc")


def round(input, *, decimals=0):
    """x rounded to `decimals` places, halves to even (round(2.5) = 2), as PyTorch; d/dx = 0."""
    return P.round(input, mode="round", decimals=decimals)


def frac(input):
    """x - trunc(x), with the sign of x; d/dx = 1."""
    return input - trunc(input)


fix = trunc


# -- clamp and masks ---------------------------------------------------------------------------

def _weak(bound, input):
    """A 0-d float Tensor bound takes input's float dtype, as a Python number would (PyTorch:
    0-d tensors do not change the dtype of a tensor with dimensions)."""
    if isinstance(bound, Tensor) and bound.ndim == 0 and bound.dtype.kind == "f":
        x = _data(input)
        if x.ndim and x.dtype.kind == "f" and x.dtype != bound.dtype:
            return P.to(bound, dtype=x.dtype)
    return bound


def clamp(input, min=None, max=None):
    """min(max(x, min), max), bounds numbers or tensors (broadcasting). The gradient as PyTorch:
    x gets g where min <= x <= max (both bounds included), a tensor min gets g where x < min,
    a tensor max where x > max; if min > max the result is max, and max gets g everywhere.
    NaN stays NaN, with gradient 0 (as PyTorch). Deliberately different: where min == max and
    x < min, PyTorch sends the gradient to neither bound (its min rule needs min < max); here
    min gets it."""
    if min is None and max is None:
        raise TypeError("clamp(): at least one of min and max must not be None")
    out = input
    if min is not None:  # `x < min` is False for nan: nan passes through
        out = where(out < min, _weak(min, input), out)
    if max is not None:
        out = where(out > max, _weak(max, input), out)
    if isinstance(input, Tensor) and input.requires_grad:
        x = input._data  # a NaN input: the constant NaN, so that x gets gradient 0 there
        out = where(x != x, np.nan, out)
    return out


clip = clamp


def masked_fill(input, mask, value):
    """input with `value` where the bool `mask` (broadcast to input's shape) is True.
    d/dinput = g where not mask; a 0-d Tensor value gets the sum of g over the mask."""
    m, x = _data(mask), _data(input)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill(): the mask must be a bool tensor, got dtype {m.dtype}; "
                        f"use a comparison such as x > 0, or mask.bool()")
    if np.broadcast_shapes(m.shape, x.shape) != x.shape:
        raise ShapeError(f"masked_fill(): a mask of shape {m.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise ShapeError(f"masked_fill(): value must be a number or a 0-d tensor, got "
                             f"shape {value.shape}")
        value = _weak(value, input)
    else:
        value = np.asarray(value, dtype=x.dtype)  # as PyTorch: the input's dtype is kept
    return where(mask, value, input)


# -- tests of values: bool Tensors without grad ------------------------------------------------

def isnan(input):
    return _test("isnan", np.isnan, input)


def isinf(input):
    return _test("isinf", np.isinf, input)


def isfinite(input):
    return _test("isfinite", np.isfinite, input)


def logical_not(input):
    return _test("logical_not", np.logical_not, input)


def logical_and(input, other):
    return _test("logical_and", np.logical_and, input, other)


def logical_or(input, other):
    return _test("logical_or", np.logical_or, input, other)


def logical_xor(input, other):
    return _test("logical_xor", np.logical_xor, input, other)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (PyTorch's and numpy's rule)."""
    return _test("isclose", np.isclose, input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether isclose holds everywhere: a Python bool, as PyTorch."""
    return bool(np.all(isclose(input, other, rtol, atol, equal_nan)._data))


# -- casts -------------------------------------------------------------------------------------

def to(input, *args, dtype=None):
    """input as `dtype`: differentiable between float dtypes; otherwise a Tensor without grad.

    As PyTorch: `to(dtype)`, `to(other)` (other's dtype), `to("cpu")` and `to("cpu", dtype)`;
    a tensor that already has the dtype is returned itself."""
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, str) and a.split(":")[0] in ("cpu", "cuda", "mps", "xpu"):
            if a != "cpu":
                raise RuntimeError(f"to(): device {a!r} is not available; numpy runs on the cpu")
        else:
            dtype = a
    if dtype is None:
        return input
    dtype = np.dtype(dtype)
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    if dtype == x.dtype and isinstance(input, Tensor):
        return input
    if dtype.kind in "fc" and x.dtype.kind in "fc":
        return P.to(input, dtype=dtype)
    return result(x.astype(dtype))


_UNARY = ["sin", "cos", "tan", "exp2", "expm1", "log2", "log10", "log1p", "rsqrt", "square",
          "reciprocal", "erf", "floor", "ceil", "round", "trunc", "frac", "fix",
          "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
          "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
          "isnan", "isinf", "isfinite", "logical_not", "positive"]
_BINARY = ["minimum", "logaddexp", "lerp", "atan2", "arctan2", "copysign", "remainder", "fmod",
           "floor_divide", "logical_and", "logical_or", "logical_xor", "isclose", "allclose",
           "clamp", "clip", "masked_fill"]
__all__ = ["abs", "exp", "log", "sqrt", "sign", "sigmoid", "tanh", "relu", "add", "sub", "mul",
           "div", "pow", "neg", "maximum", "where", "to"] + _UNARY + _BINARY
METHODS = ["exp", "log", "sqrt", "sign", "sigmoid", "tanh", "relu", "add", "sub", "mul", "div",
           "pow", "neg", "abs", "to", "maximum"] + _UNARY + _BINARY + [
    "__mod__", "__rmod__", "__floordiv__", "__rfloordiv__", "__pos__"]
