"""autograd_mini: a small, exact and fast reverse-mode autodiff engine on numpy."""
__version__ = "0.2.0"  # the one place it is written: pyproject.toml reads it from here
from .tensor import Tensor  # first: the modules below build on it
from . import functional
from .compare import compare_gradients
from .gradcheck import gradcheck, gradgradcheck
from .function import Function, FunctionCtx
from . import func
from .graph import draw_graph
from .primitives import OPS
from .replay import replay_backward
from .tape import enable_grad, grad, is_grad_enabled, no_grad

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck",
           "draw_graph", "functional", "OPS", "compare_gradients",
           "gradgradcheck", "Function", "FunctionCtx", "func", "replay_backward"]
