"""Normalisation, embedding, dropout and activation modules (issue 13), as torch.nn.

Values against the formulas written out in numpy, running statistics against PyTorch's
recurrence written out (momentum 0.1, the unbiased batch variance for the running variance,
num_batches_tracked counting), gradients against central differences in float64 (through the
batch statistics too), second derivatives, float32 kept, state_dict keys exactly torch's.
"""
import math

import numpy as np
import pytest

import autograd_mini.functional as F
import nn
from autograd_mini import Tensor, no_grad
from autograd_mini.tape import ShapeError
from conftest import check_grads, sample
from test_higher_order import check_second_order

EPS = 1e-5


def bn_reference(x, mean, var, w=None, b=None, eps=EPS):
    """(x - mean) / sqrt(var + eps) * w + b, per channel (dim 1)."""
    shape = (1, -1) + (1,) * (x.ndim - 2)
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if w is not None:
        y = y * w.reshape(shape)
    if b is not None:
        y = y + b.reshape(shape)
    return y


def stat_axes(x):
    return (0,) + tuple(range(2, x.ndim))


BN_SHAPES = [(6, 3), (5, 3, 4), (4, 3, 2, 5)]


# -- F.batch_norm, F.layer_norm: values ------------------------------------------------------

@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_training_normalises_with_the_batch_statistics(shape):
    x = sample(shape, seed=1) * 3 + 1
    w, b = sample((3,), seed=2), sample((3,), seed=3)
    ax = stat_axes(x)
    expected = bn_reference(x, x.mean(ax), x.var(ax), w, b)  # biased variance (ddof=0)
    out = F.batch_norm(Tensor(x), None, None, Tensor(w), Tensor(b), training=True)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_eval_uses_the_running_statistics(shape):
    x = sample(shape, seed=1)
    rm, rv = sample((3,), seed=4), sample((3,), "pos", seed=5)
    w, b = sample((3,), seed=2), sample((3,), seed=3)
    out = F.batch_norm(x, rm.copy(), rv.copy(), w, b)  # training=False by default
    np.testing.assert_allclose(out.data, bn_reference(x, rm, rv, w, b), rtol=1e-12)
    out = F.batch_norm(x, rm, rv)  # no affine
    np.testing.assert_allclose(out.data, bn_reference(x, rm, rv), rtol=1e-12)


def test_f_batch_norm_updates_ndarray_running_statistics_in_place():
    x = sample((8, 3, 2), seed=1)
    rm, rv = np.zeros(3), np.ones(3)
    keep = rm, rv
    F.batch_norm(x, rm, rv, training=True, momentum=0.25)
    n = 8 * 2
    assert rm is keep[0] and rv is keep[1]
    np.testing.assert_allclose(rm, 0.25 * x.mean((0, 2)), rtol=1e-12)
    np.testing.assert_allclose(rv, 0.75 + 0.25 * x.var((0, 2)) * n / (n - 1), rtol=1e-12)


@pytest.mark.parametrize("shape, normalized_shape", [((4, 5), 5), ((2, 3, 4), (4,)),
                                                     ((2, 3, 4), (3, 4)), ((6,), [6])])
def test_layer_norm_values(shape, normalized_shape):
    x = sample(shape, seed=1) * 2 + 0.5
    norm = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    w, b = sample(norm, seed=2), sample(norm, seed=3)
    ax = tuple(range(x.ndim - len(norm), x.ndim))
    mean, var = x.mean(ax, keepdims=True), x.var(ax, keepdims=True)
    np.testing.assert_allclose(F.layer_norm(x, normalized_shape, w, b).data,
                               (x - mean) / np.sqrt(var + EPS) * w + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.layer_norm(x, normalized_shape, eps=0.1).data,
                               (x - mean) / np.sqrt(var + 0.1), rtol=1e-12, atol=1e-12)


