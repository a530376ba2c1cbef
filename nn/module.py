"""Module and Parameter: the containers that name, collect, save and load a model's weights."""
import os
import weakref
from collections import namedtuple
from collections.abc import Mapping

import numpy as np

from autograd_mini import Tensor
from autograd_mini.hooks import RemovableHandle
from autograd_mini.tensor import _counter

# The number of the latest setting of any module's `training` (train(), eval(), assignment): a
# compiled step checks its modules' modes again only when it changed (autograd_mini.compile).
mode_set = [0]


class Parameter(Tensor):
    """A Tensor that requires grad and that a Module registers when assigned as an attribute.

    Like `torch.nn.Parameter`, it shares the array it is given (no copy). Its `.name` (None
    until assigned to a Module) is its full dotted name, e.g. "0.weight".
    """

    __slots__ = ("_shared",)  # True once registered by a second path (see Module._rename)

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)
        self._shared = False

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class StateDictError(ValueError, RuntimeError):
    """load_state_dict's keys or shapes do not match the model: a ValueError (as before), and a
    RuntimeError, as PyTorch raises."""


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What `load_state_dict` returns, as PyTorch: (missing_keys, unexpected_keys)."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _is_shared(p):
    return p is not None and getattr(p, "_shared", False)


def _holds_shared(m):
    """Does module m hold (below or at it) a module or parameter reachable by two paths?"""
    if m is None:
        return False
    for _, sub in m.named_modules():
        if sub._shared or any(_is_shared(p) for p in sub._params.values()):
            return True
    return False


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix and name else prefix or name


