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
