"""The functional losses (F.cross_entropy, F.nll_loss, F.mse_loss, ...) as PyTorch defines them.

Every expected value is written out in numpy from PyTorch's documented formulas; gradients are
checked against central differences of those numpy formulas, and second derivatives against
central differences of the engine's first derivative, in float64. Input validation lives in the
functional layer (issue 10, items 2-4), so these tests call F.* directly; test_nn_losses.py
checks that the nn modules wrap them.
"""
import warnings

import numpy as np
import pytest

import autograd_mini
from autograd_mini import Tensor, grad, no_grad
from autograd_mini import functional as F
from autograd_mini.tape import ShapeError
from conftest import numeric_grad

REDUCTIONS = ["mean", "sum", "none"]
DTYPES = [np.float32, np.float64]


# -- references in plain numpy (PyTorch's documented formulas) --------------------------------

def np_log_softmax(z, axis):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def ref_cross_entropy(z, target, weight=None, ignore_index=-100, reduction="mean",
                      label_smoothing=0.0):
    """torch.nn.CrossEntropyLoss, from its documentation, one sample at a time.

    Class indices: l_n = (1 - eps) * (-w[y_n] logp[n, y_n]) + eps / C * sum_c (-w_c logp[n, c]),
    zero where y_n == ignore_index; "mean" divides the sum by sum_n w[y_n] over the non-ignored.
    Probabilities: l_n = -sum_c w_c q[n, c] logp[n, c] with q = (1 - eps) p + eps / C; "mean"
    divides by the number of samples (N * d1 * ...).
    """
    z = np.asarray(z, np.float64)
    single = z.ndim == 1
    if single:
        z, target = z[None], np.asarray(target)[None]
    c = z.shape[1]
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    logp = np.moveaxis(np_log_softmax(z, 1), 1, -1)  # (N, d..., C)
    target = np.asarray(target)
    losses = np.zeros(logp.shape[:-1])
    denom = 0.0
    for idx in np.ndindex(*logp.shape[:-1]):
        lp = logp[idx]
        if target.dtype.kind in "iu":
            y = target[idx]
            if y == ignore_index:
                continue
            nll = -w[y] * lp[y]
            smooth = -(w * lp).sum()
            losses[idx] = (1 - label_smoothing) * nll + label_smoothing / c * smooth
            denom += w[y]
        else:
            q = (1 - label_smoothing) * np.moveaxis(target, 1, -1)[idx] + label_smoothing / c
            losses[idx] = -(w * q * lp).sum()
            denom += 1
    if single:
        losses = losses[0]
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return losses.sum() / denom


def ref_nll(logp, target, weight=None, ignore_index=-100, reduction="mean"):
    """torch.nn.NLLLoss: l_n = -w[y_n] x[n, y_n], zero where y_n == ignore_index; "mean"
    divides by sum_n w[y_n] over the non-ignored samples."""
    logp = np.asarray(logp, np.float64)
    single = logp.ndim == 1
    if single:
        logp, target = logp[None], np.asarray(target)[None]
    w = np.ones(logp.shape[1]) if weight is None else np.asarray(weight, np.float64)
    x = np.moveaxis(logp, 1, -1)
    losses, denom = np.zeros(x.shape[:-1]), 0.0
    for idx in np.ndindex(*x.shape[:-1]):
        y = target[idx]
        if y != ignore_index:
            losses[idx] = -w[y] * x[idx][y]
            denom += w[y]
    if single:
        losses = losses[0]
    return {"none": losses, "sum": losses.sum(), "mean": losses.sum() / denom}[reduction]


def ref_elementwise(name, x, y, reduction, **kw):
    d = np.asarray(x, np.float64) - np.asarray(y, np.float64)
    a = np.abs(d)
    if name == "mse_loss":
        losses = d * d
    elif name == "l1_loss":
        losses = a
    elif name == "huber_loss":  # 0.5 d^2 if |d| < delta else delta (|d| - delta / 2)
        delta = kw.get("delta", 1.0)
        losses = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    elif name == "smooth_l1_loss":  # 0.5 d^2 / beta if |d| < beta else |d| - beta / 2
        beta = kw.get("beta", 1.0)
        losses = a if beta == 0 else np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
    else:
        raise AssertionError(name)
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def check_value_and_grad(fn, ref, x, rtol=1e-10, atol=1e-12, w=None):
    """fn(Tensor) against ref(ndarray); its gradient (contracted with random w) against central
    differences of ref, in float64."""
    xt = Tensor(x.copy(), requires_grad=True)
    out = fn(xt)
    expect = ref(x)
    np.testing.assert_allclose(out.data, expect, rtol=rtol, atol=atol)
    w = np.random.default_rng(5).standard_normal(np.shape(expect)) if w is None else w
    out.backward(np.asarray(w, dtype=out.dtype))
    num = numeric_grad(lambda a: float(np.sum(ref(a) * w)), [x], 0)
    np.testing.assert_allclose(xt.grad, num, rtol=1e-6, atol=1e-8)
    return xt.grad


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# == item 3: classes on axis 1, PyTorch's shapes ================================================