def _as_buffer(owner, name, value):
    """A buffer's value: None, a Tensor as it is, or an ndarray wrapped (shared, not copied)."""
    if value is None or isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(value)
    raise TypeError(f"{owner}: cannot assign a {type(value).__name__} to buffer '{name}' (an "
                    f"ndarray, a Tensor or None is required)")


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules as
    attributes in `__init__` (and `register_buffer` the state that is not trained, such as
    running statistics), and write `forward`.

    Naming, for `named_parameters()`, `state_dict()` and graph drawing: a module remembers its
    own dotted name relative to the outermost module it was assigned into (`module._name`: ""
    for the top, "0", "layers.0", ...; `named_modules()` lists them), and every registered
    Parameter carries its full dotted name in `Tensor.name` ("0.weight", "layers.0.bias").
    Names are refreshed on every assignment, from the outermost module (each module remembers,
    weakly, the module it was last assigned into): the name is the one `named_parameters()` of
    the outermost module lists, so a module or parameter reachable by two paths is named by the
    first (`self.enc = self.dec = block` names block's weight "enc.weight"). A tool such as
    `draw_graph` can group ops by module by taking the prefix of the parameter names an op
    consumes (`p.name.rpartition(".")[0]` is the owning module's `_name`).
    """

    def __new__(cls, *args, **kwargs):
        # The registries exist even when a subclass forgets to call super().__init__().
        self = super().__new__(cls)
        d = self.__dict__
        d["_params"], d["_modules"], d["training"], d["_name"] = {}, {}, True, ""
        d["_buffers"], d["_non_persistent_buffers_set"] = {}, set()
        d["_parent"] = None  # weakref to the module this one was last assigned into
        d["_shared"] = False  # True once registered by a second path (see _rename)
        d["_forward_pre_hooks"], d["_forward_hooks"] = {}, {}
        return self

    def __getstate__(self):  # copy.deepcopy, pickle: a weakref cannot be copied
        state = self.__dict__.copy()
        state["_parent"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for m in self._modules.values():
            if m is not None:
                m.__dict__["_parent"] = weakref.ref(self)

    def __init__(self):
        pass

    # -- attribute registration ----------------------------------------------------------------
    def __setattr__(self, name, value):
        params, modules, buffers = self._params, self._modules, self._buffers
        if isinstance(value, Parameter):
            gone = modules.pop(name, None)
            self._orphan(gone)
            self._drop_buffer(name)
            old = params.get(name)
            params[name] = value
            if value.name is not None and old is not value:
                value._shared = True  # registered elsewhere already: a second path
            if value.name is None and not _is_shared(old) and not _holds_shared(gone):
                value.name = _join(self._name, name)  # a new parameter: its only path
            else:
                self._rename()
        elif isinstance(value, Module):
            params.pop(name, None)
            self._drop_buffer(name)
            old = modules.get(name)
            modules[name] = value
            placed = value._parent is not None and value._parent() is not None
            if old is not value:
                self._orphan(old)
                if placed:
                    value.__dict__["_shared"] = True  # a second path to it
            value.__dict__["_parent"] = weakref.ref(self)
            if placed or _holds_shared(old) or _holds_shared(value):
                self._rename()
            else:  # nothing in it is reachable otherwise: its names are this path's
                value._set_name(_join(self._name, name))
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter "
                    f"'{name}' (a Parameter or None is expected); to change its values, assign "
                    f"to .data, e.g. module.{name}.data = new_array")
            del params[name]
        elif name in buffers:
            value = _as_buffer(type(self).__name__, name, value)
            if value is not None:
                value.name = _join(self._name, name)
            buffers[name] = value
        elif name in modules:
            self._orphan(modules.pop(name))
        elif name == "training":
            mode_set[0] = next(_counter)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        self._orphan(self._modules.pop(name, None))
        self._drop_buffer(name)
        object.__delattr__(self, name)

    def _orphan(self, m):
        """m left this module: it no longer takes its names from here (unless still inside)."""
        if m is not None and m._parent is not None and m._parent() is self \
                and not any(c is m for c in self._modules.values()):
            m.__dict__["_parent"] = None

    def _rename(self):
        """Refresh the names below the outermost module that holds this one: each object by its
        first path. Only needed where something is reachable by two paths (a module or a
        parameter registered twice is marked `_shared`); otherwise the names of the assigned
        object alone are set, so building a Sequential of n layers stays O(n)."""
        top, seen = self, {id(self)}
        while top._parent is not None:
            up = top._parent()
            if up is None or id(up) in seen:
                break
            seen.add(id(up))
            top = up
        top._set_name(top._name)

    def _drop_buffer(self, name):
        self._buffers.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def register_buffer(self, name, tensor, persistent=True):
        """Register `tensor` (an ndarray or a Tensor, or None) as the buffer `name`: state that
        is not a parameter (e.g. BatchNorm's running_mean), as `torch.nn.Module.register_buffer`.

        The buffer is an attribute (`self.name`, a Tensor that shares the given array and keeps
        its dtype), is saved and loaded by `state_dict()` / `load_state_dict()` under its dotted
        key ("0.running_mean") after the module's parameters, and is not in `parameters()`;
        `persistent=False` leaves it out of the state_dict. Assigning an ndarray, a Tensor or
        None to `self.name` later replaces the buffer. A buffer that is None is not saved.
        """
        owner = type(self).__name__
        if not isinstance(name, str):
            raise TypeError(f"{owner}.register_buffer: buffer name should be a string, got "
                            f"{type(name).__name__}")
        if "." in name:
            raise KeyError(f"{owner}.register_buffer: buffer name can't contain \".\", got "
                           f"{name!r}")
        if name == "":
            raise KeyError(f"{owner}.register_buffer: buffer name can't be empty string \"\"")
        if name not in self._buffers and (hasattr(self, name) or name in self._params
                                          or name in self._modules):
            raise KeyError(f"{owner}.register_buffer: attribute '{name}' already exists")
        tensor = _as_buffer(owner, name, tensor)
        if tensor is not None:
            tensor.name = _join(self._name, name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name, param):
        """Register `param` (an nn.Parameter, or None) under `name`, as PyTorch."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: cannot assign a "
                            f"{type(param).__name__} object to parameter '{name}' (an "
                            f"nn.Parameter or None is required)")
        if "." in name or not name:
            raise KeyError(f"{type(self).__name__}.register_parameter: invalid parameter name "
                           f"{name!r} (non-empty, without \".\")")
        if param is None:
            self._modules.pop(name, None)
            self._drop_buffer(name)
            self._params[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def _set_name(self, name):
        """Give this module the dotted name `name`, and rename everything below it (by its first
        path, as named_modules() and named_parameters() list it)."""
        for sub, m in self.named_modules():
            m.__dict__["_name"] = _join(name, sub)
        for sub, p in self.named_parameters():
            p.name = _join(name, sub)
        for sub, b in self.named_buffers():
            b.name = _join(name, sub)

    # -- traversal -----------------------------------------------------------------------------
    def named_modules(self, prefix="", remove_duplicate=True):
        """(dotted name, module) for this module and every sub-module, in order.

        A module registered under several names comes once, under its first name, unless
        `remove_duplicate=False` (as PyTorch); a module inside itself is never entered twice.
        """
        seen, stack = set(), [(prefix, self, frozenset())]
        while stack:
            name, m, outer = stack.pop()
            if id(m) in seen or id(m) in outer:
                continue
            if remove_duplicate:
                seen.add(id(m))
            yield name, m
            inner = outer | {id(m)}
            stack.extend(reversed([(_join(name, k), c, inner) for k, c in m._modules.items()]))

    def modules(self):
        return (m for _, m in self.named_modules())

    def children(self):
        return iter(self._modules.values())

    def _all_named_state(self, buffers=True):
        """(dotted name, tensor) of every parameter, then every persistent buffer that is not
        None, module by module in `named_modules()` order (PyTorch's state_dict order). Shared
        ones come under each of their names (`self.enc = self.dec = block` gives both
        "enc.weight" and "dec.weight")."""
        for mname, m in self.named_modules(remove_duplicate=False):
            for k, p in m._params.items():
                if p is not None:
                    yield _join(mname, k), p
            if buffers:
                skip = m._non_persistent_buffers_set
                for k, b in m._buffers.items():
                    if b is not None and k not in skip:
                        yield _join(mname, k), b

    def _all_named_parameters(self):
        return self._all_named_state(buffers=False)

    def _named_members(self, members, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mname, m in mods:
            for k, t in members(m).items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield _join(mname, k), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs; a parameter shared by several modules comes once."""
        return self._named_members(lambda m: m._params, prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """An iterator over the parameters, each once (pass it to an optimizer)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, buffer Tensor) pairs, non-persistent buffers included, each once."""
        return self._named_members(lambda m: m._buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """An iterator over the buffers (Tensors), each once."""
        return (b for _, b in self.named_buffers(recurse=recurse))

    # -- training helpers ----------------------------------------------------------------------
    def zero_grad(self):
        """Set every parameter's `.grad` to None (as PyTorch's default)."""
        for p in self.parameters():
            p.grad = None

    def to(self, *args, **kwargs):
        """Cast the floating point parameters and buffers (and their `.grad`) to a dtype, in
        place, and return the module, as `torch.nn.Module.to`: `to(np.float32)`, `to("cpu")`
        (the only device: a no-op), `to("cpu", np.float64)`, `to(dtype=..., device=...)`, or
        `to(tensor)` for the tensor's dtype. Integer buffers (num_batches_tracked) keep theirs.
        Each parameter stays the same object, so an optimizer built before still holds it; its
        values are written through the tracked `.data` setter (a graph recorded before raises).
        """
        name = type(self).__name__
        kwargs.pop("non_blocking", None)
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        if kwargs:
            raise TypeError(f"{name}.to: unexpected keyword arguments {sorted(kwargs)}")
        if len(args) > 2:
            raise TypeError(f"{name}.to: expected a device, a dtype or both, got {len(args)} "
                            f"arguments")
        for a in args:
            if isinstance(a, str):
                device = a
            elif isinstance(a, Tensor):
                dtype = a.dtype
            else:
                dtype = a
        if device is not None and str(device).split(":")[0] != "cpu":
            raise RuntimeError(f"{name}.to: device {device!r} is not available; autograd_mini "
                               f"runs on numpy, on the CPU (use 'cpu' or leave the device out)")
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"{name}.to: {dtype!r} is neither a device nor a dtype") \
                    from None
            if dtype.kind not in "fc":
                raise TypeError(f"{name}.to only accepts floating point or complex dtypes, but "
                                f"got desired dtype={dtype}")
            self._cast(dtype)
        return self

    def double(self):
        """Cast the floating point parameters and buffers to float64; returns self."""
        return self._cast(np.dtype(np.float64))

    def float(self):
        """Cast the floating point parameters and buffers to float32; returns self."""
        return self._cast(np.dtype(np.float32))

    def half(self):
        """Cast the floating point parameters and buffers to float16; returns self."""
        return self._cast(np.dtype(np.float16))

    def _cast(self, dtype):
        for t in (*self.parameters(), *self.buffers()):
            if t.dtype.kind == "f" and t.dtype != dtype:
                t.data = t.data.astype(dtype)
                if t.grad is not None:
                    t.grad = t.grad.astype(dtype)
        return self

    def train(self, mode=True):
        """Set `training` on this module and all sub-modules; returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        mode_set[0] = next(_counter)
        return self

    def eval(self):
        return self.train(False)

    # -- calling -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)  # no hooks: nothing else runs

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            new = hook(self, args, output)
            if new is not None:
                output = new
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False):
        """Call `hook(module, args)` before each `forward`, with the positional arguments as a
        tuple (keyword arguments go to `forward` untouched). A return value other than None
        replaces the arguments (a value that is not a tuple is wrapped in one). Hooks run in
        the order they were registered (`prepend=True`: first). Returns a handle whose
        `.remove()` takes the hook off, as PyTorch's."""
        return RemovableHandle.add(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook, *, prepend=False):
        """Call `hook(module, args, output)` after each `forward` (`args`: the positional
        arguments forward got, after the pre-hooks); a return value other than None replaces
        the output. Hooks run in the order they were registered (`prepend=True`: first).
        Returns a handle whose `.remove()` takes the hook off, as PyTorch's."""
        return RemovableHandle.add(self._forward_hooks, hook, prepend)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self):
        """A snapshot {dotted name: copy of the array}, keys and order as in PyTorch: per module
        (in `named_modules()` order) its parameters, then its persistent buffers, each buffer
        in its own dtype (an int64 `num_batches_tracked` stays int64)."""
        return {name: t.data.copy() for name, t in self._all_named_state()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy the arrays of `state_dict` into the parameters and persistent buffers (casting
        to each one's dtype), as PyTorch; returns `(missing_keys, unexpected_keys)`, a named
        tuple.

        strict=True: the keys must match `state_dict()`'s exactly. strict=False: the keys that
        match are loaded, the others left as they are (and listed in the result). Every loaded
        shape must agree. Otherwise a StateDictError (a ValueError and a RuntimeError) names the
        missing and unexpected keys and the mismatched shapes, and nothing is changed. A
        parameter under two names (a shared module) needs both keys when strict, with equal
        values. Values go through the tracked `.data` setter, so a backward through a graph
        recorded before the load raises. To load a file: `load_state_dict(nn.load(path))`.
        """
        if not isinstance(state_dict, Mapping):
            got = type(state_dict).__name__
            if isinstance(state_dict, (str, os.PathLike)):
                path = os.fspath(state_dict)
                got += (f" {path!r}; to load a file, read it first: "
                        f"model.load_state_dict(nn.load({path!r}))")
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict "
                            f"{{name: array}} such as state_dict() or nn.load(path) returns, "
                            f"got {got}")
        own = dict(self._all_named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        values, problems = {}, []  # id(parameter) -> (its first key, parameter, new value)
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        for k, p in own.items():
            if k in state_dict:
                v = state_dict[k]
                v = np.asarray(v.data if isinstance(v, Tensor) else v)
                if v.shape != p.shape:
                    problems.append(f"'{k}' has shape {v.shape}, the model expects {p.shape}")
                elif v.dtype.kind not in "biuf":
                    problems.append(f"'{k}' has non-numeric dtype {v.dtype}")
                elif id(p) in values and not np.array_equal(values[id(p)][2], v):
                    problems.append(f"'{values[id(p)][0]}' and '{k}' are one parameter "
                                    f"(shared) but have different values; give both the same")
                else:
                    values.setdefault(id(p), (k, p, v))
        if problems:
            raise StateDictError(f"{type(self).__name__}.load_state_dict: "
                                 + "; ".join(problems)
                                 + ("; pass strict=False to load the keys that match"
                                    if strict and (missing or unexpected) else ""))
        for _, p, v in values.values():
            p.data = np.array(v, dtype=p.dtype)  # a copy: never alias the source
        return _IncompatibleKeys(missing, unexpected)

    # -- printing ------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"  ({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")
