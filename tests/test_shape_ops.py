"""Shape ops (compositions/shape.py and the `cat` primitive): values against numpy's own
functions, gradients against central differences (float64), second derivatives, float32 kept,
and PyTorch's semantics where they are not obvious. One line per op in each table.
"""
import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, grad
from autograd_mini.compositions import AxisError
from autograd_mini.tape import ShapeError
from conftest import check_grads, sample
from test_higher_order import check_second_order, cube

I = np.array([[2, 0, 1, 2], [1, 1, 0, 0], [0, 2, 2, 1]])  # gather/scatter index, dim 0 of (3, 4)
J = np.array([[3, 0], [1, 1], [0, 3]])                    # index (3, 2) into dim 1 (size 4)
JU = np.array([[3, 0], [1, 2], [0, 3]])                   # J without repeats in a row
MASK = np.array([[True, False, True, True], [False, False, True, False],
                 [True, True, False, True]])


def put_along(x, dim, index, src):
    """numpy's scatter: out[..., index[i], ...] = src[i] (no repeats in index)."""
    out = x.copy()
    np.put_along_axis(out, index, src[tuple(slice(0, n) for n in index.shape)], axis=dim)
    return out


def add_along(x, dim, index, src):
    """numpy's scatter_add: out[..., index[i], ...] += src[i], repeats accumulating."""
    out = x.copy()
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    np.add.at(out, tuple(grid), src[tuple(slice(0, n) for n in index.shape)])
    return out


# -- values against numpy ----------------------------------------------------------------------
# (id, ours on Tensors, numpy's on arrays, input shapes); the inputs are the same data