def test_norm_input_errors():
    with pytest.raises(ShapeError, match=r"layer_norm.*\[\*, 3\].*\[2, 4\]"):
        F.layer_norm(np.ones((2, 4)), 3)
    with pytest.raises(ShapeError, match="weight"):
        F.layer_norm(np.ones((2, 4)), 4, weight=np.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(np.ones((1, 3)), None, None, training=True)
    with pytest.raises(ShapeError, match="running_mean"):
        F.batch_norm(np.ones((2, 3)), np.zeros(4), np.ones(3))
    with pytest.raises(ValueError, match="running_mean and running_var"):
        F.batch_norm(np.ones((2, 3)), None, None)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D"):
        nn.BatchNorm1d(3)(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D"):
        nn.BatchNorm2d(3)(np.ones((2, 3)))


# -- gradients: first and second order -------------------------------------------------------

def bn_train(x, w, b):
    return F.batch_norm(x, None, None, w, b, training=True)


def bn_eval(x, w, b):
    c = x.shape[1]
    rm, rv = np.linspace(-0.5, 0.5, c), np.linspace(0.5, 2.0, c)
    return F.batch_norm(x, rm, rv, w, b, training=False)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("fn", [bn_train, bn_eval], ids=["train", "eval"])
def test_batch_norm_gradients(fn, shape):
    # in training the gradient of x goes through the batch mean and variance too
    check_grads(fn, sample(shape, seed=1), sample((3,), seed=2), sample((3,), seed=3),
                rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("shape, norm", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4))])
def test_layer_norm_gradients(shape, norm):
    check_grads(lambda x, w, b: F.layer_norm(x, norm, w, b), sample(shape, seed=1),
                sample(norm, seed=2), sample(norm, seed=3))


@pytest.mark.parametrize("fn, shapes", [
    (bn_train, [(4, 2), (2,), (2,)]),
    (bn_train, [(3, 2, 2), (2,), (2,)]),
    (bn_eval, [(3, 2, 2), (2,), (2,)]),
    (lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [(2, 2, 3), (2, 3), (2, 3)]),
    (lambda x, w: F.layer_norm(x, 4, w) ** 2, [(3, 4), (4,)]),
], ids=["bn-train-2d", "bn-train-3d", "bn-eval", "ln-2dims", "ln-squared"])
def test_norm_second_derivatives(fn, shapes):
    check_second_order(fn, shapes, ("any",) * len(shapes))


# -- BatchNorm modules: running statistics, train/eval, buffers -------------------------------

@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (6, 3, 4)),
                                        (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_running_statistics_follow_pytorchs_recurrence(cls, shape):
    m = cls(3)
    rng = np.random.default_rng(0)
    batches = [rng.normal(2.0, 3.0, shape) for _ in range(4)]
    rm, rv = np.zeros(3), np.ones(3)  # PyTorch's initial running statistics
    for x in batches:
        m(Tensor(x))
        ax = stat_axes(x)
        n = x.size // 3
        rm = 0.9 * rm + 0.1 * x.mean(ax)
        rv = 0.9 * rv + 0.1 * x.var(ax) * n / (n - 1)  # the unbiased batch variance
    np.testing.assert_allclose(m.running_mean.data, rm, rtol=1e-12)
    np.testing.assert_allclose(m.running_var.data, rv, rtol=1e-12)
    assert m.num_batches_tracked.data == 4 and m.num_batches_tracked.dtype == np.int64

    m.eval()  # eval: the running statistics, and they stay as they are
    x = rng.normal(size=shape)
    with no_grad():
        out = m(x)
    np.testing.assert_allclose(out.data, bn_reference(x, rm, rv), rtol=1e-12)
    np.testing.assert_allclose(m.running_mean.data, rm, rtol=1e-12)
    assert m.num_batches_tracked.data == 4


def test_momentum_none_is_the_cumulative_average():
    m = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(i).normal(i, 1.0, (5, 2)) for i in range(3)]
    for x in batches:
        m(x)
    np.testing.assert_allclose(m.running_mean.data, np.mean([x.mean(0) for x in batches], 0),
                               rtol=1e-12)
    np.testing.assert_allclose(m.running_var.data,
                               np.mean([x.var(0, ddof=1) for x in batches], 0), rtol=1e-12)


