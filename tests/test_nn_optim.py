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


@pytest.mark.parametrize("make", [lambda ps: nn.optim.SGD(ps, lr=0.1),
                                  lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9)])
def test_sgd_step_is_a_write_that_graphs_reading_the_weights_see(make):
    a, b = nn.Linear(3, 4), nn.Linear(4, 1)
    x = Tensor(np.ones((2, 3)), requires_grad=True)  # its gradient reads both weights
    loss = b(a(x).tanh()).sum()
    loss.backward(retain_graph=True)
    make([*a.parameters(), *b.parameters()]).step()
    with pytest.raises(RuntimeError, match="saved by op 'linear'.* was changed"):
        loss.backward()


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
    with pytest.raises(ValueError, match="non-leaf"):  # ValueError, as PyTorch
        nn.optim.SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        nn.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        nn.optim.Adam([p], lr=-1)
    with pytest.raises(ValueError, match="momentum"):
        nn.optim.SGD([p], lr=0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="betas"):
        nn.optim.Adam([p], betas=(0.9, 1.0))


# -- nn, version 2: SGD(dampening, nesterov), Adam(amsgrad), AdamW, RMSprop -------------------
# Each reference is torch.optim's documented algorithm (the pseudo-code in its docstring, in
# the arrangement its implementation computes), written out in numpy for a single parameter.

def ref_sgd2(theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
             maximize=False):
    theta, b = theta.copy(), None
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        if momentum:
            b = g if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def ref_adam2(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
              amsgrad=False, decoupled=False, maximize=False):
    b1, b2 = betas
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    v_max = np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            theta = theta * (1 - lr * weight_decay)   # AdamW
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        if amsgrad:
            v_max = np.maximum(v_max, v)
            v_used = v_max
        else:
            v_used = v
        m_hat, v_hat = m / (1 - b1 ** t), v_used / (1 - b2 ** t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def ref_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False):
    theta = theta.copy()
    v, g_avg, b = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for g in grads:
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g ** 2
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg ** 2
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(v_tilde) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(v_tilde) + eps)
    return theta


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, momentum=0.9, dampening=0.5), dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.02, momentum=0.5, weight_decay=0.1, nesterov=True),
    dict(lr=0.1, momentum=0.8, dampening=0.2, weight_decay=0.05),
    dict(lr=0.1, momentum=0.9, maximize=True)])
def test_sgd_dampening_and_nesterov_match_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    np.testing.assert_allclose(run(nn.optim.SGD, kwargs, theta0, grads),
                               ref_sgd2(theta0, grads, **kwargs), rtol=1e-13, atol=1e-15)


def test_sgd_nesterov_two_steps_by_hand():
    # p = 1, g = 2 each step, lr 0.1, mu 0.9: b1 = 2, step g1 = 2 + 0.9 * 2 = 3.8;
    # b2 = 0.9 * 2 + 2 = 3.8, step g2 = 2 + 0.9 * 3.8 = 5.42
    p = nn.Parameter(np.array([1.0]))
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    p.grad = np.array([2.0])
    opt.step()
    np.testing.assert_allclose(p.data, [1 - 0.38])
    opt.step()
    np.testing.assert_allclose(p.data, [1 - 0.38 - 0.542])


def test_sgd_first_step_buffer_is_the_undampened_gradient():
    p = nn.Parameter(np.array([0.0]))
    opt = nn.optim.SGD([p], lr=1.0, momentum=0.5, dampening=0.5)
    p.grad = np.array([4.0])
    opt.step()  # b = g = 4 (no dampening at the first step)
    np.testing.assert_allclose(p.data, [-4.0])
    opt.step()  # b = 0.5 * 4 + 0.5 * 4 = 4
    np.testing.assert_allclose(p.data, [-8.0])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [4.0])


@pytest.mark.parametrize("kwargs", [
    dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1),
    dict(nesterov=True, momentum=0.0)])
