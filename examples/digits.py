"""Digits: an MLP on scikit-learn's 8x8 handwritten digits, with curves of loss and accuracy.

load_digits (1797 images, 10 classes, pixels 0..16 scaled to 0..1), a stratified 80/20
train/test split, MLP([64, 128, 10], activation="relu") trained with Adam on mini-batches of 32
and CrossEntropyLoss. One tqdm progress bar over the epochs; the plot of the training loss and
the train/test accuracy per epoch is written as a PNG.

    python examples/digits.py [--quick] [--epochs N] [--out DIR]
"""
import numpy as np
from _common import matplotlib_pyplot, parse_args, shown  # first: names the extra if one is missing
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from tqdm import tqdm

import nn
from autograd_mini import Tensor, no_grad


def load(seed):
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.2, stratify=y, random_state=seed)


def evaluate(model, X, y):
    with no_grad():
        return float((model(Tensor(X)).data.argmax(axis=1) == y).mean())


def train(model, X_tr, y_tr, X_te, y_te, epochs, lr=2e-3, batch=32, seed=0, desc="digits"):
    """Adam on shuffled mini-batches; returns per-epoch lists of loss, train and test accuracy."""
    rng = np.random.default_rng(seed)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    history = {"loss": [], "train_acc": [], "test_acc": []}
    bar = tqdm(range(epochs), desc=desc, unit="epoch")
    for _ in bar:
        order = rng.permutation(len(X_tr))
        total = 0.0
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            loss = loss_fn(model(Tensor(X_tr[idx])), y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history["loss"].append(total / len(X_tr))
        history["train_acc"].append(evaluate(model, X_tr, y_tr))
        history["test_acc"].append(evaluate(model, X_te, y_te))
        bar.set_postfix(loss=f"{history['loss'][-1]:.4f}",
                        test_acc=f"{history['test_acc'][-1]:.4f}")
    return history


def plot_curves(history, path):
    plt = matplotlib_pyplot()
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, history["loss"], color="tab:blue", marker="o", ms=3)
    ax_loss.set_yscale("log")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy (log scale)",
                title="training loss (mean over the epoch)")
    ax_acc.plot(epochs, history["train_acc"], color="tab:blue", marker="o", ms=3, label="train")
    ax_acc.plot(epochs, history["test_acc"], color="tab:orange", marker="o", ms=3, label="test")
    best = max(history["test_acc"])
    ax_acc.axhline(0.96, color="0.5", ls=":", lw=1, label="96%")
    low = max(0.0, min(history["test_acc"] + history["train_acc"]) - 0.02)
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(low, 1.005),
               title=f"accuracy (final test {history['test_acc'][-1]:.1%}, best {best:.1%})")
    ax_acc.legend(loc="lower right")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.suptitle("MLP 64-128-10 (ReLU) on load_digits, Adam, batch 32")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main():
    args = parse_args(__doc__.splitlines()[0],
                      epochs=dict(type=int, default=None, help="training epochs"))
    epochs = args.epochs or (3 if args.quick else 30)
    X_tr, X_te, y_tr, y_te = load(args.seed)
    print(f"load_digits: {len(X_tr)} training and {len(X_te)} test images, {epochs} epochs")
    model = nn.MLP([64, 128, 10], activation="relu")
    history = train(model, X_tr, y_tr, X_te, y_te, epochs, seed=args.seed)
    print(f"final training loss: {history['loss'][-1]:.4f}")
    print(f"train accuracy: {history['train_acc'][-1]:.4f}")
    print(f"test accuracy: {history['test_acc'][-1]:.4f}")
    path = args.out / "digits_curves.png"
    plot_curves(history, path)
    print(f"wrote {shown(path)}")


if __name__ == "__main__":
    main()
