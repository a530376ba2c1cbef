"""Convolution and pooling (F.conv1d/conv2d, unfold/fold, max/avg/adaptive_avg_pool2d) and their
layers, against direct loops over the output pixels in numpy (slow but obviously right), a
closed-form backward, central differences in float64 and PyTorch's documented semantics."""
import math

import numpy as np
import pytest

import autograd_mini.functional as F
import nn
from autograd_mini import Tensor, grad, no_grad
from autograd_mini import primitives as P
from autograd_mini.tape import ShapeError
from conftest import check_grads, numeric_grad

# -- references: loops over output pixels ------------------------------------------------------


def pairs(v):
    return tuple(v) if isinstance(v, tuple) else (v, v)


def same_padding(kernel, dilation):
    """PyTorch's padding='same': d*(k-1) in total, the extra one at the bottom/right."""
    return [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation)]


def ref_conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (sh, sw), (dh, dw) = pairs(stride), pairs(dilation)
    if padding == "same":
        (pt, pb), (pl, pr) = same_padding((kh, kw), (dh, dw))
    elif padding == "valid":
        pt = pb = pl = pr = 0
    else:
        (pt, pl) = pairs(padding)
        pb, pr = pt, pl
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    oh = (h + pt + pb - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + pl + pr - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, o, oh, ow))
    per_group = o // groups
    for s in range(n):
        for f in range(o):
            g = f // per_group
            for i in range(oh):
                for j in range(ow):
                    window = xp[s, g * cg:(g + 1) * cg,
                                i * sh:i * sh + dh * (kh - 1) + 1:dh,
                                j * sw:j * sw + dw * (kw - 1) + 1:dw]
                    out[s, f, i, j] = np.sum(window * w[f]) + (0 if b is None else b[f])
    return out


def pool_out(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: a last window must start inside the input or left pad."""
    top = n + 2 * p - d * (k - 1) - 1
    out = (top + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool2d(x, k, s=None, p=0, d=1, ceil_mode=False):
    """PyTorch's CPU kernel: scan each window row-major, keep a value if it is > the max so far
    (so the first of tied maxima), padding skipped. Returns values and flat indices h*W + w."""
    k, p, d = pairs(k), pairs(p), pairs(d)
    s = k if s is None else pairs(s)
    n, c, h, w = x.shape
    oh, ow = (pool_out(*a, ceil_mode) for a in zip((h, w), k, s, p, d))
    out, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), np.int64)
    for a in range(n):
        for b in range(c):
            for i in range(oh):
                for j in range(ow):
                    best, at = -np.inf, -1
                    for u in range(k[0]):
                        for v in range(k[1]):
                            r, q = i * s[0] - p[0] + u * d[0], j * s[1] - p[1] + v * d[1]
                            if 0 <= r < h and 0 <= q < w and (x[a, b, r, q] > best or at < 0):
                                best, at = x[a, b, r, q], r * w + q
                    out[a, b, i, j], idx[a, b, i, j] = best, at
    return out, idx


def ref_avg_pool2d(x, k, s=None, p=0, ceil_mode=False, count_include_pad=True,
                   divisor_override=None):
    """PyTorch's CPU kernel: the window clipped to the padded input gives pool_size, clipped to
    the input the summed region; divide by pool_size, the region's size, or the override."""
    k, p = pairs(k), pairs(p)
    s = k if s is None else pairs(s)
    n, c, h, w = x.shape
    oh, ow = (pool_out(*a, 1, ceil_mode) for a in zip((h, w), k, s, p))
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * s[0] - p[0], j * s[1] - p[1]
            h1, w1 = min(h0 + k[0], h + p[0]), min(w0 + k[1], w + p[1])
            pool_size = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, h), min(w1, w)
            total = x[:, :, h0:h1, w0:w1].sum(axis=(2, 3))
            div = (divisor_override or (pool_size if count_include_pad
                                        else (h1 - h0) * (w1 - w0)))
            out[:, :, i, j] = total / div
    return out


