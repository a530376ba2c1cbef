"""nn modules: forward against numpy, naming, registration, and MLP gradients against finite
differences (float64)."""
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_mini import Tensor, gradcheck


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


NP_ACT = {"sigmoid": np_sigmoid, "tanh": np.tanh, "relu": lambda x: np.maximum(x, 0),
          None: lambda x: x, "softmax": np_softmax}


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# -- Parameter -----------------------------------------------------------------------------------

def test_parameter_is_a_tensor_that_requires_grad_and_shares_its_array():
    a = np.arange(3.0)
    p = nn.Parameter(a)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.data is a and p.name is None
    assert repr(p).startswith("Parameter containing:")
    (p * p).sum().backward()
    np.testing.assert_array_equal(p.grad, 2 * a)
    with pytest.raises(TypeError):
        nn.Parameter(np.arange(3))  # integer data cannot require grad


# -- Linear --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_forward_matches_numpy(rng, dtype):
    lin = nn.Linear(3, 5, dtype=dtype, rng=1)
    assert lin.weight.shape == (5, 3) and lin.bias.shape == (5,)
    assert lin.weight.dtype == dtype and lin.bias.dtype == dtype
    x = rng.standard_normal((4, 3)).astype(dtype)
    y = lin(Tensor(x))
    assert y.dtype == dtype and y.shape == (4, 5)
    np.testing.assert_allclose(y.data, x @ lin.weight.data.T + lin.bias.data,
                               rtol=1e-6 if dtype == np.float32 else 1e-12)
    # an ndarray input works too, and a 1-D sample gives a 1-D output
    np.testing.assert_allclose(lin(x[0]).data, y.data[0], rtol=1e-5)


def test_linear_init_is_uniform_in_bound_random_and_reproducible():
    lin = nn.Linear(16, 200, rng=0)
    k = 1 / np.sqrt(16)
    for p in (lin.weight.data, lin.bias.data):
        assert np.all(np.abs(p) <= k) and p.std() > k / 4  # spread over the whole interval
    assert len(np.unique(lin.weight.data)) == lin.weight.numel()  # never zeros, never identical
    again = nn.Linear(16, 200, rng=0)
    np.testing.assert_array_equal(again.weight.data, lin.weight.data)
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    np.testing.assert_array_equal(nn.Linear(4, 3, rng=g1).weight.data,
                                  nn.Linear(4, 3, rng=g2).weight.data)
    assert not np.array_equal(nn.Linear(16, 200, rng=1).weight.data, lin.weight.data)
    nn.manual_seed(3)
    a = nn.Linear(4, 3).weight.data
    nn.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(4, 3).weight.data, a)


def test_linear_without_bias_and_errors(rng):
    lin = nn.Linear(3, 2, bias=False, rng=0)
    assert lin.bias is None and [n for n, _ in lin.named_parameters()] == ["weight"]
    x = rng.standard_normal((4, 3))
    np.testing.assert_allclose(lin(x).data, x @ lin.weight.data.T)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3.*\(4, 2\)"):
        lin(rng.standard_normal((4, 2)))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="in_features"):
            nn.Linear(bad, 3)
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(2, 3, rng="seed")


# -- activations, Sequential ---------------------------------------------------------------------

@pytest.mark.parametrize("module, ref", [
    (nn.Sigmoid(), np_sigmoid), (nn.Tanh(), np.tanh), (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Identity(), lambda x: x), (nn.Softmax(), np_softmax),
    (nn.Softmax(axis=0), lambda x: np_softmax(x.T).T)])
def test_activation_forward_matches_numpy(rng, module, ref):
    x = rng.standard_normal((4, 3)) * 3
    np.testing.assert_allclose(module(Tensor(x)).data, ref(x), rtol=1e-12, atol=1e-15)
    assert module.parameters is not None and list(module.parameters()) == []


