"""Draw computation graphs with draw_graph: document 000's 3-4-1 network and an MLP training step.

1. Document 000 in its own notation (column vectors, one sample): z[1] = b[1] + W[1] x,
   a[1] = sigmoid(z[1]), z[2] = b[2] + W[2] a[1], a[2] = sigmoid(z[2]) and the log loss
   J = -[y log a[2] + (1 - y) log(1 - a[2])], drawn after J.backward(): every node shows its
   values and every parameter its gradient, so F0.3-F0.6 (e.g. dJ/db[2] = a[2] - y) can be
   checked by hand on the picture. Intermediate results are named by setting `.name`.
2. One training step of nn.MLP([4, 8, 8, 3]) with CrossEntropyLoss on a batch of 16: each Linear
   layer is a box named after it ("module 0", "module 2", ...), drawn after backward and before
   the optimizer step, with each op's derivative rule (show_vjp=True).

    python examples/draw_graphs.py [--out DIR] [--quick]

Writes <name>.svg and <name>.png under --out (default examples/out/) and prints the paths.
Needs the Graphviz `dot` program (without it, the script says how to install it and exits with
status 1). --quick is accepted (as by every example) and changes nothing: the script takes about
a second.
"""
import shutil
import sys

import numpy as np

import nn
from _common import doc000_loss, named, parse_args
from autograd_mini import Tensor, draw_graph


def doc000_graph(rng):
    J, t = doc000_loss(rng.standard_normal((3, 1)), [[1.0]], rng)
    a2, y, b2 = t["a2"], t["y"], t["b2"]
    J.backward()
    print(f"document 000: J = {J.item():.4f}, a[2] - y = {(a2.data - y.data).item():.4f} "
          f"= dJ/db[2] = {b2.grad.item():.4f} (F0.3)")
    return draw_graph(J, rankdir="TB")


def mlp_step_graph(rng):
    model = nn.MLP([4, 8, 8, 3], activation="relu")
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    x = named(Tensor(rng.standard_normal((16, 4))), "x")
    labels = rng.integers(0, 3, size=16)
    loss = nn.CrossEntropyLoss()(model(x), labels)
    opt.zero_grad()
    loss.backward()
    g = draw_graph(loss, show_vjp=True)  # drawn now: gradients present, graph as recorded
    opt.step()
    print(f"MLP step: loss {loss.item():.4f}")
    return g


NO_DOT = """draw_graphs.py: this script renders graphs with Graphviz's 'dot' program, which is
not on PATH (the Python package 'graphviz' alone is not enough). Install Graphviz:
    sudo apt-get install graphviz              (Debian/Ubuntu)
    brew install graphviz                      (macOS)
    conda install -c conda-forge graphviz      (conda)
    https://graphviz.org/download/             (Windows: add its bin folder to PATH)
then run it again. Nothing was written."""


def main():
    args = parse_args(__doc__.splitlines()[0])
    if shutil.which("dot") is None:
        sys.exit(NO_DOT)
    rng = np.random.default_rng(args.seed)
    graphs = {"graph_doc000": doc000_graph(rng), "graph_mlp_step": mlp_step_graph(rng)}
    for name, g in graphs.items():
        for fmt in ("svg", "png"):
            path = g.render(args.out / name, format=fmt, cleanup=True)
            print(path)


if __name__ == "__main__":
    main()