def ref_adaptive_avg_pool2d(x, size):
    n, c, h, w = x.shape
    oh, ow = size
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, r1 = math.floor(i * h / oh), math.ceil((i + 1) * h / oh)
            c0, c1 = math.floor(j * w / ow), math.ceil((j + 1) * w / ow)
            out[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return out


def data(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


# -- conv2d forward ----------------------------------------------------------------------------

CONV = [  # id, input shape, weight shape, options, bias
    ("basic", (1, 1, 5, 5), (1, 1, 3, 3), {}, False),
    ("bias-batch3", (3, 2, 6, 5), (4, 2, 3, 3), {}, True),
    ("stride2", (2, 3, 7, 7), (2, 3, 3, 3), dict(stride=2), True),
    ("stride-tuple", (2, 2, 7, 8), (3, 2, 2, 3), dict(stride=(2, 1)), True),
    ("padding1", (1, 2, 5, 5), (3, 2, 3, 3), dict(padding=1), True),
    ("padding-tuple", (2, 2, 4, 6), (2, 2, 3, 2), dict(padding=(2, 1)), False),
    ("same-odd", (2, 2, 5, 6), (3, 2, 3, 3), dict(padding="same"), True),
    ("same-even", (1, 2, 5, 6), (2, 2, 4, 2), dict(padding="same"), True),
    ("same-dilated", (1, 2, 7, 7), (2, 2, 3, 2), dict(padding="same", dilation=(2, 3)), False),
    ("valid", (1, 2, 5, 6), (2, 2, 3, 3), dict(padding="valid"), True),
    ("dilation2", (2, 2, 8, 7), (2, 2, 3, 3), dict(dilation=2), True),
    ("all", (3, 4, 9, 8), (6, 2, 3, 2),
     dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1), groups=2), True),
    ("groups2", (2, 4, 5, 5), (6, 2, 3, 3), dict(groups=2), True),
    ("depthwise", (2, 3, 5, 5), (6, 1, 3, 3), dict(groups=3, padding=1), True),
    ("1x1", (3, 4, 3, 5), (2, 4, 1, 1), {}, True),
    ("kernel=input", (2, 3, 4, 5), (2, 3, 4, 5), {}, True),
    ("non-square-kernel", (1, 3, 6, 9), (2, 3, 1, 4), dict(stride=(1, 2)), False),
    ("stride>kernel", (1, 1, 9, 9), (1, 1, 2, 2), dict(stride=4), False),
]


@pytest.mark.parametrize("xs, ws, opts, bias", [pytest.param(*c[1:], id=c[0]) for c in CONV])
def test_conv2d_matches_loops(xs, ws, opts, bias):
    x, w = data(*xs), data(*ws, seed=1)
    b = data(ws[0], seed=2) if bias else None
    out = F.conv2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), **opts)
    np.testing.assert_allclose(out.data, ref_conv2d(x, w, b, **opts), rtol=1e-12, atol=1e-12)


def test_conv2d_same_keeps_the_size_and_takes_ndarrays():
    x, w = data(2, 3, 7, 6), data(4, 3, 4, 3, seed=1)
    out = F.conv2d(x, w, padding="same")
    assert out.shape == (2, 4, 7, 6)
    np.testing.assert_allclose(out.data, ref_conv2d(x, w, padding="same"), rtol=1e-12)


def test_conv2d_unbatched_input():
    x, w, b = data(2, 5, 5), data(3, 2, 3, 3, seed=1), data(3, seed=2)
    out = F.conv2d(Tensor(x), Tensor(w), Tensor(b), padding=1)
    assert out.shape == (3, 5, 5)
    np.testing.assert_allclose(out.data, ref_conv2d(x[None], w, b, padding=1)[0], rtol=1e-12)


