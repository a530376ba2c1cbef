"""Losses: values against numpy references, gradients against finite differences (float64),
extreme inputs, dtypes and input validation."""
import numpy as np
import pytest

import nn
from autograd_mini import Tensor, gradcheck
from autograd_mini import functional as F

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
    out = nn.BCELoss(reduction)(Tensor(p), y)
    ref = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(out.data, reduce(ref, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_value(rng, reduction):
    x, y = rng.standard_normal((5, 2)) * 4, rng.integers(0, 2, (5, 2))
    out = nn.BCEWithLogitsLoss(reduction)(Tensor(x), y)
    s = np_sigmoid(x)
    ref = -(y * np.log(s) + (1 - y) * np.log(1 - s))
    np.testing.assert_allclose(out.data, reduce(ref, reduction), rtol=1e-10)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_value_labels_and_rows(rng, reduction):
    z, labels = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    logp = np_log_softmax(z)
    ref = reduce(-logp[np.arange(6), labels], reduction)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction)(Tensor(z), labels).data, ref,
                               rtol=1e-12)
    onehot = np.eye(4)[labels]
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction)(Tensor(z), onehot).data, ref,
                               rtol=1e-12)
    p = rng.dirichlet(np.ones(4), 6)
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction)(Tensor(z), p).data,
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
        (nn.MSELoss(reduction), x, y), (nn.BCELoss(reduction), p, t),
        (nn.BCEWithLogitsLoss(reduction), x, t), (nn.CrossEntropyLoss(reduction), x, labels),
        (nn.CrossEntropyLoss(reduction), x, rows)]
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
    # F.mse_loss broadcasts like numpy (nn.MSELoss refuses mismatched shapes, see below)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = Tensor(rng.standard_normal(3), requires_grad=True)
    assert gradcheck(lambda a, b: F.mse_loss(a, b), [x, y])


def test_nn_losses_treat_a_tensor_target_as_constant(rng):
    x = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    y = Tensor(rng.standard_normal((2, 3)), requires_grad=True)
    nn.MSELoss()(x, y).backward()
    assert x.grad is not None and y.grad is None


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


# -- validation ----------------------------------------------------------------------------------

def test_cross_entropy_errors_name_the_loss_and_the_shapes():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: label 4 is out of range.*\[0, 4\)"
                                         r".*\(3, 4\).*\(3,\)"):
        nn.CrossEntropyLoss()(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="label -1 is out of range"):
        nn.CrossEntropyLoss()(z, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        nn.CrossEntropyLoss()(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"float labels\?.*astype"):
        nn.CrossEntropyLoss()(z, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="probability targets must have the logits' shape"):
        nn.CrossEntropyLoss()(z, np.zeros((3, 5)))
    with pytest.raises(ValueError, match="dtype bool"):
        nn.CrossEntropyLoss()(z, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"logits must have shape \(N, C\)"):
        nn.CrossEntropyLoss()(np.zeros((2, 3, 4)), np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="logits must be floating point"):
        nn.CrossEntropyLoss()(np.zeros((2, 3), int), np.zeros(2, int))


def test_elementwise_loss_errors():
    for loss_fn in (nn.MSELoss(), nn.BCELoss(), nn.BCEWithLogitsLoss()):
        name = type(loss_fn).__name__
        with pytest.raises(ValueError, match=rf"{name}: .*same shape.*\(4, 1\).*\(4,\)"):
            loss_fn(Tensor(np.full((4, 1), 0.5)), np.ones(4))
        with pytest.raises(ValueError, match=f"{name}: target must be numeric"):
            loss_fn(Tensor(np.full(2, 0.5)), np.array(["a", "b"]))
        with pytest.raises(ValueError, match=f"{name}: predictions must be floating point"):
            loss_fn(np.ones(2, dtype=int), np.ones(2))
    with pytest.raises(ValueError, match=r"BCELoss: predictions must be probabilities.*"
                                         r"BCEWithLogitsLoss"):
        nn.BCELoss()(Tensor(np.array([0.5, 1.5])), np.ones(2))
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: reduction"):
        F.cross_entropy(np.zeros((2, 3)), np.zeros(2, int), reduction="avg")


def test_integer_and_bool_targets_are_accepted_by_elementwise_losses():
    p = Tensor(np.array([0.2, 0.7]), requires_grad=True)
    a = nn.BCELoss()(p, np.array([0, 1])).data
    b = nn.BCELoss()(p, np.array([False, True])).data
    np.testing.assert_allclose(a, -(np.log(0.8) + np.log(0.7)) / 2, rtol=1e-12)
    assert a == b