SHAPES = [(5,), (4, 5), (3, 4, 2), (2, 3, 2, 3)]  # (C,), (N, C), (N, C, d1), (N, C, d1, d2)


def labels_for(rng, shape):
    c = shape[0] if len(shape) == 1 else shape[1]
    lshape = () if len(shape) == 1 else shape[:1] + shape[2:]
    return rng.integers(0, c, lshape)


def probs_for(rng, shape):
    axis = 0 if len(shape) == 1 else 1
    p = rng.uniform(0.05, 1, shape)
    return p / p.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["labels", "probs"])
def test_cross_entropy_classes_on_axis_1(rng, shape, reduction, kind):
    z = rng.standard_normal(shape) * 2
    target = labels_for(rng, shape) if kind == "labels" else probs_for(rng, shape)
    check_value_and_grad(lambda t: F.cross_entropy(t, target, reduction=reduction),
                         lambda a: ref_cross_entropy(a, target, reduction=reduction), z)


def test_cross_entropy_3d_logits_reduce_axis_1_not_the_last(rng):
    # (N, C, d) = (2, 3, 4): 2 * 4 samples of 3 classes, PyTorch's layout
    z = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 3, (2, 4))
    out = F.cross_entropy(Tensor(z), y, reduction="none")
    assert out.shape == (2, 4)
    logp = np_log_softmax(z, 1)
    expect = -np.take_along_axis(logp, y[:, None], axis=1)[:, 0]
    np.testing.assert_allclose(out.data, expect, rtol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["labels", "probs"])
def test_cross_entropy_non_contiguous_logits_gradient(rng, dtype, kind):
    """Issue 10 item 2: logits of shape (N, C, d) made by a transpose (a non-contiguous view)."""
    a = rng.standard_normal((3, 4, 5))  # (N, d, C)
    y = rng.integers(0, 5, (3, 4)) if kind == "labels" else probs_for(rng, (3, 5, 4))
    at = Tensor(a.astype(dtype), requires_grad=True)
    z = at.transpose(1, 2)  # (N, C, d), not contiguous
    assert not z.data.flags.c_contiguous
    F.cross_entropy(z, y, reduction="sum").backward()
    ref = lambda b: ref_cross_entropy(np.swapaxes(b, 1, 2), y, reduction="sum")  # noqa: E731
    num = numeric_grad(lambda b: float(ref(b)), [a], 0)
    tol = 1e-6 if dtype == np.float64 else 2e-4
    np.testing.assert_allclose(at.grad, num, rtol=tol, atol=tol)
    assert at.grad.dtype == dtype
    # every sample's gradient over its classes sums to 0 (softmax minus a distribution)
    np.testing.assert_allclose(at.grad.sum(axis=2), 0, atol=10 * tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_keeps_the_dtype(rng, dtype):
    z = Tensor(rng.standard_normal((4, 3, 2)).astype(dtype), requires_grad=True)
    for target, kw in [(rng.integers(0, 3, (4, 2)), {}),
                       (probs_for(rng, (4, 3, 2)), {}),  # float64 probabilities: cast, no promotion
                       (rng.integers(0, 3, (4, 2)), dict(weight=np.array([1.0, 2.0, 0.5]),
                                                         label_smoothing=0.1))]:
        z.grad = None
        loss = F.cross_entropy(z, target, **kw)
        assert loss.dtype == dtype
        loss.backward()
        assert z.grad.dtype == dtype and np.all(np.isfinite(z.grad))


# == weight, ignore_index, label_smoothing =====================================================

@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2)], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("as_tensor", [False, True])
def test_cross_entropy_weight_mean_divides_by_the_weights_of_the_targets(rng, shape, reduction,
                                                                          as_tensor):
    z = rng.standard_normal(shape)
    y = labels_for(rng, shape)
    w = np.array([0.5, 2.0, 1.0, 3.0])
    weight = Tensor(w) if as_tensor else w
    check_value_and_grad(lambda t: F.cross_entropy(t, y, weight=weight, reduction=reduction),
                         lambda a: ref_cross_entropy(a, y, weight=w, reduction=reduction), z)