@pytest.mark.parametrize("opts", [{}, dict(stride=2, padding=1), dict(dilation=2, groups=2),
                                  dict(padding="same")], ids=str)
def test_conv1d_is_conv2d_of_height_1(opts):
    x, w, b = data(3, 4, 9), data(2, 4 // opts.get("groups", 1), 3, seed=1), data(2, seed=2)
    out = F.conv1d(Tensor(x), Tensor(w), Tensor(b), **opts)
    pad = opts.get("padding", 0)
    opts2 = {**opts, **({"padding": (0, pad)} if pad != "same" else {}),
             **({"stride": (1, opts["stride"])} if "stride" in opts else {}),
             **({"dilation": (1, opts["dilation"])} if "dilation" in opts else {})}
    ref = ref_conv2d(x[:, :, None], w[:, :, None], b, **opts2)[:, :, 0]
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    assert F.conv1d(Tensor(x[0]), Tensor(w), Tensor(b), **opts).shape == out.shape[1:]


# -- conv2d gradients --------------------------------------------------------------------------

GRAD_CASES = [c for c in CONV if c[0] in ("bias-batch3", "all", "same-even", "depthwise",
                                          "stride>kernel", "dilation2")]


@pytest.mark.parametrize("xs, ws, opts, bias", [pytest.param(*c[1:], id=c[0]) for c in GRAD_CASES])
def test_conv2d_gradients(xs, ws, opts, bias):
    arrays = [data(*xs), data(*ws, seed=1)] + ([data(ws[0], seed=2)] if bias else [])
    check_grads(lambda *t: F.conv2d(*t, **opts), *arrays)


def test_conv1d_gradients():
    check_grads(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
                data(2, 3, 10), data(4, 3, 3, seed=1), data(4, seed=2))


def numpy_conv2d(x, w, b, g):
    """The hand-written numpy convolution: im2col by strided view + one batched matmul forward,
    the closed-form backward (dW = g @ cols.T, dcols = W.T @ g, col2im by kernel offsets), stride
    1 and padding 1. The same BLAS calls as the engine's: the speed baseline, and an independent
    check of the gradients."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2, wd + 2), x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    cols = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    cols = cols.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, h * wd)
    w2 = w.reshape(o, -1)
    out = (w2 @ cols).reshape(n, o, h, wd) + b.reshape(o, 1, 1)
    g2 = g.reshape(n, o, h * wd)
    dw = np.einsum("nol,nkl->ok", g2, cols, optimize=True).reshape(w.shape)
    dcols = (w2.T @ g2).reshape(n, c, kh, kw, h, wd)
    dxp = np.zeros_like(xp)
    for p in range(kh):
        for q in range(kw):
            dxp[:, :, p:p + h, q:q + wd] += dcols[:, :, p, q]
    return out, dxp[:, :, 1:-1, 1:-1], dw, g.sum(axis=(0, 2, 3))


def test_conv2d_backward_matches_the_closed_form():
    x, w, b, g = data(4, 3, 6, 5), data(5, 3, 3, 3, seed=1), data(5, seed=2), data(4, 5, 6, 5)
    ts = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    out = F.conv2d(*ts, padding=1)
    out.backward(g)
    ref = numpy_conv2d(x, w, b, g)
    for got, want in zip([out.data] + [t.grad for t in ts], ref):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# -- second derivatives (grad of grad) ---------------------------------------------------------

def second_derivative_check(fn, arrays, seed=0, eps=1e-5):
    """d/dxs <v, grad_xs <u, fn(xs)>> vs central differences of the engine's first gradient."""
    rng = np.random.default_rng(seed)
    xs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*xs)
    u = rng.standard_normal(out.shape)
    gs = grad(out, xs, grad_outputs=u, create_graph=True)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    total = sum((gi * v).sum() for gi, v in zip(gs, vs))
    hv = grad(total, xs)

    def first(*arrs):
        ts = [Tensor(a, requires_grad=True) for a in arrs]
        return sum(float(np.sum(gi.data * v))
                   for gi, v in zip(grad(fn(*ts), ts, grad_outputs=u), vs))

    for i, h in enumerate(hv):
        np.testing.assert_allclose(h.data, numeric_grad(first, arrays, i, eps=eps), rtol=1e-6,
                                   atol=1e-7, err_msg=f"input {i}")


