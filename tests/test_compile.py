"""Compiled steps (autograd_mini.compile, API.md v3): the program against eager mode.

Each workload is run eagerly (fn, then backward) and compiled, on batches drawn after the trace
(so a mask or one-hot baked from the first batch fails), comparing the loss and every p.grad:
float64 to 1e-12 relative, float32 to 1e-5, and the dtypes.
"""
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_mini as am
import nn
from autograd_mini import CompileError, Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def close(a, b, dtype):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    assert a.shape == b.shape
    scale = max(np.abs(b).max(initial=0.0), 1e-30)
    assert np.abs(a - b).max(initial=0.0) <= TOL[dtype] * scale, np.abs(a - b).max()


def eager_grads(fn, params, *args):
    for p in params:
        p.grad = None
    loss = fn(*[Tensor(a) if isinstance(a, np.ndarray) else a for a in args])
    loss.backward()
    grads = [None if p.grad is None else p.grad.copy() for p in params]
    for p in params:
        p.grad = None
    return loss.data.copy(), grads


def check_against_eager(fn, params, batches, dtype, exact=False):
    """Every batch: the compiled loss and grads equal eager's (the first call is the trace),
    to the tolerance of `dtype`, or bit for bit if `exact`."""
    same = (lambda a, b, _: np.testing.assert_array_equal(a, b, strict=True)) if exact else close
    step = am.compile(fn, params=params)
    for args in batches:
        want_loss, want = eager_grads(fn, params, *args)
        loss = step(*args)
        assert loss.grad_fn is None and not loss.requires_grad
        same(loss.data, want_loss, dtype)
        for p, w in zip(params, want):
            if w is None:
                assert p.grad is None
            else:
                same(p.grad, w, dtype)
            p.grad = None
    return step


def digits_batches(n_in, n_out, dtype, k=3, batch=32, seed=0, labels=True):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        x = rng.standard_normal((batch, n_in)).astype(dtype)
        y = (rng.integers(0, n_out, batch) if labels
             else rng.standard_normal((batch, n_out)).astype(dtype))
        out.append((x, y))
    return out


MLPS = {"mlp_digits": ([64, 128, 64, 10], "relu", "ce"),
        "mlp_wide": ([784, 256, 128, 10], "relu", "ce"),
        "tiny_moons": ([2, 16, 16, 1], "tanh", "mse")}


def mlp(name, dtype, seed=0):
    sizes, act, loss = MLPS[name]
    model = nn.MLP(sizes, activation=act, dtype=dtype, rng=seed)
    loss_fn = nn.CrossEntropyLoss() if loss == "ce" else nn.MSELoss()
    return model, loss_fn, sizes, loss


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(MLPS))
def test_benchmark_mlps_match_eager(name, dtype):
    model, loss_fn, sizes, loss = mlp(name, dtype)
    params = list(model.parameters())
    batches = digits_batches(sizes[0], sizes[-1], dtype, labels=loss == "ce")
    step = check_against_eager(lambda x, y: loss_fn(model(x), y), params, batches, dtype)
    assert len(step.signatures) == 1
    src = step.source
    assert "np.maximum" in src or "np.tanh" in src  # the activation is a program line
    if loss == "ce":
        assert "_onehot(y" in src  # the labels' one-hot is computed at each call


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_cross_entropys_backward_shares_the_forwards_exponentials_with_eagers_numbers(reduction):
    """With integer labels the program computes exp(z - max z) once, for the loss and for the
    backward's softmax (e / s), as a person writes it; the numbers are eager's to the last bit."""
    model = nn.Sequential(nn.Linear(6, 5, dtype=np.float64, rng=0))
    loss_fn = nn.CrossEntropyLoss(reduction=reduction)
    step = check_against_eager(lambda x, y: loss_fn(model(x), y), list(model.parameters()),
                               digits_batches(6, 5, np.float64, k=3, batch=7, seed=3),
                               np.float64, exact=True)
    assert step.source.count("np.exp(") == 1 and "e / s" in step.source


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_mse_losss_backward_reads_the_forwards_difference_with_eagers_numbers(reduction):
    """d = x - y is computed once: the loss is the reduced d * d and the backward scales d, as a
    person writes it; the numbers are eager's to the last bit."""
    model = nn.Sequential(nn.Linear(4, 3, dtype=np.float64, rng=0), nn.Tanh())
    loss_fn = nn.MSELoss(reduction=reduction)
    step = check_against_eager(
        lambda x, y: loss_fn(model(x), y), list(model.parameters()),
        digits_batches(4, 3, np.float64, k=3, batch=6, seed=4, labels=False), np.float64,
        exact=True)
    code = [line.split("#")[0] for line in step.source.splitlines()]
    assert sum("1 - y" in line for line in code) == 1 and "    diff = tanh1 - y" in code