def test_sgd_nesterov_needs_momentum_and_zero_dampening(kwargs):
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero "
                                         "dampening"):
        nn.optim.SGD([nn.Parameter(np.ones(2))], lr=0.1, **kwargs)


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, amsgrad=True), dict(lr=0.05, betas=(0.5, 0.9), amsgrad=True, weight_decay=0.1),
    dict(lr=0.01, maximize=True)])
def test_adam_amsgrad_matches_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    grads = [g * s for g, s in zip(grads, [1, 3, 0.1, 2, 0.01, 1])]  # v falls, so v_max matters
    np.testing.assert_allclose(run(nn.optim.Adam, kwargs, theta0, grads),
                               ref_adam2(theta0, grads, **kwargs), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.1, weight_decay=0.5), dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6),
    dict(lr=0.1, weight_decay=0.1, amsgrad=True)])
def test_adamw_matches_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    full = dict(dict(lr=1e-3, weight_decay=1e-2), **kwargs)  # AdamW's defaults
    np.testing.assert_allclose(run(nn.optim.AdamW, kwargs, theta0, grads),
                               ref_adam2(theta0, grads, decoupled=True, **full),
                               rtol=1e-12, atol=1e-15)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # zero gradient: Adam's step is 0 / (0 + eps) = 0, so only the decay moves the weight
    p = nn.Parameter(np.array([2.0]))
    opt = nn.optim.AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = np.array([0.0])
    for _ in range(3):
        opt.step()
    np.testing.assert_allclose(p.data, [2.0 * 0.95 ** 3], rtol=1e-14)
    q = nn.Parameter(np.array([2.0]))  # Adam's coupled decay goes through m / sqrt(v): ~lr
    q.grad = np.array([0.0])
    nn.optim.Adam([q], lr=0.1, weight_decay=0.5).step()
    np.testing.assert_allclose(q.data, [1.9], rtol=1e-6)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(lr=0.05, alpha=0.9), dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, centered=True), dict(lr=0.02, centered=True, momentum=0.5, weight_decay=0.1),
    dict(lr=0.01, eps=1e-3, weight_decay=0.01)])
def test_rmsprop_matches_the_documented_rule(problem, kwargs):
    theta0, grads = problem
    np.testing.assert_allclose(run(nn.optim.RMSprop, kwargs, theta0, grads),
                               ref_rmsprop(theta0, grads, **kwargs), rtol=1e-12, atol=1e-15)


def test_rmsprop_first_step_by_hand():
    # v = 0.01 g^2, so the first step is lr * g / (0.1 |g| + eps) = 10 lr sign(g)
    p = nn.Parameter(np.array([0.0, 0.0]))
    p.grad = np.array([3.0, -0.5])
    nn.optim.RMSprop([p], lr=0.01).step()
    np.testing.assert_allclose(p.data, [-0.1, 0.1], rtol=1e-6)


def test_defaults_as_pytorch():
    p = nn.Parameter(np.ones(2))
    assert nn.optim.SGD([p]).defaults == dict(lr=1e-3, momentum=0, dampening=0,
                                              weight_decay=0, nesterov=False, maximize=False)
    assert nn.optim.Adam([p]).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                               weight_decay=0, amsgrad=False, maximize=False)
    assert nn.optim.AdamW([p]).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                                weight_decay=1e-2, amsgrad=False,
                                                maximize=False)
    assert nn.optim.RMSprop([p]).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8,
                                                  weight_decay=0, momentum=0, centered=False,
                                                  maximize=False)


@pytest.mark.parametrize("opt_cls, kwargs", [
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (nn.optim.AdamW, dict(lr=0.1, amsgrad=True)),
    (nn.optim.RMSprop, dict(lr=0.1, momentum=0.9, centered=True, weight_decay=0.1))])
def test_new_optimizers_never_modify_grad_and_keep_float32(opt_cls, kwargs):
    rng = np.random.default_rng(1)
    p = nn.Parameter(rng.standard_normal(4).astype(np.float32))
    arr = p.data
    opt = opt_cls([p], **kwargs)
    g = rng.standard_normal(4).astype(np.float32)
    saved = g.copy()
    for _ in range(3):
        p.grad = g
        opt.step()
    np.testing.assert_array_equal(g, saved)
    assert p.data is arr and p.dtype == np.float32


