"""Convolution and pooling, as torch.nn.functional (NCHW; names, arguments and defaults as
PyTorch).

All are compositions over two primitives of the op table, im2col and its adjoint col2im
(primitives.py): im2col(x)[n, c, p, q, i, j] = x_pad[n, c, i*s + p*d, j*s + q*d] is the
(N, C, kh, kw, OH, OW) view of every window, col2im adds such windows back into an image. Then

    conv2d(x, W)  = W (O, C*kh*kw) @ im2col(x) (N, C*kh*kw, OH*OW), per group
    d/dx          = col2im(W.T @ g)        (a transposed convolution: im2col's VJP)
    d/dW          = g @ im2col(x).T        (a convolution of x with g: matmul's VJP)

and derivatives of every order come from im2col, col2im, reshape and matmul, whose VJPs are
each other. Pooling reduces im2col's window axes: max_pool2d keeps the first maximum of each
window (a where on the argmax, so the gradient goes to it alone, as PyTorch), avg_pool2d sums
and divides by PyTorch's divisor. adaptive_avg_pool2d is two averaging matrices, A_h @ x @ A_w.T:
its windows differ in size, so they are not one im2col.
"""
import math

import numpy as np

from .. import primitives as P
from ..tape import ShapeError, result
from ..tensor import Tensor
from ._args import shape_of

# The group's primitives, in F too: the (N, C, kh, kw, OH, OW) windows and their adjoint
im2col, col2im = P.im2col, P.col2im


def _pair(name, what, v, n=2, minimum=1):
    """An int or a tuple of n ints, each >= minimum, as a tuple."""
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if len(t) != n or not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                              for a in t):
        raise TypeError(f"{name}(): {what} must be an int or a tuple of {n} ints, got {v!r}")
    if min(t) < minimum:
        raise ValueError(f"{name}(): {what} must be {'positive' if minimum else 'non-negative'}"
                         f", got {v!r}")
    return tuple(int(a) for a in t)


def _batched(name, input, ndim):
    """input as a batch (N, C, *spatial), and whether a batch axis was added (unbatched input)."""
    shape = shape_of(input)
    if len(shape) == ndim + 1:
        return P.reshape(input, shape=(1,) + shape), True
    if len(shape) != ndim + 2:
        raise ShapeError(f"{name}(): expected a {ndim + 1}-D (unbatched) or {ndim + 2}-D "
                         f"(batched) input, got input of shape {shape}")
    return input, False


def _unbatched(out, added):
    return P.reshape(out, shape=shape_of(out)[1:]) if added else out


def _size(name, n, k, s, pad, d):
    """The output length along one axis: (n + pad - d*(k-1) - 1) // s + 1 (pad: both sides)."""
    span = d * (k - 1) + 1
    if n + pad < span:
        raise ShapeError(f"{name}(): the padded input size per channel ({n + pad}) is smaller "
                         f"than the kernel's extent ({span} = dilation*(kernel_size-1) + 1); use "
                         f"a smaller kernel or dilation, or more padding")
    return (n + pad - span) // s + 1


# -- convolution -------------------------------------------------------------------------------

