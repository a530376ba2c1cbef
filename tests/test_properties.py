"""Property tests: binary ops and matmul over random broadcastable shapes (hypothesis)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from autograd_mini import Tensor
from conftest import check_grads, sample

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,  # base kept positive below
}

fast = settings(max_examples=30, deadline=None)


@fast
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_ops_grad_over_broadcastable_shapes(name, shapes, seed):
    sa, sb = shapes.input_shapes
    a = sample(sa, "pos" if name == "pow" else "any", seed=seed)
    b = sample(sb, seed=seed + 1)
    check_grads(BINARY[name], a, b, seed=seed)


@fast
@given(name=st.sampled_from(sorted(BINARY)),
       shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_binary_forward_and_grad_shapes_follow_numpy(name, shapes, seed):
    sa, sb = shapes.input_shapes
    a, b = sample(sa, "pos", seed=seed), sample(sb, seed=seed + 1)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    out = BINARY[name](ta, tb)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, BINARY[name](a, b))
    out.backward(np.ones(out.shape))
    assert ta.grad.shape == sa and tb.grad.shape == sb


@fast
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3),
       vec=st.sampled_from(["none", "left", "right", "both"]), seed=st.integers(0, 2 ** 16))
def test_matmul_grad_over_broadcast_batches(shapes, n, k, m, vec, seed):
    ba, bb = shapes.input_shapes
    sa = (k,) if vec in ("left", "both") else ba + (n, k)
    sb = (k,) if vec in ("right", "both") else bb + (k, m)
    check_grads(lambda a, b: a @ b, sample(sa, seed=seed), sample(sb, seed=seed + 1), seed=seed)


@fast
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple),
       data=st.data(), keepdims=st.booleans(),
       name=st.sampled_from(["sum", "mean", "amax", "logsumexp"]))
def test_reductions_over_random_axes(shape, data, keepdims, name):
    nd = len(shape)
    axis = data.draw(st.one_of(
        st.none(), st.integers(-nd, nd - 1),
        st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    check_grads(lambda x: getattr(x, name)(axis=axis, keepdims=keepdims),
                sample(shape, seed=sum(shape)))
