"""Shape ops: views, axis permutations, joining and splitting, indexing, padding, einsum.

All are compositions of a handful of primitives (reshape, transpose, expand, getitem and its
adjoint index_put, where, matmul, and cat), so their first and higher derivatives come from
those primitives' VJPs: a flip's gradient is getitem's (flip g back), a gather's is index_put's
(scatter-add g), an einsum's is matmul's. Only `cat` is a primitive of this group (see its
docstring in primitives.py).

Left out: item assignment (`x[idx] = v`): it would make a Tensor mutable behind the tape's
back; write `where(mask, v, x)`, `x.scatter(...)` or `F.pad`/`F.cat` instead. `view(dtype)`
(a reinterpretation of the bytes) is not supported either. Views here are copies or numpy
views as numpy decides; `view` never fails for a non-contiguous tensor, unlike PyTorch's.
"""
import builtins
import functools

import numpy as np

from .. import primitives as P
from ..tape import ShapeError, result
from ..tensor import Tensor
from ._args import ArgumentError, AxisError, _axis, _check_dims, _shape_args, shape_of


def reshape(input, *shape, **kwargs):
    """The same elements in a new shape (one entry may be -1): reshape(x, (2, 3)), x.reshape(2, 3)
    or reshape(x, shape=(2, 3))."""
    if kwargs:
        if shape or set(kwargs) != {"shape"}:
            raise TypeError(f"reshape(): takes the shape once, got {shape} and {kwargs}")
        shape = (kwargs["shape"],)
    return P.reshape(input, shape=_shape_args(shape))


def permute(input, *dims):
    """The axes reordered: out.shape[i] = input.shape[dims[i]]."""
    dims = _shape_args(dims)
    ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
    axes = _check_dims("permute", tuple(dims), ndim)
    if sorted(axes) != list(range(ndim)):
        raise ArgumentError(f"permute(): dims {dims} are not a permutation of the axes of a tensor "
                        f"of shape {np.shape(input._data if isinstance(input, Tensor) else input)}")
    return P.transpose(input, axes=axes)


def transpose(input, dim0, dim1):
    """Swap two axes (PyTorch's meaning; for numpy's permutation use permute)."""
    ndim = np.ndim(input._data if isinstance(input, Tensor) else input)
    if ndim == 0:
        _check_dims("transpose", (dim0, dim1), 0)
        return P.transpose(input, axes=())
    dim0, dim1 = _check_dims("transpose", (dim0, dim1), ndim)
    dims = list(range(ndim))
    dims[dim0], dims[dim1] = dim1, dim0
    return P.transpose(input, axes=tuple(dims))


def swapaxes(input, axis0, axis1):
    """transpose(input, axis0, axis1): the two axes swapped (PyTorch's argument names)."""
    return transpose(input, axis0, axis1)


def unsqueeze(input, dim):
    """A new axis of size 1 at `dim`."""
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    dim = _check_dims("unsqueeze", dim, len(shape) + 1, shape)
    return P.reshape(input, shape=shape[:dim] + (1,) + shape[dim:])


def _entry(i):
    """One entry of an index as numpy takes it: a Tensor's or a list's array, and a 0-d integer
    array as an int (PyTorch selects with it, as with an int)."""
    if isinstance(i, Tensor):
        i = i._data
    elif isinstance(i, list):
        i = np.asarray(i)
    if type(i) is np.ndarray and not i.ndim and i.dtype.kind in "iu":
        return int(i)
    return i


def _is_int(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, bool)


def _consumed(i):
    """How many dims of the input an index entry uses up: a mask its own ndim, None, Ellipsis
    and a Python bool (a new dim) none, the others one."""
    if type(i) is np.ndarray:
        return i.ndim if i.dtype == bool else 1
    return 0 if i is None or i is Ellipsis or isinstance(i, bool) else 1


