"""Embedding as torch.nn.Embedding: a lookup table of learned vectors, one row per index."""
import numpy as np

from autograd_mini import Tensor
from autograd_mini import functional as F

from .layers import _as_rng, _check_size
from .module import Module, Parameter


class Embedding(Module):
    """out = weight[input]: integer indices of any shape give input.shape + (embedding_dim,).

    weight, (num_embeddings, embedding_dim), starts N(0, 1) as in PyTorch, with the row
    `padding_idx` (if given; negative counts from the end, stored non-negative) zeroed; that
    row gets no gradient, so it stays as it is. The gradient of a repeated index accumulates.
    `rng`: an int seed or a numpy Generator, kept for `reset_parameters()` (default: the
    generator `nn.manual_seed` reseeds).
    `dtype`: float64 by default; the output has the weight's dtype whatever the indices' integer
    dtype. max_norm, scale_grad_by_freq and sparse are not supported.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=np.float64,
                 rng=None):
        super().__init__()
        self.num_embeddings = _check_size("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = _check_size("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = _padding_idx(padding_idx, self.num_embeddings)
        self.rng = None if rng is None else _as_rng(rng)  # a seed becomes one Generator, kept
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim)), dtype)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw the weight from N(0, 1) with the layer's generator, row padding_idx zeroed."""
        w = _as_rng(self.rng).standard_normal(self.weight.shape)
        if self.padding_idx is not None:
            w[self.padding_idx] = 0
        self.weight.data = w.astype(self.weight.dtype)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None):
        """An Embedding whose weight is (a copy of) the 2-D `embeddings`; freeze=True: the
        weight does not require grad, as PyTorch."""
        data = embeddings.data if isinstance(embeddings, Tensor) else np.asarray(embeddings)
        if data.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{data.shape}")
        m = cls(*data.shape, padding_idx=padding_idx, dtype=data.dtype, rng=0)
        m.weight.data = data.copy()
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"


def _padding_idx(padding_idx, n):
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise ValueError(f"Embedding: padding_idx must be within num_embeddings ({n}), got "
                         f"{padding_idx}")
    return int(padding_idx) % n