def test_sigmoid_and_softmax_modules_are_stable_at_extremes():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    np.testing.assert_array_equal(nn.Sigmoid()(x).data, [[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(nn.Softmax()(x).data, [[0.0, 0.0, 1.0]])


def test_sequential_composes_in_order_and_indexes(rng):
    a, b = nn.Linear(3, 4, rng=0), nn.Linear(4, 2, rng=1)
    seq = nn.Sequential(a, nn.Tanh(), b)
    x = rng.standard_normal((5, 3))
    h = np.tanh(x @ a.weight.data.T + a.bias.data)
    np.testing.assert_allclose(seq(x).data, h @ b.weight.data.T + b.bias.data, rtol=1e-12)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is b and list(seq)[1].__class__ is nn.Tanh
    with pytest.raises(IndexError):
        seq[3]
    with pytest.raises(TypeError, match="not an nn.Module"):
        nn.Sequential(a, np.tanh)
    assert "(1): Tanh()" in repr(seq)


# -- MLP -----------------------------------------------------------------------------------------

def np_mlp(model, x, activation, output_activation):
    linears = [m for m in model if isinstance(m, nn.Linear)]
    for i, lin in enumerate(linears):
        x = x @ lin.weight.data.T + lin.bias.data
        x = NP_ACT[activation if i < len(linears) - 1 else output_activation](x)
    return x


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output_activation", [None, "sigmoid", "softmax"])
def test_mlp_forward_matches_numpy(rng, activation, output_activation):
    model = nn.MLP([4, 6, 5, 3], activation, output_activation, rng=0)
    x = rng.standard_normal((7, 4))
    np.testing.assert_allclose(model(x).data, np_mlp(model, x, activation, output_activation),
                               rtol=1e-12, atol=1e-15)


def test_mlp_layout_and_keys_follow_torch_sequential():
    model = nn.MLP([4, 16, 8, 3], activation="relu", output_activation="softmax")
    assert [type(m).__name__ for m in model] == [
        "Linear", "ReLU", "Linear", "ReLU", "Linear", "Softmax"]
    assert list(model.state_dict()) == [
        "0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert model.state_dict()["2.weight"].shape == (8, 16)
    assert [p.name for p in model.parameters()] == list(model.state_dict())
    assert nn.MLP([2, 3], dtype=np.float32)[0].weight.dtype == np.float32


def test_mlp_same_seed_same_weights_and_layers_differ():
    a, b = nn.MLP([3, 3, 3], rng=7), nn.MLP([3, 3, 3], rng=7)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(va, vb)
    assert not np.array_equal(a[0].weight.data, a[2].weight.data)


@pytest.mark.parametrize("kwargs, match", [
    (dict(sizes=[3]), "at least"), (dict(sizes=[3, 2], activation="gelu"), "activation"),
    (dict(sizes=[3, 2], output_activation="relu6"), "output_activation"),
    (dict(sizes=[3, 0, 2]), "positive")])
def test_mlp_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP(**kwargs)


# -- Module: registration, names, parameters, state ---------------------------------------------

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.MLP([2, 3, 1], rng=0)
        self.scale = nn.Parameter(np.ones(1))

    def forward(self, x):
        return self.layers(x) * self.scale


def test_names_are_full_dotted_paths_and_follow_the_outermost_assignment():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "scale", "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]
    assert [p.name for _, p in net.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert net.layers[0]._name == "layers.0" and net._name == ""
    assert [n for n, _ in net.named_modules()] == ["", "layers", "layers.0", "layers.1",
                                                   "layers.2"]
    # put the whole net into a bigger model: every name gets the new prefix
    outer = nn.Sequential(nn.Identity(), net)
    assert net.layers[2].bias.name == "1.layers.2.bias"
    assert net.layers[2]._name == "1.layers.2"
    # a parameter assigned into a nested module gets the full name at once
    net.layers[0].weight = nn.Parameter(np.zeros((3, 2)))
    assert net.layers[0].weight.name == "1.layers.0.weight"
    assert "1.layers.0.weight" in outer.state_dict()
    # the relative names of a sub-module's own listing do not change
    assert [n for n, _ in net.layers[0].named_parameters()] == ["weight", "bias"]


def test_shared_parameter_listed_once_but_saved_under_each_name():
    a = nn.Linear(3, 3, rng=0)
    b = nn.Linear(3, 3, rng=1)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    assert len(list(seq.parameters())) == 3
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    x = np.random.default_rng(0).standard_normal((2, 3))
    assert gradcheck(lambda w: seq(x), [a.weight])  # both uses of the shared weight count


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_an_error_and_none_unregisters():
    lin = nn.Linear(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"\.data"):
        lin.weight = lin.weight - 0.1  # the classic "update" that would detach the weight
    lin.bias = None
    assert [n for n, _ in lin.named_parameters()] == ["weight"]
    lin.extra = nn.Linear(2, 1)
    del lin.extra
    assert [n for n, _ in lin.named_modules()] == [""]


def test_submodule_without_super_init_still_registers():
    class NoInit(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    m = NoInit()
    assert [n for n, _ in m.named_parameters()] == ["w"] and m.training


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_zero_grad_train_eval():
    net = Net()
    net(np.ones((2, 2))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.eval() is net and not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_state_dict_is_a_snapshot_and_round_trips():
    a, b = nn.MLP([3, 4, 2], rng=0), nn.MLP([3, 4, 2], rng=1)
    sd = a.state_dict()
    sd["0.weight"] += 1  # a copy: the model is untouched
    assert not np.array_equal(sd["0.weight"], a[0].weight.data)
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((5, 3))
    np.testing.assert_array_equal(b(x).data, a(x).data)
    assert b[0].weight.data is not a[0].weight.data  # loaded by copy, not aliased


def test_load_state_dict_casts_to_the_parameter_dtype_and_accepts_tensors():
    m = nn.MLP([2, 2], dtype=np.float32, rng=0)
    sd = {k: Tensor(v.astype(np.float64) + 1) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    assert m[0].weight.dtype == np.float32
    np.testing.assert_allclose(m[0].weight.data, sd["0.weight"].data, rtol=1e-6)


def test_load_state_dict_rejects_missing_unexpected_and_misshapen_naming_them():
    m = nn.MLP([3, 4, 2], rng=0)
    before = m.state_dict()
    sd = m.state_dict()
    del sd["2.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['2.bias'\]"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    sd["3.weight"] = np.ones(2)
    with pytest.raises(ValueError, match=r"unexpected keys \['3.weight'\]"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    sd["0.weight"] = np.zeros((3, 4))
    sd["0.bias"] = np.zeros(4) + 5  # valid, but must not be applied since another key fails
    with pytest.raises(ValueError, match=r"'0.weight' has shape \(3, 4\).*\(4, 3\)"):
        m.load_state_dict(sd)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_goes_through_the_tracked_data_setter():
    m = nn.MLP([2, 1], rng=0)
    loss = m(Tensor(np.ones((1, 2)), requires_grad=True)).sum()  # its gradient reads the weights
    m.load_state_dict(nn.MLP([2, 1], rng=1).state_dict())
    with pytest.raises(RuntimeError, match=r"\.data"):
        loss.backward()


# -- gradients of every MLP parameter, every activation, output activation and loss -----------

LOSSES = {
    "mse": (nn.MSELoss, "float"), "bce": (nn.BCELoss, "prob"),
    "bce_logits": (nn.BCEWithLogitsLoss, "prob"), "ce_labels": (nn.CrossEntropyLoss, "labels"),
    "ce_rows": (nn.CrossEntropyLoss, "rows")}
# BCE needs outputs in [0, 1]
VALID = [(out, loss) for out in (None, "sigmoid", "softmax") for loss in LOSSES
         if not (loss == "bce" and out is None)]


def make_target(kind, rng, n, c):
    if kind == "float":
        return rng.standard_normal((n, c))
    if kind == "prob":
        return rng.uniform(size=(n, c))
    if kind == "labels":
        return rng.integers(0, c, n)
    return rng.dirichlet(np.ones(c), n)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("output_activation, loss", VALID)
def test_mlp_parameter_gradients_match_finite_differences(activation, output_activation, loss):
    rng = np.random.default_rng(42)
    model = nn.MLP([3, 5, 4, 3], activation, output_activation, rng=rng)
    x = rng.standard_normal((6, 3))
    cls, kind = LOSSES[loss]
    y = make_target(kind, rng, 6, 3)
    loss_fn = cls()
    params = list(model.parameters())
    assert gradcheck(lambda *ps: loss_fn(model(x), y), params, atol=1e-7, rtol=1e-5)


# -- issue 10: a module under two names, clear messages for common slips, Softmax(dim=) -----------

class TiedAutoencoder(nn.Module):
    """One block registered under two names, as `self.enc = self.dec = block` in PyTorch."""

    def __init__(self):
        super().__init__()
        self.enc = self.dec = nn.Linear(2, 2, rng=0)
        self.head = nn.Linear(2, 1, rng=1)

    def forward(self, x):
        return self.head(self.dec(self.enc(x)))


def test_module_under_two_names_is_in_state_dict_under_both_as_pytorch():
    m = TiedAutoencoder()
    w, b = m.enc.weight, m.enc.bias
    # torch.nn.Module.state_dict walks every registered name: enc.*, dec.*, head.*
    sd = m.state_dict()
    assert list(sd) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias", "head.weight",
                        "head.bias"]
    np.testing.assert_array_equal(sd["dec.weight"], w.data)
    params = list(m.parameters())  # each parameter once, for the optimizer
    assert len(params) == 4 and params[0] is w and params[1] is b
    assert [n for n, _ in m.named_parameters()] == ["enc.weight", "enc.bias", "head.weight",
                                                    "head.bias"]


def test_module_under_two_names_loads_both_keys_and_needs_both(tmp_path):
    src, dst = TiedAutoencoder(), TiedAutoencoder()
    src.enc.weight.data = np.array([[1.0, 2.0], [3.0, 4.0]])
    nn.save(src, tmp_path / "tied.npz")
    dst.load_state_dict(nn.load(tmp_path / "tied.npz"))
    np.testing.assert_array_equal(dst.dec.weight.data, [[1.0, 2.0], [3.0, 4.0]])
    sd = src.state_dict()
    del sd["dec.bias"]
    with pytest.raises(ValueError, match=r"missing keys \['dec.bias'\]"):
        dst.load_state_dict(sd)


def test_two_names_of_one_parameter_with_different_values_are_refused():
    m = TiedAutoencoder()
    before = m.enc.weight.data.copy()
    sd = m.state_dict()
    sd["dec.weight"] = sd["dec.weight"] + 1  # which one should win? neither: say so
    with pytest.raises(ValueError, match=r"'enc.weight' and 'dec.weight' are one parameter"):
        m.load_state_dict(sd)
    np.testing.assert_array_equal(m.enc.weight.data, before)


def test_a_module_that_contains_itself_does_not_loop_forever():
    m = nn.Linear(2, 2, rng=0)
    m.me = m
    assert list(m.state_dict()) == ["weight", "bias"]


@pytest.mark.parametrize("path", ["model.npz", Path("model.npz")])
def test_load_state_dict_of_a_path_says_to_call_nn_load_first(path):
    m = nn.MLP([3, 4, 2], rng=0)
    with pytest.raises(TypeError) as err:
        m.load_state_dict(path)
    msg = str(err.value)
    assert "MLP.load_state_dict: expected a dict" in msg and "model.npz" in msg
    assert "model.load_state_dict(nn.load('model.npz'))" in msg
    with pytest.raises(TypeError, match=r"expected a dict.*got list"):
        m.load_state_dict([np.ones(2)])


@pytest.mark.parametrize("data", [[[1.0, 2.0, 3.0]], ([1.0, 2.0, 3.0],)])
def test_linear_on_a_python_list_says_to_wrap_it(data):
    lin = nn.Linear(3, 2, rng=0)
    for model in (lin, nn.Sequential(lin)):  # Sequential calls Linear.forward directly
        with pytest.raises(TypeError) as err:
            model(data)
        msg = str(err.value)
        assert msg.startswith("Linear(in_features=3, out_features=2")
        assert type(data).__name__ in msg and "Tensor(x)" in msg and "np.asarray(x)" in msg
    expected = np.asarray(data) @ lin.weight.data.T + lin.bias.data
    np.testing.assert_allclose(lin(Tensor(data)).data, expected, rtol=1e-12)  # the advice works


@pytest.mark.parametrize("kwargs", [dict(dim=0), dict(axis=0), dict()])
def test_softmax_takes_dim_as_pytorch_or_axis(rng, kwargs):
    x = rng.standard_normal((4, 3))
    axis = 0 if kwargs else -1  # default: the last axis
    e = np.exp(x)
    np.testing.assert_allclose(nn.Softmax(**kwargs)(x).data, e / e.sum(axis, keepdims=True),
                               rtol=1e-12)
    assert repr(nn.Softmax(**kwargs)) == f"Softmax(dim={axis})"
    assert nn.Softmax(**kwargs).dim == axis


def test_softmax_positional_dim_and_both_keywords():
    x = np.array([[0.0, np.log(3.0)], [np.log(3.0), 0.0]])
    np.testing.assert_allclose(nn.Softmax(1)(x).data, [[0.25, 0.75], [0.75, 0.25]], rtol=1e-12)
    with pytest.raises(TypeError, match=r"Softmax: pass dim= or axis=, not both"):
        nn.Softmax(dim=1, axis=1)


# -- nn, version 2: what the package exports ----------------------------------------------------

@pytest.mark.parametrize("name", ["NLLLoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "init",
                                  "utils", "optim"])
def test_nn_exports_the_version_2_names(name):
    assert name in nn.__all__ and getattr(nn, name) is not None


def test_every_name_in_nn_all_exists_and_optim_keeps_its_names():
    assert all(hasattr(nn, n) for n in nn.__all__)
    for n in ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]:
        assert hasattr(nn.optim, n)
    from nn.optim import SGD  # noqa: F401  (the old module path still imports)
    from nn.optim.lr_scheduler import CosineAnnealingLR, StepLR  # noqa: F401


def test_new_losses_are_modules_with_a_reduction():
    x = Tensor(np.array([[0.5, -1.0], [2.0, 0.0]]))
    y = np.array([[0.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(nn.L1Loss()(x, y).item(), np.abs(x.data - y).mean())
    np.testing.assert_allclose(nn.L1Loss(reduction="sum")(x, y).item(), np.abs(x.data - y).sum())
    d = np.abs(x.data - y)
    huber = np.where(d < 1, 0.5 * d ** 2, d - 0.5)  # delta = 1 (also SmoothL1 with beta = 1)
    np.testing.assert_allclose(nn.HuberLoss()(x, y).item(), huber.mean())
    np.testing.assert_allclose(nn.SmoothL1Loss()(x, y).item(), huber.mean())
    logp = Tensor(np.log(np.array([[0.2, 0.8], [0.6, 0.4]])))
    np.testing.assert_allclose(nn.NLLLoss()(logp, np.array([1, 0])).item(),
                               -(np.log(0.8) + np.log(0.6)) / 2)


def test_linear_casts_its_input_to_the_parameters_dtype():
    """API choice (issue 10): float64 data into a float32 model computes in float32, and the
    gradient of a float64 input Tensor comes back float64 (the cast is on the tape)."""
    layer = nn.Linear(3, 2, dtype=np.float32)
    x = np.random.default_rng(0).standard_normal((4, 3))  # float64 data
    y = layer(x)
    assert y.dtype == np.float32
    W, b = layer.weight.data, layer.bias.data
    np.testing.assert_allclose(y.data, x.astype(np.float32) @ W.T + b, rtol=1e-6)
    xt = Tensor(x, requires_grad=True)
    layer(xt).sum().backward()
    assert xt.grad.dtype == np.float64 and layer.weight.grad.dtype == np.float32
    np.testing.assert_allclose(xt.grad, np.tile(W.sum(axis=0), (4, 1)), rtol=1e-6)


# -- version 3: Module.to / double / float, load_state_dict(strict), first names ------------------

def _pair_of_models(torch):
    """The same small model in nn and in torch (float64): Linear, BatchNorm1d, Linear."""
    m = nn.Sequential(nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Linear(4, 2, rng=1))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4),
                            torch.nn.Linear(4, 2)).double()
    t.load_state_dict({k: torch.tensor(v) for k, v in m.state_dict().items()})
    return m, t


def _dtypes(sd):
    return {k: str(v.dtype).replace("torch.", "") for k, v in sd.items()}


@pytest.mark.parametrize("how", ["to", "to_kw", "to_cpu_and_dtype", "float"])
def test_module_to_float32_casts_float_parameters_buffers_and_grads_as_torch(how):
    torch = pytest.importorskip("torch")
    m, t = _pair_of_models(torch)
    params = list(m.parameters())
    x = np.random.default_rng(0).standard_normal((5, 3))
    m(x).sum().backward()
    t(torch.tensor(x)).sum().backward()
    cast = {"to": lambda mod, dt: mod.to(dt), "to_kw": lambda mod, dt: mod.to(dtype=dt),
            "to_cpu_and_dtype": lambda mod, dt: mod.to("cpu", dt),
            "float": lambda mod, dt: mod.float()}[how]
    assert cast(m, np.float32) is m
    assert cast(t, torch.float32) is t
    assert _dtypes(m.state_dict()) == _dtypes(t.state_dict())  # num_batches_tracked stays int64
    assert m.state_dict()["1.num_batches_tracked"].dtype == np.int64
    assert all(p is q for p, q in zip(params, m.parameters()))  # the same objects, as torch
    for p, tp in zip(m.parameters(), t.parameters()):
        assert p.grad.dtype == np.float32 and tp.grad.dtype == torch.float32
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-6)
    m.eval(), t.eval()
    out = m(x)  # float64 data into the float32 model: computed in float32
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.data, t(torch.tensor(x, dtype=torch.float32)).detach(),
                               rtol=1e-5, atol=1e-6)
    assert m.double() is m and m[0].weight.dtype == np.float64
    assert m[1].running_var.dtype == np.float64


def test_module_to_cpu_is_a_no_op_and_other_targets_are_refused():
    m = nn.Linear(2, 2, rng=0)
    w = m.weight.data
    assert m.to("cpu") is m and m.to(device="cpu") is m and m.weight.data is w
    assert m.to(Tensor(np.zeros(1, np.float32))).weight.dtype == np.float32  # the tensor's dtype
    with pytest.raises(RuntimeError, match="'cuda'.*CPU"):
        m.to("cuda")
    with pytest.raises(TypeError, match="floating point"):  # as torch
        m.to(np.int64)


def test_load_state_dict_returns_missing_and_unexpected_keys_as_torch():
    torch = pytest.importorskip("torch")
    m, t = _pair_of_models(torch)
    sd = m.state_dict()
    full = m.load_state_dict(sd)
    t_full = t.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    assert full == t_full == ([], [])
    assert repr(full) == repr(t_full)  # "<All keys matched successfully>"
    assert full.missing_keys == [] and full.unexpected_keys == []
    # with its num_batches_tracked: torch fills a missing one with 0 for old checkpoints
    part = {"0.weight": np.ones((4, 3)), "2.bias": np.zeros(2), "extra.weight": np.ones(1),
            "1.num_batches_tracked": np.array(3)}
    res = m.load_state_dict(part, strict=False)
    t_res = t.load_state_dict({k: torch.tensor(v) for k, v in part.items()}, strict=False)
    assert res.missing_keys == t_res.missing_keys
    assert res.unexpected_keys == t_res.unexpected_keys == ["extra.weight"]
    assert tuple(res) == (res.missing_keys, res.unexpected_keys)
    np.testing.assert_array_equal(m[0].weight.data, np.ones((4, 3)))  # the matching keys loaded
    np.testing.assert_array_equal(m[0].bias.data, sd["0.bias"])  # the missing ones untouched
    with pytest.raises(RuntimeError):  # strict: torch raises RuntimeError, so do we
        t.load_state_dict({k: torch.tensor(v) for k, v in part.items()})
    with pytest.raises(RuntimeError, match="missing keys.*strict=False"):
        m.load_state_dict(part)
    with pytest.raises(RuntimeError, match="has shape"):  # a shape mismatch even when not strict
        m.load_state_dict({"0.weight": np.ones((3, 4))}, strict=False)


def test_a_module_under_two_names_names_its_parameters_by_the_first():
    class TwoNames(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = self.dec = nn.Linear(2, 2, rng=0)

    m = TwoNames()
    assert [n for n, _ in m.named_parameters()] == ["enc.weight", "enc.bias"]
    assert m.enc.weight.name == "enc.weight" and m.dec._name == "enc"
    assert list(m.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]


def test_tied_weights_across_modules_keep_the_first_name():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Linear(3, 3, rng=0)
            self.dec = nn.Linear(3, 3, rng=1)
            self.dec.weight = self.enc.weight  # assigned in the inner module

    m = Tied()
    first = dict((id(p), n) for n, p in reversed(list(m.named_parameters())))
    assert [p.name for p in m.parameters()] == [first[id(p)] for p in m.parameters()]
    assert m.dec.weight.name == "enc.weight"
    outer = nn.Sequential(nn.Identity(), m)
    assert m.dec.weight.name == "1.enc.weight" and m.dec.bias.name == "1.dec.bias"
    assert [p.name for p in outer.parameters()] == [n for n, _ in outer.named_parameters()]


def test_parameter_name_is_settable_and_names_survive_deepcopy():
    import copy
    m = nn.Sequential(nn.Linear(2, 2, rng=0))
    m[0].weight.name = "my weight"
    assert m[0].weight.name == "my weight"
    c = copy.deepcopy(nn.Sequential(nn.Linear(2, 2, rng=0), nn.Tanh()))
    c[0].extra = nn.Linear(2, 2, rng=1)
    assert c[0].extra.weight.name == "0.extra.weight"
    assert c[0]._name == "0" and c[0].extra._name == "0.extra"  # a module's own name: no "."
    c.add = nn.Sequential(nn.Tanh(), c[0])  # a second path, after the copy: the first wins
    assert c[0].extra.weight.name == "0.extra.weight" and c.add._name == "add"


# -- version 3: every layer with parameters computes in its own dtype; Linear's ShapeError ---------

_LAYERS = {  # name: (our layer, torch's, input shape)
    "Linear": (lambda nn_, **k: nn_.Linear(3, 4, **k), (5, 3)),
    "Conv1d": (lambda nn_, **k: nn_.Conv1d(2, 3, 3, **k), (2, 2, 7)),
    "Conv2d": (lambda nn_, **k: nn_.Conv2d(2, 3, 3, padding=1, **k), (2, 2, 5, 5)),
    "Conv2d_reflect": (lambda nn_, **k: nn_.Conv2d(2, 3, 3, padding=1, padding_mode="reflect",
                                                  **k), (2, 2, 5, 5)),
    "BatchNorm1d": (lambda nn_, **k: nn_.BatchNorm1d(3, **k), (6, 3)),
    "BatchNorm1d_no_affine": (lambda nn_, **k: nn_.BatchNorm1d(3, affine=False, **k), (6, 3)),
    "BatchNorm2d": (lambda nn_, **k: nn_.BatchNorm2d(2, **k), (3, 2, 4, 4)),
    "LayerNorm": (lambda nn_, **k: nn_.LayerNorm(5, **k), (4, 5)),
}


@pytest.mark.parametrize("name", list(_LAYERS))
@pytest.mark.parametrize("layer_dtype, data_dtype", [(np.float32, np.float64),
                                                     (np.float64, np.float32)])
def test_every_layer_with_parameters_computes_in_its_own_dtype(name, layer_dtype, data_dtype):
    """A float input of another dtype is cast to the layer's: the output has the layer's dtype
    and torch's values for the layer and the input in that dtype; the input's gradient comes
    back in the input's dtype."""
    torch = pytest.importorskip("torch")
    make, shape = _LAYERS[name]
    ours = make(nn, dtype=layer_dtype) if "BatchNorm" in name or "LayerNorm" in name \
        else make(nn, dtype=layer_dtype, rng=0)
    theirs = make(torch.nn)
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    theirs.to(getattr(torch, np.dtype(layer_dtype).name))
    data = np.random.default_rng(1).standard_normal(shape).astype(data_dtype)
    x = Tensor(data, requires_grad=True)
    out = ours(x)
    assert out.dtype == layer_dtype
    tx = torch.tensor(data.astype(layer_dtype), requires_grad=True)
    ref = theirs(tx)
    tol = 1e-5 if layer_dtype == np.float32 else 1e-6  # the data itself was rounded once
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(2).standard_normal(out.shape)
    out.backward(g.astype(layer_dtype))
    ref.backward(torch.tensor(g.astype(layer_dtype)))
    assert x.grad.dtype == data_dtype
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_embedding_output_has_the_weights_dtype():
    e = nn.Embedding(5, 3, dtype=np.float32, rng=0)
    assert e(np.array([0, 4], np.int32)).dtype == np.float32
    assert e(np.array([[1]], np.int64)).dtype == np.float32


def test_linear_shape_error_is_a_shape_error():
    from autograd_mini.tape import ShapeError
    with pytest.raises(ShapeError, match=r"Linear\(in_features=3.*\(4, 2\)"):
        nn.Linear(3, 2, rng=0)(np.ones((4, 2)))
    with pytest.raises(RuntimeError):  # as PyTorch's class
        nn.Linear(3, 2, rng=0)(np.ones((4, 2)))


# -- version 3: rng= kept by the layers with random initialisation, and by Dropout -----------------

@pytest.mark.parametrize("make", [
    lambda rng: nn.Linear(3, 2, rng=rng), lambda rng: nn.Conv1d(2, 3, 3, rng=rng),
    lambda rng: nn.Conv2d(2, 3, 3, rng=rng), lambda rng: nn.Embedding(4, 3, rng=rng),
    lambda rng: nn.MLP([3, 4, 2], rng=rng)])
def test_rng_is_kept_and_reset_parameters_draws_from_it(make):
    """An int seed is one Generator for the layer's life: reset_parameters() continues its
    stream (the same numbers as a layer built from a Generator seeded alike), never restarts."""
    a, b = make(7), make(np.random.default_rng(7))
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    first = [p.data.copy() for p in a.parameters()]
    for m in (a, b):
        for layer in m.modules():
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
    for p, q, f in zip(a.parameters(), b.parameters(), first):
        np.testing.assert_array_equal(p.data, q.data)
        assert not np.array_equal(p.data, f)
    nn.manual_seed(3)
    c = make(None)
    nn.manual_seed(3)
    for p, q in zip(c.parameters(), make(None).parameters()):
        np.testing.assert_array_equal(p.data, q.data)


def test_dropout_keeps_its_generator_and_otherwise_looks_up_the_default_at_each_call():
    x = Tensor(np.ones(50))
    d = nn.Dropout(0.5, rng=7)
    m1, m2 = d(x).data.copy(), d(x).data.copy()
    assert not np.array_equal(m1, m2)  # one generator, advanced: not reseeded at each call
    e = nn.Dropout(0.5, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(e(x).data, m1)
    np.testing.assert_array_equal(e(x).data, m2)
    f = nn.Dropout(0.5)  # built before the seed: still follows it
    nn.manual_seed(1)
    n1 = f(x).data.copy()
    nn.manual_seed(1)
    np.testing.assert_array_equal(f(x).data, n1)
