"""Document 004: y = |x| + noise with a 1-2-1 ReLU network.

Section 1.3 of the document sets the weights by hand: W(1) = (1, -1)^T, c(1) = (0, 0)^T,
W(2) = (1 1), c(2) = 0, so that y = ReLU(x) + ReLU(-x) = |x|. The script loads exactly those
weights into nn.Sequential(Linear(1, 2), ReLU(), Linear(2, 1)) (PyTorch layout: weight = W,
bias = c), checks that they reproduce |x|, then trains a freshly initialised copy on the noisy
data with the document's loss (RSS, summed over observations: MSELoss(reduction="sum")) and shows
that it finds an equivalent fit: one unit adds slope +1 to the right of a kink near 0, the
other slope -1 to the left of it (with noisy data the two kinks need not meet exactly at 0).
A 1-2-1 ReLU net can get stuck (a unit whose input is negative on all the data gets no
gradient), so the script trains from a few random starts and keeps the lowest RSS.

    python examples/doc004_abs.py [--quick]
"""
import numpy as np

import nn
from _common import matplotlib_pyplot, parse_args, shown
from autograd_mini import Tensor, no_grad


def net():
    return nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))


def rss(model, x, y):
    return nn.MSELoss(reduction="sum")(model(Tensor(x)), y)


def describe(model):
    """Per hidden unit j: a_j ReLU(w_j x + c_j) adds slope a_j w_j on one side of x = -c_j / w_j."""
    w, c = model[0].weight.data[:, 0], model[0].bias.data
    a = model[2].weight.data[0]
    parts = []
    for j in range(2):
        if w[j] == 0:
            parts.append(f"unit {j + 1}: constant {a[j] * max(c[j], 0):+.3f}")
        else:
            side = ">" if w[j] > 0 else "<"
            parts.append(f"unit {j + 1}: slope {a[j] * w[j]:+.3f} for x {side} {-c[j] / w[j]:+.3f}")
    return "; ".join(parts) + f"; output bias {model[2].bias.data[0]:+.3f}"


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="Adam steps per start"),
                      starts=dict(type=int, default=None, help="random starts (default 5)"))
    steps = args.steps or (300 if args.quick else 2000)
    starts = args.starts or (3 if args.quick else 5)
    rng = np.random.default_rng(args.seed)
    x = rng.uniform(-3, 3, (200, 1))
    y = np.abs(x) + rng.normal(0, 0.2, x.shape)
    grid = np.linspace(-3, 3, 601)[:, None]
    print(f"data: y = |x| + N(0, 0.2^2), {len(x)} points on [-3, 3]")

    hand = net()
    hand.load_state_dict({"0.weight": np.array([[1.0], [-1.0]]), "0.bias": np.zeros(2),
                          "2.weight": np.array([[1.0, 1.0]]), "2.bias": np.zeros(1)})
    with no_grad():
        hand_err = np.abs(hand(Tensor(grid)).data - np.abs(grid)).max()
        hand_rss = rss(hand, x, y).item()
    print(f"hand-set weights (document 004): max |f(x) - |x|| on a grid = {hand_err:.1e}, "
          f"RSS = {hand_rss:.3f}")
    print(f"  {describe(hand)}")

    best, best_rss = None, np.inf
    for start in range(starts):
        model = net()
        opt = nn.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(steps):
            loss = rss(model, x, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with no_grad():
            final = rss(model, x, y).item()
        print(f"start {start}: RSS = {final:.3f}")
        if final < best_rss:
            best, best_rss = model, final
    with no_grad():
        fit = best(Tensor(grid)).data
    learned_err = np.abs(fit - np.abs(grid)).max()
    print(f"trained: RSS = {best_rss:.3f} (hand-set {hand_rss:.3f}), "
          f"max |f(x) - |x|| on the grid = {learned_err:.3f}")
    print(f"  {describe(best)}")

    plt = matplotlib_pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.scatter(x, y, s=9, color="0.55", label=r"data $y=|x|+\varepsilon$")
    with no_grad():
        ax.plot(grid, hand(Tensor(grid)).data, color="black", lw=3,
                label="hand-set weights (document 004)")
    ax.plot(grid, fit, color="tab:orange", lw=1.8, ls="--", label="trained 1-2-1 ReLU net")
    ax.set(xlabel="x", ylabel="y", title="1-2-1 ReLU network fitted to |x|")
    ax.legend(loc="upper center")
    fig.tight_layout()
    path = args.out / "doc004_abs.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