@pytest.mark.parametrize("opt_cls", [nn.optim.SGD, nn.optim.AdamW, nn.optim.RMSprop])
def test_new_optimizers_make_an_old_graph_stale(opt_cls):
    model = nn.MLP([2, 3, 1], rng=0)
    opt = opt_cls(model.parameters(), lr=0.1)
    loss = model(np.ones((4, 2))).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(RuntimeError, match=r"\.data"):
        loss.backward()


@pytest.mark.parametrize("opt_cls, kwargs, match", [
    (nn.optim.SGD, dict(lr=0.1, weight_decay=-1), "weight_decay"),
    (nn.optim.AdamW, dict(eps=-1), "eps"),
    (nn.optim.AdamW, dict(betas=(1.0, 0.9)), "betas"),
    (nn.optim.RMSprop, dict(alpha=-0.1), "alpha"),
    (nn.optim.RMSprop, dict(momentum=-0.1), "momentum"),
    (nn.optim.RMSprop, dict(lr=-0.1), "lr")])
def test_new_optimizer_argument_errors(opt_cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        opt_cls([nn.Parameter(np.ones(2))], **kwargs)


# -- parameter groups and optimizer state_dict ---------------------------------------------

def test_param_groups_have_their_own_hyper_parameters(problem):
    theta0, grads = problem
    a, b = nn.Parameter(theta0.copy()), nn.Parameter(theta0.copy())
    opt = nn.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.01, "momentum": 0.5}],
                       lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert opt.param_groups[1]["nesterov"] is False  # filled from the defaults
    for g in grads:
        a.grad = b.grad = g
        opt.step()
    np.testing.assert_allclose(a.data, ref_sgd2(theta0, grads, 0.1, momentum=0.9), rtol=1e-13)
    np.testing.assert_allclose(b.data, ref_sgd2(theta0, grads, 0.01, momentum=0.5), rtol=1e-13)
    assert opt.params == [a, b] or all(x is y for x, y in zip(opt.params, [a, b]))


def test_param_groups_errors_and_add_param_group():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="more than one parameter group"):
        nn.optim.Adam([{"params": [a]}, {"params": [a, b]}])
    with pytest.raises(TypeError, match="ordered"):
        nn.optim.Adam([{"params": {a, b}}])
    with pytest.raises(TypeError, match="iterable"):
        nn.optim.Adam(a)
    opt = nn.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert opt.param_groups[1]["betas"] == (0.9, 0.999)


@pytest.mark.parametrize("opt_cls, kwargs", [
    (nn.optim.SGD, dict(lr=0.1, momentum=0.9)), (nn.optim.Adam, dict(lr=0.1, amsgrad=True)),
    (nn.optim.AdamW, dict(lr=0.1)), (nn.optim.RMSprop, dict(lr=0.01, centered=True,
                                                            momentum=0.5))])
def test_optimizer_state_dict_resumes_training_exactly(problem, opt_cls, kwargs):
    theta0, grads = problem
    p = nn.Parameter(theta0.copy())
    opt = opt_cls([p], **kwargs)
    for g in grads[:3]:
        p.grad = g
        opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"][0]["params"] == [0] and list(sd["state"]) == [0]
    q = nn.Parameter(p.data.copy())
    resumed = opt_cls([q], lr=123.0)  # the hyper-parameters come from the state_dict
    resumed.load_state_dict(sd)
    for g in grads[3:]:
        p.grad = q.grad = g
        opt.step()
        resumed.step()
    np.testing.assert_array_equal(q.data, p.data)
    assert resumed.param_groups[0]["lr"] == kwargs["lr"]


def test_optimizer_state_dict_is_a_snapshot_and_checks_groups():
    p = nn.Parameter(np.ones(2))
    opt = nn.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.ones(2)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["momentum_buffer"] += 100
    np.testing.assert_array_equal(opt.state[p]["momentum_buffer"], [1, 1])
    two = nn.optim.SGD([{"params": [nn.Parameter(np.ones(2))]},
                        {"params": [nn.Parameter(np.ones(2))]}], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        two.load_state_dict(sd)
    with pytest.raises(ValueError, match="doesn't match the size"):
        nn.optim.SGD([nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))],
                     lr=0.1).load_state_dict(sd)


