"""Training health: is a deep tanh network learning well? Watched with hooks, not by editing it.

Three runs of one 64-100-100-100-100-100-10 tanh MLP on scikit-learn's 8x8 digits (standardized
pixels, an 80/20 split), plain SGD on mini-batches of 32:

    saturated   weights drawn N(0, 1): far too large for 100 inputs, so every tanh saturates
    kaiming     kaiming_normal_(nonlinearity="tanh"): std 5/3 / sqrt(fan_in), biases 0
    batchnorm   the same initialisation, and BatchNorm1d before every tanh

For each run and each hidden layer, three pictures of its health, gathered by a `Monitor` that
only registers hooks on the model:
- the activations' histogram at initialisation, and the saturated fraction (|tanh| > 0.97):
  a saturated unit passes almost no gradient (d tanh = 1 - tanh^2 ~ 0), so it stops learning;
- the histogram of the gradient arriving at each tanh's output: layers whose gradients are
  far narrower or wider than the others learn at another speed;
- the update-to-data ratio of every Linear weight, log10(std(lr * grad) / std(weight)), over
  the first few hundred steps: around -3 (a step changes the weights by about a thousandth)
  is a sane learning rate; far below, learning crawls; far above, it thrashes.

    python examples/training_health.py [--quick] [--steps N] [--out DIR]
"""
import numpy as np
from _common import matplotlib_pyplot, parse_args, shown, standardize  # first: names the extra if one is missing
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import nn
from autograd_mini import Tensor, no_grad

WIDTH, DEPTH, LR, BATCH = 100, 5, 0.1, 32
SATURATED = 0.97  # |tanh(x)| above this: 1 - tanh^2 < 0.06, the unit barely passes gradient
RUNS = ("saturated", "kaiming", "batchnorm")


def make_model(run, rng):
    """The MLP of `run`: DEPTH hidden tanh layers of WIDTH units, initialised as `run` says."""
    layers, n_in = [], 64
    for _ in range(DEPTH):
        layers.append(nn.Linear(n_in, WIDTH, rng=rng))
        if run == "batchnorm":
            layers.append(nn.BatchNorm1d(WIDTH))
        layers.append(nn.Tanh())
        n_in = WIDTH
    layers.append(nn.Linear(n_in, 10, rng=rng))
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Linear):
            if run == "saturated":
                nn.init.normal_(m.weight, 0.0, 1.0, generator=rng)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="tanh", generator=rng)
            nn.init.zeros_(m.bias)
    return model


class Monitor:
    """Watches a model through hooks only: a forward hook on every Tanh keeps its output and
    registers a hook on that output tensor, which receives the gradient arriving at it in
    backward. `step_done(lr)` (after backward, before the optimizer's step) records each
    Linear weight's update-to-data ratio and each layer's saturated fraction."""

    def __init__(self, model):
        self.tanhs = [m for m in model.modules() if isinstance(m, nn.Tanh)]
        self.weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        self.acts, self.grads = [None] * len(self.tanhs), [None] * len(self.tanhs)
        self.saturated, self.ratios = [], []  # one row per step: per layer, per weight
        self.handles = [m.register_forward_hook(self._watch(i)) for i, m in enumerate(self.tanhs)]

    def _watch(self, i):
        def forward_hook(module, args, out):
            self.acts[i] = out.data
            out.register_hook(lambda g: self._grad(i, g))  # called in backward
        return forward_hook

    def _grad(self, i, g):
        self.grads[i] = g  # returns None: the gradient goes on unchanged

    def step_done(self, lr):
        self.saturated.append([float((np.abs(a) > SATURATED).mean()) for a in self.acts])
        self.ratios.append([float(np.log10((lr * p.grad).std() / p.data.std()))
                            for p in self.weights])

    def remove(self):
        for h in self.handles:
            h.remove()


def load(seed):
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y,
                                              random_state=seed)
    X_tr, X_te = standardize(X_tr, X_te)
    return X_tr, X_te, y_tr, y_te