def doc000(dtype=np.float64):
    from _common import doc000_loss
    rng = np.random.default_rng(0)
    _, t = doc000_loss(rng.standard_normal((3, 1)), np.array([[1.0]]),
                       np.random.default_rng(1))
    W1, b1, W2, b2 = (t[k] for k in ("W1", "b1", "W2", "b2"))
    for p, name in zip((W1, b1, W2, b2), ("W1", "b1", "W2", "b2")):
        p.data = p.data.astype(dtype)
        p.name = name

    def J(x, y):
        z1 = b1 + W1 @ x
        z1.name = "z1"
        a1 = z1.sigmoid()
        a1.name = "a1"
        z2 = b2 + W2 @ a1
        z2.name = "z2"
        a2 = z2.sigmoid()
        a2.name = "a2"
        return -(y * a2.log() + (1 - y) * (1 - a2).log())

    return J, [W1, b1, W2, b2]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_doc000_network_matches_eager_and_reads_as_its_formulas(dtype):
    J, params = doc000(dtype)
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((3, 1)).astype(dtype), np.array([[y]], dtype))
               for y in (1.0, 0.0, 1.0)]
    step = check_against_eager(J, params, batches, dtype)
    lines = [ln.strip() for ln in step.source.splitlines()]
    # F0.3-F0.6 in delta form, names from the model, backward in reverse order of the forward
    # (1 - a2) is shared with the forward's log(1 - a2), so it has a name there
    want = [r"g_z2 = g_a2 \* a2 \* (\(1 - a2\)|sub\d)", "g_b2 = g_z2", r"g_W2 = g_z2 @ a1\.T",
            r"g_a1 = W_W2\.T @ g_z2", r"g_z1 = g_a1 \* a1 \* \(1 - a1\)", "g_b1 = g_z1",
            r"g_W1 = g_z1 @ x\.T"]
    found = [next(i for i, ln in enumerate(lines) if re.fullmatch(w, ln.split("  #")[0]))
             for w in want]
    assert found == sorted(found)
    assert "# sigmoid: dx = g * out * (1 - out)" in step.source
    assert lines[-1] == "return loss, g_W1, g_b1, g_W2, g_b2"
    assert re.search(r"^def step\(W_W1, W_b1, W_W2, W_b2, x, y\):", step.source, re.M)


def standalone(source):
    """The source exec'd in a fresh namespace: its only import is numpy."""
    imports = [ln for ln in source.splitlines() if re.match(r"\s*(import|from)\s", ln)]
    assert imports == ["import numpy as np"]
    ns = {}
    exec(source, ns)
    return ns["step"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_source_alone_reproduces_loss_and_gradients(dtype):
    model, loss_fn, sizes, _ = mlp("mlp_digits", dtype)
    params = list(model.parameters())
    step = am.compile(lambda x, y: loss_fn(model(x), y), params=params)
    (x0, y0), (x, y) = digits_batches(64, 10, dtype, k=2)
    step(x0, y0)
    run = standalone(step.source)
    loss, *grads = run(*[p.data for p in params], x, y)
    want_loss, want = eager_grads(lambda x, y: loss_fn(model(x), y), params, x, y)
    close(np.asarray(loss), want_loss, dtype)
    for g, w in zip(grads, want):
        close(g, w, dtype)


def test_source_is_none_before_the_first_call_and_names_params():
    model, loss_fn, *_ = mlp("tiny_moons", np.float64)
    step = am.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())
    assert step.source is None and step.signatures == []
    x, y = digits_batches(2, 1, np.float64, k=1, labels=False)[0]
    step(x, y)
    defs = re.findall(r"^def (\w+)\((.*)\):", step.source, re.M)
    assert defs[-1] == ("step", "W_0_weight, W_0_bias, W_2_weight, W_2_bias, W_4_weight, "
                                "W_4_bias, x, y")
    assert step.source.rstrip().splitlines()[-1].strip() == (
        "return loss, g_0_weight, g_0_bias, g_2_weight, g_2_bias, g_4_weight, g_4_bias")