# -- lr_scheduler ---------------------------------------------------------------------------

def sgd_opt(lrs=(0.1,)):
    return nn.optim.SGD([{"params": [nn.Parameter(np.ones(1))], "lr": lr} for lr in lrs],
                        lr=1.0)


def test_step_lr_values_follow_the_closed_form():
    opt = sgd_opt((0.1, 0.5))
    sched = nn.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    assert sched.get_last_lr() == [0.1, 0.5]
    for epoch in range(1, 12):
        opt.step()
        sched.step()
        want = [base * 0.5 ** (epoch // 3) for base in (0.1, 0.5)]
        np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-15)
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()


def test_step_lr_default_gamma_and_chainable_form():
    opt = sgd_opt()
    sched = nn.optim.lr_scheduler.StepLR(opt, step_size=2)
    sched.step()
    opt.param_groups[0]["lr"] = 1.0  # an outside change carries over, as PyTorch's chain
    sched.step()  # epoch 2: times gamma = 0.1
    assert sched.get_last_lr() == [pytest.approx(0.1)]
    sched.step(epoch=4)  # an explicit epoch uses the closed form from the initial lr
    assert sched.get_last_lr() == [pytest.approx(0.1 * 0.01)]


@pytest.mark.parametrize("T_max, eta_min", [(10, 0.0), (7, 0.001), (1, 0.0)])
def test_cosine_annealing_values_match_the_closed_form_also_past_t_max(T_max, eta_min):
    # PyTorch's recursive form reproduces the SGDR closed form at every step, including the
    # rise after T_max (it keeps following the cosine: no restart)
    opt = sgd_opt((0.1, 0.02))
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=T_max, eta_min=eta_min)
    assert sched.get_last_lr() == [0.1, 0.02]
    for t in range(1, 3 * T_max + 3):
        opt.step()
        sched.step()
        want = [eta_min + (base - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2
                for base in (0.1, 0.02)]
        np.testing.assert_allclose(sched.get_last_lr(), want, rtol=1e-10, atol=1e-15)
        assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()


def test_cosine_annealing_first_values_by_hand():
    opt = sgd_opt((1.0,))
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    lrs = [sched.get_last_lr()[0]]
    for _ in range(5):
        sched.step()
        lrs.append(sched.get_last_lr()[0])
    # (1 + cos(pi t / 4)) / 2 for t = 0..5
    np.testing.assert_allclose(lrs, [1.0, 0.8535533905932737, 0.5, 0.14644660940672624, 0.0,
                                     0.14644660940672624], atol=1e-15)


def test_scheduled_lr_drives_the_optimizer():
    p = nn.Parameter(np.array([0.0]))
    opt = nn.optim.SGD([p], lr=1.0)
    sched = nn.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(6):
        p.grad = np.array([1.0])
        opt.step()
        sched.step()
    np.testing.assert_allclose(p.data, [-(1 + 1 + 0.5 + 0.5 + 0.25 + 0.25)])
    assert opt.param_groups[0]["initial_lr"] == 1.0


def test_scheduler_state_dict_and_errors():
    opt = sgd_opt()
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=5)
    sched.step()
    sd = sched.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 1
    other = nn.optim.lr_scheduler.CosineAnnealingLR(sgd_opt(), T_max=5)
    other.load_state_dict(sd)
    assert other.last_epoch == 1
    with pytest.raises(TypeError, match="not an Optimizer"):
        nn.optim.lr_scheduler.StepLR(object(), step_size=1)
    with pytest.raises(KeyError, match="initial_lr"):
        nn.optim.lr_scheduler.StepLR(sgd_opt(), step_size=1, last_epoch=3)


# -- nn.utils.clip_grad_norm_ / clip_grad_value_ ------------------------------------------------

def params_with_grads(*grads, dtype=np.float64):
    ps = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g), dtype))
        p.grad = np.array(g, dtype)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, float("inf")])
