"""autograd_mini: a small, exact and fast reverse-mode autodiff engine on numpy."""
__version__ = "0.2.0"  # the one place it is written: pyproject.toml reads it from here
import numpy as _np

from .tensor import Tensor  # first: the modules below build on it
from . import methods  # noqa: F401  (binds Tensor's methods to the ops, once)
from . import functional
from .compare import compare_gradients
from .gradcheck import gradcheck, gradgradcheck
from .function import Function, FunctionCtx
from . import func
from .graph import draw_graph
from .primitives import OPS
from .replay import replay_backward
from .tape import (detect_anomaly, enable_grad, grad, is_anomaly_enabled, is_grad_enabled,
                   no_grad, set_detect_anomaly)
from .compile import CompileError, compile  # noqa: A004 (torch.compile's name, on purpose)
from .compositions import cat, stack
from .factories import arange, manual_seed, ones, randn, tensor, zeros  # `tensor` hides the module

# numpy's dtypes under PyTorch's names: Tensor(x, dtype=autograd_mini.float32)
float32, float64, int64, bool = _np.float32, _np.float64, _np.int64, _np.bool_  # noqa: A001

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck",
           "draw_graph", "functional", "OPS", "compare_gradients",
           "gradgradcheck", "Function", "FunctionCtx", "func", "replay_backward", "nn",
           "manual_seed", "cat", "stack", "zeros", "ones", "randn", "arange", "tensor",
           "compile", "CompileError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def __getattr__(name):
    """`autograd_mini.nn`: the nn package, imported on first use (nn imports autograd_mini, so
    it cannot be imported at the start; see nn.py)."""
    if name == "nn":
        import importlib
        return importlib.import_module(".nn", __name__)
    raise AttributeError(f"module 'autograd_mini' has no attribute {name!r}")
