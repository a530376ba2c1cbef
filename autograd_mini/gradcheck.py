"""Compare backward's gradients with central finite differences."""
import numpy as np

from .tape import no_grad
from .tensor import Tensor


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check the gradient of `fn(*inputs).sum()` for every input that requires grad.

    Returns True, or raises AssertionError naming the input, the worst index and both values.
    Use float64 inputs: float32 finite differences are too coarse for these tolerances.
    """
    inputs = list(inputs)
    tensors = [(i, t) for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not tensors:
        raise ValueError("gradcheck: no input requires grad; pass Tensors with requires_grad=True")
    saved = [t.grad for _, t in tensors]  # the caller's accumulated grads come back untouched
    for _, t in tensors:
        t.grad = None
    out = fn(*inputs)
    out = out if out.size == 1 else out.sum()
    out.backward()
    analytics = [np.zeros_like(t.data) if t.grad is None else t.grad for _, t in tensors]
    for (_, t), g in zip(tensors, saved):
        t.grad = g
    for (i, t), analytic in zip(tensors, analytics):
        numeric = np.zeros_like(t.data, dtype=np.float64)
        x = t.data  # perturbed in place: element writes are untracked, so no version bump
        with no_grad():
            for k in np.ndindex(x.shape):
                old = x[k]
                x[k] = old + eps
                plus = float(fn(*inputs).data.sum())
                x[k] = old - eps
                minus = float(fn(*inputs).data.sum())
                x[k] = old
                numeric[k] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if err.size and (np.any(err > 0) or not np.all(np.isfinite(analytic))):
            k = np.unravel_index(np.argmax(np.where(np.isfinite(err), err, np.inf)), err.shape)
            raise AssertionError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) disagrees with finite "
                f"differences at index {tuple(int(j) for j in k)}: "
                f"analytic {float(analytic[k])!r}, numeric {float(numeric[k])!r} "
                f"(eps={eps}, atol={atol}, rtol={rtol})")
    return True