def test_batchnorm_training_output_and_affine_parameters():
    m = nn.BatchNorm2d(3)
    np.testing.assert_array_equal(m.weight.data, np.ones(3))
    np.testing.assert_array_equal(m.bias.data, np.zeros(3))
    m.weight.data = np.array([1.0, 2.0, 0.5])
    m.bias.data = np.array([0.0, -1.0, 3.0])
    x = sample((4, 3, 2, 2), seed=7)
    ax = stat_axes(x)
    np.testing.assert_allclose(m(x).data, bn_reference(x, x.mean(ax), x.var(ax),
                                                       m.weight.data, m.bias.data), rtol=1e-12)
    m(Tensor(x)).sum().backward()
    assert m.weight.grad.shape == (3,) and m.bias.grad.shape == (3,)
    np.testing.assert_allclose(m.bias.grad, np.full(3, 16.0))  # d sum / d bias = N H W


def test_batchnorm_state_dict_keys_and_buffers_as_torch():
    m = nn.BatchNorm1d(4)
    assert list(m.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                    "num_batches_tracked"]
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in m.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    sd = m.state_dict()
    assert sd["num_batches_tracked"].dtype == np.int64 and sd["num_batches_tracked"].shape == ()
    assert list(nn.BatchNorm2d(2, affine=False).state_dict()) == [
        "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.BatchNorm2d(2, track_running_stats=False).state_dict()) == ["weight", "bias"]
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.BatchNorm1d(3))
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias",
                                        "1.running_mean", "1.running_var",
                                        "1.num_batches_tracked"]


def test_batchnorm_state_dict_round_trip_restores_the_running_statistics():
    a, b = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    for i in range(3):
        a(np.random.default_rng(i).normal(1, 2, (6, 3)))
    b.load_state_dict(a.state_dict())
    for k, v in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[k], v)
    x = np.random.default_rng(9).normal(size=(5, 3))
    np.testing.assert_allclose(a.eval()(x).data, b.eval()(x).data)
    b.reset_running_stats()
    np.testing.assert_array_equal(b.running_var.data, np.ones(3))
    assert b.num_batches_tracked.data == 0


def test_batchnorm_without_running_stats_uses_the_batch_in_eval():
    m = nn.BatchNorm1d(3, track_running_stats=False).eval()
    assert m.running_mean is None and m.num_batches_tracked is None
    x = sample((6, 3), seed=2)
    np.testing.assert_allclose(m(x).data, bn_reference(x, x.mean(0), x.var(0)), rtol=1e-12)


def test_batchnorm_repr():
    assert repr(nn.BatchNorm2d(8)) == (
        "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)")
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"


# -- LayerNorm module ------------------------------------------------------------------------

def test_layernorm_module_parameters_and_values():
    m = nn.LayerNorm((2, 3))
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.shape == (2, 3)
    np.testing.assert_array_equal(m.weight.data, np.ones((2, 3)))
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]
    assert list(nn.LayerNorm(3, elementwise_affine=False).state_dict()) == []
    x = sample((4, 2, 3), seed=3)
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(var + EPS)
    np.testing.assert_allclose(m(x).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m.eval()(x).data, expected, rtol=1e-12, atol=1e-12)


# -- float32 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make, shape", [
    (lambda: nn.BatchNorm1d(3, dtype=np.float32), (5, 3)),
    (lambda: nn.BatchNorm2d(3, dtype=np.float32), (2, 3, 2, 2)),
    (lambda: nn.LayerNorm(4, dtype=np.float32), (3, 4)),
], ids=["bn1d", "bn2d", "ln"])
def test_float32_preserved(make, shape):
    m = make()
    x = Tensor(sample(shape, seed=1).astype(np.float32), requires_grad=True)
    for mode in (True, False):
        m.train(mode)
        out = m(x)
        assert out.dtype == np.float32
        (out * out).sum().backward()
        assert x.grad.dtype == np.float32 and m.weight.grad.dtype == np.float32
    for b in m.buffers():
        assert b.dtype in (np.float32, np.int64)


