"""`autograd_mini.nn` is the nn package (next to autograd_mini), found by its location so that a
learner's own nn.py on sys.path (a script's folder comes first) cannot stand in for it.

Importing this module puts the package in its place (in sys.modules): `import autograd_mini.nn`
and `from autograd_mini import nn` give the package itself, the one `import nn` gives when that
finds ours. When another `nn` is on sys.path or already imported, ours is loaded from its folder
as `autograd_mini.nn`, and the name `nn` is left to the other one.
"""
import importlib
import importlib.util
import os
import sys

_WHERE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "nn")
_INIT = os.path.join(_WHERE, "__init__.py")


def _is_ours(origin):
    return origin is not None and os.path.exists(origin) and os.path.samefile(origin, _INIT)


def _load():
    other = sys.modules.get("nn")
    if other is not None:
        if _is_ours(getattr(other, "__file__", None)):
            return other
    else:
        spec = importlib.util.find_spec("nn")
        if spec is not None and _is_ours(spec.origin):
            return importlib.import_module("nn")
    spec = importlib.util.spec_from_file_location(__name__, _INIT,
                                                  submodule_search_locations=[_WHERE])
    package = importlib.util.module_from_spec(spec)
    sys.modules[__name__] = package  # its relative imports find their parent here
    try:
        spec.loader.exec_module(package)
    except BaseException:
        sys.modules.pop(__name__, None)
        raise
    return package


sys.modules[__name__] = _load()
