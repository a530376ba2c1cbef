"""nn.init: fans and gains as PyTorch's documented formulas, and sample statistics (bounds, mean,
std) of large tensors against them; in place, version bumped, dtype kept, generator seeded."""
import math

import numpy as np
import pytest

import nn
from autograd_mini import Tensor, no_grad
from nn import init



def std_uniform(bound):
    return bound / math.sqrt(3)  # U(-b, b) has variance b^2 / 3


@pytest.mark.parametrize("shape, fan_in, fan_out", [
    ((7, 3), 3, 7),                  # Linear: (out, in)
    ((16, 8, 3, 3), 8 * 9, 16 * 9),  # Conv2d: (out, in, kh, kw)
    ((4, 2, 5), 10, 20),             # Conv1d: (out, in, k)
    ((5, 1, 1, 1), 1, 5)])
def test_fans_as_pytorch(shape, fan_in, fan_out):
    assert init._calculate_fan_in_and_fan_out(nn.Parameter(np.zeros(shape))) == (fan_in, fan_out)


def test_fans_need_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(nn.Parameter(np.zeros(5)))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(nn.Parameter(np.zeros((3, 3))), mode="fan_avg")


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", 0, math.sqrt(2))])
def test_calculate_gain_as_pytorch(name, param, gain):
    assert init.calculate_gain(name, param) == pytest.approx(gain, rel=1e-15)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


def check_uniform(a, lo, hi):
    assert lo <= a.min() < lo + 0.01 * (hi - lo) and hi - 0.01 * (hi - lo) < a.max() <= hi
    assert a.mean() == pytest.approx((lo + hi) / 2, abs=0.01 * (hi - lo))
    assert a.std() == pytest.approx((hi - lo) / math.sqrt(12), rel=0.01)


def check_normal(a, mean, std):
    assert a.mean() == pytest.approx(mean, abs=0.01 * std)
    assert a.std() == pytest.approx(std, rel=0.01)
    # a normal, not a uniform: 4.55% of the mass beyond 2 std
    assert np.mean(np.abs(a - mean) > 2 * std) == pytest.approx(0.0455, abs=0.003)


def test_uniform_and_normal():
    w = nn.Parameter(np.zeros((400, 1000)))
    check_uniform(init.uniform_(w).data, 0.0, 1.0)
    check_uniform(init.uniform_(w, a=-3, b=5).data, -3, 5)
    check_normal(init.normal_(w).data, 0.0, 1.0)
    check_normal(init.normal_(w, mean=2.0, std=0.5).data, 2.0, 0.5)