def test_cross_entropy_weighted_mean_by_hand():
    # two samples, labels 0 and 1, weights 1 and 3: mean = (1 * l0 + 3 * l1) / (1 + 3)
    z = np.array([[2.0, 0.0], [0.0, 1.0]])
    l0 = -np.log(np.exp(2) / (np.exp(2) + 1))
    l1 = -np.log(np.exp(1) / (np.exp(1) + 1))
    out = F.cross_entropy(Tensor(z), np.array([0, 1]), weight=np.array([1.0, 3.0]))
    np.testing.assert_allclose(out.item(), (l0 + 3 * l1) / 4, rtol=1e-12)


@pytest.mark.parametrize("ignore_index", [-100, -1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_ignore_index(rng, ignore_index, reduction, weighted):
    z = rng.standard_normal((7, 3))
    y = np.array([0, 1, 2, 1, 0, 2, 1])
    y[[1, 4]] = ignore_index
    w = np.array([2.0, 0.5, 1.5]) if weighted else None
    grad_ = check_value_and_grad(
        lambda t: F.cross_entropy(t, y, weight=w, ignore_index=ignore_index, reduction=reduction),
        lambda a: ref_cross_entropy(a, y, weight=w, ignore_index=ignore_index,
                                    reduction=reduction), z)
    np.testing.assert_array_equal(grad_[[1, 4]], 0)  # ignored samples get no gradient


def test_cross_entropy_mean_over_only_ignored_targets_is_nan_as_pytorch():
    z = Tensor(np.zeros((2, 3)), requires_grad=True)
    out = F.cross_entropy(z, np.array([-100, -100]))
    assert np.isnan(out.item())  # 0 / 0: PyTorch's value, no exception
    assert F.cross_entropy(z, np.array([-100, -100]), reduction="sum").item() == 0


@pytest.mark.parametrize("shape", [(5,), (6, 4), (3, 4, 2)], ids=str)
@pytest.mark.parametrize("smoothing", [0.1, 0.5, 1.0])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["labels", "probs"])
def test_cross_entropy_label_smoothing(rng, shape, smoothing, reduction, kind):
    z = rng.standard_normal(shape)
    target = labels_for(rng, shape) if kind == "labels" else probs_for(rng, shape)
    check_value_and_grad(
        lambda t: F.cross_entropy(t, target, label_smoothing=smoothing, reduction=reduction),
        lambda a: ref_cross_entropy(a, target, label_smoothing=smoothing, reduction=reduction),
        z)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["labels", "probs"])
def test_cross_entropy_everything_at_once(rng, reduction, kind):
    z = rng.standard_normal((5, 4, 3))
    w = np.array([1.0, 0.2, 3.0, 0.7])
    if kind == "labels":
        target = rng.integers(0, 4, (5, 3))
        target[0, 1] = target[3, 2] = 7
    else:
        target = probs_for(rng, (5, 4, 3))
    check_value_and_grad(
        lambda t: F.cross_entropy(t, target, weight=w, ignore_index=7, reduction=reduction,
                                  label_smoothing=0.2),
        lambda a: ref_cross_entropy(a, target, weight=w, ignore_index=7, reduction=reduction,
                                    label_smoothing=0.2), z)


def test_cross_entropy_label_smoothing_by_hand():
    # C = 2, eps = 0.5: the target is 0.75 on the label, 0.25 on the other class
    z = np.array([1.0, -1.0])
    logp = z - np.log(np.exp(z).sum())
    out = F.cross_entropy(Tensor(z), np.array(0), label_smoothing=0.5)
    np.testing.assert_allclose(out.item(), -(0.75 * logp[0] + 0.25 * logp[1]), rtol=1e-12)


def test_cross_entropy_probability_target_gets_its_gradient(rng):
    # d/dp of -sum(w q log_softmax(z)), q = (1 - eps) p + eps / C: -(1 - eps) w log_softmax(z) / N
    z, p = rng.standard_normal((3, 4)), probs_for(rng, (3, 4))
    w = np.array([1.0, 2.0, 0.5, 1.5])
    pt = Tensor(p, requires_grad=True)
    F.cross_entropy(Tensor(z), pt, weight=w, label_smoothing=0.3).backward()
    np.testing.assert_allclose(pt.grad, -0.7 * w * np_log_softmax(z, 1) / 3, rtol=1e-12)


# == validation: labels, shapes, dtypes, options ================================================

@pytest.mark.parametrize("bad", [-1, 4, 100, -101])
def test_cross_entropy_label_out_of_range_names_the_label_and_the_range(bad):
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    y = np.array([0, bad, 1])
    with pytest.raises(IndexError) as info:
        F.cross_entropy(z, y)
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "cross_entropy" in msg and f"label {bad}" in msg and "[0, 4)" in msg
    assert "(3, 4)" in msg and "ignore_index" in msg


