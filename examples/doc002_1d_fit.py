"""Document 002: the two-layer network f(x) = sum_j a_j sigma(w_j x + b_j) fitted to a 1-D function.

x, w_j, b_j, a_j are scalars and there is no output bias: in the PyTorch layout the hidden layer
is Linear(1, m) (weight[j, 0] = w_j, bias[j] = b_j) and the output Linear(m, 1, bias=False)
(weight[0, j] = a_j). The loss is the document's L_S = 1/(2n) sum_i (y_i - h_i)^2, i.e.
0.5 * MSELoss. As the document suggests, the fit is judged by the test error on new sample points.
Trained with full-batch Adam, once with sigma = ReLU and once with sigma = tanh.

    python examples/doc002_1d_fit.py [--quick]
"""
import numpy as np

import nn
from _common import matplotlib_pyplot, parse_args, shown
from autograd_mini import Tensor, no_grad


def target(x):
    """A smooth function with a slow and a fast component."""
    return np.sin(np.pi * x) + 0.3 * np.sin(3 * np.pi * x)


def two_layer(m, activation):
    act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
    return nn.Sequential(nn.Linear(1, m), act(), nn.Linear(m, 1, bias=False))


def half_mse(model, x, y):
    return 0.5 * nn.MSELoss()(model(x), y)       # L_S = 1/(2n) sum (y_i - h_i)^2


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="Adam steps per network"),
                      width=dict(type=int, default=100, help="hidden units m"))
    steps = args.steps or (250 if args.quick else 4000)
    rng = np.random.default_rng(args.seed)
    x_tr = np.sort(rng.uniform(-1, 1, 60))[:, None]
    x_te = rng.uniform(-1, 1, 200)[:, None]          # new sample points for the test error
    y_tr, y_te = target(x_tr), target(x_te)
    print(f"target sin(pi x) + 0.3 sin(3 pi x) on [-1, 1]: n = {len(x_tr)} training points, "
          f"{len(x_te)} test points, m = {args.width} hidden units, {steps} Adam steps")

    grid = np.linspace(-1, 1, 400)[:, None]
    fits, curves = {}, {}
    for activation in ("relu", "tanh"):
        model = two_layer(args.width, activation)
        opt = nn.optim.Adam(model.parameters(), lr=0.02)
        history = []
        for _ in range(steps):
            loss = half_mse(model, Tensor(x_tr), y_tr)
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(loss.item())
        with no_grad():
            train_err = half_mse(model, Tensor(x_tr), y_tr).item()
            test_err = half_mse(model, Tensor(x_te), y_te).item()
            fits[activation] = model(Tensor(grid)).data[:, 0]
        curves[activation] = history
        print(f"{activation}: train error L_S = {train_err:.2e}   test error = {test_err:.2e}")

    plt = matplotlib_pyplot()
    fig = plt.figure(figsize=(11, 5.6))
    gs = fig.add_gridspec(2, 2, width_ratios=[3, 2], height_ratios=[2.2, 1])
    ax, ax_err = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[1, 0])
    ax_loss = fig.add_subplot(gs[:, 1])
    styles = {"relu": dict(color="tab:red", lw=1.6),
              "tanh": dict(color="tab:blue", lw=1.6, ls="--")}
    ax.plot(grid, target(grid), color="0.6", lw=4, label="target")
    for activation, style in styles.items():
        ax.plot(grid, fits[activation], label=f"fit, {activation}", **style)
        ax_err.plot(grid, fits[activation] - target(grid)[:, 0], label=activation, **style)
    ax.scatter(x_tr, y_tr, s=14, color="black", zorder=3, label="training points")
    ax.set(ylabel="f(x)", title=r"$f(x)=\sum_j a_j\,\sigma(w_j x+b_j)$, " f"m = {args.width}")
    ax.tick_params(labelbottom=False)
    ax.legend(loc="upper left", fontsize=9)
    ax_err.axhline(0, color="0.6", lw=1)
    ax_err.set(xlabel="x", ylabel="fit - target")
    ax_err.sharex(ax)
    for activation, style in styles.items():
        ax_loss.semilogy(curves[activation], color=style["color"], label=activation)
    ax_loss.set(xlabel="Adam step", ylabel=r"training loss $L_S$", title="training loss")
    ax_loss.legend()
    for a in (ax, ax_err, ax_loss):
        a.grid(alpha=0.3)
    fig.tight_layout()
    path = args.out / "doc002_1d_fit.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
