"""The top level of autograd_mini as PyTorch's: factories, dtype names, manual_seed, cat and
stack, and `from autograd_mini import nn` (also when a learner's own nn.py is on sys.path)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini import Tensor

ROOT = Path(__file__).resolve().parents[1]


def test_nn_is_the_nn_package_and_nn_functional_is_autograd_minis():
    from autograd_mini import nn as am_nn
    assert am_nn is nn and am.nn is nn
    assert nn.functional is am.functional
    import autograd_mini.functional as F
    assert nn.functional.relu is F.relu


@pytest.mark.parametrize("first", ["own nn imported first", "own nn only on the path"])
def test_a_learners_own_nn_py_cannot_shadow_autograd_mini_nn(tmp_path, first):
    """A script next to its own nn.py: `from autograd_mini import nn` is still the package, and
    the script's `import nn` is still its own module."""
    (tmp_path / "nn.py").write_text("MINE = True\n")
    lines = ["import nn as own"] if first == "own nn imported first" else []
    lines += ["from autograd_mini import nn", "import autograd_mini",
              "assert nn.Linear and not hasattr(nn, 'MINE'), nn",
              "assert autograd_mini.nn is nn",
              "import autograd_mini.nn as again", "assert again is nn",
              "m = nn.Sequential(nn.Linear(2, 1, rng=0)); m(autograd_mini.zeros(3, 2)).sum()",
              "import nn as own2", "assert own2.MINE"]
    (tmp_path / "script.py").write_text("\n".join(lines) + "\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    run = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_dtype_names_are_numpys():
    assert (am.float32, am.float64, am.int64, am.bool) == (np.float32, np.float64, np.int64,
                                                           np.bool_)
    assert Tensor(np.ones(2), dtype=am.float32).dtype == np.float32
    assert am.bool is not bool  # the module's name, not the builtin


def test_factories_dtypes_as_torch_except_float64_by_default():
    torch = pytest.importorskip("torch")
    assert am.tensor([1, 2]).dtype == np.int64 and torch.tensor([1, 2]).dtype == torch.int64
    assert am.tensor(3).dtype == np.int64
    assert am.tensor([True, False]).dtype == np.bool_
    assert am.tensor([1.5, 2]).dtype == np.float64  # torch: float32 (its default dtype)
    assert am.tensor(np.ones(2, np.float32)).dtype == np.float32  # an ndarray keeps its dtype
    assert am.tensor(np.arange(3, dtype=np.int32)).dtype == torch.tensor(
        np.arange(3, dtype=np.int32)).numpy().dtype == np.int32
    assert am.tensor([1, 2], dtype=am.float32).dtype == np.float32
    assert am.arange(5).dtype == np.int64 and torch.arange(5).dtype == torch.int64
    np.testing.assert_array_equal(am.arange(2, 9, 3).data, torch.arange(2, 9, 3).numpy())
    np.testing.assert_allclose(am.arange(0, 1, 0.25).data, torch.arange(0, 1, 0.25).numpy())
    assert am.arange(0, 1, 0.25).dtype == np.float64
    assert am.arange(3, dtype=am.float32).dtype == np.float32
    for f in (am.zeros, am.ones, am.randn):
        assert f(2, 3).shape == f((2, 3)).shape == f([2, 3]).shape == (2, 3)
        assert f(2).dtype == np.float64 and f(2, dtype=am.float32).dtype == np.float32
    np.testing.assert_array_equal(am.zeros(2, 3).data, torch.zeros(2, 3).numpy())
    np.testing.assert_array_equal(am.ones(4).data, torch.ones(4).numpy())
    assert am.zeros(2, dtype=am.int64).dtype == np.int64


def test_factories_take_requires_grad_and_tensor_copies():
    x = am.ones(3, requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 2])
    assert am.randn(2, requires_grad=True).requires_grad
    assert am.tensor([1.0, 2.0], requires_grad=True).requires_grad
    a = np.zeros(2)
    t = am.tensor(a)
    a[0] = 5
    assert t.data[0] == 0  # a copy, as torch.tensor
    s = Tensor(np.ones(2))
    assert am.tensor(s).data is not s.data
    with pytest.raises(TypeError, match="floating point"):
        am.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="numeric"):
        am.tensor("hello")
    with pytest.raises(TypeError, match="size"):
        am.zeros(2.5)


def test_manual_seed_is_one_generator_behind_randn_init_and_dropout():
    assert am.manual_seed is nn.manual_seed
    am.manual_seed(0)
    a = am.randn(3)
    w = nn.Linear(2, 2).weight.data.copy()
    mask = nn.Dropout(0.5)(am.ones(8)).data.copy()
    am.manual_seed(0)
    np.testing.assert_array_equal(am.randn(3).data, a.data)
    np.testing.assert_array_equal(nn.Linear(2, 2).weight.data, w)
    np.testing.assert_array_equal(nn.Dropout(0.5)(am.ones(8)).data, mask)
    nn.manual_seed(5)  # the same generator: reseeding through nn reseeds randn
    np.testing.assert_array_equal(am.randn(4).data,
                                  np.random.default_rng(5).standard_normal(4))
    assert not np.array_equal(am.randn(3).data, a.data)


def test_cat_and_stack_at_the_top_level():
    torch = pytest.importorskip("torch")
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    np.testing.assert_array_equal(am.cat([Tensor(a), Tensor(b)], 1).data,
                                  torch.cat([torch.tensor(a), torch.tensor(b)], 1).numpy())
    np.testing.assert_array_equal(am.stack([Tensor(a), Tensor(b)]).data,
                                  torch.stack([torch.tensor(a), torch.tensor(b)]).numpy())
