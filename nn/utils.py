"""nn.utils: gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_."""
import numpy as np

from autograd_mini import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def _scale(p, factor):
    """p.grad *= factor, in place as PyTorch (a read-only gradient array is replaced)."""
    with np.errstate(invalid="ignore"):  # inf * 0 = nan, silently, as PyTorch
        try:
            p.grad *= factor
        except ValueError:
            p.grad = p.grad * factor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients of `parameters` (an iterable of tensors, or one tensor) in place so
    that their total norm is at most `max_norm`, as torch.nn.utils.clip_grad_norm_.

    The total norm is the `norm_type`-norm of the vector of each gradient's norm (the norm of
    all gradients concatenated; `norm_type` may be float("inf")). Every gradient is multiplied
    by min(1, max_norm / (total_norm + 1e-6)). Parameters without a gradient are skipped.

    Returns the total norm before clipping as a 0-d Tensor (as PyTorch; `float(...)` or
    `.item()` gives the number), in the gradients' dtype; Tensor(0.0) when no gradient exists.
    A total norm that is nan or inf raises RuntimeError if `error_if_nonfinite`, else the
    gradients are scaled by it anyway (they become nan), as PyTorch.
    """
    params = _grads(parameters)
    if not params:
        return Tensor(0.0)
    norm_type = float(norm_type)
    grads = [p.grad for p in params]
    norms = np.stack([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads])
    total = np.linalg.norm(norms, ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            f"non-finite, so it cannot be clipped. To disable this error and scale the "
            f"gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    coef = min(float(max_norm) / (float(total) + 1e-6), 1.0)
    for p in params:
        _scale(p, coef)
    return Tensor(np.asarray(total))


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient of `parameters` to [-clip_value, clip_value] in place, as
    torch.nn.utils.clip_grad_value_; returns None."""
    clip_value = float(clip_value)
    for p in _grads(parameters):
        try:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
        except ValueError:
            p.grad = np.clip(p.grad, -clip_value, clip_value)
