"""Losses: values against numpy references, gradients against finite differences (float64),
extreme inputs, dtypes and input validation."""
import numpy as np
import pytest

import nn
from autograd_mini import Tensor, gradcheck
from autograd_mini import functional as F
from autograd_mini.tape import ShapeError
from nn.losses import HuberLoss, L1Loss, NLLLoss, SmoothL1Loss  # also nn.*, once exported

REDUCTIONS = ["mean", "sum", "none"]


def reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


def np_log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def rng():
    return np.random.default_rng(1)


# -- values against numpy ------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_value(rng, reduction):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    out = nn.MSELoss(reduction)(Tensor(x), y)
    np.testing.assert_allclose(out.data, reduce((x - y) ** 2, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_value(rng, reduction):
    p, y = rng.uniform(0.01, 0.99, (5, 2)), rng.uniform(size=(5, 2))
    out = nn.BCELoss(reduction=reduction)(Tensor(p), y)
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(out.data, reduce(ref, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_value(rng, reduction):
    x, y = rng.standard_normal((5, 2)) * 4, rng.integers(0, 2, (5, 2))
    out = nn.BCEWithLogitsLoss(reduction=reduction)(Tensor(x), y)
    s = np_sigmoid(x)
    ref = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(out.data, reduce(ref, reduction), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_value_labels_and_rows(rng, reduction):
    z, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    logp = np_log_softmax(z)
    ref = reduce(-logp[np.arange(6), labels], reduction)
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    np.testing.assert_allclose(loss_fn(Tensor(z), labels).data, ref, rtol=1e-12)
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(loss_fn(Tensor(z), onehot).data, ref, rtol=1e-12)
    p = rng.dirichlet(np.ones(4), 6)
    np.testing.assert_allclose(loss_fn(Tensor(z), p).data,
                               reduce(-(p * logp).sum(axis=1), reduction), rtol=1e-12)


def test_cross_entropy_single_sample(rng):
    z = rng.standard_normal(5)
    out = nn.CrossEntropyLoss()(Tensor(z), 3)
    np.testing.assert_allclose(out.data, -np_log_softmax(z)[3], rtol=1e-12)
    assert gradcheck(lambda z: nn.CrossEntropyLoss()(z, np.int64(3)),
                     [Tensor(z, requires_grad=True)])


# -- gradients against finite differences -------------------------------------------------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_gradients_match_finite_differences(rng, reduction):
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = rng.standard_normal((4, 3))
    p = Tensor(rng.uniform(0.05, 0.95, (4, 3)), requires_grad=True)
    t = rng.uniform(size=(4, 3))
    labels = rng.integers(0, 3, 4)
    rows = rng.dirichlet(np.ones(3), 4)
    cases = [
        (nn.MSELoss(reduction), x, y), (nn.BCELoss(reduction=reduction), p, t),
        (nn.BCEWithLogitsLoss(reduction=reduction), x, t),
        (nn.CrossEntropyLoss(reduction=reduction), x, labels),
        (nn.CrossEntropyLoss(reduction=reduction), x, rows),
        (NLLLoss(reduction=reduction), x, labels), (L1Loss(reduction), x, y),
        (HuberLoss(reduction, delta=0.5), x, y), (SmoothL1Loss(reduction, beta=0.5), x, y)]
    for loss_fn, pred, target in cases:
        assert gradcheck(lambda a: loss_fn(a, target), [pred], atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("fn, make_pred", [
    (F.mse_loss, lambda r: r.standard_normal((3, 4))),
    (F.binary_cross_entropy, lambda r: r.uniform(0.1, 0.9, (3, 4))),
    (F.binary_cross_entropy_with_logits, lambda r: r.standard_normal((3, 4))),
    (F.cross_entropy, lambda r: r.standard_normal((3, 4)))])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_functional_losses_also_differentiate_the_target(rng, fn, make_pred, reduction):
    pred = Tensor(make_pred(rng), requires_grad=True)
    target = Tensor(rng.dirichlet(np.ones(4), 3), requires_grad=True)
    assert gradcheck(lambda a, b: fn(a, b, reduction=reduction), [pred, target],
                     atol=1e-8, rtol=1e-6)


def test_mse_broadcast_target_gradient_in_the_engine(rng):
    # F.mse_loss broadcasts like PyTorch, with PyTorch's warning about the sizes
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = Tensor(rng.standard_normal(3), requires_grad=True)
    with pytest.warns(UserWarning, match="different to the input size"):
        assert gradcheck(lambda a, b: F.mse_loss(a, b), [x, y])


def test_nn_losses_pass_a_tensor_target_through_as_pytorch(rng):
    # a target that requires grad gets its gradient (torch.nn.MSELoss does the same):
    # d/dy mean((x - y)^2) = -2 (x - y) / n
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    nn.MSELoss()(x, y).backward()
    np.testing.assert_allclose(y.grad, -2 * (x.data - y.data) / 6, rtol=1e-12)
    z = Tensor(rng.standard_normal((2, 3)))  # the usual case: a constant target, no gradient
    nn.MSELoss()(x, z).backward()
    assert z.grad is None


# -- extreme inputs ------------------------------------------------------------------------------

def test_cross_entropy_at_logits_of_plus_minus_1000():
    z = Tensor(np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]]), requires_grad=True)
    labels = np.array([1, 0])
    loss = nn.CrossEntropyLoss(reduction="sum")(z, labels)
    # closed form: -log_softmax at the label; exp(-1000) underflows to exactly 0
    np.testing.assert_allclose(loss.data, 2000.0 + (2000.0 + np.log(2)), rtol=1e-12)
    loss.backward()
    softmax = np.array([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]])
    np.testing.assert_allclose(z.grad, softmax - np.eye(3)[labels], atol=1e-15)
    # correct labels: loss 0 (row 0) and log 2 (row 1), gradient still finite
    z.grad = None
    loss = nn.CrossEntropyLoss()(z, np.array([0, 2]))
    np.testing.assert_allclose(loss.data, np.log(2) / 2, rtol=1e-12)
    loss.backward()
    assert np.all(np.isfinite(z.grad))


def test_cross_entropy_is_stable_near_large_logits_by_finite_differences(rng):
    z = Tensor(rng.standard_normal((3, 4)) + 1000.0, requires_grad=True)
    assert gradcheck(lambda a: nn.CrossEntropyLoss()(a, np.array([0, 1, 3])), [z])


def test_bce_with_logits_at_plus_minus_1000():
    x = Tensor(np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.0]), requires_grad=True)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = nn.BCEWithLogitsLoss(reduction="none")(x, y)
    np.testing.assert_allclose(loss.data, [0, 0, 1000, 1000, np.log(2)], rtol=1e-12)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad, [0, 0, 1, -1, -0.5], atol=1e-15)  # sigmoid(x) - y