def test_cross_entropy_label_minus_one_is_fine_when_ignored(rng):
    z = rng.standard_normal((3, 4))
    y = np.array([0, -1, 3])
    out = F.cross_entropy(Tensor(z), y, ignore_index=-1)
    np.testing.assert_allclose(out.item(), ref_cross_entropy(z, y, ignore_index=-1), rtol=1e-12)


def test_nll_loss_label_out_of_range():
    with pytest.raises(IndexError, match=r"nll_loss: .*label 3 .*\[0, 3\)"):
        F.nll_loss(Tensor(np.zeros((2, 3))), np.array([3, 0]))


@pytest.mark.parametrize("target, match", [
    (np.zeros((4, 1)), r"class probabilities must have the input's shape \(4, 3\).*\(4, 1\)"),
    (np.zeros((4, 1), int), r"class labels must have shape \(4,\).*\(4, 1\).*reshape"),
    (np.zeros(3, int), r"class labels must have shape \(4,\)"),
    (np.zeros((4, 5)), r"\(4, 5\)"),
    (np.array([0.0, 1.0, 2.0, 1.0]), r"float labels\?.*astype\(np\.int64\)"),
])
def test_cross_entropy_shape_errors(target, match):
    """A float (N, 1) target for (N, C) logits raises, as PyTorch; never broadcast."""
    z = Tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(ShapeError, match=match) as info:
        F.cross_entropy(z, target)
    assert isinstance(info.value, ValueError) and isinstance(info.value, RuntimeError)
    assert "cross_entropy" in str(info.value)


@pytest.mark.parametrize("call, exc, match", [
    (lambda z: F.cross_entropy(z, np.array([True, False])), ValueError, "dtype bool"),
    (lambda z: F.cross_entropy(np.zeros((2, 3), int), np.zeros(2, int)), ValueError,
     "floating point"),
    (lambda z: F.cross_entropy(np.float64(1.0), np.zeros((), int)), ShapeError,
     "at least one dimension"),
    (lambda z: F.cross_entropy(z, np.zeros(2, int), weight=np.ones(4)), ShapeError,
     r"weight.*\(3,\).*\(4,\)"),
    (lambda z: F.cross_entropy(z, np.zeros(2, int), label_smoothing=1.5), ValueError,
     "label_smoothing must be between 0.0 and 1.0"),
    (lambda z: F.cross_entropy(z, np.zeros(2, int), reduction="avg"), ValueError,
     "cross_entropy: reduction must be 'mean', 'sum' or 'none'"),
    (lambda z: F.nll_loss(z, np.zeros(2, int), reduction="avg"), ValueError,
     "nll_loss: reduction"),
])
def test_cross_entropy_option_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call(Tensor(np.zeros((2, 3))))


def test_cross_entropy_ignore_index_of_prob_targets_is_not_applicable(rng):
    # PyTorch: ignore_index only applies to class indices; probabilities are used as given
    z, p = rng.standard_normal((3, 4)), probs_for(rng, (3, 4))
    a = F.cross_entropy(Tensor(z), p, ignore_index=1).item()
    np.testing.assert_allclose(a, ref_cross_entropy(z, p), rtol=1e-12)


# == item 3 (issue 10, 4): elementwise losses and the sizes of input and target ==================

ELEMENTWISE = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_loss_with_a_target_of_another_size_warns_as_pytorch(name):
    x = np.arange(4.0).reshape(4, 1)
    y = np.array([0.5, 1.0, 3.0, -2.0])
    with pytest.warns(UserWarning, match=rf"{name}: Using a target size \(4,\) that is different "
                                         r"to the input size \(4, 1\).*incorrect results due "
                                         r"to broadcasting.*reshape"):
        out = getattr(F, name)(Tensor(x), y)
    # the result is the broadcast one, as PyTorch's
    np.testing.assert_allclose(out.item(), ref_elementwise(name, x, y, "mean"), rtol=1e-12)


@pytest.mark.parametrize("name", ELEMENTWISE + ["binary_cross_entropy",
                                                "binary_cross_entropy_with_logits"])
