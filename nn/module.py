"""Module and Parameter: the containers that name, collect, save and load a model's weights."""
import os
from collections.abc import Mapping

import numpy as np

from autograd_mini import Tensor


class Parameter(Tensor):
    """A Tensor that requires grad and that a Module registers when assigned as an attribute.

    Like `torch.nn.Parameter`, it shares the array it is given (no copy). Its `.name` (None
    until assigned to a Module) is its full dotted name, e.g. "0.weight".
    """

    __slots__ = ()

    def __init__(self, data, dtype=None):
        super().__init__(data, requires_grad=True, dtype=dtype)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


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
    Names are refreshed on every assignment, so the outermost assignment wins. A tool such as
    `draw_graph` can group ops by module by taking the prefix of the parameter names an op
    consumes (`p.name.rpartition(".")[0]` is the owning module's `_name`).
    """

    def __new__(cls, *args, **kwargs):
        # The registries exist even when a subclass forgets to call super().__init__().
        self = super().__new__(cls)
        d = self.__dict__
        d["_params"], d["_modules"], d["training"], d["_name"] = {}, {}, True, ""
        d["_buffers"], d["_non_persistent_buffers_set"] = {}, set()
        return self

    def __init__(self):
        pass

    # -- attribute registration ----------------------------------------------------------------
    def __setattr__(self, name, value):
        params, modules, buffers = self._params, self._modules, self._buffers
        if isinstance(value, Parameter):
            modules.pop(name, None)
            self._drop_buffer(name)
            params[name] = value
            value.name = _join(self._name, name)
        elif isinstance(value, Module):
            params.pop(name, None)
            self._drop_buffer(name)
            modules[name] = value
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
            del modules[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        self._modules.pop(name, None)
        self._drop_buffer(name)
        object.__delattr__(self, name)

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
        """Give this module the dotted name `name`, and rename everything below it."""
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

    def train(self, mode=True):
        """Set `training` on this module and all sub-modules; returns self."""
        for m in self.modules():
            m.__dict__["training"] = bool(mode)
        return self

    def eval(self):
        return self.train(False)

    # -- calling -------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward(...)")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self):
        """A snapshot {dotted name: copy of the array}, keys and order as in PyTorch: per module
        (in `named_modules()` order) its parameters, then its persistent buffers, each buffer
        in its own dtype (an int64 `num_batches_tracked` stays int64)."""
        return {name: t.data.copy() for name, t in self._all_named_state()}

    def load_state_dict(self, state_dict):
        """Copy the arrays of `state_dict` into the parameters and persistent buffers (casting
        to each one's dtype).

        The keys must match `state_dict()`'s exactly and every shape must agree; otherwise
        ValueError naming the missing and unexpected keys and the mismatched shapes, and
        nothing is changed. A parameter under two names (a shared module) needs both keys, with
        equal values. Values go through the tracked `.data` setter, so a backward through a
        graph recorded before the load raises. To load a file: `load_state_dict(nn.load(path))`.
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
        if missing:
            problems.append(f"missing keys {missing}")
        if unexpected:
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
            raise ValueError(f"{type(self).__name__}.load_state_dict: " + "; ".join(problems))
        for _, p, v in values.values():
            p.data = np.array(v, dtype=p.dtype)  # a copy: never alias the source
        return self

    # -- printing ------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"  ({k}): " + repr(m).replace("\n", "\n  ") for k, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")
