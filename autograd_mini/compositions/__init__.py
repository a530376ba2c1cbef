"""Ops composed from the primitives, with PyTorch's names, argument names and defaults.

Nothing here has a VJP of its own: first and higher derivatives come from the primitives of
the op table (primitives.py) for free, which is the point of the engine. A composition is
written as the math reads (`var = mean((x - mean(x))^2) * n / (n - correction)`).

One module per group; each lists its public functions in `__all__` (they are also in
`autograd_mini.functional`, primitives of its group included) and the names that are also
Tensor methods in `METHODS` (`x.mean(1)` is `mean(x, 1)`).
"""
from . import activations, conv, elementwise, normalization, reductions, shape
from ._args import AxisError
from .activations import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .elementwise import (__floordiv__, __mod__, __pos__, __rfloordiv__,  # noqa: F401
                          __rmod__)  # operators of Tensor, not functions of F
from .normalization import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .shape import T, getitem, mT  # noqa: F401  (properties and indexing of Tensor)

GROUPS = (elementwise, reductions, shape, activations, conv, normalization)
__all__ = [name for group in GROUPS for name in group.__all__]
METHODS = [name for group in GROUPS for name in group.METHODS]