def test_elementwise_loss_with_equal_sizes_does_not_warn(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(Tensor(np.full((4, 1), 0.5)), np.full((4, 1), 0.25))


@pytest.mark.parametrize("name, match", [
    ("binary_cross_entropy", r"Using a target size \(4,\) that is different to the input size "
                             r"\(4, 1\) is not supported"),
    ("binary_cross_entropy_with_logits", r"Target size \(4,\) must be the same as input size "
                                         r"\(4, 1\)"),
])
def test_bce_with_a_target_of_another_size_raises_as_pytorch(name, match):
    with pytest.raises(ShapeError, match=rf"{name}: {match}.*reshape\(4, 1\)"):
        getattr(F, name)(Tensor(np.full((4, 1), 0.5)), np.ones(4))


@pytest.mark.parametrize("name", ELEMENTWISE + ["binary_cross_entropy",
                                                "binary_cross_entropy_with_logits"])
def test_elementwise_loss_dtype_errors(name):
    fn = getattr(F, name)
    with pytest.raises(ValueError, match=rf"{name}: input must be floating point"):
        fn(np.ones(2, dtype=int), np.ones(2))
    with pytest.raises(ValueError, match=rf"{name}: target must be numeric"):
        fn(Tensor(np.full(2, 0.5)), np.array(["a", "b"]))
    with pytest.raises(ValueError, match=rf"{name}: reduction must be"):
        fn(Tensor(np.full(2, 0.5)), np.ones(2), reduction="avg")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shapes_that_do_not_broadcast_are_shape_errors_without_a_warning(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ShapeError, match=rf"{name}: the target's shape \(4,\) does not "
                                             r"broadcast against the input's shape \(3,\)"):
            getattr(F, name)(Tensor(np.zeros(3)), np.zeros(4))


# == item 4: binary_cross_entropy's domain =====================================================

@pytest.mark.parametrize("bad", [1.5, -0.25, np.inf])
def test_bce_outside_0_1_raises_as_pytorch(bad):
    p = Tensor(np.array([0.5, bad, 0.2]), requires_grad=True)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: all elements of input should be "
                                         r"between 0 and 1.*index \(1,\).*with_logits"):
        F.binary_cross_entropy(p, np.ones(3))


def test_bce_nan_prediction_says_nan():
    p = Tensor(np.array([[0.5, np.nan], [np.nan, 0.1]]))
    with pytest.raises(ValueError) as info:
        F.binary_cross_entropy(p, np.ones((2, 2)))
    msg = str(info.value)
    assert "NaN" in msg and "2 NaN" in msg and "(0, 1)" in msg
    assert "[nan, nan]" not in msg


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_exactly_0_and_1_is_accepted(dtype):
    p = Tensor(np.array([0.0, 1.0], dtype=dtype))
    out = F.binary_cross_entropy(p, np.array([1.0, 1.0]), reduction="none")
    np.testing.assert_allclose(out.data, [100.0, 0.0])


# == item 5: nll_loss, l1_loss, huber_loss, smooth_l1_loss =====================================

@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(rng, shape, reduction, weighted):
    logp = np_log_softmax(rng.standard_normal(shape), 0 if len(shape) == 1 else 1)
    y = labels_for(rng, shape)
    c = shape[0] if len(shape) == 1 else shape[1]
    w = rng.uniform(0.5, 2, c) if weighted else None
    check_value_and_grad(lambda t: F.nll_loss(t, y, weight=w, reduction=reduction),
                         lambda a: ref_nll(a, y, weight=w, reduction=reduction), logp)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_ignore_index(rng, reduction):
    x = rng.standard_normal((5, 3))
    y = np.array([0, 3, 2, 3, 1])
    w = np.array([1.0, 2.0, 0.5])
    check_value_and_grad(lambda t: F.nll_loss(t, y, weight=w, ignore_index=3,
                                              reduction=reduction),
                         lambda a: ref_nll(a, y, weight=w, ignore_index=3, reduction=reduction),
                         x)


def test_nll_loss_of_log_softmax_is_cross_entropy(rng):
    z = rng.standard_normal((4, 5, 2))
    y = rng.integers(0, 5, (4, 2))
    w = rng.uniform(0.5, 2, 5)
    a = F.nll_loss(Tensor(z).log_softmax(dim=1), y, weight=w).item()
    np.testing.assert_allclose(a, ref_cross_entropy(z, y, weight=w), rtol=1e-12)


@pytest.mark.parametrize("name, kw", [
    ("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {}), ("huber_loss", {"delta": 0.3}),
    ("huber_loss", {"delta": 2.5}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.3}),
    ("smooth_l1_loss", {"beta": 2.5}), ("smooth_l1_loss", {"beta": 0.0})])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (3, 4)], ids=str)
def test_elementwise_losses_value_and_gradients(rng, name, kw, reduction, shape):
    x = rng.standard_normal(shape) * 2
    y = rng.standard_normal(shape) * 2
    fn = getattr(F, name)
    check_value_and_grad(lambda t: fn(t, y, reduction=reduction, **kw),
                         lambda a: ref_elementwise(name, a, y, reduction, **kw), x)
    # the target is differentiable too (PyTorch): d/dy = -d/dx
    check_value_and_grad(lambda t: fn(Tensor(x), t, reduction=reduction, **kw),
                         lambda b: ref_elementwise(name, x, b, reduction, **kw), y)