SECOND = [
    ("conv2d-bias", lambda x, w, b: F.conv2d(x, w, b, padding=1) ** 2, [(2, 2, 4, 4), (3, 2, 3, 3),
                                                                         (3,)]),
    ("conv2d-all", lambda x, w: F.conv2d(x, w, stride=2, padding=(1, 0), dilation=(1, 2),
                                         groups=2).tanh(), [(1, 4, 5, 6), (2, 2, 2, 2)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, padding="same").sin(), [(2, 2, 6), (3, 2, 2)]),
    ("max_pool2d", lambda x: F.max_pool2d(x * x * x, 2, stride=1, padding=1), [(1, 2, 4, 4)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True) ** 3, [(1, 2, 6, 5)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 3)) ** 3, [(1, 2, 5, 5)]),
    ("unfold-fold", lambda x: F.fold(F.unfold(x, 2, padding=1) ** 2, (3, 4), 2, padding=1),
     [(1, 2, 3, 4)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in SECOND])
def test_second_derivatives(fn, shapes):
    second_derivative_check(fn, [data(*s, seed=k) for k, s in enumerate(shapes)])


# -- unfold and fold: im2col and col2im are each other's adjoints ------------------------------

def test_unfold_matches_loops_and_fold_is_its_adjoint():
    x = data(2, 3, 5, 6)
    cols = F.unfold(Tensor(x), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    n, ckk, length = cols.shape
    # unfold = conv2d with one-hot filters: column row (c, p, q) reads channel c at offset (p, q)
    eye = np.eye(3 * 2 * 3).reshape(18, 3, 2, 3)
    ref = ref_conv2d(x, eye, padding=1, stride=(1, 2), dilation=(2, 1)).reshape(n, ckk, length)
    np.testing.assert_allclose(cols.data, ref, rtol=1e-12)
    y = data(*cols.shape, seed=1)  # <unfold(x), y> = <x, fold(y)>
    back = F.fold(Tensor(y), (5, 6), (2, 3), dilation=(2, 1), padding=1, stride=(1, 2))
    assert np.isclose(np.sum(cols.data * y), np.sum(x * back.data))



def _col2im_loops(cols, size, stride, padding, dilation):
    """col2im by its definition, one window element at a time."""
    n, c, kh, kw, oh, ow = cols.shape
    (sh, sw), (dh, dw), ((t, b), (l, r)) = stride, dilation, padding
    out = np.zeros((n, c, size[0] + t + b, size[1] + l + r))
    for p, q, i, j in np.ndindex(kh, kw, oh, ow):
        out[:, :, i * sh + p * dh, j * sw + q * dw] += cols[:, :, p, q, i, j]
    return out[:, :, t:t + size[0], l:l + size[1]]


@pytest.mark.parametrize("cols_shape, size, stride, padding, dilation", [
    ((3, 2, 2, 2, 3, 4), (6, 8), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # windows tile the image
    ((3, 2, 2, 2, 3, 4), (7, 9), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # ... all but a border
    ((2, 3, 3, 3, 4, 4), (4, 4), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # few windows (<= 16)
    ((2, 2, 2, 3, 4, 3), (5, 6), (1, 2), ((1, 0), (1, 1)), (2, 1)),  # few, strided, dilated
    ((2, 2, 3, 3, 5, 6), (5, 6), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # many windows
    ((1, 2, 2, 2, 5, 5), (9, 11), (2, 2), ((1, 0), (0, 0)), (1, 1)),  # many, stride = kernel, pad
], ids=["tiles", "tiles-border", "few", "few-strided", "many", "many-pad"])
def test_col2im_matches_its_definition(cols_shape, size, stride, padding, dilation):
    cols = data(*cols_shape)
    out = P.col2im(cols, size=size, stride=stride, padding=padding, dilation=dilation)
    np.testing.assert_allclose(np.asarray(out), _col2im_loops(cols, size, stride, padding,
                                                              dilation), rtol=1e-13, atol=1e-13)

# -- pooling -----------------------------------------------------------------------------------

MAXPOOL = [  # id, input shape, args, kwargs
    ("2x2", (2, 3, 6, 6), (2,), {}),
    ("3x3-stride1", (1, 2, 5, 6), (3, 1), {}),
    ("padding", (2, 2, 5, 5), (3, 2, 1), {}),
    ("dilation", (1, 2, 7, 7), (2, 1), dict(dilation=2)),
    ("ceil_mode", (1, 2, 5, 5), (2,), dict(ceil_mode=True)),
    ("ceil-mode-padding", (1, 1, 6, 7), (3, 2, 1), dict(ceil_mode=True)),
    ("ceil_mode-no-extra", (1, 1, 6, 6), (2,), dict(ceil_mode=True)),
    ("non-square", (2, 1, 5, 7), ((2, 3), (1, 2), (1, 1)), {}),
]


@pytest.mark.parametrize("xs, args, kw", [pytest.param(*c[1:], id=c[0]) for c in MAXPOOL])
def test_max_pool2d_matches_pytorchs_kernel(xs, args, kw):
    x = data(*xs)
    out, idx = F.max_pool2d(Tensor(x), *args, return_indices=True, **kw)
    ref, ref_idx = ref_max_pool2d(x, *args, d=kw.get("dilation", 1),
                                  ceil_mode=kw.get("ceil_mode", False))
    np.testing.assert_array_equal(out.data, ref)
    np.testing.assert_array_equal(idx.data, ref_idx)
    assert idx.dtype == np.int64 and not idx.requires_grad


@pytest.mark.parametrize("xs, args, kw", [pytest.param(*c[1:], id=c[0]) for c in MAXPOOL])
def test_max_pool2d_gradient_goes_to_the_maximum(xs, args, kw):
    x = data(*xs)
    check_grads(lambda t: F.max_pool2d(t, *args, **kw), x)


def test_max_pool2d_ties_send_the_gradient_to_the_first_maximum():
    # PyTorch: the first maximum of a window in row-major order takes the whole gradient
    x = Tensor(np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [2.0, 2.0, 2.0]]]]),
               requires_grad=True)
    out, idx = F.max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(idx.data, [[[[1, 1], [3, 5]]]])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0, 2, 0], [1, 0, 1], [0, 0, 0]]]])
    z = Tensor(np.zeros((1, 1, 2, 2)), requires_grad=True)  # all tied: the top-left takes it
    F.max_pool2d(z, 2).sum().backward()
    np.testing.assert_array_equal(z.grad, [[[[1, 0], [0, 0]]]])


