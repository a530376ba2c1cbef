"""Quickstart: gradients you can check by hand, a model that learns, and the graph behind it.

1. Document 000's 3-4-1 sigmoid network on one sample (x, y): backward's gradients next to the
   document's closed forms F0.3-F0.6, as the table printed by compare_gradients.
2. A small MLP (64-64-10, ReLU) trained on scikit-learn's digits with a progress bar; its
   weights saved with nn.save.
3. The computation graph of that MLP's loss on a batch of 4 images, drawn by draw_graph and
   rendered to SVG (or written as a DOT file with an install hint if Graphviz `dot` is missing).

    python examples/quickstart.py [--quick] [--out DIR]
"""
import graphviz
import numpy as np

import nn
from _common import parse_args, shown
from autograd_mini import Tensor, compare_gradients, draw_graph
from digits import load, train


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def document_000(rng):
    """The 3-4-1 network's autodiff gradients vs F0.3-F0.6 for one sample."""
    model = nn.MLP([3, 4, 1], activation="sigmoid", output_activation="sigmoid")
    x, y = rng.standard_normal(3), 1.0
    loss = nn.BCELoss()(model(Tensor(x[None, :])), np.array([[y]]))
    loss.backward()

    # The document's closed forms, in its column layout (nn's weights are W[l], out x in).
    W1, b1 = model[0].weight.data, model[0].bias.data[:, None]
    W2, b2 = model[2].weight.data, model[2].bias.data[:, None]
    a1 = sigmoid(b1 + W1 @ x[:, None])
    a2 = sigmoid(b2 + W2 @ a1)
    D = np.diag((a1 * (1 - a1)).ravel())
    manual = {
        "0.weight": (a2 - y) * D @ W2.T @ x[None, :],   # F0.6
        "0.bias": ((a2 - y) * D @ W2.T).ravel(),        # F0.5
        "2.weight": (a2 - y) * a1.T,                    # F0.4
        "2.bias": (a2 - y).ravel(),                     # F0.3
    }
    print(f"1. Document 000: 3-4-1 sigmoid network, one sample, J = {loss.item():.6f}")
    print("   closed forms F0.3-F0.6 (manual) vs backward (autodiff):")
    report = compare_gradients(manual, model)
    print("   " + str(report).replace("\n", "\n   "))
    return report


def render_graph(graph, stem):
    """Write stem.svg with Graphviz; without `dot`, write stem.dot and say how to install it."""
    try:
        return graph.render(str(stem), format="svg", cleanup=True), None
    except graphviz.ExecutableNotFound as err:
        stem.unlink(missing_ok=True)  # the source file render wrote before it looked for `dot`
        dot = stem.with_suffix(".dot")
        dot.write_text(graph.source)
        hint = f"once it is installed: dot -Tsvg {shown(dot)} -o {shown(stem)}.svg"
        return str(dot), f"{err}\n   {hint}"


def main():
    args = parse_args(__doc__.splitlines()[0],
                      epochs=dict(type=int, default=None, help="digits training epochs"))
    rng = np.random.default_rng(args.seed)
    written = []

    report = document_000(rng)

    epochs = args.epochs or (3 if args.quick else 15)
    X_tr, X_te, y_tr, y_te = load(args.seed)
    print(f"\n2. Digits: MLP 64-64-10 (ReLU), {len(X_tr)} training / {len(X_te)} test images, "
          f"{epochs} epochs of Adam")
    model = nn.MLP([64, 64, 10], activation="relu")
    history = train(model, X_tr, y_tr, X_te, y_te, epochs, seed=args.seed)
    print(f"   test accuracy: {history['test_acc'][-1]:.4f}")
    weights = args.out / "quickstart_mlp.npz"
    nn.save(model, weights)
    written.append(("MLP weights (nn.save)", weights))

    print("\n3. The computation graph of the MLP's loss on a batch of 4 images, after backward")
    loss = nn.CrossEntropyLoss()(model(Tensor(X_te[:4])), y_te[:4])
    model.zero_grad()
    loss.backward()
    path, missing = render_graph(draw_graph(loss), args.out / "quickstart_graph")
    written.append(("computation graph", path))
    if missing:
        print(f"   {missing}")

    print("\nwrote:")
    for what, path in written:
        print(f"   {what}: {shown(path)}")
    print(f"gradient table: {'all match' if report.ok else 'MISMATCH'}")


if __name__ == "__main__":
    main()
