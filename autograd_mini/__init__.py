"""autograd_mini: a small, exact and fast reverse-mode autodiff engine on numpy."""
from . import functional
from .compare import compare_gradients
from .gradcheck import gradcheck
from .graph import draw_graph
from .ops import OPS
from .tensor import Tensor, is_grad_enabled, no_grad

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "gradcheck", "draw_graph", "functional", "OPS",
           "compare_gradients"]
