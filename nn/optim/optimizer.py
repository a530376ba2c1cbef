"""Optimizer: parameter groups, per-parameter state and their state_dict, as torch.optim.Optimizer.

A step changes each parameter's array in place (as PyTorch: arrays shared with a parameter see
the update; copy one first to keep the old values) and records the write as the tracked `.data`
setter does, so a backward through a graph recorded before the step raises RuntimeError instead
of using stale values. Parameters whose `.grad` is None are skipped; `.grad` itself is
never modified.
"""
import copy

import numpy as np

from autograd_mini import Tensor
from autograd_mini.tensor import _wrote


def _update(p, delta, scale=None):
    """p = p * scale - delta (scale: decoupled weight decay), in place, recorded as a write to
    p (graphs that saved it go stale); a read-only array (e.g. loaded from a file) is replaced
    through the tracked setter instead."""
    d = p._data
    try:
        if scale is not None:
            d *= scale
        d -= delta
    except ValueError:
        p.data = (d * scale if scale is not None else d) - delta
    else:
        _wrote(d)  # what the .data setter records; its checks hold (same array, same dtype)


def _check(name, what, value, ok):
    if not ok:
        raise ValueError(f"{name}: invalid {what} value: {value!r}")


class Optimizer:
    """Base class: `param_groups` is a list of dicts, each with its "params" and its own
    hyper-parameters (the constructor's keyword arguments fill what a group leaves out), as
    PyTorch. `params` may be an iterable of parameters (one group) or of such dicts:

        SGD([{"params": model[0].parameters(), "lr": 0.01}, {"params": model[2].parameters()}],
            lr=0.1, momentum=0.9)

    `state[p]` is a dict of the per-parameter state (e.g. "momentum_buffer", "exp_avg").

    Leaves that do not require grad (a frozen layer: `layer.weight.requires_grad = False`) are
    accepted, as PyTorch: like every parameter whose `.grad` is None, a step skips them.
    """

    def __init__(self, params, defaults):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got a "
                            f"Tensor; pass [tensor] or model.parameters()")
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list; pass model.parameters()")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group {"params": ..., hyper-parameter: value, ...} (e.g. layers unfrozen later);
        missing hyper-parameters take the constructor's values."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: optimizer parameters need to be organized in ordered "
                            f"collections (a set has no order); pass a list")
        params = list(params) if params is not None else []
        unique = []
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors (nn.Parameter), but one of "
                                f"the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: can't optimize a non-leaf Tensor (the result of an "
                                 f"op, grad_fn={p.grad_fn.name}); pass the parameters it was "
                                 f"computed from")
            if not any(p is q for q in unique):
                unique.append(p)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in taken for p in unique):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = dict(param_group)
        group["params"] = unique
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    @property
    def params(self):
        """All parameters, group after group."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self):
        """Shorthand (not in PyTorch) for the learning rate of the first group; setting it sets
        every group's. Schedulers change `param_groups[i]["lr"]`."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for g in self.param_groups:
            g["lr"] = value

    @staticmethod
    def _gradients(group, weight_decay=True):
        """(parameter, gradient) of a group's parameters that have one: -grad if the group
        maximizes, plus weight_decay * p unless `weight_decay` is False (decoupled decay).
        A new array whenever it differs from p.grad, which stays untouched."""
        wd = group["weight_decay"] if weight_decay else 0
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            if group["maximize"]:
                g = -g
            if wd:
                g = g + wd * p.data
            yield p, g

    def zero_grad(self, set_to_none=True):
        """Set every parameter's `.grad` to None (or to zeros with set_to_none=False)."""
        if set_to_none:
            for p in self.params:
                p.grad = None
            return
        for p in self.params:
            if p.grad is not None:
                p.grad = np.zeros_like(p.grad)

    def step(self):
        raise NotImplementedError

    # -- state ---------------------------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {name: value}}, "param_groups": [{..., "params": [index, ...]}]} as
        PyTorch: parameters are numbered 0, 1, ... across the groups in order; arrays are
        copies."""
        index, groups = {}, []
        for g in self.param_groups:
            packed = {k: v for k, v in g.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state from `state_dict()` of an optimizer of the same
        kind over parameters of the same shapes, group by group (arrays are copied and cast to
        each parameter's dtype); ValueError if the groups do not match."""
        name = type(self).__name__
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: loaded state dict has a different number "
                             f"of parameter groups ({len(saved)}, the optimizer has "
                             f"{len(self.param_groups)})")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved, self.param_groups)):
            raise ValueError(f"{name}.load_state_dict: loaded state dict contains a parameter "
                             f"group that doesn't match the size of optimizer's group")
        by_index = {i: p for s, g in zip(saved, self.param_groups)
                    for i, p in zip(s["params"], g["params"])}
        state = {}
        for i, s in state_dict["state"].items():
            if i not in by_index:
                continue
            p, entry = by_index[i], {}
            for k, v in s.items():
                if isinstance(v, (np.ndarray, Tensor)):
                    v = np.asarray(v.data if isinstance(v, Tensor) else v)
                    if v.shape != p.shape:
                        raise ValueError(f"{name}.load_state_dict: state '{k}' of parameter {i} "
                                         f"has shape {v.shape}, the parameter {p.shape}")
                    v = np.array(v, dtype=p.dtype)
                entry[k] = copy.deepcopy(v)
            state[p] = entry
        groups = []
        for s, g in zip(saved, self.param_groups):
            new = copy.deepcopy({k: v for k, v in s.items() if k != "params"})
            new["params"] = g["params"]
            groups.append(new)
        self.state, self.param_groups = state, groups

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {g[k]}" for k in sorted(g) if k != "params"]
        return "\n".join(lines) + "\n)"