def test_bce_with_logits_gradients_at_large_logits_by_finite_differences(rng):
    x = Tensor(np.concatenate([rng.uniform(30, 40, 3), -rng.uniform(30, 40, 3)]),
               requires_grad=True)
    y = np.array([0.0, 1.0, 0.3, 1.0, 0.0, 0.7])
    assert gradcheck(lambda a: nn.BCEWithLogitsLoss(reduction="sum")(a, y), [x])


def test_bce_at_probabilities_exactly_0_and_1():
    p = Tensor(np.array([0.0, 1.0, 0.0, 1.0, 0.5]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    loss = nn.BCELoss(reduction="none")(p, y)
    # right answers cost 0, wrong answers the clamp's 100 (as PyTorch), never inf or nan
    np.testing.assert_allclose(loss.data, [0, 0, 100, 100, np.log(2)], rtol=1e-12)
    loss.sum().backward()
    # the exact (1 - y)/(1 - p) - y/p where finite; +-1e12 at the saturated wrong answers
    # (a large finite push away from them, as PyTorch), never inf or nan
    np.testing.assert_allclose(p.grad, [1, -1, -1e12, 1e12, -2], rtol=1e-12)


def test_bce_gradient_near_the_edges_by_finite_differences():
    p = Tensor(np.array([1e-5, 1 - 1e-5, 1e-3, 0.999]), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0])
    assert gradcheck(lambda a: nn.BCELoss(reduction="sum")(a, y), [p], eps=1e-9, rtol=1e-4)


# -- dtypes --------------------------------------------------------------------------------------

@pytest.mark.parametrize("loss_fn, make_target", [
    (nn.MSELoss(), lambda r: r.standard_normal((4, 3))),
    (nn.BCELoss(), lambda r: r.uniform(size=(4, 3))),
    (nn.BCEWithLogitsLoss(), lambda r: r.integers(0, 2, (4, 3))),
    (nn.CrossEntropyLoss(), lambda r: r.integers(0, 3, 4)),
    (nn.CrossEntropyLoss(), lambda r: r.dirichlet(np.ones(3), 4))])
def test_float32_predictions_give_float32_loss_and_gradient(rng, loss_fn, make_target):
    x = Tensor(rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32), requires_grad=True)
    loss = loss_fn(x, make_target(rng))  # float64 targets are cast, not promoting the loss
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))


