"""Compiled digits: examples/digits.py's MLP trained with a compiled step, next to the eager one.

    step = autograd_mini.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())
    opt.zero_grad(); loss = step(x, y); opt.step()

The first call of each batch shape traces the step (forward, loss and backward, run once in
eager mode) and writes it out as numpy lines; later calls run those lines, with no Tensor or
tape per op. This script prints that program, then trains two copies of MLP([64, 128, 10],
"relu") from the same initial weights on the same batches (Adam, batch 32, as digits.py): one
eagerly, one compiled, their steps alternating, so the two step times are measured side by
side. The eager copy is examples/digits.py's run (the same seed, weights, batches and
optimizer); the compiled program computes what eager mode computes, so both reach that
example's test accuracy. The program's source is written to the output folder as a script of
its own, and nothing else is written.

    python examples/compiled_digits.py [--quick] [--epochs N] [--out DIR]
"""
import time

import numpy as np
from _common import parse_args, shown  # first: names the extra if one is missing
from digits import evaluate, load

import autograd_mini
import nn
from autograd_mini import Tensor


def main():
    args = parse_args(__doc__.splitlines()[0],
                      epochs=dict(type=int, default=None, help="training epochs"))
    epochs = args.epochs or (3 if args.quick else 30)
    X_tr, X_te, y_tr, y_te = load(args.seed)
    print(f"load_digits: {len(X_tr)} training and {len(X_te)} test images, {epochs} epochs")

    eager = nn.MLP([64, 128, 10], activation="relu")
    model = nn.MLP([64, 128, 10], activation="relu")
    model.load_state_dict(eager.state_dict())  # the same initial weights
    loss_fn = nn.CrossEntropyLoss()
    eager_opt = nn.optim.Adam(eager.parameters(), lr=2e-3)
    opt = nn.optim.Adam(model.parameters(), lr=2e-3)
    step = autograd_mini.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())

    def eager_step(x, y):
        loss = loss_fn(eager(Tensor(x)), y)
        eager_opt.zero_grad()
        loss.backward()
        eager_opt.step()
        return loss

    def compiled_step(x, y):
        opt.zero_grad()
        loss = step(x, y)
        opt.step()
        return loss

    rng = np.random.default_rng(args.seed)
    times = {"eager": [], "compiled": []}
    traces, source, worst = [], None, 0.0
    for epoch in range(epochs):
        order = rng.permutation(len(X_tr))
        for k, start in enumerate(range(0, len(order), 32)):
            idx = order[start:start + 32]
            x, y = X_tr[idx], y_tr[idx]
            new = len(step.signatures)
            # the two steps alternate which goes first, so neither always runs on a warmer cache
            runs = [("eager", eager_step), ("compiled", compiled_step)][::1 if k % 2 else -1]
            losses = {}
            for name, fn in runs:
                t0 = time.perf_counter()
                losses[name] = fn(x, y).item()
                t = time.perf_counter() - t0
                if name == "compiled" and len(step.signatures) > new:
                    traces.append((len(idx), t))  # a new batch shape: this call traced
                    source = source or step.source
                else:
                    times[name].append(t)
            worst = max(worst, abs(losses["compiled"] - losses["eager"]) / abs(losses["eager"]))

    print("\nThe program of the compiled step (batch of 32), as autograd_mini.compile wrote it:\n")
    print(source)
    path = args.out / "compiled_digits_step.py"
    path.write_text(source)
    print(f"wrote {shown(path)} (only numpy: exec it, or import its step function)\n")

    for rows, t in traces:
        print(f"trace and build (batch of {rows}): {t * 1e3:.1f} ms")
    t_eager, t_comp = (float(np.median(times[k])) for k in ("eager", "compiled"))
    print(f"step time, median of {len(times['eager'])} steps each, measured side by side: "
          f"eager {t_eager * 1e6:.0f} us, compiled {t_comp * 1e6:.0f} us, "
          f"compiled/eager {t_comp / t_eager:.2f} ({t_eager / t_comp:.2f}x faster)")
    print(f"largest relative difference of the training losses: {worst:.1e}")
    weights = max(float(np.max(np.abs(a.data - b.data)))
                  for a, b in zip(eager.parameters(), model.parameters()))
    print(f"largest difference of the final weights: {weights:.1e}")
    print(f"test accuracy: eager {evaluate(eager, X_te, y_te):.4f}, "
          f"compiled {evaluate(model, X_te, y_te):.4f}")


if __name__ == "__main__":
    main()