def test_huber_and_smooth_l1_by_hand():
    x = Tensor(np.array([0.0, 0.5, 3.0]), requires_grad=True)
    y = np.zeros(3)
    # delta = 1: 0.5 * 0^2, 0.5 * 0.5^2, 1 * (3 - 0.5)
    np.testing.assert_allclose(F.huber_loss(x, y, reduction="none").data, [0, 0.125, 2.5])
    # beta = 2: 0.5 * 0.5^2 / 2, 3 - 1
    np.testing.assert_allclose(F.smooth_l1_loss(x, y, reduction="none", beta=2.0).data,
                               [0, 0.0625, 2.0])
    # HuberLoss(delta) = delta * SmoothL1Loss(beta=delta)
    a = F.huber_loss(x, y, delta=2.0).item()
    np.testing.assert_allclose(a, 2.0 * F.smooth_l1_loss(x, y, beta=2.0).item(), rtol=1e-12)
    F.huber_loss(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 1.0])  # d, then delta * sign(d)


def test_huber_and_smooth_l1_parameter_errors():
    x = Tensor(np.zeros(2))
    with pytest.raises(ValueError, match="huber_loss: delta must be positive"):
        F.huber_loss(x, np.zeros(2), delta=0.0)
    with pytest.raises(ValueError, match="smooth_l1_loss: beta must be non-negative"):
        F.smooth_l1_loss(x, np.zeros(2), beta=-1.0)


@pytest.mark.parametrize("name", ["l1_loss", "huber_loss", "smooth_l1_loss", "nll_loss"])
def test_new_losses_are_exported(name):
    assert name in F.__all__ and callable(getattr(F, name))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE + ["binary_cross_entropy",
                                                "binary_cross_entropy_with_logits"])
def test_elementwise_losses_keep_the_dtype(rng, dtype, name):
    x = Tensor(rng.uniform(0.1, 0.9, (3, 2)).astype(dtype), requires_grad=True)
    loss = getattr(F, name)(x, rng.uniform(size=(3, 2)))  # float64 target: cast
    assert loss.dtype == dtype
    loss.backward()
    assert x.grad.dtype == dtype


# == item 6: second derivatives against central differences of the first =======================

EPS = 1e-5


def second_order(fn, arrays, seed=0, rtol=1e-6, atol=1e-7):
    """For every input i, H v (the derivative of <u, grad fn> in the direction v, by
    grad(create_graph=True) then grad again) against central differences of the engine's
    first-order gradient, float64; u and v random."""
    rng = np.random.default_rng(seed)
    arrays = [np.asarray(a, np.float64) for a in arrays]
    with no_grad():
        out_shape = fn(*[Tensor(a) for a in arrays]).shape
    u = rng.standard_normal(out_shape)
    vs = [rng.standard_normal(a.shape) for a in arrays]

    def first(arrs):
        xs = [Tensor(a, requires_grad=True) for a in arrs]
        return [g.data for g in grad(fn(*xs), xs, grad_outputs=u)]

    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    gs = grad(fn(*xs), xs, grad_outputs=u, create_graph=True)
    assert all(isinstance(g, Tensor) for g in gs)
    # one scalar: sum_i <g_i, v_i>; its gradient is H v (all inputs at once)
    total = sum((g * Tensor(v)).sum() for g, v in zip(gs, vs))
    hv = [h.data for h in grad(total, xs, allow_unused=True)] if total.requires_grad else \
        [np.zeros_like(a) for a in arrays]
    plus = first([a + EPS * v for a, v in zip(arrays, vs)])
    minus = first([a - EPS * v for a, v in zip(arrays, vs)])
    for i in range(len(arrays)):
        numeric = (plus[i] - minus[i]) / (2 * EPS)
        np.testing.assert_allclose(hv[i], numeric, rtol=rtol, atol=atol,
                                   err_msg=f"second derivative, input {i}")
    # and the first derivative against central differences of the function itself
    for i in range(len(arrays)):
        def f(*arrs):
            with no_grad():
                return float(np.sum(fn(*[Tensor(a) for a in arrs]).data * u))
        np.testing.assert_allclose(first(arrays)[i], numeric_grad(f, arrays, i), rtol=1e-6,
                                   atol=1e-8, err_msg=f"first derivative, input {i}")


LAB2 = np.array([2, 0, 3])
LAB3 = np.array([[1, 0], [3, 7], [2, 2]])  # 7: ignored below
W4 = np.array([0.5, 2.0, 1.0, 1.5])


