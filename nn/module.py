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


class Module:
    """Base class of layers and models: subclass it, assign parameters and sub-modules as
    attributes in `__init__`, and write `forward`.

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
        return self

    def __init__(self):
        pass

    # -- attribute registration ----------------------------------------------------------------
    def __setattr__(self, name, value):
        params, modules = self._params, self._modules
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
            value.name = _join(self._name, name)
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
            value._set_name(_join(self._name, name))
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign a {type(value).__name__} to parameter "
                    f"'{name}' (a Parameter or None is expected); to change its values, assign "
                    f"to .data, e.g. module.{name}.data = new_array")
            del params[name]
        elif name in modules:
            del modules[name]
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._params.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def _set_name(self, name):
        """Give this module the dotted name `name`, and rename everything below it."""
        for sub, m in self.named_modules():
            m.__dict__["_name"] = _join(name, sub)
        for sub, p in self.named_parameters():
            p.name = _join(name, sub)

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

    def _all_named_parameters(self):
        """Every (dotted name, parameter), shared ones under each of their names (as state_dict:
        `self.enc = self.dec = block` gives both "enc.weight" and "dec.weight")."""
        for mname, m in self.named_modules(remove_duplicate=False):
            for k, p in m._params.items():
                yield _join(mname, k), p

    def named_parameters(self):
        """(dotted name, parameter) pairs; a parameter shared by several modules comes once."""
        seen = set()
        for name, p in self._all_named_parameters():
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self):
        """An iterator over the parameters, each once (pass it to an optimizer)."""
        return (p for _, p in self.named_parameters())

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
        """A snapshot {dotted name: copy of the parameter's array}, keys as in PyTorch."""
        return {name: p.data.copy() for name, p in self._all_named_parameters()}

    def load_state_dict(self, state_dict):
        """Copy the arrays of `state_dict` into the parameters (casting to each one's dtype).

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
        own = dict(self._all_named_parameters())
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