def test_max_pool2d_ceil_mode_as_pytorch():
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5))
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(F.max_pool2d(x, 2, ceil_mode=True).data,
                                  [[[[6, 8, 9], [16, 18, 19], [21, 23, 24]]]])
    # the last window would start in the right padding: dropped (5 + 1 padding, stride 3)
    assert F.max_pool2d(Tensor(np.ones((1, 1, 5, 5))), 3, 3, 1, ceil_mode=True).shape \
        == (1, 1, 2, 2)


AVGPOOL = [
    ("2x2", (2, 3, 6, 6), (2,), {}),
    ("3x3-stride2-pad1", (1, 2, 7, 6), (3, 2, 1), {}),
    ("exclude-pad", (1, 2, 7, 6), (3, 2, 1), dict(count_include_pad=False)),
    ("ceil_mode", (1, 2, 5, 5), (2,), dict(ceil_mode=True)),
    ("ceil-pad-include", (1, 1, 6, 7), (3, 2, 1), dict(ceil_mode=True)),
    ("ceil-pad-exclude", (1, 1, 6, 7), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("divisor_override", (2, 1, 5, 5), (3, 2, 1), dict(divisor_override=4)),
    ("non-square", (2, 1, 5, 7), ((2, 3), (1, 2), (1, 1)), {}),
]


@pytest.mark.parametrize("xs, args, kw", [pytest.param(*c[1:], id=c[0]) for c in AVGPOOL])
def test_avg_pool2d_matches_pytorchs_kernel(xs, args, kw):
    x = data(*xs)
    out = F.avg_pool2d(Tensor(x), *args, **kw)
    np.testing.assert_allclose(out.data, ref_avg_pool2d(x, *args, **kw), rtol=1e-12)
    check_grads(lambda t: F.avg_pool2d(t, *args, **kw), x)


def test_avg_pool2d_divisors_as_pytorch():
    ones = Tensor(np.ones((1, 1, 3, 3)))
    # padding counted: corners average 4 ones over 9 cells; excluded: over the 4 real ones
    np.testing.assert_allclose(F.avg_pool2d(ones, 3, 2, 1).data, [[[[4 / 9, 4 / 9],
                                                                     [4 / 9, 4 / 9]]]])
    np.testing.assert_array_equal(F.avg_pool2d(ones, 3, 2, 1, count_include_pad=False).data,
                                  np.ones((1, 1, 2, 2)))
    # ceil_mode: the overhanging last window is divided by its part inside the input
    np.testing.assert_array_equal(F.avg_pool2d(ones, 2, ceil_mode=True).data,
                                  np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (5, 5), (3, 2), (4, None), 3, (7, 4)],
                         ids=str)