def test_float32_embedding_and_dropout():
    e = nn.Embedding(4, 3, dtype=np.float32)
    out = e(np.array([0, 3, 3]))
    assert out.dtype == np.float32
    out.sum().backward()
    assert e.weight.grad.dtype == np.float32
    x = Tensor(np.ones((4, 4), np.float32), requires_grad=True)
    assert nn.Dropout(0.5, rng=0)(x).dtype == np.float32


# -- Embedding -------------------------------------------------------------------------------

def test_embedding_values_and_gradient_with_repeated_indices():
    w = sample((5, 3), seed=1)
    idx = np.array([[0, 2, 2], [4, 2, 0]])
    weight = Tensor(w.copy(), requires_grad=True)
    out = F.embedding(idx, weight)
    np.testing.assert_array_equal(out.data, w[idx])
    assert out.shape == (2, 3, 3)
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    expected = np.zeros_like(w)
    for (i, j), k in np.ndenumerate(idx):  # scatter-add, written out
        expected[k] += g[i, j]
    np.testing.assert_allclose(weight.grad, expected, rtol=1e-14)
    check_grads(lambda w: F.embedding(idx, w) ** 2, w)


@pytest.mark.parametrize("padding_idx", [2, -3])
def test_embedding_padding_row_gets_no_gradient(padding_idx):
    w = sample((5, 3), seed=1)
    idx = np.array([2, 1, 2, 4, 1])
    weight = Tensor(w.copy(), requires_grad=True)
    out = F.embedding(idx, weight, padding_idx=padding_idx)
    np.testing.assert_array_equal(out.data, w[idx])  # the padding row is still read
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(weight.grad, [[0] * 3, [2] * 3, [0] * 3, [0] * 3, [1] * 3])


def test_embedding_module_init_and_state_dict():
    m = nn.Embedding(1000, 20, padding_idx=-1, rng=0)
    assert m.padding_idx == 999 and list(m.state_dict()) == ["weight"]
    np.testing.assert_array_equal(m.weight.data[999], np.zeros(20))
    assert abs(m.weight.data.mean()) < 0.02 and abs(m.weight.data.std() - 1) < 0.02  # N(0, 1)
    assert repr(m) == "Embedding(1000, 20, padding_idx=999)"
    out = m(np.array([[1, 999], [999, 5]]))
    out.sum().backward()
    np.testing.assert_array_equal(m.weight.grad[999], np.zeros(20))
    np.testing.assert_array_equal(m.weight.grad[1], np.ones(20))
    with pytest.raises(IndexError, match="out of bounds"):
        m(np.array([1000]))
    with pytest.raises(TypeError, match="integer"):
        m(np.array([1.0]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)
    pre = nn.Embedding.from_pretrained(np.eye(3))
    assert not pre.weight.requires_grad
    np.testing.assert_array_equal(pre(np.array([2])).data, [[0, 0, 1]])


# -- Dropout ---------------------------------------------------------------------------------

def test_dropout_train_vs_eval_and_inverted_scaling():
    p = 0.3
    m = nn.Dropout(p, rng=0)
    x = Tensor(np.ones(200_000), requires_grad=True)
    out = m(x)
    kept = out.data != 0
    assert abs(kept.mean() - (1 - p)) < 0.005  # each element zeroed with probability p
    np.testing.assert_allclose(out.data[kept], 1 / (1 - p))  # survivors scaled by 1 / (1 - p)
    assert abs(out.data.mean() - 1) < 0.01  # so the mean is preserved
    out.backward(np.full(x.shape, 2.0))
    np.testing.assert_allclose(x.grad, 2.0 * out.data)  # d/dx = the same mask
    m.eval()
    assert m(x) is x  # identity in eval()
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, np.zeros(x.shape))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"


