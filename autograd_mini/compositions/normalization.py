"""Normalisation and lookup, as torch.nn.functional: batch_norm, layer_norm, embedding.

All three are compositions, with no VJP of their own, so they are differentiable to any order,
through the batch statistics too: x_hat = (x - mean) / sqrt(var + eps) is written with the
mean primitive, so the gradient of batch_norm in training is the textbook one (three terms),
produced by the engine rather than written out. embedding is a getitem of the weight's rows,
whose VJP (index_put) scatter-adds the gradient of a repeated index.

Running statistics are not part of the graph: batch_norm writes them in place (as PyTorch,
from the values the forward computed), whatever the grad mode.
"""
import numpy as np

from .. import primitives as P
from ..tape import ShapeError
from ..tensor import Tensor
from . import elementwise as E
from ._args import shape_of
from .shape import _index


def _tensor(input):
    return input if isinstance(input, Tensor) else Tensor(np.asarray(input))


def _standardize(x, dims, eps):
    """(x - mean) / sqrt(var + eps) over `dims`, with the biased variance; also mean and var
    (kept dims). d is computed once: var is the mean of its squares."""
    mean = P.mean(x, axis=dims, keepdims=True)
    d = x - mean
    var = P.mean(d * d, axis=dims, keepdims=True)
    return d * E.rsqrt(var + eps), mean, var


def _affine(y, weight, bias, shape):
    """y * weight + bias, each (when given) reshaped to `shape` to broadcast against y."""
    if weight is not None:
        y = y * P.reshape(weight, shape=shape)
    if bias is not None:
        y = y + P.reshape(bias, shape=shape)
    return y


def _check_vector(name, what, v, n, input_shape):
    if v is not None and shape_of(v) != (n,):
        raise ShapeError(f"{name}(): {what} must have shape ({n},), one entry per channel of "
                         f"the input of shape {input_shape} (dim 1), got {shape_of(v)}")


def _write(stat, value):
    """stat[...] = value in place: a buffer Tensor (its version bumped, as PyTorch's in-place
    update of the running statistics) or an ndarray."""
    if isinstance(stat, Tensor):
        stat.copy_(value)
    else:
        np.copyto(stat, value, casting="unsafe")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1 of an (N, C, *) input),
    the statistics taken over every other dim.

    training=True: the batch's mean and biased variance, and the running statistics (when
    given) are updated in place: running = (1 - momentum) running + momentum batch, with the
    batch's UNBIASED variance (n / (n - 1) times the one used to normalise), as PyTorch.
    The gradient flows through the batch statistics. training=False: running_mean and
    running_var (cast to the input's dtype) are used, as constants.
    """
    shape = shape_of(input)
    if len(shape) < 2:
        raise ShapeError(f"batch_norm(): the input must be (N, C) or (N, C, *), got shape "
                         f"{shape}; add a batch dim with x.unsqueeze(0)")
    c = shape[1]
    for what, v in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        _check_vector("batch_norm", what, v, c, shape)
    x = _tensor(input)
    per_channel = (1, c) + (1,) * (len(shape) - 2)
    if training:
        n = x.numel() // c
        if n <= 1:
            raise ValueError(f"batch_norm(): expected more than 1 value per channel when "
                             f"training, got input size {shape}")
        dims = (0,) + tuple(range(2, len(shape)))
        y, mean, var = _standardize(x, dims, eps)
        if running_mean is not None:
            _write(running_mean, (1 - momentum) * np.asarray(running_mean)
                   + momentum * mean.data.reshape(c))
        if running_var is not None:
            _write(running_var, (1 - momentum) * np.asarray(running_var)
                   + momentum * var.data.reshape(c) * (n / (n - 1)))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm(): running_mean and running_var are needed when not "
                             "training (training=False); pass them, or training=True to use "
                             "the batch's statistics")
        mean, var = (np.asarray(s).astype(x.dtype).reshape(per_channel)
                     for s in (running_mean, running_var))
        y = (x - mean) * E.rsqrt(Tensor(var) + eps)
    return _affine(y, weight, bias, per_channel)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """(x - mean) / sqrt(var + eps) * weight + bias, the mean and biased variance taken over
    the last len(normalized_shape) dims (which must be `normalized_shape`); weight and bias
    have shape normalized_shape."""
    norm = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else \
        tuple(normalized_shape)
    shape, k = shape_of(input), len(norm)
    if k == 0 or k > len(shape) or shape[len(shape) - k:] != norm:
        raise ShapeError(f"layer_norm(): given normalized_shape={list(norm)}, expected input "
                         f"with shape [*, {', '.join(map(str, norm))}], but got input of size "
                         f"{list(shape)}")
    for what, v in (("weight", weight), ("bias", bias)):
        if v is not None and shape_of(v) != norm:
            raise ShapeError(f"layer_norm(): {what} must have shape normalized_shape={norm}, "
                             f"got {shape_of(v)}")
    y, _, _ = _standardize(_tensor(input), tuple(range(len(shape) - k, len(shape))), eps)
    return _affine(y, weight, bias, norm)


def embedding(input, weight, padding_idx=None):
    """weight[input]: the rows of the (num_embeddings, embedding_dim) `weight` at the integer
    indices `input` (any shape), giving input.shape + (embedding_dim,). d/dweight scatter-adds
    the gradient into the rows (a repeated index accumulates); the row `padding_idx` (negative
    counts from the end) gets none, as PyTorch. max_norm, scale_grad_by_freq and sparse are
    not supported."""
    wshape = shape_of(weight)
    if len(wshape) != 2:
        raise ShapeError(f"embedding(): weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {wshape}")
    n = wshape[0]
    idx = _index("embedding", input, n, 0)
    w = _tensor(weight)
    rows = P.getitem(w, idx=idx)
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding(): padding_idx must be within num_embeddings ({n}), got "
                         f"{padding_idx}")
    is_pad = (idx == padding_idx % n)[..., None]
    # the padding row's lookups read a detached copy: same values, no gradient to that row
    return P.where(is_pad, P.getitem(w.detach(), idx=idx), rows)


__all__ = ["batch_norm", "layer_norm", "embedding"]
METHODS = []  # none of these is a torch.Tensor method