def test_clip_grad_norm_scales_to_max_norm_and_returns_the_total_norm(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    flat = np.concatenate([g.ravel() for g in grads])
    total = (np.abs(flat).max() if norm_type == float("inf")
             else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type))
    ps = params_with_grads(*grads)
    out = nn.utils.clip_grad_norm_(ps, max_norm=0.5, norm_type=norm_type)
    assert isinstance(out, Tensor) and out.shape == ()
    assert float(out) == pytest.approx(total, rel=1e-12)
    coef = 0.5 / (total + 1e-6)
    for p, g in zip(ps, grads):
        np.testing.assert_allclose(p.grad, g * coef, rtol=1e-13)


def test_clip_grad_norm_below_max_leaves_grads_and_skips_missing_ones():
    a, b = params_with_grads([3.0, 4.0], [0.0])
    c = nn.Parameter(np.ones(2))  # no grad: skipped
    assert nn.utils.clip_grad_norm_([a, b, c], max_norm=10).item() == pytest.approx(5.0)
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    assert c.grad is None
    assert nn.utils.clip_grad_norm_([c], 1.0).item() == 0.0


def test_clip_grad_norm_in_place_on_one_tensor_and_float32():
    (p,) = params_with_grads([3.0, 4.0], dtype=np.float32)
    g = p.grad
    out = nn.utils.clip_grad_norm_(p, max_norm=1.0)
    assert p.grad is g and p.grad.dtype == np.float32 and out.dtype == np.float32
    np.testing.assert_allclose(p.grad, [0.6, 0.8], rtol=1e-5)


def test_clip_grad_norm_nonfinite():
    a, b = params_with_grads([1.0, np.inf], [1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    assert np.isinf(nn.utils.clip_grad_norm_([a, b], 1.0).item())
    assert np.all(np.isnan(b.grad) | (b.grad == 0))  # scaled by 1 / inf, as PyTorch


def test_clip_grad_value():
    a, b = params_with_grads([-3.0, 0.5, 2.0], [[0.1, -0.2]])
    assert nn.utils.clip_grad_value_([a, b], clip_value=1.0) is None
    np.testing.assert_array_equal(a.grad, [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [[0.1, -0.2]])


# -- version 3: frozen parameters (fine-tuning) --------------------------------------------------

@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
])
def test_optimizer_accepts_a_frozen_layer_and_leaves_it_unchanged(name, kwargs):
    """model.parameters() with the first layer frozen: construction works and the steps match
    torch.optim's on the same model, the frozen layer unchanged in both."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    model = nn.Sequential(nn.Linear(3, 4, rng=1), nn.Tanh(), nn.Linear(4, 2, rng=2))
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                 torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for tp, p in zip(tmodel.parameters(), model.parameters()):
            tp.copy_(torch.tensor(p.data))
    for p, tp in zip(model[0].parameters(), tmodel[0].parameters()):
        p.requires_grad = False
        tp.requires_grad_(False)
    frozen = [p.data.copy() for p in model[0].parameters()]
    opt = getattr(nn.optim, name)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, name)(tmodel.parameters(), **kwargs)
    for _ in range(3):
        opt.zero_grad()
        nn.MSELoss()(model(x), y).backward()
        opt.step()
        topt.zero_grad()
        torch.nn.MSELoss()(tmodel(torch.tensor(x)), torch.tensor(y)).backward()
        topt.step()
    for f, p in zip(frozen, model[0].parameters()):
        np.testing.assert_array_equal(p.data, f)
        assert p.grad is None
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_a_frozen_parameter_unfrozen_later_is_stepped():
    """The optimizer holds the frozen tensor: once it requires grad and has a .grad, it moves."""
    p = nn.Parameter(np.ones(2))
    p.requires_grad = False
    opt = nn.optim.SGD([p], lr=0.5)
    opt.step()
    np.testing.assert_array_equal(p.data, [1, 1])
    p.requires_grad = True
    (p * p).sum().backward()
    opt.step()
    np.testing.assert_array_equal(p.data, [0, 0])  # 1 - 0.5 * 2