VALUES = [
    ("view", lambda x: x.view(4, -1), lambda x: x.reshape(4, -1), [(2, 3, 4)]),
    ("view-tuple", lambda x: F.view(x, (6, 4)), lambda x: x.reshape(6, 4), [(2, 3, 4)]),
    ("view_as", lambda x: x.view_as(Tensor(np.zeros((3, 8)))), lambda x: x.reshape(3, 8),
     [(2, 3, 4)]),
    ("reshape_as", lambda x: x.reshape_as(np.zeros((4, 6))), lambda x: x.reshape(4, 6),
     [(2, 3, 4)]),
    ("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), [(2, 3, 4)]),
    ("flatten-1", lambda x: x.flatten(1), lambda x: x.reshape(2, 12), [(2, 3, 4)]),
    ("flatten-0,-2", lambda x: F.flatten(x, 0, -2), lambda x: x.reshape(6, 4), [(2, 3, 4)]),
    ("flatten-0d", lambda x: x.flatten(), lambda x: x.reshape(1), [()]),
    ("unflatten", lambda x: x.unflatten(1, (2, -1)), lambda x: x.reshape(2, 2, 6), [(2, 12)]),
    ("unflatten-neg", lambda x: F.unflatten(x, -1, (3, 4)), lambda x: x.reshape(2, 3, 4),
     [(2, 12)]),
    ("squeeze", lambda x: x.squeeze(), np.squeeze, [(1, 3, 1, 2)]),
    ("squeeze-dim", lambda x: x.squeeze(-2), lambda x: np.squeeze(x, -2), [(1, 3, 1, 2)]),
    ("squeeze-non1-noop", lambda x: x.squeeze(1), lambda x: x, [(1, 3, 1, 2)]),
    ("squeeze-tuple", lambda x: x.squeeze((0, 1, 2)), lambda x: x.reshape(3, 2), [(1, 3, 1, 2)]),
    ("squeeze-axis", lambda x: F.squeeze(x, axis=0), lambda x: x[0], [(1, 3)]),
    ("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    ("expand-minus1", lambda x: x.expand(2, -1, 4), lambda x: np.broadcast_to(x, (2, 3, 4)),
     [(3, 1)]),
    ("expand-tuple", lambda x: F.expand(x, (2, 3)), lambda x: np.broadcast_to(x, (2, 3)), [(3,)]),
    ("expand-shape=", lambda x: F.expand(x, shape=(2, 3)), lambda x: np.broadcast_to(x, (2, 3)),
     [(3,)]),
    ("expand_as", lambda x: x.expand_as(np.zeros((2, 3))), lambda x: np.broadcast_to(x, (2, 3)),
     [(3,)]),
    ("repeat", lambda x: x.repeat(2, 3), lambda x: np.tile(x, (2, 3)), [(2, 3)]),
    ("repeat-new-dims", lambda x: x.repeat(2, 1, 3), lambda x: np.tile(x, (2, 1, 3)), [(3,)]),
    ("tile-fewer", lambda x: F.tile(x, (2,)), lambda x: np.tile(x, 2), [(2, 3)]),
    ("flip", lambda x: x.flip(0, 2), lambda x: np.flip(x, (0, 2)), [(2, 3, 4)]),
    ("flip-list", lambda x: F.flip(x, [-1]), lambda x: x[..., ::-1], [(2, 3, 4)]),
    ("roll", lambda x: x.roll(1, 0), lambda x: np.roll(x, 1, 0), [(3, 4)]),
    ("roll-neg", lambda x: x.roll(-5, -1), lambda x: np.roll(x, -5, -1), [(3, 4)]),
    ("roll-2dims", lambda x: F.roll(x, (1, 2), (0, 1)), lambda x: np.roll(x, (1, 2), (0, 1)),
     [(3, 4)]),
    ("roll-flat", lambda x: x.roll(3), lambda x: np.roll(x, 3), [(3, 4)]),
    ("tril", lambda x: x.tril(), np.tril, [(3, 4)]),
    ("tril-k", lambda x: F.tril(x, -1), lambda x: np.tril(x, -1), [(2, 3, 4)]),
    ("triu", lambda x: x.triu(), np.triu, [(4, 3)]),
    ("triu-k", lambda x: F.triu(x, diagonal=2), lambda x: np.triu(x, 2), [(2, 4, 4)]),
    ("cat", lambda a, b: F.cat([a, b]), lambda a, b: np.concatenate([a, b]), [(2, 3), (4, 3)]),
    ("cat-dim", lambda a, b, c: F.cat((a, b, c), dim=-1),
     lambda a, b, c: np.concatenate([a, b, c], -1), [(2, 1), (2, 3), (2, 2)]),
    ("cat-5", lambda *t: F.cat(t, 1), lambda *t: np.concatenate(t, 1), [(2, 1, 3)] * 5),
    ("concatenate", lambda a, b: F.concatenate([a, b], axis=1),
     lambda a, b: np.concatenate([a, b], 1), [(2, 3), (2, 1)]),
    ("concat", lambda a, b: F.concat([a, b], 0), lambda a, b: np.concatenate([a, b]),
     [(2,), (3,)]),
    ("stack", lambda a, b: F.stack([a, b]), lambda a, b: np.stack([a, b]), [(2, 3), (2, 3)]),
    ("stack-last", lambda a, b, c: F.stack([a, b, c], dim=-1),
     lambda a, b, c: np.stack([a, b, c], -1), [(2, 3)] * 3),
    ("split", lambda x: F.stack(x.split(2, 1), 0), lambda x: np.stack(np.split(x, 2, 1)),
     [(3, 4)]),
    ("split-sizes", lambda x: x.split([1, 3], -1)[1], lambda x: x[:, 1:], [(3, 4)]),
    ("split-uneven", lambda x: x.split(2)[-1], lambda x: x[4:], [(5, 2)]),
    ("chunk", lambda x: F.stack(x.chunk(3), 0), lambda x: np.stack(np.split(x, 3)), [(6, 2)]),
    ("chunk-uneven", lambda x: x.chunk(3, -1)[2], lambda x: x[:, 6:], [(2, 7)]),
    ("gather", lambda x: x.gather(0, I), lambda x: np.take_along_axis(x, I, 0), [(3, 4)]),
    ("gather-dim1", lambda x: F.gather(x, -1, J), lambda x: np.take_along_axis(x, J, 1),
     [(3, 4)]),
    ("gather-smaller", lambda x: x.gather(1, J), lambda x: np.take_along_axis(x[:3], J, 1),
     [(5, 4)]),
    ("index_select", lambda x: x.index_select(1, np.array([3, 0, 3])),
     lambda x: np.take(x, [3, 0, 3], 1), [(3, 4)]),
    ("index_select-tensor", lambda x: F.index_select(x, 0, Tensor(np.array([1]))),
     lambda x: x[[1]], [(3, 4)]),
    ("diag-1d", lambda x: x.diag(), np.diag, [(3,)]),
    ("diag-1d-k", lambda x: F.diag(x, 2), lambda x: np.diag(x, 2), [(3,)]),
    ("diag-1d-negk", lambda x: F.diag(x, diagonal=-1), lambda x: np.diag(x, -1), [(3,)]),
    ("diag-2d", lambda x: x.diag(), np.diag, [(3, 4)]),
    ("diag-2d-k", lambda x: x.diag(-1), lambda x: np.diag(x, -1), [(3, 4)]),
    ("diagonal", lambda x: x.diagonal(), np.diagonal, [(3, 4)]),
    ("diagonal-3d", lambda x: F.diagonal(x, 1, 0, 2), lambda x: np.diagonal(x, 1, 0, 2),
     [(3, 2, 4)]),
    ("diagonal-neg-dims", lambda x: x.diagonal(offset=-1, dim1=-1, dim2=-2),
     lambda x: np.diagonal(x, -1, -1, -2), [(2, 3, 4)]),
    ("pad", lambda x: F.pad(x, (1, 2)), lambda x: np.pad(x, ((0, 0), (1, 2))), [(2, 3)]),
    ("pad-2dims-value", lambda x: F.pad(x, (0, 1, 2, 0), value=-3.0),
     lambda x: np.pad(x, ((0, 0), (2, 0), (0, 1)), constant_values=-3.0), [(2, 3, 4)]),
    ("pad-negative-crops", lambda x: F.pad(x, (-1, 2)),
     lambda x: np.pad(x[:, 1:], ((0, 0), (0, 2))), [(2, 3)]),
    ("pad-reflect", lambda x: F.pad(x, (2, 1, 1, 1), mode="reflect"),
     lambda x: np.pad(x, ((0, 0), (1, 1), (2, 1)), mode="reflect"), [(2, 3, 4)]),
    ("pad-replicate", lambda x: F.pad(x, (3, 1), mode="replicate"),
     lambda x: np.pad(x, ((0, 0), (3, 1)), mode="edge"), [(2, 3)]),
    ("pad-circular", lambda x: F.pad(x, (2, 1), mode="circular"),
     lambda x: np.pad(x, ((0, 0), (2, 1)), mode="wrap"), [(2, 3)]),
    ("einsum-bmm", lambda a, b: F.einsum("bij,bjk->bik", a, b),
     lambda a, b: np.einsum("bij,bjk->bik", a, b), [(2, 3, 4), (2, 4, 5)]),
    ("einsum-attention", lambda q, k: F.einsum("bhqd,bhkd->bhqk", q, k),
     lambda q, k: np.einsum("bhqd,bhkd->bhqk", q, k), [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("einsum-bilinear", lambda x, A, y: F.einsum("i,ij,j->", x, A, y),
     lambda x, A, y: np.einsum("i,ij,j->", x, A, y), [(3,), (3, 4), (4,)]),
    ("einsum-nn.Bilinear", lambda x, W, y: F.einsum("bi,oij,bj->bo", x, W, y),
     lambda x, W, y: np.einsum("bi,oij,bj->bo", x, W, y), [(2, 3), (5, 3, 4), (2, 4)]),
    ("einsum-implicit", lambda a, b: F.einsum("ij,jk", a, b), lambda a, b: a @ b,
     [(3, 4), (4, 2)]),
    ("einsum-outer", lambda a, b: F.einsum("i,j->ij", a, b), np.outer, [(3,), (4,)]),
    ("einsum-transpose", lambda a: F.einsum("ijk->kij", a),
     lambda a: np.einsum("ijk->kij", a), [(2, 3, 4)]),
    ("einsum-trace", lambda a: F.einsum("ii", a), np.trace, [(3, 3)]),
    ("einsum-diag", lambda a: F.einsum("bii->bi", a), lambda a: np.einsum("bii->bi", a),
     [(2, 3, 3)]),
    ("einsum-sum-one-side", lambda a, b: F.einsum("ij,jk->k", a, b),
     lambda a, b: np.einsum("ij,jk->k", a, b), [(3, 4), (4, 2)]),
    ("einsum-ellipsis", lambda a, b: F.einsum("...ij,...jk->...ik", a, b),
     lambda a, b: np.einsum("...ij,...jk->...ik", a, b), [(2, 3, 4), (4, 5)]),
    ("einsum-list", lambda a, b: F.einsum("i j , j k -> i k", [a, b]), lambda a, b: a @ b,
     [(3, 4), (4, 2)]),
    ("einsum-broadcast-1", lambda a, b: F.einsum("bij,bj->bi", a, b),
     lambda a, b: np.einsum("bij,bj->bi", np.broadcast_to(a, (3, 2, 4)), b),
     [(1, 2, 4), (3, 4)]),
    ("scatter", lambda x, s: x.scatter(1, JU, s), lambda x, s: put_along(x, 1, JU, s),
     [(3, 4), (3, 2)]),
    ("scatter-big-src", lambda x, s: F.scatter(x, 1, JU, s),
     lambda x, s: put_along(x, 1, JU, s), [(3, 4), (4, 3)]),
    ("scatter-value", lambda x: x.scatter(1, JU, 7.0),
     lambda x: put_along(x, 1, JU, np.full((3, 2), 7.0)), [(3, 4)]),
    ("scatter_add", lambda x, s: x.scatter_add(0, I, s), lambda x, s: add_along(x, 0, I, s),
     [(3, 4), (3, 4)]),
    ("scatter_add-repeats", lambda x, s: F.scatter_add(x, 1, J, s),
     lambda x, s: add_along(x, 1, J, s), [(3, 4), (3, 3)]),
    ("masked_select", lambda x: x.masked_select(MASK), lambda x: x[MASK], [(3, 4)]),
    ("masked_select-bcast", lambda x: F.masked_select(x, MASK), lambda x: np.tile(x, (3, 1))[MASK],
     [(4,)]),
    ("clone", lambda x: x.clone(), np.copy, [(2, 3)]),
]


@pytest.mark.parametrize("fn, ref, shapes", [pytest.param(f, r, s, id=i) for i, f, r, s in VALUES])
def test_value_matches_numpy(fn, ref, shapes):
    arrays = [sample(s, seed=i) for i, s in enumerate(shapes)]
    out = fn(*[Tensor(a) for a in arrays])
    expected = ref(*arrays)
    assert isinstance(out, Tensor) and out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)


# -- gradients against central differences -----------------------------------------------------
# every op of the table above, with broadcasting and negative dims; the last op is often `cube`
# or a product, so that a wrong but linear VJP cannot pass by symmetry

def case(id, fn, *shapes):
    return pytest.param(fn, shapes, id=id)


GRADS = [case(i, f, *s) for i, f, _, s in VALUES] + [
    case("view-then-mul", lambda x, y: x.view(3, 2) * y, (6,), (2,)),
    case("squeeze-then-bcast", lambda x, y: x.squeeze(0) * y, (1, 3), (2, 1)),
    case("expand-used-twice", lambda x: x.expand(3, 2) * x.expand(3, -1), (2,)),
    case("repeat-of-expand", lambda x: x.expand(2, 3).repeat(2, 1, 2), (3,)),
    case("flip-roll", lambda x: x.flip(-1).roll(1, -2) * x, (3, 4)),
    case("cat-same-tensor", lambda x: F.cat([x, x * x, x], -1), (2, 3)),
    case("cat-constant", lambda x: F.cat([np.ones((1, 3)), x], 0) * 2, (2, 3)),
    case("stack-bcast-after", lambda a, b: F.stack([a, b], 1) * a.unsqueeze(1), (2, 3), (2, 3)),
    case("split-all-used", lambda x: x.split([1, 2], 0)[1] * x.split([1, 2], 0)[0], (3, 4)),
    case("gather-repeats-accumulate", lambda x: cube(x.gather(0, I)), (3, 4)),
    case("index_select-repeats", lambda x: cube(x.index_select(-1, np.array([0, 0, 2]))), (3, 4)),
    case("diagonal-offset-past-edge", lambda x: x.diagonal(5), (3, 4)),
    case("pad-reflect-cube", lambda x: cube(F.pad(x, (2, 2), mode="reflect")), (2, 3)),
    case("pad-replicate-cube", lambda x: cube(F.pad(x, (0, 2, 1, 0), mode="replicate")),
         (2, 3, 2)),
    case("einsum-same-operand", lambda a: F.einsum("ij,ij->", a, a), (3, 4)),
    case("scatter-into-expanded", lambda x, s: x.expand(3, 4).scatter(1, JU, s), (4,), (3, 2)),
    case("scatter_add-src-only", lambda s: F.scatter_add(np.zeros((3, 4)), 1, J, s), (3, 2)),
    case("masked_select-cube", lambda x: cube(x.masked_select(MASK)), (3, 4)),
]


@pytest.mark.parametrize("fn, shapes", GRADS)
def test_grad_matches_central_differences(fn, shapes):
    check_grads(fn, *[sample(s, seed=i) for i, s in enumerate(shapes)])


# -- second derivatives: grad(..., create_graph=True) against central differences of the first --

def case2(id, fn, *shapes):
    return pytest.param(fn, shapes, ("any",) * len(shapes), id=id)


SECOND = [
    case2("view", lambda x: cube(x.view(3, 2)), (2, 3)),
    case2("flatten-unflatten", lambda x: cube(x.flatten().unflatten(0, (3, 2))), (2, 3)),
    case2("squeeze", lambda x: cube(x.squeeze()), (1, 3, 1)),
    case2("expand", lambda x: cube(x.expand(2, -1, 4)), (3, 1)),
    case2("repeat", lambda x: cube(x.repeat(2, 2)), (2, 3)),
    case2("flip", lambda x: cube(x.flip(0)) * x, (3, 2)),
    case2("roll", lambda x: cube(x.roll(1, -1)) * x, (2, 3)),
    case2("tril", lambda x: cube(x.tril(-1)), (3, 3)),
    case2("triu", lambda x: cube(x.triu(1)), (2, 3, 3)),
    case2("cat", lambda a, b, c: cube(F.cat([a, b, c], -1)), (2, 1), (2, 3), (2, 2)),
    case2("stack", lambda a, b: cube(F.stack([a, b], 1)), (2, 3), (2, 3)),
    case2("split", lambda x: cube(x.split(1, 1)[0]) * x.split(1, 1)[1], (3, 2)),
    case2("chunk", lambda x: cube(x.chunk(2)[1]), (4, 2)),
    case2("gather", lambda x: cube(x.gather(1, J)), (3, 4)),
    case2("index_select", lambda x: cube(x.index_select(0, np.array([2, 2, 0]))), (3, 2)),
    case2("diag", lambda x: cube(x.diag(1)), (3,)),
    case2("diagonal", lambda x: cube(x.diagonal(0, -2, -1)), (2, 3, 3)),
    case2("pad-constant", lambda x: (F.pad(x, (1, 1), value=0.5) ** 2).exp(), (2, 3)),
    case2("pad-reflect", lambda x: cube(F.pad(x, (2, 1), mode="reflect")), (2, 4)),
    case2("einsum", lambda a, b: F.einsum("bij,bjk->bik", a, b).tanh(), (2, 3, 4), (2, 4, 2)),
    case2("einsum-3", lambda x, A, y: F.einsum("i,ij,j->", x, A, y), (3,), (3, 4), (4,)),
    case2("einsum-attention", lambda q, k: F.einsum("bhqd,bhkd->bhqk", q, k).softmax(-1),
          (1, 2, 3, 4), (1, 2, 2, 4)),
    case2("scatter", lambda x, s: cube(x.scatter(1, JU, s)), (3, 4), (3, 2)),
    case2("scatter_add", lambda x, s: cube(x.scatter_add(1, J, s)), (3, 4), (3, 2)),
    case2("masked_select", lambda x: cube(x.masked_select(MASK)), (3, 4)),
    case2("clone", lambda x: cube(x.clone()), (3,)),
]


@pytest.mark.parametrize("fn, shapes, domains", SECOND)
def test_second_derivative(fn, shapes, domains):
    check_second_order(fn, shapes, domains)


# -- float32 in, float32 out and float32 gradients ---------------------------------------------

F32 = [
    ("view", lambda x: x.view(-1), [(2, 3)]),
    ("flatten", lambda x: x.flatten(), [(2, 3)]),
    ("squeeze", lambda x: x.squeeze(), [(1, 3)]),
    ("expand", lambda x: x.expand(2, 3), [(3,)]),
    ("repeat", lambda x: x.repeat(2, 1), [(3,)]),
    ("flip", lambda x: x.flip(0), [(3,)]),
    ("roll", lambda x: x.roll(1), [(3,)]),
    ("tril", lambda x: x.tril(), [(3, 3)]),
    ("cat", lambda a, b: F.cat([a, b]), [(2,), (3,)]),
    ("cat-with-constant", lambda a: F.cat([a, np.zeros(2, np.float32)]), [(2,)]),
    ("stack", lambda a, b: F.stack([a, b]), [(2,), (2,)]),
    ("gather", lambda x: x.gather(1, J), [(3, 4)]),
    ("index_select", lambda x: x.index_select(0, np.array([1, 1])), [(3,)]),
    ("diag", lambda x: x.diag(), [(3,)]),
    ("diagonal", lambda x: x.diagonal(), [(3, 3)]),
    ("pad", lambda x: F.pad(x, (1, 1), value=2.5), [(3,)]),
    ("pad-reflect", lambda x: F.pad(x, (1, 1), mode="reflect"), [(3,)]),
    ("einsum", lambda a, b: F.einsum("ij,jk->ik", a, b), [(2, 3), (3, 2)]),
    ("scatter", lambda x, s: x.scatter(1, JU, s), [(3, 4), (3, 2)]),
    ("scatter_add", lambda x, s: x.scatter_add(1, J, s), [(3, 4), (3, 2)]),
    ("masked_select", lambda x: x.masked_select(MASK), [(3, 4)]),
    ("clone", lambda x: x.clone(), [(3,)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in F32])
def test_float32_preserved(fn, shapes):
    rng = np.random.default_rng(0)
    ts = [Tensor(rng.uniform(0.5, 2.0, s).astype(np.float32), requires_grad=True) for s in shapes]
    out = fn(*ts)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for t in ts:
        assert t.grad.dtype == np.float32 and t.grad.shape == t.shape


# -- PyTorch's semantics, written out ----------------------------------------------------------

def test_squeeze_of_a_dim_that_is_not_1_is_a_no_op():
    x = Tensor(np.zeros((2, 1, 3)))
    assert x.squeeze(0).shape == (2, 1, 3)            # torch: no error, nothing squeezed
    assert x.squeeze((0, 1)).shape == (2, 3)          # a tuple squeezes the size-1 ones among them
    assert Tensor(np.zeros((1, 1))).squeeze().shape == ()
    assert Tensor(5.0).squeeze(0).shape == ()         # dim 0 (or -1) of a 0-d tensor is allowed


def test_expand_minus_1_keeps_a_size_and_only_size_1_dims_expand():
    x = Tensor(np.zeros((3, 1)))
    assert x.expand(-1, 4).shape == (3, 4)
    assert x.expand(2, 3, 4).shape == (2, 3, 4)
    with pytest.raises(ShapeError, match=r"expand.*\(3, 1\).*dim 0"):
        x.expand(4, 4)                                # 3 is not 1: no broadcasting
    with pytest.raises(ShapeError, match="-1"):
        x.expand(-1, 3, 4)                            # a new leading dim cannot be -1
    with pytest.raises(ShapeError, match="at least"):
        x.expand(4)                                   # fewer sizes than dims


def test_repeat_is_numpy_tile_not_numpy_repeat():
    x = Tensor(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.repeat(2).data, [1, 2, 1, 2])   # not [1, 1, 2, 2]
    with pytest.raises(ShapeError, match="repeat.*fewer"):
        Tensor(np.zeros((2, 3))).repeat(2)            # torch needs one size per dim at least
    assert F.tile(Tensor(np.zeros((2, 3))), (2,)).shape == (2, 6)  # torch.tile pads with 1s


def test_roll_without_dims_rolls_the_flattened_tensor():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Tensor(x).roll(1).data, [[5, 0, 1], [2, 3, 4]])
    with pytest.raises(ValueError, match="roll.*shifts.*dims"):
        Tensor(x).roll((1, 2), 0)


def test_chunk_may_return_fewer_chunks_and_split_keeps_a_short_last_one():
    x = Tensor(np.arange(6.0))
    assert [c.shape for c in x.chunk(4)] == [(2,), (2,), (2,)]     # ceil(6/4) = 2: three chunks
    assert [c.shape for c in F.chunk(Tensor(np.arange(13.0)), 6)] == [(3,)] * 4 + [(1,)]
    assert [c.shape for c in x.split(4)] == [(4,), (2,)]
    assert isinstance(x.split(4), tuple)
    with pytest.raises(ShapeError, match=r"split.*sum to 6.*\[2, 3\]"):
        x.split([2, 3])


def test_cat_and_stack_errors_name_the_shapes():
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros((2, 4)))
    assert F.cat([a, b], 1).shape == (2, 7)
    with pytest.raises(ShapeError, match=r"cat.*\(2, 3\).*\(2, 4\).*dim 0"):
        F.cat([a, b])
    with pytest.raises(ShapeError, match=r"stack.*same shape.*\(2, 3\).*\(2, 4\)"):
        F.stack([a, b])
    with pytest.raises(ShapeError, match="zero-dimensional"):
        F.cat([Tensor(1.0), Tensor(2.0)])
    with pytest.raises(ValueError, match="at least one"):
        F.cat([])
    with pytest.raises(TypeError, match="sequence"):
        F.cat(a)                                      # torch: a tuple or list of tensors
    with pytest.raises(AxisError, match="cat"):
        F.cat([a, a], 2)
    with pytest.raises(TypeError, match="dim= and axis="):
        F.cat([a, a], 1, axis=0)


def test_cat_of_many_records_a_balanced_tree_of_binary_cats():
    # the primitive is binary (the op table has a fixed number of inputs per op); k tensors
    # cost log2(k) copies, not k
    ts = [Tensor(np.full((1, 2), float(i)), requires_grad=True) for i in range(8)]
    out = F.cat(ts)
    assert out.grad_fn.name == "cat"
    depth, node = 0, out.grad_fn
    while node is not None and node.name == "cat":
        depth, node = depth + 1, node.inputs[0].grad_fn
    assert depth == 3
    out.backward(np.arange(16.0).reshape(8, 2))
    for i, t in enumerate(ts):
        np.testing.assert_array_equal(t.grad, [[2 * i, 2 * i + 1]])


def test_gather_scatter_index_checks_as_pytorch():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match=r"gather.*index 4.*dim 1.*size 4"):
        x.gather(1, np.array([[4]]))
    with pytest.raises(IndexError, match="gather.*-1"):
        x.gather(1, np.array([[-1]]))                 # torch refuses negative indices here
    with pytest.raises(ShapeError, match=r"gather.*same number of dimensions"):
        x.gather(1, np.array([1]))
    with pytest.raises(ShapeError, match=r"gather.*index.*\(4, 1\).*\(3, 4\).*dim 0"):
        x.gather(1, np.zeros((4, 1), int))
    with pytest.raises(TypeError, match="gather.*integer"):
        x.gather(1, np.array([[1.0]]))
    with pytest.raises(ShapeError, match=r"scatter_add.*src.*\(1, 1\)"):
        x.scatter_add(1, np.zeros((1, 2), int), Tensor(np.zeros((1, 1))))
    with pytest.raises(IndexError, match="index_select.*5"):
        x.index_select(0, np.array([5]))
    with pytest.raises(ShapeError, match="index_select.*1-D"):
        x.index_select(0, np.array([[1]]))