def torch_index(shape, idx):
    """`idx` as (np_idx, perm): the numpy index and the axes permutation (None if none is needed)
    with which `a[np_idx].transpose(perm)` is PyTorch's `a[idx]`, for an array `a` of `shape`.

    The one difference of the rules: PyTorch applies the integers of an index first (each selects
    and drops its dim), then the index arrays; numpy counts the integers among the index arrays.
    So where an integer separates the index arrays from a slice, numpy puts the indexed dims
    first and PyTorch where the arrays are: for x of shape (2, 3, 4, 5) and i = [0, 1],
    x[0, :, i] is (3, 2, 5) in PyTorch and (2, 3, 5) in numpy. An Ellipsis that stands for no
    dims separates nothing, as in PyTorch. For a write as PyTorch's, `a[np_idx] = v` takes v
    broadcast to PyTorch's shape, then transposed by np.argsort(perm)."""
    if not isinstance(idx, tuple):
        return _entry(idx), None
    idx = [_entry(i) for i in idx]
    if not builtins.any(type(i) is np.ndarray for i in idx):
        return tuple(idx), None
    free = len(shape) - builtins.sum(_consumed(i) for i in idx)  # dims no entry names
    dots = [k for k, i in enumerate(idx) if i is Ellipsis]
    if len(dots) == 1:  # spelled out as slices, so that it separates as PyTorch's
        e = dots[0]
        idx[e:e + 1], free = [slice(None)] * builtins.max(free, 0), 0
    arrays = [k for k, i in enumerate(idx) if type(i) is np.ndarray]
    advanced = [k for k, i in enumerate(idx) if type(i) is np.ndarray or _is_int(i)]
    if advanced[-1] - advanced[0] == len(advanced) - 1:  # one run: numpy's layout is PyTorch's
        return tuple(idx), None
    if builtins.any(not _is_int(idx[k]) for k in range(arrays[0], arrays[-1] + 1)
                    if k not in arrays):  # a slice or None between the arrays: both put them
        return tuple(idx), None           # first
    k = builtins.sum(not _is_int(i) for i in idx[:arrays[0]])  # dims before them in PyTorch's
    if not k:
        return tuple(idx), None
    nb = len(np.broadcast_shapes(*[(int(idx[a].sum()),) if idx[a].dtype == bool else
                                   idx[a].shape for a in arrays]))
    basic = builtins.sum(not _is_int(i) and type(i) is not np.ndarray for i in idx) + free
    return tuple(idx), tuple(range(nb, nb + k)) + tuple(range(nb)) + \
        tuple(range(nb + k, nb + basic))


def getitem(input, idx):
    """input[idx]: basic, integer-array and boolean indexing, as PyTorch (numpy's rules but for
    where an integer separates index arrays: torch_index); the gradient of a repeated index
    accumulates."""
    shape = np.shape(input._data if isinstance(input, Tensor) else input)
    idx, perm = torch_index(shape, idx)
    try:
        out = P.getitem(input, idx=idx)
    except IndexError as err:
        raise AxisError(f"getitem: {err} (tensor shape {shape})") from None
    return out if perm is None else P.transpose(out, axes=perm)


def T(input):
    """All axes reversed."""
    return P.transpose(input, axes=tuple(range(np.ndim(input._data) - 1, -1, -1)))


def mT(input):
    """The last two axes swapped (a matrix, or a batch of them)."""
    return transpose(input, -2, -1)


def _permute(x, order):
    """P.transpose, skipped when `order` leaves the axes where they are."""
    order = tuple(order)
    return x if order == tuple(range(len(order))) else P.transpose(x, axes=order)


def _dim(name, dim, axis):
    """dim (default 0) or numpy's axis=, not both."""
    return _axis(name, None if axis is not None and dim == 0 else dim, axis)


def _narrow(x, dim, start, stop):
    """x[..., start:stop, ...] along `dim`."""
    return P.getitem(x, idx=(slice(None),) * dim + (slice(start, stop),))


# -- views: the same elements in another shape ---------------------------------------------------

def view(input, *shape):
    """reshape; PyTorch's view(dtype), a reinterpretation of the bytes, is not supported."""
    if len(shape) == 1 and isinstance(shape[0], (type, np.dtype, str)):
        raise TypeError(f"view(): view(dtype) is not supported (got {shape[0]!r}): it "
                        f"reinterprets the bytes; use .to(dtype) to convert the values")
    return reshape(input, *shape)


def view_as(input, other):
    """input in other's shape."""
    return P.reshape(input, shape=shape_of(other))


reshape_as = view_as


def flatten(input, start_dim=0, end_dim=-1):
    """Dims start_dim..end_dim (inclusive) merged into one; a 0-d tensor becomes 1-D."""
    shape = shape_of(input)
    start, end = _check_dims("flatten", (start_dim, end_dim), len(shape), shape)
    if not shape:
        return P.reshape(input, shape=(1,))
    if start > end:
        raise ShapeError(f"flatten(): start_dim {start_dim} comes after end_dim {end_dim} for "
                         f"a tensor of shape {shape}")
    return P.reshape(input, shape=shape[:start] + (-1,) + shape[end + 1:])


