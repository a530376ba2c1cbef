"""Shared helpers: a central-difference gradient that is independent of the engine's VJPs."""
import shutil

import numpy as np
import pytest

from autograd_mini import Tensor, no_grad


def numeric_grad(f, arrays, i, eps=1e-6):
    """d f(*arrays) / d arrays[i] by central differences; f returns a float."""
    arrays = [a.copy() for a in arrays]
    x = arrays[i]
    grad = np.zeros_like(x, dtype=np.float64)
    for k in np.ndindex(x.shape):
        old = x[k]
        x[k] = old + eps
        plus = f(*arrays)
        x[k] = old - eps
        minus = f(*arrays)
        x[k] = old
        grad[k] = (plus - minus) / (2 * eps)
    return grad


def check_grads(fn, *arrays, rtol=1e-5, atol=1e-7, seed=0):
    """Compare backward's gradient of fn(*Tensors) with central differences, in float64.

    Returns fn's output, for further checks of its value.

    The output is contracted with random weights w (backward(grad=w)), not summed: a plain sum
    would hide wrong VJPs whose errors sum to zero (softmax(x).sum() == 1 for every x).
    """
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    tensors = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    w = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(w)

    def scalar(*arrs):
        with no_grad():
            return float(np.sum(fn(*[Tensor(a) for a in arrs]).data * w))

    for i, t in enumerate(tensors):
        assert isinstance(t.grad, np.ndarray), f"input {i}: grad is {type(t.grad)}"
        assert t.grad.shape == arrays[i].shape, f"input {i}: grad shape {t.grad.shape}"
        assert t.grad.dtype == np.float64
        np.testing.assert_allclose(t.grad, numeric_grad(scalar, arrays, i), rtol=rtol,
                                   atol=atol, err_msg=f"gradient of input {i}")
    return out


def sample(shape, domain="any", seed=0):
    """Random float64 data away from kinks and poles: |x| in [0.3, 2], or x in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    mag = rng.uniform(0.5 if domain == "pos" else 0.3, 2.0, size=shape)
    if domain == "pos":
        return mag
    return mag * rng.choice([-1.0, 1.0], size=shape)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# -- closed-form comparisons shared by the tests of the course documents (test_formulas_*) -----

RTOL, ATOL = 1e-10, 1e-13  # autodiff vs a document's closed form, both float64


def close(autodiff, manual, rtol=RTOL, atol=ATOL):
    """Autodiff agrees with a closed form: same shape, values to rtol 1e-10."""
    assert np.shape(autodiff) == np.shape(manual)
    np.testing.assert_allclose(autodiff, manual, rtol=rtol, atol=atol)


def differs(a, b):
    """An erratum's printed formula is clearly off (shape, or beyond rounding)."""
    return np.shape(a) != np.shape(b) or not np.allclose(a, b, rtol=1e-3, atol=1e-8)


def sigma(t):
    return 1 / (1 + np.exp(-t))


# -- tests that render with Graphviz's `dot` program: @pytest.mark.requires_dot -----------------

INSTALL_DOT = ("needs Graphviz's 'dot' program, which is not on PATH; install Graphviz to run "
               "it: 'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
               "(macOS) or 'conda install -c conda-forge graphviz'")


def pytest_configure(config):
    config.addinivalue_line("markers", "requires_dot: renders with Graphviz's `dot` program; "
                                       "skipped, with the install advice, when it is not on PATH")


def pytest_collection_modifyitems(config, items):
    if shutil.which("dot") is None:
        for item in items:
            if item.get_closest_marker("requires_dot"):
                item.add_marker(pytest.mark.skip(reason=INSTALL_DOT))