def test_grads_accumulate_and_unused_params_keep_theirs():
    model, loss_fn, *_ = mlp("tiny_moons", np.float64)
    params = list(model.parameters())
    unused = nn.Parameter(np.ones(3))
    unused.grad = np.full(3, 7.0)
    step = am.compile(lambda x, y: loss_fn(model(x), y), params=params + [unused, params[0]])
    batches = digits_batches(2, 1, np.float64, k=3, labels=False)
    f = lambda x, y: loss_fn(model(x), y)
    want = [np.zeros_like(p.data) for p in params]
    for x, y in batches:
        _, g = eager_grads(f, params, x, y)
        want = [w + gi for w, gi in zip(want, g)]
    for x, y in batches:  # no zero_grad between calls: the sums, as backward gives
        step(x, y)
    for p, w in zip(params, want):
        close(p.grad, w, np.float64)
    assert np.array_equal(unused.grad, np.full(3, 7.0))


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_thirty_optimizer_steps_equal_eager(opt, dtype):
    runs = []
    for compiled in (False, True):
        model, loss_fn, sizes, _ = mlp("mlp_digits", dtype, seed=3)
        params = list(model.parameters())
        o = getattr(nn.optim, opt)(params, lr=0.05 if opt == "SGD" else 1e-3)
        f = lambda x, y: loss_fn(model(x), y)
        step = am.compile(f, params=params) if compiled else None
        losses = []
        for x, y in digits_batches(64, 10, dtype, k=30, seed=7):
            o.zero_grad()
            if compiled:
                loss = step(x, y)
            else:
                loss = f(Tensor(x), y)
                loss.backward()
            o.step()
            losses.append(loss.item())
        runs.append((losses, [p.data.copy() for p in params]))
    (l0, w0), (l1, w1) = runs
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(l1, l0, rtol=tol)
    for a, b in zip(w1, w0):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_params_are_read_at_each_call():
    model, loss_fn, *_ = mlp("tiny_moons", np.float64)
    params = list(model.parameters())
    f = lambda x, y: loss_fn(model(x), y)
    step = am.compile(f, params=params)
    x, y = digits_batches(2, 1, np.float64, k=1, labels=False)[0]
    step(x, y)
    params[0].data = params[0].data * 2.0  # a new array
    with am.no_grad():
        params[2].data[...] = 0.5  # written in place
    want_loss, want = eager_grads(f, params, x, y)
    for p in params:
        p.grad = None
    close(step(x, y).data, want_loss, np.float64)
    for p, w in zip(params, want):
        close(p.grad, w, np.float64)


def test_retraces_on_shape_dtype_and_mode():
    model, loss_fn, *_ = mlp("tiny_moons", np.float64)
    step = am.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())
    x, y = digits_batches(2, 1, np.float64, k=1, labels=False)[0]
    step(x, y)
    step(Tensor(x + 1), y)  # a Tensor and an ndarray of one shape and dtype: one signature
    assert len(step.signatures) == 1
    step(x[:5], y[:5])
    assert len(step.signatures) == 2
    step(x.astype(np.float32), y)
    assert len(step.signatures) == 3
    model.eval()
    step(x, y)
    assert len(step.signatures) == 4
    model.train()
    step(x, y)
    assert len(step.signatures) == 4
    assert step.signatures[0][0] == ((32, 2), np.dtype(np.float64).str)


def test_a_mode_set_by_assignment_to_one_layer_is_seen():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    step = am.compile(lambda x: model(x).sum(), params=model.parameters())
    x = np.random.default_rng(0).standard_normal((8, 4))  # (ones could drop to the same sum)
    step(x)
    step(x)
    model[1].training = False  # not through eval(): the program of training mode is stale
    with am.no_grad():
        want = model(Tensor(x)).sum().item()
    assert step(x).item() == pytest.approx(want, rel=1e-12)
    assert len(step.signatures) == 2 and step.signatures[1][-1] == ("eval", "Dropout")
    model[1].training = True
    assert step(x).item() != pytest.approx(want, rel=1e-12)  # dropout again, no new trace
    assert len(step.signatures) == 2