def _probs(shape, seed=3):
    return probs_for(np.random.default_rng(seed), shape)


SECOND_ORDER = [
    *[pytest.param(lambda z, r=r: F.cross_entropy(z, LAB2, reduction=r), [(3, 4)],
                   id=f"cross_entropy-labels-{r}") for r in REDUCTIONS],
    pytest.param(lambda z: F.cross_entropy(z, np.array(1)), [(4,)], id="cross_entropy-1d"),
    pytest.param(lambda z: F.cross_entropy(z, LAB3, weight=W4, ignore_index=7,
                                           label_smoothing=0.2), [(3, 4, 2)],
                 id="cross_entropy-3d-weight-ignore-smoothing"),
    pytest.param(lambda z: F.cross_entropy(z, LAB3, ignore_index=7, reduction="none"),
                 [(3, 4, 2)], id="cross_entropy-3d-ignore-none"),
    pytest.param(lambda z: F.cross_entropy(z.transpose(1, 2), LAB3 % 4), [(3, 2, 4)],
                 id="cross_entropy-transposed"),
    pytest.param(lambda z, p: F.cross_entropy(z, p), [(3, 4), "probs"],
                 id="cross_entropy-probs"),
    pytest.param(lambda z, p: F.cross_entropy(z, p, weight=W4, label_smoothing=0.3,
                                              reduction="none"),
                 [(3, 4, 2), "probs"], id="cross_entropy-probs-weight-smoothing-none"),
    *[pytest.param(lambda x, r=r: F.nll_loss(x, LAB3, weight=W4, ignore_index=7, reduction=r)
                   * F.nll_loss(x, LAB3 % 4, reduction=r),  # nll is linear: a product bends it
                   [(3, 4, 2)], id=f"nll_loss-{r}") for r in REDUCTIONS],
    pytest.param(lambda z: F.nll_loss(z.log_softmax(dim=1), LAB2), [(3, 4)],
                 id="nll_loss-of-log_softmax"),
    pytest.param(lambda p, y: F.binary_cross_entropy(p, y), ["unit", "unit"],
                 id="binary_cross_entropy"),
    pytest.param(lambda p, y: F.binary_cross_entropy(p, y, reduction="none"), ["unit", "unit"],
                 id="binary_cross_entropy-none"),
    pytest.param(lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"),
                 [(2, 3), "unit"], id="binary_cross_entropy_with_logits"),
    pytest.param(lambda x, y: F.mse_loss(x, y), [(2, 3), (2, 3)], id="mse_loss"),
    pytest.param(lambda x, y: F.mse_loss(x, y, reduction="none"), [(2, 3), (2, 3)],
                 id="mse_loss-none"),
    *[pytest.param(lambda x, y, n=n: getattr(F, n)(x, y) * getattr(F, n)(x, y),
                   [(2, 3), (2, 3)], id=f"{n}-squared") for n in ("l1_loss", "huber_loss",
                                                                   "smooth_l1_loss")],
    pytest.param(lambda x, y: F.huber_loss(x, y, delta=0.5, reduction="none"),
                 [(2, 3), (2, 3)], id="huber_loss-none"),
    pytest.param(lambda x, y: F.smooth_l1_loss(x, y, beta=0.7, reduction="sum"),
                 [(2, 3), (2, 3)], id="smooth_l1_loss-sum"),
]


def _draw(spec, seed):
    rng = np.random.default_rng(seed)
    if spec == "unit":
        return rng.uniform(0.1, 0.9, (2, 3))
    return rng.standard_normal(spec) * 1.5


@pytest.mark.parametrize("fn, specs", SECOND_ORDER)
def test_second_derivative_matches_central_differences_of_the_first(fn, specs):
    arrays = [_probs(specs[0]) if s == "probs" else _draw(s, i) for i, s in enumerate(specs)]
    second_order(fn, arrays)


def test_cross_entropy_hessian_is_diag_s_minus_s_st():
    # one sample, labels: d^2/dz^2 of logsumexp(z) - z_y = diag(s) - s s^T (hand formula)
    z = np.array([0.3, -1.2, 2.0, 0.1])
    s = np.exp(z) / np.exp(z).sum()
    zt = Tensor(z, requires_grad=True)
    (g,) = grad(F.cross_entropy(zt, np.array(2)), zt, create_graph=True)
    rows = [grad(g[i], zt, retain_graph=True)[0].data for i in range(4)]
    np.testing.assert_allclose(np.array(rows), np.diag(s) - np.outer(s, s), rtol=1e-12,
                               atol=1e-15)


