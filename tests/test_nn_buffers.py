"""Module buffers as torch.nn.Module.register_buffer: attributes that are state but not
parameters, saved and loaded by state_dict under dotted keys in PyTorch's order, in their dtype."""
import numpy as np
import pytest

import nn
from autograd_mini import Tensor


class Stats(nn.Module):
    """A layer with what BatchNorm will hold: a parameter, two float buffers, an int counter."""

    def __init__(self, n=3):
        super().__init__()
        self.weight = nn.Parameter(np.ones(n))
        self.register_buffer("running_mean", np.zeros(n))
        self.register_buffer("running_var", np.ones(n))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        self.bias = nn.Parameter(np.zeros(n))

    def forward(self, x):
        return x * self.weight + self.bias


def model():
    return nn.Sequential(nn.Linear(2, 3, rng=0), Stats(), nn.ReLU(), Stats())


def test_buffers_are_attributes_tensors_and_not_parameters():
    m = Stats()
    assert isinstance(m.running_mean, Tensor) and not m.running_mean.requires_grad
    np.testing.assert_array_equal(m.running_var.data, np.ones(3))
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    assert len(list(m.buffers())) == 3


def test_registering_shares_the_array_and_keeps_its_dtype():
    a = np.arange(3, dtype=np.float32)
    m = nn.Module()
    m.register_buffer("a", a)
    m.register_buffer("count", np.array(0, dtype=np.int64))
    assert m.a.data is a and m.a.dtype == np.float32
    assert m.count.dtype == np.int64 and m.count.shape == ()
    assert m.state_dict()["a"].dtype == np.float32
    assert m.state_dict()["count"].dtype == np.int64