def test_an_empty_params_list_and_a_0d_param_accumulating():
    step = am.compile(lambda x: (x * x).sum(), params=[])
    assert step(np.ones(3)).item() == 3 and step(np.full(3, 2.0)).item() == 12
    w = Tensor(np.array(2.0), requires_grad=True)
    step = am.compile(lambda x: (x * w).sum(), params=[w])
    for k in (1, 2, 3):  # the trace, then the program twice: d/dw = sum(x), added up
        step(np.arange(3.0))
        assert type(w.grad) is np.ndarray and w.grad.shape == () and w.grad == 3 * k


def test_unhashable_argument_is_a_type_error_naming_it():
    step = am.compile(lambda x, k: x * 2)
    with pytest.raises(TypeError, match="argument 1 .list."):
        step(np.ones(3), [1, 2])


def test_without_params_returns_outputs_and_python_values_are_part_of_the_signature():
    step = am.compile(lambda x, k: ((x * k).sin(), x.sum()))
    x = np.linspace(0, 1, 5)
    for k in (2.0, 3.0, 2.0):
        a, b = step(x, k)
        assert isinstance(a, Tensor) and a.grad_fn is None
        np.testing.assert_array_equal(a.data, np.sin(x * k))
        np.testing.assert_array_equal(b.data, x.sum())
    assert len(step.signatures) == 2
    one = am.compile(lambda x: x.exp())
    assert isinstance(one(x), Tensor) and isinstance(one(x + 1), Tensor)