def unflatten(input, dim, sizes):
    """Dim `dim` split into `sizes` (one of them may be -1), the inverse of flatten."""
    shape = shape_of(input)
    dim, sizes = _check_dims("unflatten", dim, len(shape), shape), tuple(sizes)
    known = int(np.prod([s for s in sizes if s != -1]))
    n = shape[dim]
    if sizes.count(-1) > 1 or (n != known if -1 not in sizes else not known or n % known):
        raise ShapeError(f"unflatten(): sizes {sizes} do not multiply to {n}, the size of dim "
                         f"{dim} of shape {shape}")
    sizes = tuple(n // known if s == -1 else s for s in sizes)
    return P.reshape(input, shape=shape[:dim] + sizes + shape[dim + 1:])


def squeeze(input, dim=None, *, axis=None):
    """Dims of size 1 removed: all of them, or those among `dim` (an int or a tuple). As
    PyTorch, squeezing a dim whose size is not 1 is a no-op, not an error."""
    dim, shape = _axis("squeeze", dim, axis), shape_of(input)
    if dim is not None:
        dims = _check_dims("squeeze", dim, len(shape), shape)
        dims = {dims} if isinstance(dims, int) else set(dims)
    keep = tuple(n for i, n in enumerate(shape) if n != 1 or dim is not None and i not in dims)
    return P.reshape(input, shape=keep)


def expand(input, *sizes, shape=None):
    """input broadcast to `sizes` (as PyTorch: -1 keeps a dim's size, new dims go in front,
    only size-1 dims stretch). d/dx = g summed over the stretched dims. `shape=` also works."""
    if shape is not None:
        if sizes:
            raise TypeError(f"expand(): got sizes {sizes} and shape={shape}; pass one of them")
        sizes = tuple(shape)
    sizes, have = _shape_args(sizes), shape_of(input)
    lead = len(sizes) - len(have)
    if lead < 0:
        raise ShapeError(f"expand(): the number of sizes ({len(sizes)}) must be at least the "
                         f"number of dims of the tensor, shape {have}")
    out = list(sizes[:lead])
    if builtins.any(s < 0 for s in out):
        raise ShapeError(f"expand(): -1 is not allowed for a new leading dim (sizes {sizes}, "
                         f"tensor of shape {have}); give its size")
    for i, (s, h) in enumerate(zip(sizes[lead:], have)):
        if s != -1 and s != h and h != 1:
            raise ShapeError(f"expand(): the size {s} must match the existing size {h} of the "
                             f"tensor of shape {have} at dim {i}: only size-1 dims can be "
                             f"expanded (use repeat to copy)")
        out.append(h if s == -1 else s)
    return P.expand(input, shape=tuple(out))


def expand_as(input, other):
    """input broadcast to other's shape."""
    return expand(input, shape_of(other))


def repeat(input, *sizes):
    """input tiled sizes[i] times along dim i (numpy's tile, not numpy's repeat):
    reshape to (1, n0, 1, n1...), expand to (r0, n0, r1, n1...), merge the pairs."""
    sizes, have = _shape_args(sizes), shape_of(input)
    if len(sizes) < len(have):
        raise ShapeError(f"repeat(): {len(sizes)} repeat sizes {sizes} are fewer than the "
                         f"{len(have)} dims of the tensor of shape {have}; give one per dim "
                         f"(tile pads with 1s)")
    have = (1,) * (len(sizes) - len(have)) + have
    x = P.reshape(input, shape=builtins.sum(((1, n) for n in have), ()))
    x = P.expand(x, shape=builtins.sum(((r, n) for r, n in zip(sizes, have)), ()))
    return P.reshape(x, shape=tuple(r * n for r, n in zip(sizes, have)))


def tile(input, dims):
    """repeat, with 1s put in front when `dims` has fewer entries than the tensor has dims."""
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    return repeat(input, (1,) * (len(shape_of(input)) - len(dims)) + dims)


# -- reordering and masking --------------------------------------------------------------------

def flip(input, *args, dims=None):
    """The order of the elements along `dims` reversed: x[..., ::-1, ...]. `dims` is required,
    as in PyTorch: flip(x, (0, 1)), x.flip(0, 1) or flip(x, dims=0); each dim at most once."""
    if args and dims is not None or not args and dims is None:
        raise TypeError(f"flip(): takes the dims once, positionally or as dims=; "
                        f"{'got both' if args else 'they are missing'} (e.g. x.flip(0) or "
                        f"flip(x, dims=(0, 1)))")
    dims = _shape_args(args) if args else dims
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    shape = shape_of(input)
    dims = _check_dims("flip", dims, len(shape), shape)
    if len(set(dims)) < len(dims):
        raise ArgumentError(f"flip(): dim {next(d for d in dims if dims.count(d) > 1)} appears "
                            f"multiple times in dims {dims}; list each dim once")
    return P.getitem(input, idx=tuple(slice(None, None, -1 if i in dims else None)
                                       for i in range(len(shape))))


def roll(input, shifts, dims=None):
    """Elements shifted by `shifts` along `dims`, wrapping around: the last `s` elements
    followed by the others. Without dims, the flattened tensor is rolled (as PyTorch)."""
    shape = shape_of(input)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    if dims is None:
        if len(shifts) != 1:
            raise ArgumentError(f"roll(): shifts {shifts} need dims, one per shift")
        return P.reshape(roll(P.reshape(input, shape=(-1,)), shifts, 0), shape=shape)
    dims = _check_dims("roll", tuple(dims) if isinstance(dims, (tuple, list)) else (dims,),
                       len(shape), shape)
    if len(shifts) != len(dims):
        raise ArgumentError(f"roll(): shifts {shifts} and dims {dims} must have the same length")
    out = input
    for s, d in zip(shifts, dims):
        n = shape[d]
        s = s % n if n else 0
        if s:
            out = P.cat(_narrow(out, d, n - s, n), _narrow(out, d, 0, n - s), axis=d)
    return out if out is not input else P.reshape(input, shape=shape)


def _tri(name, input, keep):
    shape = shape_of(input)
    if len(shape) < 2:
        raise ShapeError(f"{name}(): needs a tensor of at least 2 dims (a matrix or a batch of "
                         f"them), got shape {shape}")
    return P.where(keep(*shape[-2:]), input, 0)


def tril(input, diagonal=0):
    """The lower triangle (j <= i + diagonal) of the last two dims; zeros above."""
    return _tri("tril", input, lambda n, m: np.tri(n, m, diagonal, dtype=bool))


def triu(input, diagonal=0):
    """The upper triangle (j >= i + diagonal) of the last two dims; zeros below."""
    return _tri("triu", input, lambda n, m: ~np.tri(n, m, diagonal - 1, dtype=bool))


def masked_select(input, mask):
    """The elements where the bool `mask` (broadcast with input) holds, as a 1-D tensor."""
    mask = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_select(): mask must be a bool tensor, got dtype {mask.dtype}; "
                        f"compare first, e.g. x > 0")
    shape = shape_of(input)
    both = _broadcast("masked_select", shape, mask.shape)
    x = input if shape == both else P.expand(input, shape=both)
    return P.getitem(x, idx=np.broadcast_to(mask, both))