@pytest.mark.parametrize("shape", [(400, 1000), (250, 40, 5, 8)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(shape, gain):
    fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    w = nn.Parameter(np.zeros(shape))
    a = init.xavier_uniform_(w, gain=gain).data
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    check_uniform(a, -bound, bound)
    assert a.std() == pytest.approx(std, rel=0.01)
    check_normal(init.xavier_normal_(w, gain=gain).data, 0.0, std)


@pytest.mark.parametrize("shape", [(400, 1000), (250, 40, 5, 8)])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("a, nonlinearity, gain", [
    (0, "leaky_relu", math.sqrt(2)),                  # the defaults: He for ReLU
    (math.sqrt(5), "leaky_relu", math.sqrt(1 / 3)),   # torch.nn.Linear's own init
    (0, "relu", math.sqrt(2)), (0, "tanh", 5 / 3), (0, "linear", 1.0)])
def test_kaiming(shape, mode, a, nonlinearity, gain):
    rf = math.prod(shape[2:])
    fan = shape[1] * rf if mode == "fan_in" else shape[0] * rf
    std = gain / math.sqrt(fan)
    w = nn.Parameter(np.zeros(shape))
    u = init.kaiming_uniform_(w, a=a, mode=mode, nonlinearity=nonlinearity).data
    check_uniform(u, -math.sqrt(3) * std, math.sqrt(3) * std)
    n = init.kaiming_normal_(w, a=a, mode=mode, nonlinearity=nonlinearity).data
    check_normal(n, 0.0, std)


def test_kaiming_defaults_are_fan_in_leaky_relu_with_a_0():
    w1, w2 = nn.Parameter(np.zeros((30, 20))), nn.Parameter(np.zeros((30, 20)))
    init.kaiming_uniform_(w1, generator=np.random.default_rng(3))
    init.kaiming_uniform_(w2, a=0, mode="fan_in", nonlinearity="leaky_relu",
                          generator=np.random.default_rng(3))
    np.testing.assert_array_equal(w1.data, w2.data)
    assert np.abs(w1.data).max() <= math.sqrt(6 / 20)


def test_linear_bound_is_kaiming_uniform_with_a_sqrt5():
    # PyTorch initialises Linear.weight by kaiming_uniform_(a=sqrt(5)): bound 1 / sqrt(fan_in)
    w = nn.Parameter(np.zeros((300, 50)))
    a = init.kaiming_uniform_(w, a=math.sqrt(5)).data
    check_uniform(a, -1 / math.sqrt(50), 1 / math.sqrt(50))


def test_constants():
    w = nn.Parameter(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_array_equal(init.zeros_(w).data, np.zeros((3, 4)))
    np.testing.assert_array_equal(init.ones_(w).data, np.ones((3, 4)))
    np.testing.assert_array_equal(init.constant_(w, 0.25).data, np.full((3, 4), 0.25))
    counts = Tensor(np.arange(3))  # integer tensors can be filled with constants
    assert init.constant_(counts, 7).data.tolist() == [7, 7, 7]


@pytest.mark.parametrize("fn, kwargs", [
    (init.uniform_, {}), (init.normal_, {}), (init.xavier_uniform_, {}),
    (init.xavier_normal_, {}), (init.kaiming_uniform_, {}), (init.kaiming_normal_, {}),
    (init.constant_, {"val": 0.5}), (init.zeros_, {}), (init.ones_, {})])
def test_in_place_returns_the_tensor_keeps_dtype_and_bumps_the_version(fn, kwargs):
    w = nn.Parameter(np.full((4, 3), 9.0, dtype=np.float32))
    arr = w.data
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = (x @ w.T).sum()  # the graph saved w's values, which x's gradient reads
    assert fn(w, **kwargs) is w
    assert w.data is arr and w.dtype == np.float32 and not np.all(arr == 9.0)
    with pytest.raises(RuntimeError, match=r"\.data"):
        y.backward()
    (x @ w.T).sum().backward()  # a new graph is fine; the init recorded nothing
    assert w.grad is not None and w.requires_grad and w.is_leaf and w.grad_fn is None


def test_works_under_no_grad_and_on_read_only_arrays():
    a = np.zeros((3, 3))
    a.flags.writeable = False
    w = nn.Parameter(a)
    with no_grad():
        init.ones_(w)
    np.testing.assert_array_equal(w.data, np.ones((3, 3)))
    np.testing.assert_array_equal(a, np.zeros((3, 3)))  # the read-only source is untouched


def test_generator_makes_it_reproducible_and_defaults_to_nn_manual_seed():
    w = nn.Parameter(np.zeros((5, 4)))
    first = init.xavier_normal_(w, generator=np.random.default_rng(7)).data.copy()
    again = init.xavier_normal_(w, generator=np.random.default_rng(7)).data.copy()
    seeded = init.xavier_normal_(w, generator=7).data.copy()  # an int seed works too
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(first, seeded)
    g = np.random.default_rng(7)
    init.xavier_normal_(w, generator=g)
    assert not np.array_equal(init.xavier_normal_(w, generator=g).data, first)  # g advanced
    nn.manual_seed(11)
    u1 = init.uniform_(w).data.copy()
    nn.manual_seed(11)
    np.testing.assert_array_equal(init.uniform_(w).data, u1)


def test_random_init_of_an_integer_tensor_or_a_non_tensor_is_refused():
    with pytest.raises(TypeError, match="floating point"):
        init.normal_(Tensor(np.zeros(3, dtype=np.int64)))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.uniform_(np.zeros(3))


def test_zero_element_kaiming_warns_and_does_nothing():
    w = nn.Parameter(np.zeros((0, 3)))
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(w) is w


def test_init_is_reachable_as_nn_init():
    assert nn.init is init and callable(nn.init.kaiming_normal_)