def _conv_padding(name, padding, kernel, stride, dilation):
    """PyTorch's padding: an int or tuple (both sides), "valid" (0) or "same" (d*(k-1) in total,
    the odd one on the bottom/right), as ((top, bottom), (left, right))."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * len(kernel)
        if padding != "same":
            raise ValueError(f"{name}(): invalid padding string {padding!r}, should be one of "
                             f"['valid', 'same']")
        if any(s != 1 for s in stride):
            raise ValueError(f"{name}(): padding='same' is not supported for strided "
                             f"convolutions (stride={stride}); pad explicitly instead")
        return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                     for k, d in zip(kernel, dilation))
    return tuple((p, p) for p in _pair(name, "padding", padding, len(kernel), minimum=0))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """out[n, o, i, j] = bias[o] + sum_{c, p, q} weight[o, c, p, q] x_pad[n, g*C/G + c,
    i*sh + p*dh, j*sw + q*dw] for o in group g: input (N, C, H, W) or (C, H, W), weight
    (O, C/groups, kh, kw), bias (O,). One im2col and one matmul per group (batched over the
    samples). A float32 input with a float64 weight is promoted (PyTorch raises)."""
    x, added = _batched("conv2d", input, 2)
    (n, c, h, w), wshape = shape_of(x), shape_of(weight)
    if len(wshape) != 4:
        raise ShapeError(f"conv2d(): weight must be 4-D (out_channels, in_channels/groups, kH, "
                         f"kW), got shape {wshape}")
    o, cg, kh, kw = wshape
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"conv2d(): groups must be a positive integer, got {groups!r}")
    if o % groups:
        raise ShapeError(f"conv2d(): given groups={groups}, expected weight to be divisible by "
                         f"{groups} at dimension 0, but got weight of shape {wshape}")
    if c != cg * groups:
        raise ShapeError(f"conv2d(): given groups={groups}, weight of shape {wshape}, expected "
                         f"input of shape {shape_of(input)} to have {cg * groups} channels "
                         f"(weight.shape[1] * groups), but got {c} channels; the channels are "
                         f"axis {0 if added else 1}")
    if bias is not None and shape_of(bias) != (o,):
        raise ShapeError(f"conv2d(): given weight of shape {wshape}, expected bias of shape "
                         f"({o},), got {shape_of(bias)}")
    stride, dilation = _pair("conv2d", "stride", stride), _pair("conv2d", "dilation", dilation)
    pads = _conv_padding("conv2d", padding, (kh, kw), stride, dilation)
    if min(kh, kw) < 1:
        raise ShapeError(f"conv2d(): the kernel must not be empty, got weight of shape {wshape}")
    oh, ow = (_size("conv2d", m, k, s, sum(p), d)
              for m, k, s, p, d in zip((h, w), (kh, kw), stride, pads, dilation))
    cols = P.im2col(x, kernel_size=(kh, kw), stride=stride, padding=pads, dilation=dilation)
    cols = P.reshape(cols, shape=(n, groups, cg * kh * kw, oh * ow))
    out = P.reshape(weight, shape=(groups, o // groups, cg * kh * kw)) @ cols
    out = P.reshape(out, shape=(n, o, oh, ow))
    if bias is not None:
        out = out + P.reshape(bias, shape=(o, 1, 1))
    return _unbatched(out, added)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """conv2d over (N, C, 1, L): input (N, C, L) or (C, L), weight (O, C/groups, k)."""
    x, added = _batched("conv1d", input, 1)
    if len(shape_of(weight)) != 3:
        raise ShapeError(f"conv1d(): weight must be 3-D (out_channels, in_channels/groups, "
                         f"kernel_size), got shape {shape_of(weight)}")
    if not isinstance(padding, str):
        padding = (0,) + _pair("conv1d", "padding", padding, 1, minimum=0)
    stride, dilation = (1,) + _pair("conv1d", "stride", stride, 1), \
        (1,) + _pair("conv1d", "dilation", dilation, 1)
    (n, c, length), (o, cg, k) = shape_of(x), shape_of(weight)
    out = conv2d(P.reshape(x, shape=(n, c, 1, length)), P.reshape(weight, shape=(o, cg, 1, k)),
                 bias, stride, padding, dilation, groups)
    return _unbatched(P.reshape(out, shape=shape_of(out)[:2] + (shape_of(out)[3],)), added)


# -- unfold and fold: im2col and col2im in PyTorch's layout ------------------------------------

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding windows of input (N, C, H, W) as columns, (N, C*kh*kw, L) with L = OH*OW,
    as torch.nn.functional.unfold."""
    x, added = _batched("unfold", input, 2)
    n, c, h, w = shape_of(x)
    k, s = _pair("unfold", "kernel_size", kernel_size), _pair("unfold", "stride", stride)
    d, pads = _pair("unfold", "dilation", dilation), _pair("unfold", "padding", padding, minimum=0)
    pads = tuple((a, a) for a in pads)
    oh, ow = (_size("unfold", *a) for a in zip((h, w), k, s, map(sum, pads), d))
    cols = P.im2col(x, kernel_size=k, stride=s, padding=pads, dilation=d)
    return _unbatched(P.reshape(cols, shape=(n, c * k[0] * k[1], oh * ow)), added)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The adjoint of unfold: columns (N, C*kh*kw, L) summed back into (N, C, *output_size)."""
    cols, added = _batched("fold", input, 1)
    n, ckk, length = shape_of(cols)
    k, s = _pair("fold", "kernel_size", kernel_size), _pair("fold", "stride", stride)
    d, pads = _pair("fold", "dilation", dilation), _pair("fold", "padding", padding, minimum=0)
    pads = tuple((a, a) for a in pads)
    size = _pair("fold", "output_size", output_size)
    oh, ow = (_size("fold", *a) for a in zip(size, k, s, map(sum, pads), d))
    if ckk % (k[0] * k[1]) or length != oh * ow:
        raise ShapeError(f"fold(): input of shape {shape_of(input)} does not match: expected "
                         f"C*{k[0]}*{k[1]} rows and {oh}*{ow} = {oh * ow} columns for "
                         f"output_size={size}")
    cols = P.reshape(cols, shape=(n, ckk // (k[0] * k[1])) + k + (oh, ow))
    return _unbatched(P.col2im(cols, size=size, stride=s, padding=pads, dilation=d), added)


# -- pooling -----------------------------------------------------------------------------------

def _pool_size(name, n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length, and the padding the last window needs past the end
    (ceil_mode): a window must start inside the input or the left padding."""
    span = d * (k - 1) + 1
    out = (n + 2 * p - span + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out < 1:
        raise ShapeError(f"{name}(): the output is empty: input size {n} with padding {p} is "
                         f"smaller than the window ({span}); use a smaller kernel_size or more "
                         f"padding")
    return out, max((out - 1) * s + span - (n + 2 * p), 0)


def _pool_args(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    x, added = _batched(name, input, 2)
    k = _pair(name, "kernel_size", kernel_size)
    s = k if stride is None or stride == () else _pair(name, "stride", stride)
    p, d = _pair(name, "padding", padding, minimum=0), _pair(name, "dilation", dilation)
    limit = [(d_ * (k_ - 1) + 1) // 2 for k_, d_ in zip(k, d)]  # half the effective kernel
    if any(p_ > m for p_, m in zip(p, limit)):
        raise ValueError(f"{name}(): pad should be at most half of the (effective) kernel size "
                         f"dilation*(kernel_size-1)+1, but got padding={p}, kernel_size={k} and "
                         f"dilation={d}")
    h, w = shape_of(x)[2:]
    (oh, eh), (ow, ew) = (_pool_size(name, *a, ceil_mode) for a in zip((h, w), k, s, p, d))
    return x, added, k, s, p, d, (oh, ow), ((p[0], p[0] + eh), (p[1], p[1] + ew))


def _first_max(cols, inside=None):
    """The index of each window's first maximum (or NaN) along axis 2 of cols (N, C, k, OH, OW),
    and the mask that picks it (compile traces this function: the mask is a line of its
    program). With `inside` (the cells that are input, not padding), the first among those, so
    a window of -inf inputs never picks its padding, as PyTorch."""
    if inside is None:
        first = np.argmax(cols, axis=2)
    else:
        m = cols.max(axis=2, keepdims=True)  # inputs included, as PyTorch's
        first = np.argmax(((cols == m) | (cols != cols)) & inside, axis=2)
    return first, first[:, :, None] == np.arange(cols.shape[2])[:, None, None]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """The maximum of each window (stride defaults to kernel_size; padding is -inf). The
    gradient goes to the first maximum of a window in row-major order, as PyTorch's; overlapping
    windows add theirs. return_indices: also the flat index h*W + w of each maximum in the
    (unpadded) input plane, int64, as PyTorch's. A window with NaNs gives NaN; its index is
    the first NaN here (numpy's argmax), the last in PyTorch's CPU kernel."""
    x, added, k, s, p, d, (oh, ow), pads = _pool_args(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    n, c, h, w = shape_of(x)
    padded = pads != ((0, 0), (0, 0))
    if padded:  # -inf around the input
        from .shape import pad
        x = pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]), value=-np.inf)
    cols = P.reshape(P.im2col(x, kernel_size=k, stride=s, padding=((0, 0), (0, 0)),
                              dilation=d), shape=(n, c, k[0] * k[1], oh, ow))
    inside = None
    if padded:  # the window cells that are input, not -inf padding: a constant of the shapes
        inside = P.im2col(np.ones((1, 1, h, w), bool), kernel_size=k, stride=s, padding=pads,
                          dilation=d)._data.reshape(1, 1, k[0] * k[1], oh, ow)
    first, picked = _first_max(cols._data if isinstance(cols, Tensor) else cols, inside)
    out = _unbatched(P.sum(P.where(picked, cols, 0), axis=2), added)
    if not return_indices:
        return out
    rows = np.arange(oh)[:, None] * s[0] - p[0] + first // k[1] * d[0]
    cols_ = np.arange(ow) * s[1] - p[1] + first % k[1] * d[1]
    index = (rows * w + cols_).astype(np.int64)
    return out, result(index[0] if added else index)


def _divisor(n, k, s, p, out, count_include_pad):
    """PyTorch's avg_pool divisor along one axis: each window's length, clipped to the padded
    input (count_include_pad) or to the input itself."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, n) - np.maximum(start, 0)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """The mean of each window (stride defaults to kernel_size; padding is 0): the window's sum
    over PyTorch's divisor, the window's size clipped to the padded input, or to the input
    without the padding (count_include_pad=False), or divisor_override."""
    name = "avg_pool2d"
    x, added, k, s, p, d, (oh, ow), pads = _pool_args(
        name, input, kernel_size, stride, padding, 1, ceil_mode)
    n, c, h, w = shape_of(x)
    cols = P.im2col(x, kernel_size=k, stride=s, padding=pads, dilation=(1, 1))
    sums = P.sum(P.reshape(cols, shape=(n, c, k[0] * k[1], oh, ow)), axis=2)
    if divisor_override is not None:
        if not divisor_override:
            raise ValueError(f"{name}(): divisor_override must be non-zero")
        return _unbatched(sums / divisor_override, added)
    dh = _divisor(h, k[0], s[0], p[0], oh, count_include_pad)
    dw = _divisor(w, k[1], s[1], p[1], ow, count_include_pad)
    dtype = sums.dtype if sums.dtype.kind == "f" else np.float64
    return _unbatched(sums / (dh[:, None] * dw).astype(dtype), added)


def _averaging(n, m, dtype):
    """The (m, n) matrix whose row i averages PyTorch's adaptive window i of n elements:
    [floor(i*n/m), ceil((i+1)*n/m))."""
    a = np.zeros((m, n), dtype)
    for i in range(m):
        lo, hi = (i * n) // m, -(-((i + 1) * n) // m)
        a[i, lo:hi] = 1 / (hi - lo)
    return a


def adaptive_avg_pool2d(input, output_size):
    """The mean over PyTorch's adaptive windows, rows [floor(i*H/OH), ceil((i+1)*H/OH)) and
    likewise columns: A_h @ x @ A_w.T with constant averaging matrices (the windows differ in
    size, so they are not one im2col). output_size: an int or (OH, OW), None keeping a size."""
    x, added = _batched("adaptive_avg_pool2d", input, 2)
    h, w = shape_of(x)[2:]
    size = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    size = tuple(n if m is None else m for m, n in zip(size, (h, w)))
    _pair("adaptive_avg_pool2d", "output_size", size)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    out = _averaging(h, size[0], dtype) @ (x @ _averaging(w, size[1], dtype).T)
    return _unbatched(out, added)


__all__ = ["conv1d", "conv2d", "unfold", "fold", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d", "im2col", "col2im"]
METHODS = []  # torch.Tensor has none of these as methods
