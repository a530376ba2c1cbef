"""Dropout as torch.nn.Dropout, with a numpy Generator you can seed."""
from autograd_mini import functional as F

from .layers import _as_rng
from .module import Module


class Dropout(Module):
    """In training, zero each element with probability p and scale the others by 1 / (1 - p)
    (inverted dropout: the expectation is unchanged); in eval() the identity. F.dropout.

    `rng` (not in PyTorch, whose masks come from torch's global generator): an int seed or a
    numpy Generator for this layer's masks; default: the generator `nn.manual_seed` reseeds,
    looked up at each call, so `nn.manual_seed(0)` makes the masks reproducible.
    """

    def __init__(self, p=0.5, inplace=False, rng=None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace
        self.rng = None if rng is None else _as_rng(rng)  # a seed becomes one Generator

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace, generator=_as_rng(self.rng))

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