def _broadcast(name, *shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"{name}(): shapes {', '.join(map(str, shapes))} do not broadcast") \
            from None


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements: an (n, ndim) integer tensor, or one 1-D tensor per
    dim with as_tuple=True. No gradient."""
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    if as_tuple:
        return tuple(result(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(x)))
    return result(np.argwhere(x).astype(np.int64))


def clone(input, *, memory_format=None):
    """A copy with its own memory, of the same dtype (x * 1 for a float tensor, which keeps -0.0
    and nan); d/dx = g."""
    x = input._data if isinstance(input, Tensor) else np.asarray(input)
    if x.dtype.kind not in "fc":  # never differentiable; bool * 1 would be an int
        return result(x.copy())
    return P.mul(input, 1)


# -- joining and splitting ---------------------------------------------------------------------

def cat(tensors, dim=0, *, axis=None):
    """The tensors joined along `dim`; their shapes match elsewhere. The primitive is binary:
    k tensors are joined as a balanced tree, log2(k) copies. d/dt_i = the slice of g t_i became."""
    ts, dim = _tensors("cat", tensors), _dim("cat", dim, axis)
    shapes = [shape_of(t) for t in ts]
    if builtins.any(not s for s in shapes):
        raise ShapeError(f"cat(): a zero-dimensional tensor cannot be concatenated (shapes "
                         f"{shapes}); use stack, or unsqueeze it first")
    dim = _check_dims("cat", dim, len(shapes[0]), shapes[0])
    if builtins.any(len(s) != len(shapes[0]) or s[:dim] + s[dim + 1:] !=
                    shapes[0][:dim] + shapes[0][dim + 1:] for s in shapes):
        raise ShapeError(f"cat(): tensors of shapes {', '.join(map(str, shapes))} do not match "
                         f"outside dim {dim}; only their sizes along dim {dim} may differ")
    if len(ts) == 1:
        return clone(ts[0])
    dtypes = [t.dtype for t in ts]
    if builtins.any(d != dtypes[0] for d in dtypes):  # promoted as PyTorch's (int64 + float32:
        dtype = functools.reduce(P.promote_types, dtypes)  # float32), cast first
        ts = [_cast(t, dtype) for t in ts]
    while len(ts) > 1:
        ts = [P.cat(*ts[i:i + 2], axis=dim) if i + 1 < len(ts) else ts[i]
              for i in range(0, len(ts), 2)]
    return ts[0]


concatenate = concat = cat


def _tensors(name, tensors):
    if isinstance(tensors, (Tensor, np.ndarray)) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{name}(): expected a sequence (list or tuple) of tensors, got "
                        f"{type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{name}(): expected a non-empty list of tensors: at least one")
    return [t if isinstance(t, Tensor) else np.asarray(t) for t in tensors]


def stack(tensors, dim=0, *, axis=None):
    """The tensors (all of one shape) along a new dim `dim`: cat of the unsqueezed tensors."""
    ts, dim = _tensors("stack", tensors), _dim("stack", dim, axis)
    shapes = [shape_of(t) for t in ts]
    if builtins.any(s != shapes[0] for s in shapes):
        raise ShapeError(f"stack(): expects each tensor to be the same shape, got "
                         f"{', '.join(map(str, shapes))}")
    dim = _check_dims("stack", dim, len(shapes[0]) + 1, shapes[0])
    return cat([unsqueeze(t, dim) for t in ts], dim)


def split(tensor, split_size_or_sections, dim=0, *, axis=None):
    """A tuple of slices along `dim`: of split_size each (the last one shorter if need be), or
    of the listed sizes (which must sum to the dim's size)."""
    dim, shape = _dim("split", dim, axis), shape_of(tensor)
    dim = _check_dims("split", dim, len(shape), shape)
    n, size = shape[dim], split_size_or_sections
    if isinstance(size, (int, np.integer)):
        if size <= 0:
            raise ValueError(f"split(): split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size or not n else [])
    else:
        sizes = list(size)
        if builtins.sum(sizes) != n:
            raise ShapeError(f"split(): the sections must sum to {n}, the size of dim {dim} of "
                             f"shape {shape}; got {sizes}")
    starts = np.cumsum([0] + sizes)
    return tuple(_narrow(tensor, dim, a, b) for a, b in zip(starts[:-1], starts[1:]))


def chunk(input, chunks, dim=0):
    """`chunks` slices of ceil(n / chunks) along `dim`; as PyTorch, fewer when that size
    already covers the dim (6 elements in 4 chunks: three chunks of 2)."""
    if chunks <= 0:
        raise ValueError(f"chunk(): chunks must be positive, got {chunks}")
    shape = shape_of(input)
    n = shape[_check_dims("chunk", dim, len(shape), shape)]
    return split(input, builtins.max(-(-n // chunks), 1), dim)


def narrow(input, dim, start, length):
    """input[..., start:start + length, ...] along `dim`."""
    shape = shape_of(input)
    dim = _check_dims("narrow", dim, len(shape), shape)
    start = start % shape[dim] if start < 0 else start
    return _narrow(input, dim, start, start + length)


# -- indexing along a dim ----------------------------------------------------------------------

def _index(name, index, n, dim):
    """`index` as an integer array whose entries are in [0, n) (PyTorch refuses negatives)."""
    index = index._data if isinstance(index, Tensor) else np.asarray(index)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{name}(): index must be an integer tensor, got dtype {index.dtype}")
    if index.size and (index.min() < 0 or index.max() >= n):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"{name}(): index {bad} is out of bounds for dim {dim} with size {n}")
    return index


def _grid(name, input, dim, index, src=None):
    """The full index of gather/scatter: out[i][j][k] is input[i][index[i][j][k]][k] (dim 1),
    as numpy's open grids with `index` put at `dim`."""
    shape = shape_of(input)
    if not shape:
        raise ShapeError(f"{name}(): needs a tensor of at least one dim, got a 0-d one")
    dim = _check_dims(name, dim, len(shape), shape)
    index = _index(name, index, shape[dim], dim)
    for what, other in (("input", shape), ("src", src)):
        if other is None:
            continue
        if len(other) != index.ndim:
            raise ShapeError(f"{name}(): index must have the same number of dimensions as "
                             f"{what} (shape {other}), got index of shape {index.shape}")
        big = [d for d in range(index.ndim) if index.shape[d] > other[d]
               and (d != dim or what == "src")]
        if big:
            raise ShapeError(f"{name}(): index of shape {index.shape} is larger than {what} of "
                             f"shape {other} at dim {big[0]}; it may only be smaller"
                             + (f" outside dim {dim}" if what == "input" else ""))
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid), index.shape


def _part(src, shape):
    """src[:shape[0], :shape[1], ...]: the part of src that an index of `shape` reads."""
    return src if shape_of(src) == shape else P.getitem(src, idx=tuple(slice(n) for n in shape))


def gather(input, dim, index, *, sparse_grad=False):
    """out[i][j][k] = input[i][index[i][j][k]][k] (for dim 1), of index's shape.
    d/dinput = g scatter-added back (getitem's VJP; dense: sparse_grad changes nothing)."""
    grid, _ = _grid("gather", input, dim, index)
    return P.getitem(input, idx=grid)


def scatter_add(input, dim, index, src):
    """input with src[i][j][k] added at [i][index[i][j][k]][k] (dim 1), repeats accumulating.
    d/dinput = g; d/dsrc = g gathered at index (index_put's VJP)."""
    grid, shape = _grid("scatter_add", input, dim, index, shape_of(src))
    return input + P.index_put(_part(src, shape), idx=grid, shape=shape_of(input))


def _cast(src, dtype):
    """src in `dtype`: a differentiable cast between float dtypes, else a constant array."""
    d = src._data if isinstance(src, Tensor) else np.asarray(src)
    if d.dtype == dtype:
        return src
    if isinstance(src, Tensor) and d.dtype.kind in "fc" and dtype.kind in "fc":
        return P.to(src, dtype=dtype)
    return d.astype(dtype)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """input with src[i][j][k] written at [i][index[i][j][k]][k] (dim 1); a number as `src`
    (or value=) writes that number. The result keeps input's dtype (src or value is cast to it,
    a float into an int tensor truncated, as PyTorch's value). Where index repeats a position,
    PyTorch leaves undefined which write wins; here the last one does (numpy's rule), and only
    it gets a gradient. reduce="add" adds instead (repeats accumulating: scatter_add),
    reduce="multiply" multiplies (d/dinput = g * the factors; src gets no gradient, nor in
    PyTorch)."""
    if src is None or isinstance(src, (int, float)):
        value, src = src if value is None else value, None
    if value is None and src is None:
        raise TypeError("scatter(): needs src (a tensor) or value (a number)")
    if reduce not in (None, "add", "multiply"):
        raise ArgumentError(f"scatter(): reduce must be 'add' or 'multiply', got {reduce!r}")
    grid, shape = _grid("scatter", input, dim, index, None if src is None else shape_of(src))
    dtype = (input._data if isinstance(input, Tensor) else np.asarray(input)).dtype
    if src is None:
        src = np.full(shape, value, dtype) if reduce else np.asarray(value, dtype)
    else:
        src = _cast(_part(src, shape), dtype)
    if reduce == "add":
        return input + P.index_put(src, idx=grid, shape=shape_of(input))
    if reduce == "multiply":
        if isinstance(src, Tensor) and src.requires_grad:
            raise RuntimeError("scatter(reduce='multiply'): the derivative for src is not "
                               "implemented (nor in PyTorch); pass src.detach(), or build the "
                               "factors with index_put and multiply")
        factors = np.ones(shape_of(input), dtype)
        np.multiply.at(factors, grid, src._data if isinstance(src, Tensor) else src)
        return input * factors
    written = np.zeros(shape_of(input), bool)
    written[grid] = True
    if not shape_of(src) and not isinstance(src, Tensor):  # a number
        return P.where(written, src, input)
    target = np.ravel_multi_index(np.broadcast_arrays(*grid), shape_of(input)).ravel()
    last = np.zeros(target.size, bool)  # the last write to each position
    last[target.size - 1 - np.unique(target[::-1], return_index=True)[1]] = True
    last = last.reshape(shape)
    where = tuple(np.broadcast_to(g, shape)[last] for g in grid)
    placed = P.index_put(P.getitem(src, idx=last), idx=where, shape=shape_of(input))
    return P.where(written, placed, input)


def index_select(input, dim, index):
    """The entries `index` (a 1-D integer tensor) along `dim`: x[..., index, ...]."""
    shape = shape_of(input)
    dim = _check_dims("index_select", dim, len(shape), shape)
    if np.ndim(index._data if isinstance(index, Tensor) else index) > 1:
        raise ShapeError(f"index_select(): index must be 1-D (or 0-D), got shape "
                         f"{shape_of(index)}")
    index = _index("index_select", index, shape[dim] if shape else 1, dim).reshape(-1)
    return P.getitem(input, idx=(slice(None),) * dim + (index,))


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal (i, i + offset) of the dims dim1 and dim2, as the last dim of the result."""
    shape = shape_of(input)
    d1, d2 = _check_dims("diagonal", (dim1, dim2), len(shape), shape)
    if d1 == d2:
        raise ArgumentError(f"diagonal(): dim1 and dim2 cannot be identical, got {dim1} and {dim2} "
                        f"for shape {shape}")
    x = _permute(input, [i for i in range(len(shape)) if i not in (d1, d2)] + [d1, d2])
    r, c = builtins.max(-offset, 0), builtins.max(offset, 0)
    n = builtins.max(builtins.min(shape[d1] - r, shape[d2] - c), 0)
    return P.getitem(x, idx=(Ellipsis, np.arange(r, r + n), np.arange(c, c + n)))


def diag(input, diagonal=0):
    """A 1-D tensor as the `diagonal`-th diagonal of a square matrix (zeros elsewhere), or the
    diagonal of a matrix as a 1-D tensor."""
    shape = shape_of(input)
    if len(shape) == 2:
        return _diagonal(input, diagonal)
    if len(shape) != 1:
        raise ShapeError(f"diag(): needs a 1-D or 2-D tensor, got shape {shape}; use "
                         f"diagonal(x, offset, dim1, dim2) for a batch")
    n, k = shape[0], diagonal
    rows, cols = np.arange(n) + builtins.max(-k, 0), np.arange(n) + builtins.max(k, 0)
    return P.index_put(input, idx=(rows, cols), shape=(n + abs(k),) * 2)


_diagonal = diagonal


# -- padding -----------------------------------------------------------------------------------

_PAD_INDEX = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # np.pad's names


def pad(input, pad, mode="constant", value=None):
    """input padded as torch.nn.functional.pad: `pad` is (left, right) of the LAST dim, then
    of the dim before, ... Modes: "constant" (value, default 0; negative pads crop),
    "reflect" (mirrored without the edge), "replicate" (the edge repeated), "circular" (wrapped).
    A negative pad crops, in every mode, before the other side is padded (as PyTorch).
    The non-constant modes take any trailing dims here (PyTorch limits them to 1-3)."""
    shape, pad = shape_of(input), tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ArgumentError(f"pad(): the padding must have an even length, (left, right) pairs "
                            f"starting with the last dim; got {pad}")
    if len(pad) // 2 > len(shape):
        raise ArgumentError(f"pad(): {pad} pads {len(pad) // 2} dims but the input is "
                            f"{len(shape)}-D (shape {shape})")
    if mode != "constant" and mode not in _PAD_INDEX:
        raise ArgumentError(f"pad(): mode {mode!r} is not supported; use 'constant', 'reflect', "
                            f"'replicate' or 'circular'")
    if mode != "constant" and value not in (None, 0):
        raise ArgumentError(f"pad(): mode {mode!r} takes no value; value is for "
                            f"mode='constant'")
    out = input
    for k in range(len(pad) // 2):
        d, (left, right) = len(shape) - 1 - k, pad[2 * k:2 * k + 2]
        if mode == "constant":
            out = _pad_constant(out, d, left, right, 0 if value is None else value)
        elif left or right:
            out = _pad_index(out, d, left, right, mode)
    return out


def _pad_constant(x, d, left, right, value):
    """[value block, x, value block] along d (blocks in x's dtype); negative pads crop."""
    shape = list(shape_of(x))
    if left < 0 or right < 0:
        x = _narrow(x, d, builtins.max(-left, 0), shape[d] - builtins.max(-right, 0))
        left, right, shape = builtins.max(left, 0), builtins.max(right, 0), list(shape_of(x))
    dtype = x.dtype if isinstance(x, (Tensor, np.ndarray)) else np.asarray(x).dtype
    blocks = [np.full(shape[:d] + [n] + shape[d + 1:], value, dtype) for n in (left, right)]
    parts = [b for b, n in ((blocks[0], left), (x, 1), (blocks[1], right)) if n]
    return cat(parts, d) if len(parts) > 1 else x


def _pad_index(x, d, left, right, mode):
    """The other modes as one gather along d: the padded positions of np.pad(arange(n)), after
    the crop of a negative pad."""
    if left < 0 or right < 0:
        n = shape_of(x)[d]
        x = _narrow(x, d, builtins.max(-left, 0), n - builtins.max(-right, 0))
        left, right = builtins.max(left, 0), builtins.max(right, 0)
    n = shape_of(x)[d]
    limit = {"reflect": n - 1, "circular": n, "replicate": float("inf") if n else -1}[mode]
    if builtins.max(left, right) > limit:
        raise ShapeError(f"pad(): {mode} padding ({left}, {right}) of dim {d} must be "
                         f"{'less than' if mode == 'reflect' else 'at most'} its size {n} "
                         f"(shape {shape_of(x)})")
    idx = np.pad(np.arange(n), (left, right), mode=_PAD_INDEX[mode])
    return P.getitem(x, idx=(slice(None),) * d + (idx,))


# -- einsum ------------------------------------------------------------------------------------

def einsum(equation, *operands):
    """Sum of products over the subscripts, as torch.einsum ("bij,bjk->bik"; "ij,jk" gives the
    subscripts that appear once, sorted; "..." stands for broadcast dims; spaces are ignored).

    A composition, as PyTorch computes it: subscripts repeated in one operand become a diagonal,
    subscripts in one operand only are summed, then the operands are contracted left to right,
    each pair as one batched matmul ((batch, free of a, summed) @ (batch, summed, free of b)).
    So it runs on BLAS and its derivatives of every order are matmul's (d/da = g @ b^T is
    itself an einsum: the classic rule, for free)."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    terms, out, sizes = _einsum_parse(equation, [shape_of(x) for x in operands])
    ops = []
    for k, (x, term) in enumerate(zip(operands, terms)):
        want = tuple(sizes[s] for s in term)
        if shape_of(x) != want:  # size-1 dims broadcast against the other operands
            x = P.expand(x, shape=want)
        for s in dict.fromkeys(term):
            while term.count(s) > 1:  # "ii": the diagonal, appended as the last dim
                p = term.index(s)
                x = _diagonal(x, 0, p, term.index(s, p + 1))
                term = [t for t in term if t != s] + [s]
        elsewhere = set(out).union(*(t for j, t in enumerate(terms) if j != k))
        alone = tuple(i for i, s in enumerate(term) if s not in elsewhere)
        if alone:
            x, term = P.sum(x, axis=alone), [s for s in term if s in elsewhere]
        ops.append((x, term))
    x, term = ops[0]
    for k in range(1, len(ops)):
        keep = set(out).union(*(t for _, t in ops[k + 1:]))
        x, term = _contract(x, term, *ops[k], keep, sizes)
    return _permute(x, [term.index(s) for s in out])


def _contract(a, at, b, bt, keep, sizes):
    """One pair of einsum operands as a batched matmul; returns (result, its subscripts)."""
    batch = [s for s in at if s in bt and s in keep]
    summed = [s for s in at if s in bt and s not in keep]
    fa, fb = [s for s in at if s not in bt], [s for s in bt if s not in at]
    n = [sizes[s] for s in batch]
    size = lambda subs: int(np.prod([sizes[s] for s in subs]))  # noqa: E731
    a = P.reshape(_permute(a, [at.index(s) for s in batch + fa + summed]),
                  shape=tuple(n) + (size(fa), size(summed)))
    b = P.reshape(_permute(b, [bt.index(s) for s in batch + summed + fb]),
                  shape=tuple(n) + (size(summed), size(fb)))
    out = P.reshape(P.matmul(a, b), shape=tuple(n + [sizes[s] for s in fa + fb]))
    return out, batch + fa + fb


def _einsum_parse(equation, shapes):
    """The subscripts of each operand and of the output as lists of symbols (the dims that
    "..." stands for become private symbols, right-aligned), and each symbol's size."""
    def error(msg, kind=ValueError):
        return kind(f"einsum({equation!r}): {msg}")

    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise error(f"the equation has {len(ins)} operands but {len(shapes)} were given")
    for c in eq.replace("...", "").replace("->", "").replace(",", ""):
        if not (c.isascii() and c.isalpha()):
            raise error(f"subscript {c!r} is not a letter (a-z, A-Z)")
    heads = [s.partition("...") for s in ins]
    ell = [len(sh) - len(h) - len(t) if dots else 0 for (h, dots, t), sh in zip(heads, shapes)]
    ELL = [chr(0x391 + i) for i in range(builtins.max(ell + [0]))]  # private: not letters a-zA-Z
    terms = []
    for k, ((h, dots, t), m, sh) in enumerate(zip(heads, ell, shapes)):
        term = list(h) + ELL[len(ELL) - m:] + list(t) if m > 0 else list(h + t)
        if len(term) != len(sh) or m < 0:
            raise error(f"operand {k} has {len(h) + len(t)} subscripts"
                        f"{' and ...' if dots else ''} but {len(sh)} dims (shape {sh})")
        terms.append(term)
    sizes = {}
    for k, (term, sh) in enumerate(zip(terms, shapes)):
        for s, n in zip(term, sh):
            if sizes.get(s, 1) not in (1, n) and n != 1:
                raise error(f"subscript {'...' if s in ELL else repr(s)} has size {sizes[s]} and "
                            f"size {n} (operand {k}); sizes must match or be 1", ShapeError)
            sizes[s] = builtins.max(sizes.get(s, 1), n)
    count = [s for term in terms for s in term]
    if arrow:
        h, dots, t = rhs.partition("...")
        out = list(h) + (ELL if dots else []) + list(t)
        for s in out:
            if s not in sizes:
                raise error(f"subscript {s!r} of the output appears in no operand")
            if out.count(s) > 1:
                raise error(f"subscript {s!r} appears more than once in the output")
    else:  # implicit: the broadcast dims, then the subscripts that appear once, sorted
        out = ELL + sorted(s for s in sizes if count.count(s) == 1 and s not in ELL)
    return terms, out, sizes


__all__ = ["reshape", "permute", "transpose", "swapaxes", "unsqueeze", "getitem", "expand",
           "view", "view_as", "reshape_as", "flatten", "unflatten", "squeeze", "expand_as",
           "repeat", "tile", "flip", "roll", "tril", "triu", "masked_select", "nonzero", "clone",
           "cat", "concatenate", "concat", "stack", "split", "chunk", "narrow", "gather",
           "scatter", "scatter_add", "index_select", "diagonal", "diag", "pad", "einsum"]
METHODS = ["reshape", "permute", "transpose", "swapaxes", "unsqueeze", "expand", "view",
           "view_as", "reshape_as", "flatten", "unflatten", "squeeze", "expand_as", "repeat",
           "tile", "flip", "roll", "tril", "triu", "masked_select", "nonzero", "clone", "split",
           "chunk", "narrow", "gather", "scatter", "scatter_add", "index_select", "diagonal",
           "diag"]