def test_scatter_with_repeated_indices_keeps_the_last_write():
    # torch leaves the result undefined; here numpy's rule (the last write wins), and the
    # gradient is that function's: only the written src element gets g
    x = Tensor(np.zeros(3), requires_grad=True)
    src = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = x.scatter(0, np.array([1, 1, 0]), src)
    np.testing.assert_array_equal(out.data, [3, 2, 0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(src.grad, [0, 20, 10])
    np.testing.assert_array_equal(x.grad, [0, 0, 30])


def test_scatter_add_accumulates_repeats_and_gather_is_its_adjoint():
    x = Tensor(np.zeros(3))
    src = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    out = F.scatter_add(x, 0, np.array([1, 1, 0]), src)
    np.testing.assert_array_equal(out.data, [3, 3, 0])
    out.backward(np.array([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(src.grad, [20, 20, 10])


def test_diag_and_diagonal():
    v = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    np.testing.assert_array_equal(F.diag(v, 1).data, [[0, 1, 0], [0, 0, 2], [0, 0, 0]])
    assert Tensor(np.zeros((2, 3, 4))).diagonal(0, 0, 2).shape == (3, 2)   # diag axis last
    assert Tensor(np.zeros((3, 4))).diagonal(9).shape == (0,)
    with pytest.raises(ShapeError, match="diag.*1-D or 2-D"):
        F.diag(Tensor(np.zeros((2, 2, 2))))
    with pytest.raises(RuntimeError, match="diagonal.*identical"):  # torch's class
        Tensor(np.zeros((3, 3))).diagonal(0, 1, -1)
    with pytest.raises(ShapeError, match="tril.*at least 2"):
        Tensor(np.zeros(3)).tril()


def test_flatten_unflatten_view_errors():
    x = Tensor(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="flatten.*start_dim.*end_dim"):
        x.flatten(2, 1)
    with pytest.raises(ShapeError, match=r"unflatten.*\(2, 2\).*3"):
        x.unflatten(1, (2, 2))
    with pytest.raises(TypeError, match="view.*dtype"):
        x.view(np.float32)
    with pytest.raises(AxisError, match="flatten"):
        x.flatten(3)


def test_pad_as_pytorch():
    x = Tensor(np.arange(3.0))
    # the pad tuple starts with the LAST dim: (left, right) of dim -1, then dim -2, ...
    assert F.pad(Tensor(np.zeros((2, 3))), (1, 1, 2, 2)).shape == (6, 5)
    np.testing.assert_array_equal(F.pad(x, (2, 0), mode="reflect").data, [2, 1, 0, 1, 2])
    with pytest.raises(ShapeError, match=r"pad.*reflect.*less than.*size 3"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="pad.*even"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="pad.*2 dims.*1-D"):
        F.pad(x, (1, 1, 1, 1))
    with pytest.raises(ValueError, match="pad.*mode.*'wrap'"):
        F.pad(x, (1, 1), mode="wrap")
    with pytest.raises(ValueError, match="pad.*value.*constant"):
        F.pad(x, (1, 1), mode="reflect", value=1.0)


def test_einsum_errors_name_the_equation():
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"einsum\('ij,jk->ik'\).*2 operands.*1"):
        F.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"einsum\('ijk,jk->ik'\).*operand 0.*3 subscripts.*2 dim"):
        F.einsum("ijk,jk->ik", a, b)
    with pytest.raises(ShapeError, match=r"einsum\('ij,kj->ik'\).*'j'.*3.*4"):
        F.einsum("ij,kj->ik", a, b)
    with pytest.raises(ValueError, match=r"einsum\('ij,jk->iz'\).*'z'.*output"):
        F.einsum("ij,jk->iz", a, b)
    with pytest.raises(ValueError, match=r"einsum\('ij,jk->ii'\).*'i'.*more than once"):
        F.einsum("ij,jk->ii", a, b)
    with pytest.raises(ValueError, match=r"einsum\('i1,jk->ik'\).*'1'"):
        F.einsum("i1,jk->ik", a, b)


def test_masked_select_needs_a_bool_mask_and_nonzero_has_no_grad():
    x = Tensor(np.array([[0.0, 1.5], [2.0, 0.0]]), requires_grad=True)
    with pytest.raises(TypeError, match="masked_select.*bool"):
        x.masked_select(np.array([[1, 0], [0, 1]]))
    nz = x.nonzero()
    assert nz.dtype == np.int64 and not nz.requires_grad
    np.testing.assert_array_equal(nz.data, [[0, 1], [1, 0]])
    rows, cols = F.nonzero(x, as_tuple=True)
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(cols.data, [1, 0])


def test_clone_is_a_copy_with_gradient():
    x = Tensor(np.array([1.0, -0.0]), requires_grad=True)
    c = x.clone()
    assert c.data is not x.data and not np.shares_memory(c.data, x.data)
    assert np.signbit(c.data[1])                      # -0.0 stays -0.0
    (c * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, [3, 3])


def test_einsum_gradient_of_a_bilinear_form_is_the_closed_form():
    rng = np.random.default_rng(3)
    x, A, y = rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal(4)
    tx, tA, ty = (Tensor(a, requires_grad=True) for a in (x, A, y))
    gx, gA, gy = grad(F.einsum("i,ij,j->", tx, tA, ty), [tx, tA, ty])
    np.testing.assert_allclose(gx.data, A @ y)
    np.testing.assert_allclose(gA.data, np.outer(x, y))
    np.testing.assert_allclose(gy.data, A.T @ x)


def test_clone_keeps_every_dtype_as_pytorch():
    torch = pytest.importorskip("torch")
    for data in ([True, False], [1, 2], np.array([1, 2], np.int32), np.array([1.0], np.float32)):
        t = torch.tensor(np.asarray(data))
        out = F.clone(Tensor(np.asarray(data)))
        assert str(out.dtype) == str(t.clone().dtype).replace("torch.", "")
        np.testing.assert_array_equal(out.data, t.clone().numpy())


def test_scatter_into_an_int_tensor_keeps_the_int_dtype():
    """A float value written into an int tensor is truncated to the int dtype, as PyTorch."""
    torch = pytest.importorskip("torch")
    x, i = np.zeros(4, np.int64), np.array([1, 3])
    for args, kwargs in (((1.7,), {}), ((), {"value": -2.5})):
        want = torch.tensor(x).scatter(0, torch.tensor(i), *args, **kwargs).numpy()
        got = F.scatter(Tensor(x), 0, i, *args, **kwargs).data
        assert got.dtype == want.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    got = F.scatter(Tensor(x), 0, i, Tensor(np.array([1.5, 2.5])))  # torch raises; we cast
    assert got.dtype == np.int64 and list(got.data) == [0, 1, 0, 2]


@pytest.mark.filterwarnings("ignore:The reduce argument:UserWarning")  # torch's deprecation
@pytest.mark.parametrize("reduce", ["add", "multiply"])
def test_scatter_reduce_as_pytorch(reduce):
    torch = pytest.importorskip("torch")
    x0, src0 = np.arange(1.0, 13.0).reshape(3, 4), np.arange(2.0, 8.0).reshape(3, 2)
    want = torch.tensor(x0).scatter(1, torch.tensor(J), torch.tensor(src0), reduce=reduce)
    x = Tensor(x0, requires_grad=True)
    out = F.scatter(x, 1, J, Tensor(src0), reduce=reduce)
    np.testing.assert_allclose(out.data, want.numpy(), rtol=1e-15)
    wv = torch.tensor(x0).scatter(1, torch.tensor(J), 3.0, reduce=reduce)
    np.testing.assert_allclose(F.scatter(Tensor(x0), 1, J, 3.0, reduce=reduce).data, wv.numpy())
    # PyTorch has no derivative here; ours is the closed form: g, or g * the factors
    out.backward(np.ones((3, 4)))
    np.testing.assert_allclose(x.grad, 1.0 if reduce == "add" else want.numpy() / x0)
    if reduce == "add":
        check_grads(lambda x, s: F.scatter(x, 1, J, s, reduce="add"), x0, src0)
    else:
        with pytest.raises(RuntimeError, match="src"):
            F.scatter(x, 1, J, Tensor(src0, requires_grad=True), reduce="multiply")


def _torch_error(torch_call):
    """The class PyTorch raises for a call (which must raise)."""
    try:
        torch_call()
    except Exception as err:  # noqa: BLE001  (the class is what we want)
        return type(err)
    raise AssertionError("PyTorch accepted the call")


@pytest.mark.parametrize("ours, theirs, match", [
    (lambda x: x.flip(), lambda t: t.flip(), "flip.*dims"),
    (lambda x: F.flip(x), lambda t: t.flip(), "flip.*dims"),
    (lambda x: x.flip(0, 0), lambda t: t.flip(0, 0), "dim 0 appears multiple times"),
    (lambda x: F.flip(x, dims=(0, -2)), lambda t: t.flip(dims=(0, -2)), "multiple times"),
    (lambda x: x.unsqueeze(4), lambda t: t.unsqueeze(4), r"unsqueeze.*\(2, 3\)"),
    (lambda x: x.permute(0, 0), lambda t: t.permute(0, 0), r"permut.*\(2, 3\)"),
    (lambda x: x.permute(1), lambda t: t.permute(1), "permut"),
    (lambda x: x.roll((1, 2), 0), lambda t: t.roll((1, 2), 0), "roll.*same length"),
    (lambda x: x.roll((1, 2)), lambda t: t.roll((1, 2)), "roll.*dims"),
    (lambda x: x.diagonal(0, 1, -1), lambda t: t.diagonal(0, 1, -1), "identical"),
    (lambda x: F.pad(x, (1,)), lambda t: torch_F().pad(t, (1,)), "even"),
    (lambda x: F.pad(x, (1,) * 6), lambda t: torch_F().pad(t, (1,) * 6), "pads 3 dims"),
    (lambda x: F.pad(x[None], (3, 3), mode="reflect"),
     lambda t: torch_F().pad(t[None], (3, 3), mode="reflect"), "reflect.*less than"),
    (lambda x: x.sum(2), lambda t: t.sum(2), "dim 2 is out of range"),
])
def test_argument_errors_are_pytorchs_class(ours, theirs, match):
    """Each error is (a subclass of) the class PyTorch raises, with a message that says why."""
    torch = pytest.importorskip("torch")
    cls = _torch_error(lambda: theirs(torch.zeros(2, 3)))
    with pytest.raises(cls, match=match):
        ours(Tensor(np.zeros((2, 3))))


def torch_F():
    import torch.nn.functional
    return torch.nn.functional


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular", "constant"])
@pytest.mark.parametrize("pad", [(-1, 2), (2, -1), (-2, -1), (-1, 0), (1, -2, -1, 2)])
def test_negative_padding_crops_in_every_mode_as_pytorch(mode, pad):
    torch = pytest.importorskip("torch")
    x0 = np.arange(24.0).reshape(1, 4, 6)
    want = torch_F().pad(torch.tensor(x0), pad, mode=mode).numpy()
    out = check_grads(lambda x: F.pad(x, pad, mode=mode), x0)
    np.testing.assert_array_equal(out.data, want)


def _random_index(rng, shape):
    """A random index of every form PyTorch reads: ints (negative too), slices (positive steps),
    None, one Ellipsis, integer arrays (broadcasting), lists and boolean masks."""
    entries, dim, dots = [], 0, False
    while dim < len(shape) and rng.random() < 0.85:
        n, r = shape[dim], rng.random()
        if r < 0.25:
            entries.append(int(rng.integers(-n, n)))
        elif r < 0.45:
            a, b = sorted(rng.integers(0, n + 1, 2))
            entries.append(slice(int(a), int(b) + 1, int(rng.integers(1, 3))))
        elif r < 0.7:
            shp = [(2,), (3,), (2, 1), (1, 3), ()][rng.integers(0, 5)]
            entries.append(rng.integers(-n, n, shp) if shp else int(rng.integers(0, n)))
        elif r < 0.78:
            entries.append(list(rng.integers(0, n, 2).tolist()))
        elif r < 0.86:
            entries.append(rng.random(n) < 0.6)
        elif r < 0.93:
            entries.append(None)
            continue
        elif not dots:
            dots = True
            entries.append(Ellipsis)
            dim = len(shape) - builtins_sum(rng.integers(0, 2, len(shape) - dim))
            continue
        else:
            entries.append(slice(None))
        dim += 1
    return tuple(entries)


def builtins_sum(a):
    return int(np.sum(a))


def test_advanced_indexing_follows_pytorchs_dimension_order():
    """x[0, :, i] is (3, 2, 5) in PyTorch (numpy: (2, 3, 5)): the ints select first."""
    x = Tensor(np.zeros((2, 3, 4, 5)))
    assert x[0, :, [0, 1]].shape == (3, 2, 5)
    assert x[0, :, np.array([0, 1])].shape == (3, 2, 5)
    assert x[0, :, Tensor(np.array([0, 1]))].shape == (3, 2, 5)
    assert x[:, 0, None, [0, 1]].shape == (2, 1, 2, 5)
    assert x[:, :, [0, 1], ..., [1, 2]].shape == (2, 3, 2)  # an empty Ellipsis separates nothing
    assert x[[0, 1], :, [0, 1]].shape == (2, 3, 5)          # a slice between: the arrays first


def test_indexing_of_many_forms_against_pytorch_values_and_gradients():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    shape = (2, 3, 4, 5)
    x0 = rng.standard_normal(shape)
    checked = 0
    for _ in range(400):
        idx = _random_index(rng, shape)
        tidx = tuple(torch.tensor(i) if isinstance(i, (np.ndarray, list)) else i for i in idx)
        t = torch.tensor(x0, requires_grad=True)
        try:
            want = t[tidx]
        except (IndexError, RuntimeError, ValueError, TypeError):
            continue  # a form PyTorch refuses (shape mismatch of the arrays...)
        x = Tensor(x0, requires_grad=True)
        out = x[tuple(Tensor(i) if isinstance(i, np.ndarray) and rng.random() < 0.5 else i
                      for i in idx)]
        assert out.shape == tuple(want.shape), idx
        np.testing.assert_array_equal(out.data, want.detach().numpy())
        if out.data.size:
            g = rng.standard_normal(out.shape)
            out.backward(g)
            want.backward(torch.tensor(g))
            np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-13, atol=1e-15)
        checked += 1
    assert checked > 250