def test_adaptive_avg_pool2d_matches_loops(size):
    x = data(2, 3, 5, 7)
    out = F.adaptive_avg_pool2d(Tensor(x), size)
    full = size if isinstance(size, tuple) else (size, size)
    full = tuple(n if m is None else m for m, n in zip(full, (5, 7)))
    np.testing.assert_allclose(out.data, ref_adaptive_avg_pool2d(x, full), rtol=1e-12)
    check_grads(lambda t: F.adaptive_avg_pool2d(t, size), x)


def test_pooling_unbatched_input():
    x = data(2, 5, 5)
    assert F.max_pool2d(x, 2).shape == (2, 2, 2)
    assert F.avg_pool2d(x, 2).shape == (2, 2, 2)
    assert F.adaptive_avg_pool2d(x, 1).shape == (2, 1, 1)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).data[:, 0, 0], x.mean(axis=(1, 2)))


# -- float32 -----------------------------------------------------------------------------------

F32 = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 2, 5, 5),
                                                                          (3, 2, 3, 3), (3,)]),
    ("conv2d-groups", lambda x, w: F.conv2d(x, w, padding="same", groups=2),
     [(1, 4, 4, 4), (2, 2, 2, 2)]),
    ("conv1d", lambda x, w: F.conv1d(x, w, dilation=2), [(2, 2, 7), (3, 2, 2)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [(1, 2, 6, 6)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), [(1, 2, 6, 6)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, 3), [(1, 2, 7, 5)]),
    ("unfold-fold", lambda x: F.fold(F.unfold(x, 2), (4, 4), 2), [(1, 2, 4, 4)]),
]


@pytest.mark.parametrize("fn, shapes", [pytest.param(f, s, id=i) for i, f, s in F32])
def test_float32_preserved(fn, shapes):
    ts = [Tensor(data(*s, seed=k).astype(np.float32), requires_grad=True)
          for k, s in enumerate(shapes)]
    out = fn(*ts)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    for t in ts:
        assert t.grad.dtype == np.float32 and np.all(np.isfinite(t.grad))


