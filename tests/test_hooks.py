"""Hooks, as PyTorch's: Module forward pre-hooks and forward hooks, and their handles; values
against torch computed in the test."""
import sys

import numpy as np
import pytest

import nn
from autograd_mini import Tensor


def _torch_copy(torch, ours):
    """A torch.nn.Sequential of Linear and Tanh with our model's weights (float64)."""
    layers = []
    for m in ours:
        if isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features, dtype=torch.float64)
            with torch.no_grad():
                t.weight.copy_(torch.from_numpy(m.weight.data))
                t.bias.copy_(torch.from_numpy(m.bias.data))
            layers.append(t)
        else:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


@pytest.fixture
def models():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))
    return ours, _torch_copy(torch, ours), torch


X = np.random.default_rng(5).standard_normal((6, 3))


def test_forward_hooks_see_and_replace_what_torch_hooks_see(models):
    ours, theirs, torch = models
    seen = {"ours": [], "torch": []}

    def record(key, to_array):
        def hook(module, args, output):
            seen[key].append((type(module).__name__, to_array(args[0]), to_array(output)))
        return hook

    def double(module, args, output):  # a return value replaces the output
        return output * 2

    for key, model, to_array in (("ours", ours, lambda t: np.array(t.data)),
                                 ("torch", theirs, lambda t: t.detach().numpy().copy())):
        model[1].register_forward_hook(double)
        for m in model:
            m.register_forward_hook(record(key, to_array))
    out_ours = ours(Tensor(X)).data
    out_torch = theirs(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out_ours, out_torch, rtol=1e-12)
    assert [s[0] for s in seen["ours"]] == ["Linear", "Tanh", "Linear"]
    for (_, i1, o1), (_, i2, o2) in zip(seen["ours"], seen["torch"]):
        np.testing.assert_allclose(i1, i2, rtol=1e-12)
        np.testing.assert_allclose(o1, o2, rtol=1e-12)
    # the hook that doubled came first, so the recording hook saw the doubled output
    np.testing.assert_allclose(seen["ours"][1][2], 2 * np.tanh(seen["ours"][0][2]), rtol=1e-12)


def test_pre_hooks_replace_the_inputs_and_a_non_tuple_is_wrapped(models):
    ours, theirs, torch = models
    calls = []

    def shift(module, args):          # a tuple replaces the arguments
        return (args[0] + 1,)

    def scale(module, args):          # a single value is wrapped in a tuple
        calls.append(len(args))
        return args[0] * 3

    for model in (ours, theirs):
        model[0].register_forward_pre_hook(shift)
        model[2].register_forward_pre_hook(scale)
    np.testing.assert_allclose(ours(Tensor(X)).data,
                               theirs(torch.from_numpy(X)).detach().numpy(), rtol=1e-12)
    assert calls == [1, 1]


def test_gradients_flow_through_a_hook_that_replaces_the_output(models):
    ours, theirs, torch = models
    for model in (ours, theirs):
        model[1].register_forward_hook(lambda m, a, out: out * out)
    ours(Tensor(X)).sum().backward()
    theirs(torch.from_numpy(X)).sum().backward()
    np.testing.assert_allclose(ours[0].weight.grad, theirs[0].weight.grad.numpy(), rtol=1e-12)


def test_remove_takes_the_hook_off_and_twice_is_harmless(models):
    ours, _, _ = models
    seen = []
    h1 = ours[0].register_forward_hook(lambda m, a, out: seen.append("fwd"))
    h2 = ours[0].register_forward_pre_hook(lambda m, a: seen.append("pre"))
    ours(Tensor(X))
    assert seen == ["pre", "fwd"]
    h1.remove()
    ours(Tensor(X))
    assert seen == ["pre", "fwd", "pre"]
    h2.remove()
    h2.remove()
    ours(Tensor(X))
    assert seen == ["pre", "fwd", "pre"]
    assert not ours[0]._forward_hooks and not ours[0]._forward_pre_hooks


def test_hooks_run_in_order_prepend_first_and_a_handle_is_a_context_manager():
    lin = nn.Linear(2, 2, rng=0)
    order = []
    lin.register_forward_hook(lambda m, a, o: order.append("a"))
    with lin.register_forward_hook(lambda m, a, o: order.append("b")):
        lin.register_forward_hook(lambda m, a, o: order.append("first"), prepend=True)
        lin(np.ones((1, 2)))
    lin(np.ones((1, 2)))
    assert order == ["first", "a", "b", "first", "a"]


def test_keyword_arguments_reach_forward_and_the_pre_hook_gets_the_positional_ones():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m, seen = Scale(), []
    m.register_forward_pre_hook(lambda mod, args: seen.append(args))
    assert m(Tensor(np.ones(2)), factor=3.0).data.tolist() == [3.0, 3.0]
    assert len(seen) == 1 and len(seen[0]) == 1


def test_a_hook_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        nn.Tanh().register_forward_hook("not a function")