def test_state_dict_order_is_parameters_then_buffers_per_module_as_pytorch():
    # torch: Module._save_to_state_dict writes a module's parameters, then its buffers, then
    # recurses into the children, in registration order
    assert list(model().state_dict()) == [
        "0.weight", "0.bias",
        "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "3.weight", "3.bias", "3.running_mean", "3.running_var", "3.num_batches_tracked"]


def test_named_buffers_have_dotted_names_and_recurse():
    m = model()
    assert [n for n, _ in m.named_buffers()] == [
        "1.running_mean", "1.running_var", "1.num_batches_tracked",
        "3.running_mean", "3.running_var", "3.num_batches_tracked"]
    assert list(m.named_buffers(recurse=False)) == []
    assert [n for n, _ in m.named_buffers(prefix="net")][0] == "net.1.running_mean"
    assert m[1].running_mean.name == "1.running_mean"  # full dotted name, as parameters
    assert all(not any(b is p for p in m.parameters()) for b in m.buffers())


def test_state_dict_is_a_snapshot_of_buffers():
    m = Stats()
    sd = m.state_dict()
    sd["running_mean"] += 5
    np.testing.assert_array_equal(m.running_mean.data, np.zeros(3))


def test_load_state_dict_round_trips_buffers_by_copy_in_their_dtype():
    a, b = model(), model()
    a[1].running_mean.data = np.array([1.0, 2.0, 3.0])
    a[3].num_batches_tracked.data = np.array(7, dtype=np.int64)
    sd = a.state_dict()
    sd["3.running_var"] = sd["3.running_var"].astype(np.float32) * 2  # cast back to float64
    sd["3.num_batches_tracked"] = Tensor(np.array(7.0))                 # cast back to int64
    b.load_state_dict(sd)
    np.testing.assert_array_equal(b[1].running_mean.data, [1, 2, 3])
    assert b[1].running_mean.data is not sd["1.running_mean"]
    assert b[3].running_var.dtype == np.float64
    np.testing.assert_array_equal(b[3].running_var.data, [2, 2, 2])
    assert b[3].num_batches_tracked.dtype == np.int64 and b[3].num_batches_tracked.item() == 7


def test_load_state_dict_needs_the_buffers_and_checks_their_shapes():
    m = model()
    sd = m.state_dict()
    del sd["1.running_var"]
    with pytest.raises(ValueError, match=r"missing keys \['1.running_var'\]"):
        m.load_state_dict(sd)
    sd = m.state_dict()
    sd["1.running_mean"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"'1.running_mean' has shape \(4,\)"):
        m.load_state_dict(sd)


def test_assigning_a_registered_buffer_name_replaces_the_buffer():
    m = Stats()
    m.running_mean = np.full(3, 2.0)
    assert isinstance(m.running_mean, Tensor)
    np.testing.assert_array_equal(m.state_dict()["running_mean"], [2, 2, 2])
    m.running_mean = Tensor(np.full(3, 4.0))
    np.testing.assert_array_equal(m.state_dict()["running_mean"], [4, 4, 4])
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    m.running_mean = None  # as PyTorch: the slot stays, and a None buffer is not saved
    assert m.running_mean is None and "running_mean" not in m.state_dict()
    with pytest.raises(TypeError, match="buffer 'running_var'"):
        m.running_var = [1.0, 2.0, 3.0]


def test_non_persistent_buffers_are_not_saved_nor_loaded():
    m = nn.Module()
    m.register_buffer("kept", np.zeros(2))
    m.register_buffer("scratch", np.zeros(2), persistent=False)
    assert list(m.state_dict()) == ["kept"]
    assert [n for n, _ in m.named_buffers()] == ["kept", "scratch"]
    m.load_state_dict({"kept": np.ones(2)})
    with pytest.raises(ValueError, match="unexpected keys"):
        m.load_state_dict({"kept": np.ones(2), "scratch": np.ones(2)})


def test_a_parameter_or_module_assigned_over_a_buffer_replaces_it():
    m = Stats()
    m.running_mean = nn.Parameter(np.zeros(3))
    assert "running_mean" in dict(m.named_parameters())
    assert "running_mean" not in dict(m.named_buffers())
    del m.running_var
    assert "running_var" not in m.state_dict() and not hasattr(m, "running_var")


def test_register_buffer_argument_errors_as_pytorch():
    m = Stats()
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("weight", np.zeros(3))
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", np.zeros(3))
    with pytest.raises(KeyError, match="empty"):
        m.register_buffer("", np.zeros(3))
    with pytest.raises(TypeError, match="string"):
        m.register_buffer(3, np.zeros(3))
    with pytest.raises(TypeError, match="buffer 'x'"):
        m.register_buffer("x", [1, 2])
    m.register_buffer("running_mean", np.ones(3))  # re-registering a buffer is allowed
    m.register_buffer("empty", None)
    assert m.empty is None and "empty" not in m.state_dict()


def test_shared_buffer_saved_under_each_name_listed_once():
    block = Stats()
    m = nn.Module()
    m.enc = block
    m.dec = block
    sd = m.state_dict()
    assert "enc.running_mean" in sd and "dec.running_mean" in sd
    assert [n for n, _ in m.named_buffers()] == ["enc.running_mean", "enc.running_var",
                                                 "enc.num_batches_tracked"]


def test_save_and_load_a_model_with_buffers(tmp_path):
    a, b = model(), model()
    a[3].running_var.data = np.array([0.5, 1.5, 2.5])
    a[3].num_batches_tracked.data = np.array(3, dtype=np.int64)
    nn.save(a, tmp_path / "m.npz")
    b.load_state_dict(nn.load(tmp_path / "m.npz"))
    np.testing.assert_array_equal(b[3].running_var.data, [0.5, 1.5, 2.5])
    assert b[3].num_batches_tracked.data.dtype == np.int64


def test_register_parameter_as_pytorch():
    m = nn.Module()
    m.register_parameter("w", nn.Parameter(np.ones(2)))
    m.register_parameter("b", None)
    assert [n for n, _ in m.named_parameters()] == ["w"] and m.b is None
    with pytest.raises(TypeError, match="Parameter or None"):
        m.register_parameter("c", Tensor(np.ones(2)))