def test_float32_matches_float64():
    x, w = data(2, 3, 6, 6), data(4, 3, 3, 3, seed=1)
    out32 = F.conv2d(Tensor(x.astype(np.float32)), Tensor(w.astype(np.float32)), padding=1)
    np.testing.assert_allclose(out32.data, ref_conv2d(x, w, padding=1), rtol=1e-4, atol=1e-5)


# -- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, err, words", [
    (lambda: F.conv2d(data(1, 4, 5, 5), data(2, 3, 3, 3)), ShapeError,
     ["3 channels", "got 4 channels"]),
    (lambda: F.conv2d(data(1, 4, 5, 5), data(3, 2, 3, 3), groups=2), ShapeError,
     ["groups=2", "divisible by 2"]),
    (lambda: F.conv2d(data(1, 6, 5, 5), data(4, 2, 3, 3), groups=2), ShapeError,
     ["4 channels", "got 6"]),
    (lambda: F.conv2d(data(1, 1, 2, 5), data(1, 1, 3, 3)), ShapeError, ["kernel", "(2)"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 1, 2, 2), dilation=5), ShapeError, ["dilation"]),
    (lambda: F.conv2d(data(5, 5), data(1, 1, 3, 3)), ShapeError, ["3-D", "4-D", "(5, 5)"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 3, 3)), ShapeError, ["weight must be 4-D"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(2, 1, 3, 3), data(3)), ShapeError, ["bias"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 1, 3, 3), stride=2, padding="same"), ValueError,
     ["strided"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 1, 3, 3), padding="full"), ValueError,
     ["'valid', 'same'"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 1, 3, 3), stride=0), ValueError, ["stride"]),
    (lambda: F.conv2d(data(1, 1, 5, 5), data(1, 1, 3, 3), padding=-1), ValueError, ["padding"]),
    (lambda: F.conv1d(data(1, 2, 5), data(1, 2, 3, 3)), ShapeError, ["3-D"]),
    (lambda: F.max_pool2d(data(1, 1, 5, 5), 3, padding=2), ValueError, ["half"]),
    (lambda: F.avg_pool2d(data(1, 1, 5, 5), 2, padding=2), ValueError, ["half"]),
    (lambda: F.max_pool2d(data(1, 1, 2, 2), 3), ShapeError, ["smaller than the window"]),
    (lambda: nn.Conv2d(4, 6, 3, groups=3), ValueError, ["in_channels", "divisible by groups"]),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, ["divisible by groups"]),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), ValueError, ["padding_mode"]),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding="same"), ValueError, ["strided"]),
], ids=lambda v: "" if callable(v) else None)
def test_errors_are_clear(call, err, words):
    with pytest.raises(err) as info:
        call()
    for word in words:
        assert word in str(info.value)


# -- layers ------------------------------------------------------------------------------------

def test_conv2d_layer_as_torch():
    m = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, rng=0)
    assert m.weight.shape == (6, 2, 3, 2) and m.bias.shape == (6,)
    assert list(m.state_dict()) == ["weight", "bias"]
    assert m.weight.dtype == np.float64
    bound = 1 / math.sqrt(2 * 3 * 2)  # kaiming_uniform_(a=sqrt(5)): 1/sqrt(fan_in), as the bias
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.bias.data).max() <= bound
    assert np.abs(m.weight.data).max() > 0.8 * bound
    assert repr(m) == "Conv2d(4, 6, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), groups=2)"
    x = data(2, 4, 7, 6)
    np.testing.assert_allclose(m(Tensor(x)).data,
                               ref_conv2d(x, m.weight.data, m.bias.data, 2, 1, groups=2),
                               rtol=1e-12)
    m32 = nn.Conv2d(1, 2, 3, bias=False, dtype=np.float32)
    assert m32.bias is None and m32.weight.dtype == np.float32
    assert list(m32.state_dict()) == ["weight"]
    assert "bias=False" in repr(m32)


