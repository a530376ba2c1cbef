"""Activation functions (functional forms, as torch.nn.functional)."""
from .. import primitives as P

__all__ = []
METHODS = []