def test_without_hooks_a_call_runs_forward_and_no_other_python_function():
    """The hook-free path stays one call: counted with a profiler, never timed."""
    class Twice(nn.Module):
        def forward(self, x):
            return x

    m, called = Twice(), []

    def profile(frame, event, arg):
        if event == "call":
            called.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        m(1.0)
    finally:
        sys.setprofile(None)
    assert called == ["__call__", "forward"]


# -- Tensor.register_hook ------------------------------------------------------------------------

A = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])


def _graph(lib, a, hook_h=None, hook_a=None, retain=False):
    """h = tanh(a) is used twice (total gradient = sum of two paths); loss = sum(h * h + 3 h)."""
    h = lib["tanh"](a)
    if hook_h:
        h.register_hook(hook_h)
    if hook_a:
        a.register_hook(hook_a)
    if retain:
        h.retain_grad()
    return (h * h + 3 * h).sum(), h


def _both(torch):
    ours = Tensor(A.copy(), requires_grad=True)
    theirs = torch.tensor(A.copy(), requires_grad=True)
    return ours, theirs, {"tanh": lambda t: t.tanh()}


def test_a_non_leaf_hook_gets_the_total_gradient_and_its_return_replaces_it():
    torch = pytest.importorskip("torch")
    ours, theirs, lib = _both(torch)
    seen = {}

    def hook(key, to_array):
        def fn(g):
            seen[key] = to_array(g)
            return g * 10
        return fn

    loss, h = _graph(lib, ours, hook_h=hook("ours", np.array), retain=True)
    loss.backward()
    tloss, th = _graph(lib, theirs, hook_h=hook("torch", lambda g: g.numpy().copy()), retain=True)
    tloss.backward()
    assert isinstance(seen["ours"], np.ndarray)
    np.testing.assert_allclose(seen["ours"], seen["torch"], rtol=1e-12)  # 2h + 3: both paths
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)  # times 10
    np.testing.assert_allclose(h.grad, th.grad.numpy(), rtol=1e-12)  # retain_grad sees the new one


def test_a_leaf_hook_replaces_what_accumulates_into_grad():
    torch = pytest.importorskip("torch")
    ours, theirs, lib = _both(torch)
    seen = []
    ours.register_hook(lambda g: seen.append(g.copy()) or g + 1)
    theirs.register_hook(lambda g: g + 1)
    for _ in range(2):  # the second backward accumulates the replaced gradient again
        _graph(lib, ours)[0].backward()
        _graph(lib, theirs)[0].backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)
    assert len(seen) == 2  # once per backward, with this backward's gradient only
    np.testing.assert_allclose(seen[1], seen[0], rtol=1e-12)


def test_hooks_fire_in_grad_and_a_removed_hook_does_not():
    torch = pytest.importorskip("torch")
    ours, theirs, lib = _both(torch)
    calls = []
    loss, h = _graph(lib, ours, hook_h=lambda g: calls.append("h") or -g)
    handle = ours.register_hook(lambda g: calls.append("a"))
    tloss, th = _graph(lib, theirs, hook_h=lambda g: -g)
    import autograd_mini
    (ga,) = autograd_mini.grad(loss, ours, retain_graph=True)
    (tga,) = torch.autograd.grad(tloss, theirs, retain_graph=True)
    np.testing.assert_allclose(ga.data, tga.numpy(), rtol=1e-12)
    assert calls == ["h", "a"]
    handle.remove()
    loss.backward()
    assert calls == ["h", "a", "h"]


def test_under_create_graph_a_hook_gets_a_tensor_and_second_derivatives_follow_torch():
    torch = pytest.importorskip("torch")
    import autograd_mini
    ours, theirs, lib = _both(torch)
    got = []
    loss, h = _graph(lib, ours, hook_h=lambda g: got.append(g) or g * g)
    tloss, th = _graph(lib, theirs, hook_h=lambda g: g * g)
    (ga,) = autograd_mini.grad(loss, ours, create_graph=True)
    (tga,) = torch.autograd.grad(tloss, theirs, create_graph=True)
    assert isinstance(got[0], Tensor)
    np.testing.assert_allclose(ga.data, tga.detach().numpy(), rtol=1e-12)
    ga.sum().backward()
    tga.sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10)


def test_hooks_fire_in_replay_backward_as_in_backward():
    from autograd_mini import replay_backward
    x = Tensor(A.copy(), requires_grad=True)
    loss, h = _graph({"tanh": lambda t: t.tanh()}, x, hook_h=lambda g: g * 0)
    calls = []
    x.register_hook(lambda g: calls.append(g.copy()))
    replay_backward(loss)
    assert len(calls) == 1 and not calls[0].any()  # the zeroed gradient reached x
    np.testing.assert_array_equal(x.grad, 0)


def test_register_hook_refuses_a_tensor_without_grad_and_a_hook_that_changes_the_shape():
    with pytest.raises(RuntimeError, match="doesn't require grad"):
        Tensor(A).register_hook(lambda g: g)
    x = Tensor(A.copy(), requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ValueError, match="shape"):
        (x * 2).sum().backward()
    assert x.grad is None