def test_conv1d_layer_as_torch():
    m = nn.Conv1d(3, 5, 4, padding="same", dilation=2, rng=0)
    assert m.weight.shape == (5, 3, 4) and m.bias.shape == (5,)
    assert repr(m) == "Conv1d(3, 5, kernel_size=(4,), stride=(1,), padding='same', dilation=(2,))"
    assert m(Tensor(data(2, 3, 9))).shape == (2, 5, 9)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_mode(mode):
    m = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode, rng=0)
    x = data(2, 2, 5, 6)
    np_mode = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode=np_mode)
    np.testing.assert_allclose(m(Tensor(x)).data, ref_conv2d(xp, m.weight.data, m.bias.data),
                               rtol=1e-12)
    same = nn.Conv2d(2, 3, 4, padding="same", padding_mode=mode, rng=0)
    assert same(Tensor(x)).shape == (2, 3, 5, 6)


def test_pooling_layers_and_flatten():
    x = Tensor(data(2, 3, 6, 6))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, F.max_pool2d(x, 2).data)
    out, idx = nn.MaxPool2d(3, 2, 1, return_indices=True, ceil_mode=True)(x)
    assert out.shape == idx.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(nn.AvgPool2d(3, 1, 1, count_include_pad=False)(x).data,
                                  F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).data)
    assert nn.AdaptiveAvgPool2d((1, 1))(x).shape == (2, 3, 1, 1)
    assert nn.Flatten()(x).shape == (2, 108)
    assert nn.Flatten(0, 2)(x).shape == (36, 6)
    assert repr(nn.MaxPool2d(2)) == ("MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    assert repr(nn.AvgPool2d(3, 2)) == "AvgPool2d(kernel_size=3, stride=2, padding=0)"
    for m in (nn.MaxPool2d(2), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(2), nn.Flatten()):
        assert list(m.state_dict()) == [] and list(m.parameters()) == []


def test_small_cnn_trains():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 8, 8))
    y = (x[:, 0, :4].sum(axis=(1, 2)) > x[:, 0, 4:].sum(axis=(1, 2))).astype(np.int64)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=0), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 3, padding=1, rng=1), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(16, 2, rng=2))
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(30):
        loss = F.cross_entropy(model(Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]
    assert list(model.state_dict())[:2] == ["0.weight", "0.bias"]
    with no_grad():
        assert model(Tensor(x)).shape == (16, 2)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, padding=1), dict(kernel_size=2, padding=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=(3, 2), padding=(1, 1), dilation=(1, 2))])
def test_max_pool2d_window_of_minus_inf_gives_its_gradient_to_an_input(kw):
    """A window whose inputs are all -inf (the padding is -inf too) sends its gradient to an
    input, as PyTorch's kernel (which never looks at the padding), not into the padding."""
    torch = pytest.importorskip("torch")
    x0 = np.full((1, 2, 5, 6), -np.inf)
    x0[0, 1, 2:, 3:] = np.arange(3.0).reshape(3, 1) - np.arange(3.0)  # some finite windows
    x0[0, 1, 0, 0] = np.nan
    x = Tensor(x0, requires_grad=True)
    out, idx = F.max_pool2d(x, return_indices=True, **kw)
    t = torch.tensor(x0, requires_grad=True)
    ref, ref_idx = torch.nn.functional.max_pool2d(t, return_indices=True, **kw)
    np.testing.assert_array_equal(out.data, ref.detach().numpy())
    finite = ~np.isnan(ref.detach().numpy())  # PyTorch takes the last NaN, we the first
    np.testing.assert_array_equal(idx.data[finite], ref_idx.numpy()[finite])
    g = np.random.default_rng(0).standard_normal(out.shape)
    out.backward(g)
    ref.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad[:, 0], t.grad.numpy()[:, 0], rtol=1e-15)
    assert np.isclose(x.grad.sum(), g.sum())  # every window's gradient reached an input
