"""autograd_mini.Function: user-defined ops graded by gradcheck and gradgradcheck.

Expected values are closed forms in numpy (sigmoid(x) = d softplus / dx, ...), never the engine.
"""
import numpy as np
import pytest

from autograd_mini import (Function, Tensor, draw_graph, func, grad, gradcheck, gradgradcheck,
                           is_grad_enabled, no_grad)


def sigma(t):
    return 1 / (1 + np.exp(-t))


def leaf(x, dtype=np.float64):
    return Tensor(np.asarray(x, dtype=dtype), requires_grad=True)


class Softplus(Function):
    """y = log(1 + e^x); on paper dy/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 + x.exp()).log()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class WrongSoftplus(Function):
    """The derivative as a student might get it wrong: e^x / (1 + e^x)^2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (1 + x.exp()).log()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.exp() / (1 + x.exp()) ** 2


class IgnoresG(Function):
    """x^2 with a backward that returns 2x whatever the upstream gradient: right for ones only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x + 0 * g.sum()


class Sigmoid(Function):
    """Saves its output: dy/dx = y (1 - y); the saved output is differentiable again."""

    @staticmethod
    def forward(ctx, x):
        y = x.sigmoid()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * (1 - y)


class SigmoidFromIntermediate(Function):
    """Right to first order, but its backward uses a value computed inside forward (under
    no_grad): a constant to the second derivative, so d2/dx2 loses its terms."""

    @staticmethod
    def forward(ctx, x):
        s = x.sigmoid()
        ctx.s = s * 1  # an intermediate, not the output
        return s

    @staticmethod
    def backward(ctx, g):
        return g * ctx.s * (1 - ctx.s)


class WrongSquare(Function):
    """x^2 with a wrong backward (g * x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class Cube(Function):
    """x^3, backward 3 g x^2 written with the (wrong-backward) WrongSquare op: the first
    derivative is right (WrongSquare's forward is right), the second is not."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * WrongSquare.apply(x)


class Affine(Function):
    """y = x @ W + b, b broadcast over rows, and a Python-number scale: three tensor inputs
    and one constant. Its backward returns db with the rows still in (the engine sums them)."""

    @staticmethod
    def forward(ctx, x, W, b, scale):
        ctx.save_for_backward(x, W)
        ctx.scale = scale
        return (x @ W + b) * scale

    @staticmethod
    def backward(ctx, g):
        x, W = ctx.saved_tensors
        g = g * ctx.scale
        return g @ W.T, x.T @ g, g, None


# -- first order ------------------------------------------------------------------------------

def test_forward_value_grad_fn_and_paper_derivative():
    x = leaf([-2.0, 0.0, 0.5, 3.0])
    y = Softplus.apply(x)
    np.testing.assert_allclose(y.data, np.log1p(np.exp(x.data)), rtol=1e-12)
    assert y.requires_grad and y.grad_fn.name == "Softplus" and "grad_fn=<Softplus>" in repr(y)
    (y * Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert isinstance(x.grad, np.ndarray)
    np.testing.assert_allclose(x.grad, [1, 2, 3, 4] * sigma(x.data), rtol=1e-12)


def test_gradcheck_passes_for_a_right_backward():
    rng = np.random.default_rng(0)
    assert gradcheck(Softplus.apply, [leaf(rng.standard_normal((3, 2)))])
    assert gradcheck(Sigmoid.apply, [leaf(rng.standard_normal(5))])
    x, W, b = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal((3, 2))), leaf([0.1, 0.2])
    assert gradcheck(Affine.apply, [x, W, b, 1.5])


def test_gradcheck_fails_for_a_wrong_backward():
    x = leaf([-1.0, 0.5, 2.0])
    with pytest.raises(AssertionError, match=r"input 0 .*analytic .*numeric"):
        gradcheck(WrongSoftplus.apply, [x])


def test_gradcheck_fails_for_a_backward_right_only_for_ones():
    x = leaf([-1.0, 0.5, 2.0])
    assert np.allclose(grad(IgnoresG.apply(x).sum(), x)[0].data, 2 * x.data)  # right for ones
    with pytest.raises(AssertionError, match="random upstream gradient"):
        gradcheck(IgnoresG.apply, [x])


def test_broadcast_gradient_of_backward_is_summed_to_the_input_shape():
    rng = np.random.default_rng(1)
    x, W, b = leaf(rng.standard_normal((4, 3))), leaf(rng.standard_normal((3, 2))), leaf([0.1, 0.2])
    Affine.apply(x, W, b, 2.0).sum().backward()
    np.testing.assert_allclose(b.grad, [8.0, 8.0])  # 4 rows, scale 2
    np.testing.assert_allclose(W.grad, 2 * x.data.T @ np.ones((4, 2)), rtol=1e-12)


def test_backward_of_the_wrong_shape_is_an_error_naming_the_op():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum(axis=0)  # (3,) for an input of shape (2, 3): wrong

    x = leaf(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'Bad'.*\(3,\).*\(2, 3\)"):
        Bad.apply(x).sum().backward()


def test_wrong_number_of_gradients_names_the_function_expected_and_got():
    class TwoArgs(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g  # forgets b's gradient

    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"TwoArgs\.backward returned 1 gradient, but forward "
                                           r"took 2 arguments"):
        TwoArgs.apply(a, b).sum().backward()


def test_a_gradient_for_a_non_tensor_argument_is_an_error():
    class Scale(Function):
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, g.sum()  # should be None for k

    with pytest.raises(RuntimeError, match=r"Scale\.backward .*argument 1.*None"):
        Scale.apply(leaf([1.0]), 3.0).sum().backward()


def test_modes_forward_under_no_grad_backward_recorded_only_with_create_graph():
    seen = {}

    class Probe(Function):
        @staticmethod
        def forward(ctx, x):
            seen["forward"] = is_grad_enabled()
            ctx.save_for_backward(x)
            return x * 3

        @staticmethod
        def backward(ctx, g):
            seen.setdefault("backward", []).append((is_grad_enabled(), type(g).__name__))
            return g * 3

    x = leaf([1.0, 2.0])
    y = Probe.apply(x)
    assert seen["forward"] is False
    y.sum().backward(retain_graph=True)
    grad(y.sum(), x, create_graph=True)
    assert seen["backward"] == [(False, "Tensor"), (True, "Tensor")]


def test_ctx_needs_input_grad_and_no_recording_without_grad():
    class Record(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            Record.needs = ctx.needs_input_grad
            return a + b

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    a, b = leaf([1.0]), Tensor([2.0])
    y = Record.apply(a, b, 5)
    assert Record.needs == (True, False, False) and y.grad_fn is not None
    with no_grad():
        z = Record.apply(a, b, 5)
    assert z.grad_fn is None and not z.requires_grad
    assert Record.apply(Tensor([1.0]), b, 5).grad_fn is None


def test_tuple_output_is_a_clear_error():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(TypeError, match="one output"):
        Two.apply(leaf([1.0]))


def test_changing_a_saved_tensor_in_place_raises_naming_the_function():
    x = leaf([1.0, 2.0])
    y = Softplus.apply(x)
    with no_grad():
        x += 1
    with pytest.raises(RuntimeError, match="Softplus"):
        y.sum().backward()

    c = Tensor([2.0, 3.0])  # saved, but not an argument of forward

    class ScaleByC(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(c)
            return x * c

        @staticmethod
        def backward(ctx, g):
            (k,) = ctx.saved_tensors
            return g * k

    y = ScaleByC.apply(leaf([1.0, 1.0]))
    with no_grad():
        c.mul_(2.0)
    with pytest.raises(RuntimeError, match=r"tensor 0 saved by ScaleByC\.forward"):
        y.sum().backward()


def test_second_backward_needs_retain_graph():
    x = leaf([0.5])
    y = Softplus.apply(x)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.sum().backward()


def test_float32_input_gets_a_float32_grad():
    x = leaf([0.5, -0.5], dtype=np.float32)
    Softplus.apply(x).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, sigma(np.array([0.5, -0.5])), rtol=1e-6)


# -- second order ------------------------------------------------------------------------------

def test_backward_with_tensor_ops_is_differentiable_again():
    """d2/dx2 softplus = sigmoid'(x) = s (1 - s); through the saved output for Sigmoid:
    d2/dx2 sigmoid = s (1 - s) (1 - 2 s)."""
    x = np.array([-1.5, 0.2, 2.0])
    s = sigma(x)
    d2 = func.grad(lambda t: func.grad(lambda u: Softplus.apply(u).sum())(t).sum())(x)
    np.testing.assert_allclose(d2.data, s * (1 - s), rtol=1e-12)
    H = func.hessian(lambda t: Sigmoid.apply(t).sum())(x)
    np.testing.assert_allclose(H.data, np.diag(s * (1 - s) * (1 - 2 * s)), rtol=1e-12,
                               atol=1e-15)


def test_gradgradcheck_passes_for_backwards_built_from_inputs_and_output():
    rng = np.random.default_rng(2)
    assert gradgradcheck(Softplus.apply, [leaf(rng.standard_normal(4))])
    assert gradgradcheck(Sigmoid.apply, [leaf(rng.standard_normal(4))])
    x, W, b = leaf(rng.standard_normal((3, 2))), leaf(rng.standard_normal((2, 2))), leaf([0.1, 0.2])
    assert gradgradcheck(Affine.apply, [x, W, b, 0.5])


def test_intermediate_saved_in_forward_passes_gradcheck_but_fails_gradgradcheck():
    x = leaf([-1.0, 0.3, 1.7])
    assert gradcheck(SigmoidFromIntermediate.apply, [x])
    with pytest.raises(AssertionError, match=r"gradgradcheck: gradient of input 0"):
        gradgradcheck(SigmoidFromIntermediate.apply, [x])


def test_wrong_double_backward_fails_gradgradcheck():
    x = leaf([0.5, -1.2, 2.0])
    assert gradcheck(Cube.apply, [x])  # first derivative: 3 x^2, right
    with pytest.raises(AssertionError, match=r"gradgradcheck: gradient of input 0 .*analytic "
                                             r".*numeric"):
        gradgradcheck(Cube.apply, [x])


# -- graph drawing -----------------------------------------------------------------------------

def test_draw_graph_shows_the_function_by_its_class_name():
    x = leaf([0.5, 1.0])
    y = Softplus.apply(x * 2)
    loss = Affine.apply(y.reshape(1, 2), Tensor(np.eye(2)), Tensor([0.0, 1.0]), 3.0).sum()
    loss.backward()
    for show_vjp in (False, True):
        src = draw_graph(loss, show_vjp=show_vjp).source
        assert "Softplus" in src and "Affine" in src


# -- version 3: a wrong gradient shape is reported as backward returned it -----------------------

class _Transposed(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return (g * 2).T  # the bug: (1, 4) for a (4, 1) input


class _Broadcast(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return np.broadcast_to(g * 2, (3,) + g.shape)  # extra axes are summed, as torch


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_transposed_gradient_is_reported_with_the_shape_backward_returned(create_graph):
    torch = pytest.importorskip("torch")
    from autograd_mini.tape import ShapeError

    class TorchTransposed(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2).T

    tx = torch.ones((4, 1), dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"\[1, 4\]"):  # torch names the shape returned too
        TorchTransposed.apply(tx).sum().backward()
    x = Tensor(np.ones((4, 1)), requires_grad=True)
    with pytest.raises(ShapeError, match=r"_Transposed.backward .*returned a gradient of "
                                         r"shape \(1, 4\) for argument 0, of shape \(4, 1\).*transposed"):
        grad(_Transposed.apply(x).sum(), x, create_graph=create_graph)
    with pytest.raises(RuntimeError, match=r"\(1, 4\)"):
        _Transposed.apply(x).sum().backward()


def test_a_gradient_the_input_broadcasts_to_is_summed_as_torch():
    torch = pytest.importorskip("torch")

    class TorchBroadcast(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return (g * 2).expand((3,) + g.shape)

    x0 = np.arange(4.0).reshape(4, 1)
    x = Tensor(x0, requires_grad=True)
    _Broadcast.apply(x).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    TorchBroadcast.apply(tx).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())  # 3 * 2 each