def train(run, data, steps, seed=0):
    """`steps` SGD steps of the run's model, watched by a Monitor; returns what it saw: the
    activations and gradients of the first step (at initialisation), the per-step saturated
    fractions and update ratios, the losses and the test accuracy."""
    X_tr, X_te, y_tr, y_te = data
    rng = np.random.default_rng(seed)
    model = make_model(run, rng)
    monitor = Monitor(model)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.SGD(model.parameters(), lr=LR)
    losses, first = [], None
    for step in range(steps):
        idx = rng.integers(0, len(X_tr), BATCH)
        loss = loss_fn(model(Tensor(X_tr[idx])), y_tr[idx])
        opt.zero_grad()
        loss.backward()
        monitor.step_done(LR)
        opt.step()
        losses.append(loss.item())
        if step == 0:
            first = [a.copy() for a in monitor.acts], [g.copy() for g in monitor.grads]
    monitor.remove()
    model.eval()
    with no_grad():
        accuracy = float((model(Tensor(X_te)).data.argmax(axis=1) == y_te).mean())
    return dict(acts=first[0], grads=first[1], saturated=np.array(monitor.saturated),
                ratios=np.array(monitor.ratios), losses=np.array(losses), accuracy=accuracy)


def summary(run, r):
    """One line per run: what the tests and the notebook check."""
    sat = r["saturated"][0]
    late = r["ratios"][len(r["ratios"]) // 2:].mean(axis=0)  # the second half of the steps
    return (f"{run:10} saturated fraction at init per layer: "
            f"{' '.join(f'{s:.2f}' for s in sat)} (mean {sat.mean():.2f}); "
            f"log10 update ratio per weight: {' '.join(f'{v:.2f}' for v in late)}; "
            f"loss {r['losses'][:10].mean():.3f} -> {r['losses'][-10:].mean():.3f}; "
            f"test accuracy {r['accuracy']:.3f}")


def _density(ax, arrays, label, lo=None, hi=None):
    for i, a in enumerate(arrays):
        counts, edges = np.histogram(a, bins=50, range=(lo, hi) if lo is not None else None,
                                     density=True)
        ax.plot((edges[:-1] + edges[1:]) / 2, counts, label=label(i, a))
    ax.legend(fontsize=7)


def plot(results, path):
    """One row per run: activation histograms, gradient histograms, update ratios."""
    plt = matplotlib_pyplot()
    fig, axes = plt.subplots(len(results), 3, figsize=(15, 3.4 * len(results)))
    for row, (run, r) in zip(axes, results.items()):
        ax_a, ax_g, ax_u = row
        _density(ax_a, r["acts"],
                 lambda i, a: f"layer {i + 1} ({(np.abs(a) > SATURATED).mean():.0%} saturated)",
                 -1, 1)
        ax_a.set_title(f"{run}: tanh outputs at initialisation")
        glim = max(np.abs(g).max() for g in r["grads"])
        _density(ax_g, r["grads"], lambda i, g: f"layer {i + 1} (std {g.std():.1e})",
                 -glim, glim)
        ax_g.set_title(f"{run}: gradient at each tanh output, step 1")
        steps = np.arange(1, len(r["ratios"]) + 1)
        for j in range(r["ratios"].shape[1]):
            ax_u.plot(steps, r["ratios"][:, j], lw=1,
                      label=f"weight {j + 1}" + (" (output)" if j == r["ratios"].shape[1] - 1
                                                 else ""))
        ax_u.axhspan(-3.5, -2.5, color="0.85", zorder=0)
        ax_u.axhline(-3, color="k", ls="--", lw=1)
        ax_u.set_ylim(-6, -0.5)
        ax_u.set_title(f"{run}: log10 update / data (band around -3)")
        ax_u.set_xlabel("step")
        ax_u.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="SGD steps per run (default 300)"))
    steps = args.steps or (200 if args.quick else 300)
    data = load(args.seed)
    results = {run: train(run, data, steps, args.seed) for run in RUNS}
    for run, r in results.items():
        print(summary(run, r))
    path = args.out / "training_health.png"
    plot(results, path)
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