def test_bce_hessian_by_hand():
    # d^2/dp^2 of -(y log p + (1 - y) log(1 - p)) = y / p^2 + (1 - y) / (1 - p)^2
    p, y = np.array([0.2, 0.7, 0.5]), np.array([1.0, 0.3, 0.0])
    pt = Tensor(p, requires_grad=True)
    (g,) = grad(F.binary_cross_entropy(pt, y, reduction="sum"), pt, create_graph=True)
    (h,) = grad(g.sum(), pt)
    np.testing.assert_allclose(h.data, y / p ** 2 + (1 - y) / (1 - p) ** 2, rtol=1e-12)


def test_autograd_mini_grad_is_the_one_used():
    assert autograd_mini.grad is grad


# == an empty batch: "mean" is nan, as PyTorch (0 / 0), "sum" is 0 ==============================

@pytest.mark.parametrize("name, x, y", [
    ("cross_entropy", np.zeros((0, 3)), np.zeros(0, int)),
    ("cross_entropy", np.zeros((0, 3)), np.zeros((0, 3))),
    ("nll_loss", np.zeros((0, 3)), np.zeros(0, int)),
    *[(n, np.zeros((0, 2)), np.zeros((0, 2))) for n in ELEMENTWISE + [
        "binary_cross_entropy", "binary_cross_entropy_with_logits"]]])
def test_mean_over_an_empty_batch_is_nan_as_pytorch(name, x, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "mean of empty slice" warning either
        xt = Tensor(x, requires_grad=True)
        assert np.isnan(getattr(F, name)(xt, y).item())
        out = getattr(F, name)(xt, y, reduction="sum")
        assert out.item() == 0
        out.backward()
        assert xt.grad.shape == x.shape


WEIGHTED = [  # (loss, input, keyword arguments: arrays of weights)
    ("binary_cross_entropy", "prob", {"weight": "row"}),
    ("binary_cross_entropy", "prob", {"weight": "full"}),
    ("binary_cross_entropy_with_logits", "logit", {"weight": "row"}),
    ("binary_cross_entropy_with_logits", "logit", {"pos_weight": "col"}),
    ("binary_cross_entropy_with_logits", "logit", {"pos_weight": "col", "weight": "full"}),
    ("mse_loss", "logit", {"weight": "full"}),
    ("l1_loss", "logit", {"weight": "full"}),
    ("huber_loss", "logit", {"weight": "full"}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kind, kws", WEIGHTED,
                         ids=[w[0] + "-" + "-".join(f"{k}={v}" for k, v in w[2].items())
                              for w in WEIGHTED])
def test_loss_weights_as_pytorch(name, kind, kws, reduction):
    """BCE's weight=, BCE-with-logits' weight= and pos_weight=, the regression losses' weight=:
    values and gradients (of the input and of the weights) as PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x0 = rng.uniform(0.05, 0.95, (4, 3)) if kind == "prob" else rng.normal(0, 3, (4, 3))
    x0[0, 0] = 0.0 if kind == "logit" else x0[0, 0]  # the kink of softplus(-x) and |x|
    y0 = rng.integers(0, 2, (4, 3)).astype(np.float64)
    shapes = {"row": (3,), "col": (3,), "full": (4, 3)}
    kw = {k: rng.uniform(0.2, 3.0, shapes[v]) for k, v in kws.items()}
    rg = not name.startswith("binary_cross_entropy")  # PyTorch: no gradient for these weights
    ts = {k: torch.tensor(v, requires_grad=rg) for k, v in kw.items()}
    tx = torch.tensor(x0, requires_grad=True)
    tout = getattr(torch.nn.functional, name)(tx, torch.tensor(y0), reduction=reduction, **ts)
    g0 = rng.standard_normal(tout.shape)
    tgrads = torch.autograd.grad(tout, [tx] + list(ts.values()) * rg, torch.tensor(g0))
    x = Tensor(x0, requires_grad=True)
    ws = {k: Tensor(v, requires_grad=rg) for k, v in kw.items()}
    out = getattr(F, name)(x, y0, reduction=reduction, **ws)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-13)
    out.backward(g0)
    for ours, theirs in zip([x] + list(ws.values()) * rg, tgrads):
        np.testing.assert_allclose(ours.grad, theirs.numpy(), rtol=1e-12, atol=1e-15)


def test_regression_loss_weight_must_have_the_input_shape():
    with pytest.raises(ValueError, match="same size"):
        F.mse_loss(Tensor(np.zeros((2, 3))), np.zeros((2, 3)), weight=np.ones(3))
    with pytest.raises(ShapeError, match="broadcast"):
        F.binary_cross_entropy(Tensor(np.full((2, 3), 0.5)), np.zeros((2, 3)),
                               weight=np.ones(2))