class Softplus(am.Function):
    """y = log(1 + e^x), dy/dx = sigmoid(x): a backward written with Tensor ops."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 + x.exp()).log()

    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * x.sigmoid()


class RawSoftplus(Softplus):
    @staticmethod
    def backward(ctx, grad_output):
        x, = ctx.saved_tensors
        return grad_output * (1 / (1 + np.exp(-x.data)))  # leaves the engine


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_function_with_tensor_backward_compiles(dtype):
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((4, 3)).astype(dtype), requires_grad=True)
    f = lambda x: (Softplus.apply(x @ W) * x.sum(axis=1, keepdims=True)).mean()
    batches = [(rng.standard_normal((5, 4)).astype(dtype),) for _ in range(3)]
    step = check_against_eager(f, [W], batches, dtype)
    assert "_sigmoid(" in step.source


def test_function_whose_backward_leaves_the_engine_raises_naming_it():
    W = Tensor(np.ones((4, 3)), requires_grad=True)
    step = am.compile(lambda x: RawSoftplus.apply(x @ W).sum(), params=[W])
    with pytest.raises(CompileError, match="RawSoftplus"):
        step(np.ones((2, 4)))
    assert W.grad is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_long_chain_matches_eager(dtype):
    w = Tensor(np.array([0.3, -0.2], dtype), requires_grad=True)

    def chain(x):
        t = x * w
        for _ in range(10**4 // 3):
            t = (t * 1.0001 + 0.001).tanh()
        return t.sum()

    step = check_against_eager(chain, [w], [(np.array([0.5, 0.7], dtype),),
                                            (np.array([-1.5, 0.1], dtype),)], dtype)
    assert step.source.count("np.tanh(") >= 10**4 // 3


def test_labels_are_checked_at_every_call():
    model, loss_fn, *_ = mlp("mlp_digits", np.float64)
    step = am.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())
    batches = digits_batches(64, 10, np.float64, k=3)
    for x, y in batches[:2]:
        step(x, y)
    grads = [p.grad.copy() for p in model.parameters()]
    x, y = batches[2]
    y[7] = 10
    with pytest.raises(am.losses.LabelError, match=r"label 10 at index \(7,\) is out of range"):
        step(x, y)
    for p, g in zip(model.parameters(), grads):  # a call that raises changes no .grad
        np.testing.assert_array_equal(p.grad, g)


def test_each_loss_checks_its_own_labels():
    """Two losses, two label checks: the second is a line of the program too."""
    W = Tensor(np.ones((3, 4)), requires_grad=True)
    lf = nn.CrossEntropyLoss()
    step = am.compile(lambda x, y, z: lf(x @ W, y) + lf(x @ W * 2, z), params=[W])
    x = np.ones((2, 3))
    step(x, np.array([0, 1]), np.array([1, 2]))
    with pytest.raises(am.losses.LabelError, match=r"label 7 at index \(1,\)"):
        step(x, np.array([0, 1]), np.array([1, 7]))


@pytest.mark.parametrize("read", [
    lambda t: t.sum().item(), lambda t: bool(t.sum() > 0), lambda t: float(t.sum()),
    lambda t: int(t.sum()), lambda t: t.numpy(), lambda t: t.data, lambda t: np.asarray(t)])
def test_value_reads_raise_at_trace_time(read):
    w = Tensor(np.ones(3), requires_grad=True)

    def f(x):
        y = x * w
        if read(y) is None:  # value-dependent control flow
            y = -y
        return y.sum()

    step = am.compile(f, params=[w])
    with pytest.raises(CompileError, match="reads a traced tensor's values.*where"):
        step(np.ones(3))
    assert w.grad is None and step.signatures == []


def test_non_scalar_result_with_params_raises():
    w = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(CompileError, match="one-element Tensor"):
        am.compile(lambda x: x * w, params=[w])(np.ones(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_index_computed_from_the_inputs_is_a_program_operand(dtype):
    rng = np.random.default_rng(1)
    W = Tensor(rng.standard_normal((4, 5)).astype(dtype), requires_grad=True)

    def nll(x, y):
        logp = (x @ W).log_softmax(axis=1)
        return -logp[np.arange(len(y)), y].mean()

    batches = [(rng.standard_normal((6, 4)).astype(dtype), rng.integers(0, 5, 6))
               for _ in range(3)]
    step = check_against_eager(nll, [W], batches, dtype)
    assert re.search(r"\[\((C\d+|np\.array\(.*\)), y\)\]", step.source)  # y indexes, each call


def cnn(dtype, seed=0):
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, dtype=dtype, rng=seed), nn.BatchNorm2d(4, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10, dtype=dtype, rng=seed + 1))


def image_batches(dtype, k=4, seed=2):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 1, 8, 8)).astype(dtype), rng.integers(0, 10, 8))
            for _ in range(k)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cnn_with_batchnorm_and_dropout_matches_eager_from_one_seed(dtype):
    """Twin models, one eager and one compiled, from one seed: the same losses, gradients,
    Dropout masks and BatchNorm statistics at every call."""
    eager, compiled = cnn(dtype), cnn(dtype)
    lf = nn.CrossEntropyLoss()
    step = am.compile(lambda x, y: lf(compiled(x), y), params=compiled.parameters())
    for i, (x, y) in enumerate(image_batches(dtype)):
        nn.manual_seed(10 + i)
        want_loss, want = eager_grads(lambda x, y: lf(eager(x), y), list(eager.parameters()),
                                      x, y)
        nn.manual_seed(10 + i)
        close(step(x, y).data, want_loss, dtype)
        for p, w in zip(compiled.parameters(), want):
            close(p.grad, w, dtype)
            p.grad = None
    for (name, a), b in zip(compiled.state_dict().items(), eager.state_dict().values()):
        if name.endswith("num_batches_tracked"):
            assert a == b == 4
        else:
            close(a, b, dtype)
    assert "_dropout_mask(generator" in step.source and "_first_max_mask(" in step.source
    assert "running_mean[...] = " in step.source


def test_dropout_draws_fresh_masks_at_each_call():
    model = nn.Sequential(nn.Dropout(0.5))
    step = am.compile(lambda x: model(x))
    x = np.ones((4, 50))
    masks = [step(x).data for _ in range(4)]
    for a, b in zip(masks, masks[1:]):
        assert not np.array_equal(a, b)
    assert set(np.unique(masks)) == {0.0, 2.0}
    own = nn.Dropout(0.5, rng=np.random.default_rng(3))  # a layer's own generator
    step = am.compile(lambda x: own(x))
    got = [step(x).data for _ in range(3)]
    ref = np.random.default_rng(3)
    for g in got:
        np.testing.assert_array_equal(g, (ref.random(x.shape) >= 0.5) / 0.5)


def test_batchnorm_eval_mode_retraces_and_uses_running_statistics():
    model = cnn(np.float64)
    lf = nn.CrossEntropyLoss()
    f = lambda x, y: lf(model(x), y)
    step = am.compile(f, params=model.parameters())
    batches = image_batches(np.float64, k=3)
    for x, y in batches[:2]:
        step(x, y)
    model.eval()
    x, y = batches[2]
    step(x, y)  # the trace of eval mode
    before = {k: v.copy() for k, v in model.state_dict().items()}
    want_loss, want = eager_grads(f, list(model.parameters()), x + 1, y)
    close(step(x + 1, y).data, want_loss, np.float64)
    for p, w in zip(model.parameters(), want):
        close(p.grad, w, np.float64)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])  # eval: statistics unchanged
    assert len(step.signatures) == 2 and "running_mean[...]" not in step.source


def test_a_call_that_raises_changes_no_buffer():
    model = cnn(np.float64)
    lf = nn.CrossEntropyLoss()
    step = am.compile(lambda x, y: lf(model(x), y), params=model.parameters())
    (x, y), (x2, y2) = image_batches(np.float64, k=2)
    step(x, y)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    y2[0] = -1
    with pytest.raises(am.losses.LabelError):
        step(x2, y2)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


# -- every op of the table, compiled: the cases of the second-derivative tests ------------------

from test_higher_order import CASES, _ops_in_graph, draw, tensors  # noqa: E402


def compiled_case(fn, shapes, domains):
    """fn's weighted sum compiled with its inputs as params, called on new values after the
    trace (so a mask or index baked from the first values fails) against eager mode; returns
    the ops that eager mode recorded."""
    xs = tensors([draw(s, d, i) for i, (s, d) in enumerate(zip(shapes, domains))])
    out = fn(*xs)
    u = np.random.default_rng(7).standard_normal(out.shape)
    f = lambda: (fn(*xs) * u).sum()
    step = am.compile(f, params=xs)
    step()
    for i, x in enumerate(xs):  # each .grad owns its memory, as after backward()
        for j, other in enumerate(xs):
            assert x.grad is None or not np.shares_memory(x.grad, other.data)
            assert x.grad is None or i == j or other.grad is None \
                or not np.shares_memory(x.grad, other.grad)
        x.grad = None
    for seed in (50, 90):
        for i, (x, s, d) in enumerate(zip(xs, shapes, domains)):
            x.data = draw(s, d, seed + i)
        want_loss, want = eager_grads(f, xs)
        close(step().data, want_loss, np.float64)
        for x, w in zip(xs, want):
            if w is None:
                assert x.grad is None
            else:
                close(x.grad, w, np.float64)
            x.grad = None
    return _ops_in_graph(out)


# max(dim) and min(dim) choose their indices with numpy's argmax on the values: refused
REFUSED = {"max(dim).values", "max(dim,keepdim).values", "min(dim).values"}


@pytest.mark.parametrize("fn, shapes, domains", [c for c in CASES if c.id not in REFUSED])
def test_every_case_compiles_and_matches_eager(fn, shapes, domains):
    compiled_case(fn, shapes, domains)


@pytest.mark.parametrize("fn, shapes, domains", [c for c in CASES if c.id in REFUSED])
def test_choices_made_with_raw_numpy_are_refused_naming_the_op(fn, shapes, domains):
    with pytest.raises(CompileError, match=r"m(ax|in)\(\) computes its choice"):
        compiled_case(fn, shapes, domains)


@pytest.mark.parametrize("f, name", [
    (lambda x: x.asinh(), "asinh"), (lambda x: x.argmax(), "argmax"),
    (lambda x: x.sort().values, "sort"), (lambda x: x.topk(2).values, "topk"),
    (lambda x: am.functional.copysign(x, -x), "copysign")])
def test_compositions_that_choose_with_raw_numpy_are_refused(f, name):
    with pytest.raises(CompileError, match=rf"{name}\(\)"):
        am.compile(lambda x: f(x))(np.array([0.5, -1.0, 2.0]))


def test_every_op_in_the_table_is_covered_by_a_compile_test():
    covered = set()
    for param in CASES:
        if param.id not in REFUSED:
            covered |= compiled_case(*param.values)
    assert set(am.OPS) - covered == set(), "ops without a compile test"


def test_no_primitive_returns_one_of_its_inputs_but_to(monkeypatch):
    """A compiled step hands its gradients to .grad without a copy (compile._caller), since
    each is the new array of a primitive; `to` at its own dtype is the one that returns its
    input, and compile copies what it returns."""
    same, record = set(), am.primitives.record

    def checked(out, prim, inputs, saved, opts):
        if any(out is s for s in saved):
            same.add(prim.name)
        return record(out, prim, inputs, saved, opts)

    monkeypatch.setattr(am.primitives, "record", checked)
    recorded = set()
    for fn, shapes, domains in (c.values for c in CASES):
        xs = tensors([draw(s, d, i) for i, (s, d) in enumerate(zip(shapes, domains))])
        out = fn(*xs)
        u = np.random.default_rng(7).standard_normal(out.shape)
        am.grad((out * u).sum(), xs, create_graph=True, allow_unused=True)  # the VJPs' ops too
        recorded |= _ops_in_graph(out)
    assert same <= {"to"}
    assert set(am.OPS) <= recorded


def test_a_gradient_that_is_the_loss_itself_is_copied_into_grad():
    w = Tensor(np.array([0.5]), requires_grad=True)
    step = am.compile(lambda: w.exp(), params=[w])  # d exp(w) / dw = exp(w): the program's loss
    for _ in range(2):  # the trace, then the program
        w.grad = None
        loss = step()
        np.testing.assert_array_equal(w.grad, np.exp([0.5]))
        assert not np.shares_memory(loss.data, w.grad)


def test_a_gradient_that_is_an_input_or_a_view_is_copied_into_grad():
    x = np.arange(6.0).reshape(2, 3)
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    W = Tensor(np.ones((3, 4)), requires_grad=True)
    step = am.compile(lambda x: (w * x).sum() + (x @ W).sum(), params=[w, W])
    for _ in range(2):  # the trace, then the program
        w.grad = W.grad = None
        step(x)
        np.testing.assert_array_equal(w.grad, x)  # d/dw sum(w * x) = x, the argument itself
        assert not np.shares_memory(w.grad, x)
        np.testing.assert_array_equal(W.grad, np.repeat(x.sum(0)[:, None], 4, 1))
        assert W.grad.base is None


class RawForward(am.Function):
    @staticmethod
    def forward(ctx, x):
        return Tensor(np.log1p(np.exp(x.data)))

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def test_function_whose_forward_leaves_the_engine_raises_naming_it():
    W = Tensor(np.ones((4, 3)), requires_grad=True)
    with pytest.raises(CompileError, match="RawForward.forward"):
        am.compile(lambda x: RawForward.apply(x @ W).sum(), params=[W])(np.ones((2, 4)))


def test_backward_inside_the_compiled_function_raises():
    w = Tensor(np.ones(3), requires_grad=True)

    def f(x):
        loss = (x * w).sum()
        loss.backward()
        return loss

    with pytest.raises(CompileError, match="pass params= to compile"):
        am.compile(f)(np.ones(3))
    assert w.grad is None


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batchnorm_statistics_after_several_calls(dtype):
    """momentum 0.1 and None (the cumulative average, 1 / num_batches_tracked each call)."""
    for momentum in (0.1, None):
        models = [nn.Sequential(nn.Linear(3, 4, dtype=dtype, rng=0),
                                nn.BatchNorm1d(4, momentum=momentum, dtype=dtype))
                  for _ in range(2)]
        eager, compiled = models
        step = am.compile(lambda x: (compiled(x) ** 2).sum(), params=compiled.parameters())
        rng = np.random.default_rng(4)
        for _ in range(5):
            x = rng.standard_normal((6, 3)).astype(dtype)
            want_loss, want = eager_grads(lambda x: (eager(x) ** 2).sum(),
                                          list(eager.parameters()), x)
            close(step(x).data, want_loss, dtype)
            for p, w in zip(compiled.parameters(), want):
                close(p.grad, w, dtype)
                p.grad = None
        got, ref = compiled.state_dict(), eager.state_dict()
        assert got["1.num_batches_tracked"] == ref["1.num_batches_tracked"] == 5
        for k in ("1.running_mean", "1.running_var"):
            close(got[k], ref[k], dtype)


# ================================================================ hooks and anomaly mode

def _hooked_model():
    model = nn.MLP([3, 4, 2], activation="tanh", rng=0)
    return model, (lambda x, y: nn.MSELoss()(model(x), y))


def test_hooks_are_refused_at_trace_time_naming_them():
    """A hook runs at every eager backward or forward; a program would skip it silently."""
    x, y = np.ones((5, 3)), np.zeros((5, 2))
    model, f = _hooked_model()

    def double(g):
        return 2 * g

    h = model[0].weight.register_hook(double)
    with pytest.raises(CompileError, match=r"param 0\.weight .*double"):
        am.compile(f, params=model.parameters())(x, y)
    h.remove()
    w0 = Tensor(np.ones((2, 3)), requires_grad=True)      # a param without a name
    w0.register_hook(double)
    with pytest.raises(CompileError, match=r"param 0 \(W_0\) .*double"):
        am.compile(lambda x: (x @ w0.T).sum(), params=[w0])(x)
    h = model[0].register_forward_hook(lambda m, i, o: None)
    with pytest.raises(CompileError, match="forward hook"):
        am.compile(f, params=model.parameters())(x, y)
    h.remove()

    def g(x, y):
        h = model[0](x)
        h.register_hook(double)
        return nn.MSELoss()(model[2](model[1](h)), y)

    with pytest.raises(CompileError, match="double"):
        am.compile(g, params=model.parameters())(x, y)
    assert all(p.grad is None for p in model.parameters())  # a call that raises writes nothing


def test_anomaly_mode_runs_the_step_eagerly_and_says_so():
    x, y = np.random.default_rng(0).standard_normal((5, 3)), np.zeros((5, 2))
    model, f = _hooked_model()
    step = am.compile(f, params=model.parameters())
    step(x, y)                                          # traced
    want = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    with am.detect_anomaly(), pytest.warns(RuntimeWarning, match="eagerly"):
        step(x, y)
    for p, w in zip(model.parameters(), want):
        np.testing.assert_allclose(p.grad, w, rtol=1e-12)
    with am.detect_anomaly(), pytest.warns(RuntimeWarning, match="eagerly"):
        with pytest.raises(RuntimeError, match="log"):
            am.compile(lambda x: x.log().sum())(-np.ones(2))


# -- the op-list loop that runs very long programs, on short ones --------------------------------

@pytest.mark.parametrize("test", [
    lambda: test_benchmark_mlps_match_eager("mlp_digits", np.float64),
    lambda: test_cnn_with_batchnorm_and_dropout_matches_eager_from_one_seed(np.float64),
    lambda: test_batchnorm_statistics_after_several_calls(np.float32),
    test_labels_are_checked_at_every_call, test_a_call_that_raises_changes_no_buffer,
    lambda: test_an_index_computed_from_the_inputs_is_a_program_operand(np.float64),
    test_grads_accumulate_and_unused_params_keep_theirs,
    test_without_params_returns_outputs_and_python_values_are_part_of_the_signature,
    lambda: test_cross_entropys_backward_shares_the_forwards_exponentials_with_eagers_numbers(
        "mean"),
    lambda: test_mse_losss_backward_reads_the_forwards_difference_with_eagers_numbers("sum")],
    ids=["mlp_digits", "cnn", "batchnorm", "labels", "raises", "index", "accumulate",
         "no_params", "shared_exp", "shared_difference"])
def test_op_list_loop_gives_the_sources_results(test, monkeypatch):
    """Programs longer than _LONG lines run as a loop over an op list, its slots reused once
    a value is dead: with _LONG = 0 every program does, and must give eager's numbers,
    checks, errors and buffers."""
    monkeypatch.setattr(sys.modules["autograd_mini.compile"], "_LONG", 0)
    test()