# -- validation: the functional losses check, the modules wrap them -----------------------------

def test_cross_entropy_errors_name_the_loss_and_the_shapes():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"cross_entropy: label 4 at index \(1,\) is out of "
                                         r"range.*\[0, 4\).*\(3, 4\).*\(3,\)") as info:
        nn.CrossEntropyLoss()(z, np.array([0, 4, 1]))
    assert isinstance(info.value, IndexError)  # PyTorch raises IndexError here
    with pytest.raises(ValueError, match="label -1 at index"):
        nn.CrossEntropyLoss()(z, np.array([0, -1, 1]))
    with pytest.raises(ShapeError, match=r"labels must have shape \(3,\)"):
        nn.CrossEntropyLoss()(z, np.array([0, 1]))
    with pytest.raises(ShapeError, match=r"float labels\?.*astype"):
        nn.CrossEntropyLoss()(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ShapeError, match="class probabilities must have the input's shape"):
        nn.CrossEntropyLoss()(z, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="dtype bool"):
        nn.CrossEntropyLoss()(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match="input must be floating point"):
        nn.CrossEntropyLoss()(np.zeros((2, 3), int), np.zeros(2, int))


def test_modules_raise_what_the_functional_losses_raise():
    cases = [
        (nn.CrossEntropyLoss(), F.cross_entropy, np.zeros((3, 4)), np.array([0, 4, 1])),
        (nn.CrossEntropyLoss(), F.cross_entropy, np.zeros((3, 4)), np.zeros((3, 1))),
        (NLLLoss(), F.nll_loss, np.zeros((3, 4)), np.array([0, -1, 1])),
        (nn.BCELoss(), F.binary_cross_entropy, np.array([0.5, 1.5]), np.ones(2)),
        (nn.BCELoss(), F.binary_cross_entropy, np.full((4, 1), 0.5), np.ones(4)),
        (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits, np.zeros((4, 1)),
         np.ones(4)),
        (nn.MSELoss(), F.mse_loss, np.ones(2, dtype=int), np.ones(2))]
    for module, fn, x, y in cases:
        with pytest.raises(ValueError) as by_module:
            module(Tensor(x), y)
        with pytest.raises(ValueError) as by_function:
            fn(Tensor(x), y)
        assert type(by_module.value) is type(by_function.value)
        assert str(by_module.value) == str(by_function.value)


def test_classes_on_axis_1_of_3d_logits_through_the_module(rng):
    # (N, C, d) = (2, 3, 4), PyTorch's layout; this used to raise (the last axis was the classes)
    z = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    out = nn.CrossEntropyLoss(reduction="none")(Tensor(z), y)
    expect = -np.take_along_axis(z - np.log(np.exp(z).sum(axis=1, keepdims=True)), y[:, None],
                                 axis=1)[:, 0]
    np.testing.assert_allclose(out.data, expect, rtol=1e-12)


