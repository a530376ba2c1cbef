"""Optimizers: several steps against numpy implementations of PyTorch's documented update rules
(torch.optim.SGD / torch.optim.Adam pseudo-code), skipping, aliasing and the tracked step."""
import numpy as np
import pytest

import nn
from autograd_mini import Tensor


def ref_sgd(theta, grads, lr, momentum=0.0, weight_decay=0.0):
    """torch.optim.SGD's documented algorithm (dampening 0, no nesterov)."""
    theta, b = theta.copy(), None
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        if momentum:
            b = g if t == 1 else momentum * b + g
            g = b
        theta = theta - lr * g
    return theta


def ref_adam(theta, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """torch.optim.Adam's documented algorithm (amsgrad off)."""
    b1, b2 = betas
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def run(opt_cls, kwargs, theta0, grads):
    p = nn.Parameter(theta0.copy())
    opt = opt_cls([p], **kwargs)
    for g in grads:
        p.grad = g
        opt.step()
    return p.data


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 4)), [rng.standard_normal((3, 4)) for _ in range(6)]


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1)])
def test_sgd_matches_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    np.testing.assert_allclose(run(nn.optim.SGD, kwargs, theta0, grads),
                               ref_sgd(theta0, grads, **kwargs), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("kwargs", [
    dict(lr=1e-3), dict(lr=0.1), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.01, weight_decay=0.1)])
def test_adam_matches_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    np.testing.assert_allclose(run(nn.optim.Adam, kwargs, theta0, grads),
                               ref_adam(theta0, grads, **kwargs), rtol=1e-12, atol=1e-15)


def test_first_adam_step_moves_each_weight_by_about_lr():
    p = nn.Parameter(np.zeros(3))
    p.grad = np.array([1e-3, -5.0, 100.0])
    nn.optim.Adam([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [-0.01, 0.01, -0.01], rtol=1e-4)


@pytest.mark.parametrize("opt_cls, kwargs", [
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    (nn.optim.Adam, dict(lr=0.1, weight_decay=0.1))])
def test_step_never_modifies_grad_and_state_never_aliases_it(opt_cls, kwargs):
    rng = np.random.default_rng(1)
    p = nn.Parameter(rng.standard_normal(4))
    opt = opt_cls([p], **kwargs)
    g1 = rng.standard_normal(4)
    p.grad = g1
    opt.step()
    saved = g1.copy()
    p.grad = rng.standard_normal(4)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(g1, saved)


def test_momentum_buffer_does_not_alias_grad_without_weight_decay():
    p = nn.Parameter(np.zeros(2))
    opt = nn.optim.SGD([p], lr=1.0, momentum=0.5)
    g = np.array([1.0, 2.0])
    p.grad = g
    opt.step()  # buffer = g (a copy)
    opt.step()  # buffer = 0.5 g + g, must not write into g
    np.testing.assert_array_equal(g, [1.0, 2.0])
    np.testing.assert_allclose(p.data, -(1 + 1.5) * g)


@pytest.mark.parametrize("opt_cls", [nn.optim.SGD, nn.optim.Adam])
def test_params_without_grad_are_skipped_and_keep_their_own_step_count(problem, opt_cls):
    theta0, grads = problem
    a, b = nn.Parameter(theta0.copy()), nn.Parameter(theta0.copy())
    opt = opt_cls([a, b], lr=0.1, **({"momentum": 0.9} if opt_cls is nn.optim.SGD else {}))
    a.grad = grads[0]
    opt.step()  # b has no grad: untouched
    np.testing.assert_array_equal(b.data, theta0)
    for g in grads[1:4]:
        a.grad = b.grad = g
        opt.step()
    ref = ref_sgd if opt_cls is nn.optim.SGD else ref_adam
    kwargs = {"momentum": 0.9} if opt_cls is nn.optim.SGD else {}
    np.testing.assert_allclose(a.data, ref(theta0, grads[:4], 0.1, **kwargs), rtol=1e-12)
    np.testing.assert_allclose(b.data, ref(theta0, grads[1:4], 0.1, **kwargs), rtol=1e-12)


@pytest.mark.parametrize("opt_cls", [nn.optim.SGD, nn.optim.Adam])
def test_backward_through_a_graph_recorded_before_the_step_raises(opt_cls):
    model = nn.MLP([2, 3, 1], rng=0)
    opt = opt_cls(model.parameters(), lr=0.1)
    x = np.ones((4, 2))
    loss = model(x).sum()
    loss.backward(retain_graph=True)  # the graph stays usable ...
    opt.step()
    with pytest.raises(RuntimeError, match=r"\.data"):
        loss.backward()  # ... but its saved weights are stale now
    fresh = model(x).sum()  # a new forward is fine
    fresh.backward()


def test_step_changes_values_in_place_and_keeps_dtype():
    model = nn.MLP([2, 3, 1], dtype=np.float32, rng=0)
    arrays = [p.data for p in model.parameters()]
    opt = nn.optim.Adam(model.parameters(), lr=0.1)
    nn.MSELoss()(model(np.ones((2, 2), np.float32)), np.zeros((2, 1), np.float32)).backward()
    before = [a.copy() for a in arrays]
    opt.step()
    for p, a, b in zip(model.parameters(), arrays, before):
        assert p.data is a and p.dtype == np.float32 and not np.array_equal(a, b)


def test_read_only_parameter_arrays_are_replaced_instead_of_written():
    a = np.ones(2)
    a.flags.writeable = False
    p = nn.Parameter(a)
    p.grad = np.ones(2)
    nn.optim.SGD([p], lr=0.5).step()
    np.testing.assert_array_equal(p.data, [0.5, 0.5])
    np.testing.assert_array_equal(a, [1, 1])


def test_zero_grad_and_duplicates():
    p = nn.Parameter(np.ones(2))
    opt = nn.optim.SGD([p, p], lr=1.0)
    assert len(opt.params) == 1
    p.grad = np.ones(2)
    opt.step()  # a parameter listed twice is still stepped once
    np.testing.assert_array_equal(p.data, [0, 0])
    opt.zero_grad()
    assert p.grad is None


def test_optimizer_argument_errors():
    p = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="leaf Tensors that require grad"):
        nn.optim.SGD([Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        nn.optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam([p], betas=(0.9, 1.0))
