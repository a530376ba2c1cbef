"""Regression: `mean` without an axis once called the `max` op instead of builtins.max."""
import numpy as np

from autograd_mini import Tensor


def test_mean_over_all_elements_and_its_gradient():
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    m = x.mean()
    assert m.item() == 2.5
    m.backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 1 / 6))