def test_dropout_is_reproducible_with_a_seed():
    x = np.ones((50, 50))
    nn.manual_seed(7)
    a = nn.Dropout()(x).data
    b = nn.Dropout()(x).data  # the shared generator moved on
    nn.manual_seed(7)
    np.testing.assert_array_equal(nn.Dropout()(x).data, a)
    assert not np.array_equal(a, b)
    m1, m2 = nn.Dropout(rng=3), nn.Dropout(rng=3)
    first = m1(x).data
    np.testing.assert_array_equal(first, m2(x).data)
    assert not np.array_equal(first, m1(x).data)  # a seed makes one generator, not one mask


# -- activation modules ----------------------------------------------------------------------

X = np.array([[-3.0, -0.5, 0.0], [0.25, 2.0, 30.0]])
ERF = np.vectorize(math.erf)


def log_softmax_np(x, axis):
    return x - x.max(axis, keepdims=True) - np.log(np.exp(x - x.max(axis, keepdims=True))
                                                     .sum(axis, keepdims=True))


@pytest.mark.parametrize("module, expected", [
    (nn.LeakyReLU(), np.where(X > 0, X, 0.01 * X)),
    (nn.LeakyReLU(0.2), np.where(X > 0, X, 0.2 * X)),
    (nn.ELU(), np.where(X > 0, X, np.exp(X) - 1)),
    (nn.ELU(alpha=0.5), np.where(X > 0, X, 0.5 * (np.exp(X) - 1))),
    (nn.GELU(), 0.5 * X * (1 + ERF(X / np.sqrt(2)))),
    (nn.GELU("tanh"), 0.5 * X * (1 + np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X ** 3)))),
    (nn.SiLU(), X / (1 + np.exp(-X))),
    (nn.Softplus(), np.where(X > 20, X, np.log1p(np.exp(X)))),
    (nn.Softplus(beta=2, threshold=1), np.where(2 * X > 1, X, np.log1p(np.exp(2 * X)) / 2)),
    (nn.LogSoftmax(dim=1), log_softmax_np(X, 1)),
    (nn.LogSoftmax(dim=0), log_softmax_np(X, 0)),
    (nn.LogSoftmax(), log_softmax_np(X, -1)),
], ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_modules_values(module, expected):
    np.testing.assert_allclose(module(Tensor(X)).data, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("module", [nn.LeakyReLU(0.1), nn.ELU(), nn.GELU(), nn.SiLU(),
                                    nn.Softplus(beta=2), nn.LogSoftmax(dim=-1)],
                         ids=repr)
def test_activation_modules_gradients(module):
    check_grads(module, sample((3, 4), seed=5))


def test_activation_reprs_as_torch():
    assert [repr(m) for m in (nn.LeakyReLU(), nn.ELU(), nn.GELU(), nn.SiLU(), nn.Softplus(),
                              nn.LogSoftmax(dim=1), nn.LeakyReLU(inplace=True))] == [
        "LeakyReLU(negative_slope=0.01)", "ELU(alpha=1.0)", "GELU(approximate='none')",
        "SiLU()", "Softplus(beta=1.0, threshold=20.0)", "LogSoftmax(dim=1)",
        "LeakyReLU(negative_slope=0.01, inplace=True)"]
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("fast")


def test_a_small_model_with_every_layer_trains_and_switches_modes():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.GELU(), nn.Dropout(0.2),
                          nn.Linear(6, 6), nn.LayerNorm(6), nn.LeakyReLU(), nn.Linear(6, 3),
                          nn.LogSoftmax(dim=1))
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.integers(0, 3, 32)
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        loss = F.nll_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]
    assert model[1].num_batches_tracked.data == 30
    model.eval()
    with no_grad():
        np.testing.assert_array_equal(model(x).data, model(x).data)  # no randomness in eval
