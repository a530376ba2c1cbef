"""detect_anomaly / set_detect_anomaly: the first NaN or inf of the forward or the backward
raises, naming the op, the line of this file that made it, and the value; outside the context
nothing changes."""
import sys

import numpy as np
import pytest

import autograd_mini
import nn
from autograd_mini import Tensor, detect_anomaly, no_grad, enable_grad


def _next_line():
    """The line after the caller's: where the op under test is made."""
    return sys._getframe(1).f_lineno + 1


def _place(line):
    return f"{__file__}:{line}"


def test_a_nan_in_the_forward_names_the_op_the_line_and_the_output():
    x = Tensor(np.array([1.0, -1.0]), requires_grad=True)
    with detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(RuntimeError) as err:
            line = _next_line()
            x.log()
    msg = str(err.value)
    assert "'log'" in msg and _place(line) in msg and "output (nan)" in msg and "forward" in msg


def test_an_op_made_inside_nn_points_at_the_line_that_called_the_model():
    lin = nn.Linear(2, 2, rng=0)
    lin.weight.data[0, 0] = np.inf
    with detect_anomaly():
        with pytest.raises(RuntimeError) as err:
            line = _next_line()
            lin(np.ones((1, 2)))
    msg = str(err.value)
    assert "'linear'" in msg and _place(line) in msg and "(inf)" in msg


def test_a_non_finite_gradient_in_the_backward_names_the_op_its_line_and_the_input():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly(), np.errstate(divide="ignore"):
        line = _next_line()
        r = x.sqrt()          # finite forward; d sqrt(x) / dx = 1 / (2 sqrt(x)) is inf at 0
        loss = r.sum()
        with pytest.raises(RuntimeError) as err:
            loss.backward()
    msg = str(err.value)
    assert "backward" in msg and "'sqrt'" in msg and _place(line) in msg
    assert "input 0" in msg and "(inf)" in msg
    assert x.grad is None  # a failed sweep writes nothing


def test_nothing_raises_outside_the_context():
    x = Tensor(np.array([0.0, -1.0]), requires_grad=True)
    with np.errstate(all="ignore"):
        y = x.log() + x.sqrt()
        y.sum().backward()
    assert not np.isfinite(y.data).any() and not np.isfinite(x.grad).any()
    assert not autograd_mini.is_anomaly_enabled()


def test_a_finite_run_is_the_same_inside_and_nodes_remember_their_line():
    def run():
        nn.manual_seed(0)
        model = nn.MLP([4, 8, 3], activation="tanh")
        x = np.random.default_rng(1).standard_normal((5, 4))
        line = _next_line()
        loss = nn.CrossEntropyLoss()(model(x), np.array([0, 1, 2, 1, 0]))
        loss.backward()
        return loss, [p.grad for p in model.parameters()], line

    plain, grads, _ = run()
    with detect_anomaly():
        assert autograd_mini.is_grad_enabled() and autograd_mini.is_anomaly_enabled()
        checked, grads_checked, line = run()
    assert plain.item() == checked.item()
    for a, b in zip(grads, grads_checked):
        np.testing.assert_array_equal(a, b)
    assert checked.grad_fn.where == (__file__, line)
    assert not hasattr(plain.grad_fn, "where")  # outside, nothing is recorded


def test_no_grad_inside_records_nothing_and_enable_grad_inside_it_checks_again():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    with detect_anomaly(), np.errstate(invalid="ignore"):
        with no_grad():
            assert x.log().grad_fn is None
            with enable_grad():
                with pytest.raises(RuntimeError, match="'log'"):
                    x.log()


def test_set_detect_anomaly_switches_it_on_and_off_and_the_decorator_form():
    x = Tensor(np.array([-1.0]), requires_grad=True)
    autograd_mini.set_detect_anomaly(True)
    try:
        with np.errstate(invalid="ignore"), pytest.raises(RuntimeError, match="'log'"):
            x.log()
    finally:
        autograd_mini.set_detect_anomaly(False)
    assert not autograd_mini.is_anomaly_enabled() and autograd_mini.is_grad_enabled()

    with autograd_mini.set_detect_anomaly(True):  # also a context manager, as PyTorch's
        assert autograd_mini.is_anomaly_enabled()
    assert not autograd_mini.is_anomaly_enabled()

    @detect_anomaly()
    def f():
        return x.sqrt()

    with np.errstate(invalid="ignore"), pytest.raises(RuntimeError, match="'sqrt'"):
        f()


def test_a_user_defined_function_is_checked_and_located_too():
    class Reciprocal(autograd_mini.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return Tensor(1 / x.data)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return -g / (x * x)

    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError) as err:
            line = _next_line()
            Reciprocal.apply(x)
    assert "Reciprocal" in str(err.value) and _place(line) in str(err.value)


def test_one_detect_anomaly_instance_shared_by_threads():
    """The state it replaced is kept per context, as no_grad's: two threads inside one instance
    at once each leave it as they entered (the tokens kept on the instance mixed them)."""
    import threading

    shared, barrier, errors = autograd_mini.detect_anomaly(), threading.Barrier(2), []

    def work():
        try:
            for _ in range(50):
                with shared:
                    barrier.wait(timeout=10)
                    assert autograd_mini.is_anomaly_enabled()
                assert not autograd_mini.is_anomaly_enabled()
        except BaseException as err:  # noqa: BLE001 (reported below)
            errors.append(err)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
