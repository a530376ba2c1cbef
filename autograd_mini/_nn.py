"""Find the nn package by its location, next to autograd_mini, so that a learner's own nn.py
on sys.path (a script's folder comes first) cannot stand in for it."""
import importlib
import importlib.util
import os
import sys

_WHERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nn")
_INIT = os.path.join(_WHERE, "__init__.py")


def _is_ours(origin):
    return origin is not None and os.path.exists(origin) and os.path.samefile(origin, _INIT)


def load_nn():
    """The nn package: the module `import nn` gives when that finds ours; otherwise (another
    `nn` on sys.path or already imported) ours loaded from its folder as `autograd_mini.nn`,
    leaving the name `nn` to the other one."""
    mod = sys.modules.get("autograd_mini.nn")
    if mod is None:
        other = sys.modules.get("nn")
        if other is not None:
            ours = _is_ours(getattr(other, "__file__", None))
        else:
            spec = importlib.util.find_spec("nn")
            ours = spec is not None and _is_ours(spec.origin)
        if ours:
            mod = other if other is not None else importlib.import_module("nn")
        else:
            spec = importlib.util.spec_from_file_location(
                "autograd_mini.nn", _INIT, submodule_search_locations=[_WHERE])
            mod = importlib.util.module_from_spec(spec)
            sys.modules["autograd_mini.nn"] = mod
            try:
                spec.loader.exec_module(mod)
            except BaseException:
                del sys.modules["autograd_mini.nn"]
                raise
        sys.modules["autograd_mini.nn"] = mod
    sys.modules["autograd_mini"].nn = mod  # later lookups skip __getattr__
    return mod