def test_elementwise_loss_errors():
    for loss_fn, name in ((nn.MSELoss(), "mse_loss"), (nn.BCELoss(), "binary_cross_entropy"),
                          (nn.BCEWithLogitsLoss(), "binary_cross_entropy_with_logits")):
        with pytest.raises(ValueError, match=f"{name}: target must be numeric"):
            loss_fn(Tensor(np.full(2, 0.5)), np.array(["a", "b"]))
        with pytest.raises(ValueError, match=f"{name}: input must be floating point"):
            loss_fn(np.ones(2, dtype=int), np.ones(2))
    # (N, 1) against (N,): MSELoss warns as PyTorch, the BCE losses raise as PyTorch
    with pytest.warns(UserWarning, match=r"mse_loss: Using a target size \(4,\) that is "
                                         r"different to the input size \(4, 1\)"):
        nn.MSELoss()(Tensor(np.full((4, 1), 0.5)), np.ones(4))
    for loss_fn in (nn.BCELoss(), nn.BCEWithLogitsLoss()):
        with pytest.raises(ShapeError, match=r"\(4,\).*\(4, 1\)"):
            loss_fn(Tensor(np.full((4, 1), 0.5)), np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should "
                                         r"be between 0 and 1.*BCEWithLogitsLoss"):
        nn.BCELoss()(Tensor(np.array([0.5, 1.5])), np.ones(2))
    with pytest.raises(ValueError, match="NaN"):
        nn.BCELoss()(Tensor(np.array([0.5, np.nan])), np.ones(2))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: reduction"):
        F.cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg")


def test_weighted_losses_take_weight_first_as_pytorch():
    with pytest.raises(TypeError, match=r"class weight.*reduction='sum'"):
        nn.CrossEntropyLoss("sum")
    with pytest.raises(TypeError, match="class weight"):
        NLLLoss("none")


# -- the options of the v2 modules ----------------------------------------------------------------

def np_ce_weighted(z, y, w, ignore_index, eps):
    """PyTorch's documented CrossEntropyLoss (class indices, "mean"), for (N, C) logits."""
    logp = np_log_softmax(z)
    c = z.shape[1]
    total, denom = 0.0, 0.0
    for n, label in enumerate(y):
        if label == ignore_index:
            continue
        total += (1 - eps) * -w[label] * logp[n, label] + eps / c * -(w * logp[n]).sum()
        denom += w[label]
    return total / denom


@pytest.mark.parametrize("weight_as", [np.asarray, Tensor])
def test_cross_entropy_loss_options(rng, weight_as):
    z = rng.standard_normal((6, 3))
    y = np.array([0, 2, 5, 1, 1, 5])
    w = np.array([0.3, 1.0, 2.0])
    loss_fn = nn.CrossEntropyLoss(weight=weight_as(w), ignore_index=5, label_smoothing=0.1)
    zt = Tensor(z, requires_grad=True)
    loss = loss_fn(zt, y)
    np.testing.assert_allclose(loss.item(), np_ce_weighted(z, y, w, 5, 0.1), rtol=1e-12)
    assert gradcheck(lambda a: loss_fn(a, y), [zt], atol=1e-8, rtol=1e-6)
    assert "label_smoothing=0.1" in repr(loss_fn)


