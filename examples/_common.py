"""Small helpers shared by the example scripts (argument parsing, output folder, data prep).

An example imports this module before scikit-learn, matplotlib or tqdm: if one of them is
missing, the script then ends by naming the extra that installs it, not with a traceback.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

import nn
from autograd_mini import Tensor

OUT_DEFAULT = Path(__file__).resolve().parent / "out"

# the modules of pyproject's "examples" extra that the examples import, and their pip names
EXTRA_MODULES = {"sklearn": "scikit-learn", "matplotlib": "matplotlib", "tqdm": "tqdm"}


def _missing_extra_hook(exc_type, exc, tb, _default=sys.excepthook):
    """Ends the script with the install command when a module of the examples extra is absent."""
    package = (getattr(exc, "name", None) or "").partition(".")[0]  # sklearn.datasets: sklearn
    if issubclass(exc_type, ModuleNotFoundError) and package in EXTRA_MODULES:
        script = Path(sys.argv[0]).name or "this example"
        print(f"{script} needs {EXTRA_MODULES[package]} ({exc}), one of the packages of the "
              f"project's 'examples' extra. Install them, from the repository's root with its "
              f"virtualenv active:\n\n    pip install -e \".[examples]\"\n", file=sys.stderr)
        return
    _default(exc_type, exc, tb)


sys.excepthook = _missing_extra_hook  # an uncaught exception ends the script with status 1


def parse_args(description, **extra):
    """`--quick` (fewer steps, for the tests), `--out DIR` and `--seed N`; `extra` adds options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="fewer steps (used by the tests)")
    p.add_argument("--out", type=Path, default=OUT_DEFAULT, help="folder for written files")
    p.add_argument("--seed", type=int, default=0)
    for name, kwargs in extra.items():
        p.add_argument("--" + name.replace("_", "-"), **kwargs)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    nn.manual_seed(args.seed)  # the generator nn's layers initialise their parameters from
    return args


def matplotlib_pyplot():
    """pyplot with the file-only Agg backend, so the examples run without a display."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def standardize(train, *others):
    """Scale columns to mean 0, std 1 using the training rows' statistics only."""
    mu, sd = train.mean(axis=0), train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    return [(a - mu) / sd for a in (train, *others)]


def accuracy(scores, labels):
    """Fraction of rows whose argmax (or, for one column, score > 0.5) equals the label."""
    scores = np.asarray(scores)
    pred = (scores[:, 0] > 0.5).astype(int) if scores.shape[1] == 1 else scores.argmax(axis=1)
    return float((pred == labels).mean())


def shown(path):
    """The path relative to the working directory when it lies below it, else absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def named(t, name):
    """`t` with a name, which draw_graph and the replay show on its box."""
    t.name = name
    return t


def doc000_loss(x, y, rng):
    """Document 000's 3-4-1 sigmoid network and log loss J for one sample, in its notation:
    x (3, 1) and y (1, 1) arrays, weights drawn from `rng`; every tensor named as the notes do.
    Returns J and the named tensors by name."""
    x, y = named(Tensor(x), "x"), named(Tensor(y), "y")
    W1 = named(Tensor(rng.standard_normal((4, 3)), requires_grad=True), "W[1]")
    b1 = named(Tensor(rng.standard_normal((4, 1)), requires_grad=True), "b[1]")
    W2 = named(Tensor(rng.standard_normal((1, 4)), requires_grad=True), "W[2]")
    b2 = named(Tensor(rng.standard_normal((1, 1)), requires_grad=True), "b[2]")
    z1 = named(b1 + W1 @ x, "z[1]")
    a1 = named(z1.sigmoid(), "a[1]")
    z2 = named(b2 + W2 @ a1, "z[2]")
    a2 = named(z2.sigmoid(), "a[2]")
    J = named(-(y * a2.log() + named(1 - y, "1 - y") * (1 - a2).log()), "J")
    return J, dict(x=x, y=y, W1=W1, b1=b1, W2=W2, b2=b2, z1=z1, a1=a1, z2=z2, a2=a2)
