"""CNN digits: a small convolutional network on scikit-learn's 8x8 digits, in float32.

load_digits (1797 images, 10 classes), the stratified 80/20 train/test split of digits.py,
pixels standardized with the training images' mean and standard deviation (one pair for all
pixels, so the images keep their spatial structure). The network, in nn's PyTorch shape:

    [Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)] x 2    1x8x8 -> 16x4x4 -> 32x2x2
    Flatten -> Dropout(0.25) -> Linear(128, 10)

(the convolutions without bias: the batch norm after each subtracts the channel's mean, which
would cancel it; its own shift plays that part)
trained with AdamW and a cosine learning-rate schedule on mini-batches of 64, every training
image shifted by up to one pixel in each direction at random per epoch (augmentation). One tqdm
bar over the epochs; written as PNGs: the training loss and the train/test accuracy per epoch,
and the first layer's 16 filters.

    python examples/cnn_digits.py [--quick] [--epochs N] [--out DIR]
"""
import time

import numpy as np
from _common import matplotlib_pyplot, parse_args, shown  # first: names the extra if one is missing
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import nn
from autograd_mini import Tensor, no_grad

DTYPE = np.float32


def load(seed):
    """(X_tr, X_te, y_tr, y_te), images (N, 1, 8, 8) standardized with the training statistics."""
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    mu, sd = X_tr.mean(), X_tr.std()
    return [((a - mu) / sd).reshape(-1, 1, 8, 8).astype(DTYPE) for a in (X_tr, X_te)] + \
        [y_tr, y_te]


def make_cnn(c1=16, c2=32, p=0.25, dtype=DTYPE):
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, bias=False, dtype=dtype), nn.BatchNorm2d(c1, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, bias=False, dtype=dtype), nn.BatchNorm2d(c2, dtype=dtype),
        nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(p), nn.Linear(c2 * 4, 10, dtype=dtype))


def shift(images, rng, fill):
    """Each image moved by (dy, dx) in {-1, 0, 1}^2 at random, the uncovered border set to
    `fill` (the standardized background)."""
    n = len(images)
    padded = np.full((n, 1, 10, 10), fill, images.dtype)
    padded[:, :, 1:9, 1:9] = images
    dy, dx = rng.integers(0, 3, n), rng.integers(0, 3, n)
    rows = (dy[:, None] + np.arange(8))[:, :, None]            # (n, 8, 1)
    cols = (dx[:, None] + np.arange(8))[:, None, :]            # (n, 1, 8)
    return padded[np.arange(n)[:, None, None], 0, rows, cols][:, None]


def evaluate(model, X, y):
    model.eval()
    with no_grad():
        acc = float((model(Tensor(X)).data.argmax(axis=1) == y).mean())
    model.train()
    return acc


def train(model, X_tr, y_tr, X_te, y_te, epochs, lr=1e-2, batch=64, seed=0, augment=True):
    """AdamW with a cosine schedule over the epochs; per-epoch loss, train and test accuracy."""
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-3)
    sched = nn.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    background = float(X_tr.min())
    history = {"loss": [], "train_acc": [], "test_acc": []}
    bar = tqdm(range(epochs), desc="cnn_digits", unit="epoch")
    for _ in bar:
        X = shift(X_tr, rng, background) if augment else X_tr
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            if len(idx) < 2:  # BatchNorm needs more than one image per channel
                continue
            loss = loss_fn(model(Tensor(X[idx])), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        history["loss"].append(total / len(X))
        history["train_acc"].append(evaluate(model, X_tr, y_tr))
        history["test_acc"].append(evaluate(model, X_te, y_te))
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                        test_acc=f"{history['test_acc'][-1]:.4f}")
    return history


def plot_curves(history, path, seconds):
    plt = matplotlib_pyplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, history["loss"], color="tab:blue", marker="o", ms=3)
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy (log scale)",
                title="training loss (mean over the epoch, dropout on)")
    ax_acc.plot(epochs, history["train_acc"], color="tab:blue", marker="o", ms=3, label="train")
    ax_acc.plot(epochs, history["test_acc"], color="tab:orange", marker="o", ms=3, label="test")
    ax_acc.axhline(0.985, color="0.5", ls=":", lw=1, label="98.5%")
    low = max(0.0, min(history["test_acc"] + history["train_acc"]) - 0.01)
    if len(epochs) > 5:  # the first epochs would squash the interesting part
        low = max(low, 0.9)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (eval mode)", ylim=(low, 1.003),
               title=f"accuracy (final test {history['test_acc'][-1]:.1%}, "
                     f"train {history['train_acc'][-1]:.1%})")
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.suptitle(f"CNN (2 x conv-BN-ReLU-pool, dropout, linear) on load_digits, float32, "
                 f"AdamW + cosine, batch 64: {seconds:.0f} s")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_filters(weight, path):
    """The first layer's 3x3 filters (out, 1, 3, 3), one panel each, on a shared colour scale
    centred at zero (red positive, blue negative)."""
    plt = matplotlib_pyplot()
    w = np.asarray(weight, dtype=np.float64)[:, 0]
    k = len(w)
    cols = 8
    rows = -(-k // cols)
    vmax = np.abs(w).max()
    fig, axes = plt.subplots(rows, cols, figsize=(1.05 * cols + 1.2, 1.2 * rows + 0.5))
    for i, ax in enumerate(np.ravel(axes)):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.axis("off")
            continue
        im = ax.imshow(w[i], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"filter {i}", fontsize=8)
    fig.suptitle("first Conv2d layer: 16 filters of 3x3 after training")
    fig.colorbar(im, ax=axes, shrink=0.9, label="weight")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


def main():
    args = parse_args(__doc__.splitlines()[0],
                      epochs=dict(type=int, default=None, help="training epochs"))
    epochs = args.epochs or (3 if args.quick else 40)
    X_tr, X_te, y_tr, y_te = load(args.seed)
    print(f"load_digits: {len(X_tr)} training and {len(X_te)} test images (1x8x8), "
          f"{epochs} epochs")
    model = make_cnn()
    print(model)
    start = time.perf_counter()
    history = train(model, X_tr, y_tr, X_te, y_te, epochs, seed=args.seed)
    seconds = time.perf_counter() - start
    print(f"training time: {seconds:.1f} s")
    print(f"final training loss: {history['loss'][-1]:.4f}")
    print(f"train accuracy: {history['train_acc'][-1]:.4f}")
    print(f"test accuracy: {history['test_acc'][-1]:.4f}")
    for path, plot in ((args.out / "cnn_digits_curves.png",
                        lambda p: plot_curves(history, p, seconds)),
                       (args.out / "cnn_digits_filters.png",
                        lambda p: plot_filters(model[0].weight.data, p))):
        plot(path)
        print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