def test_nll_loss_module(rng):
    logp = np_log_softmax(rng.standard_normal((5, 4)))
    y = np.array([3, 0, 1, 1, 2])
    w = np.array([1.0, 0.5, 2.0, 1.5])
    out = NLLLoss(weight=w)(Tensor(logp), y)
    picked = logp[np.arange(5), y]
    np.testing.assert_allclose(out.item(), -(w[y] * picked).sum() / w[y].sum(), rtol=1e-12)
    out = NLLLoss(ignore_index=1, reduction="sum")(Tensor(logp), y)
    np.testing.assert_allclose(out.item(), -picked[y != 1].sum(), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_l1_huber_smooth_l1_modules(rng, reduction):
    x, y = rng.standard_normal((4, 3)) * 2, rng.standard_normal((4, 3))
    d = x - y
    a = np.abs(d)
    cases = [(L1Loss(reduction), a),
             (HuberLoss(reduction, delta=0.7), np.where(a < 0.7, 0.5 * d * d, 0.7 * (a - 0.35))),
             (SmoothL1Loss(reduction, beta=0.7), np.where(a < 0.7, 0.5 * d * d / 0.7, a - 0.35))]
    for loss_fn, ref in cases:
        np.testing.assert_allclose(loss_fn(Tensor(x), y).data, reduce(ref, reduction),
                                   rtol=1e-12)
    assert "delta=0.7" in repr(cases[1][0]) and "beta=0.7" in repr(cases[2][0])


@pytest.mark.parametrize("loss_fn", [NLLLoss(), L1Loss(), HuberLoss(), SmoothL1Loss(),
                                     nn.CrossEntropyLoss(label_smoothing=0.2)],
                         ids=lambda m: type(m).__name__)
def test_v2_losses_keep_float32(rng, loss_fn):
    x = Tensor(rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32), requires_grad=True)
    target = (rng.integers(0, 3, 4) if isinstance(loss_fn, (NLLLoss, nn.CrossEntropyLoss))
              else rng.standard_normal((4, 3)))
    loss = loss_fn(x, target)
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and np.all(np.isfinite(x.grad))


def test_integer_and_bool_targets_are_accepted_by_elementwise_losses():
    p = Tensor(np.array([0.2, 0.7]), requires_grad=True)
    a = nn.BCELoss()(p, np.array([0, 1])).data
    b = nn.BCELoss()(p, np.array([False, True])).data
    np.testing.assert_allclose(a, -(np.log(0.8) + np.log(0.7)) / 2, rtol=1e-12)
    assert a == b


# -- version 3: BCELoss(weight=), BCEWithLogitsLoss(weight=, pos_weight=), as torch ---------------

def _needs_functional_argument(f, name):
    import inspect
    if name not in inspect.signature(f).parameters:
        pytest.skip(f"F.{f.__name__} does not take {name}= yet")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_loss_weight_as_torch(rng, reduction):
    torch = pytest.importorskip("torch")
    _needs_functional_argument(F.binary_cross_entropy, "weight")
    p, y, w = rng.uniform(0.01, 0.99, (5, 3)), rng.uniform(size=(5, 3)), rng.uniform(size=3)
    x = Tensor(p, requires_grad=True)
    out = nn.BCELoss(w, reduction=reduction)(x, y)  # weight is the first parameter, as torch
    tx = torch.tensor(p, requires_grad=True)
    ref = torch.nn.BCELoss(torch.tensor(w), reduction=reduction)(tx, torch.tensor(y))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_loss_weight_and_pos_weight_as_torch(rng, reduction):
    torch = pytest.importorskip("torch")
    _needs_functional_argument(F.binary_cross_entropy_with_logits, "pos_weight")
    z, y = rng.standard_normal((5, 3)) * 3, rng.integers(0, 2, (5, 3)).astype(float)
    w, pw = rng.uniform(size=(5, 1)), np.array([1.0, 3.0, 0.5])
    x = Tensor(z, requires_grad=True)
    out = nn.BCEWithLogitsLoss(weight=w, pos_weight=pw, reduction=reduction)(x, y)
    tx = torch.tensor(z, requires_grad=True)
    ref = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw),
                                     reduction=reduction)(tx, torch.tensor(y))
    np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-10)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-10)


def test_bce_losses_take_weight_first_as_torch():
    """nn.BCELoss("sum") would be torch's weight="sum": say to pass reduction by keyword."""
    with pytest.raises(TypeError, match="reduction='sum' by keyword"):
        nn.BCELoss("sum")
    with pytest.raises(TypeError, match="reduction='sum' by keyword"):
        nn.BCEWithLogitsLoss("sum")
    assert nn.BCEWithLogitsLoss(pos_weight=np.ones(2)).pos_weight.shape == (2,)
