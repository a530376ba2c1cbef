"""Watch backward on document 000's 3-4-1 sigmoid network, for one breast-cancer sample.

The network in the document's own notation (column vectors, one sample): z[1] = b[1] + W[1] x,
a[1] = sigmoid(z[1]), z[2] = b[2] + W[2] a[1], a[2] = sigmoid(z[2]) and the log loss
J = -[y log a[2] + (1 - y) log(1 - a[2])]. x is the first sample's "worst radius", "worst
texture" and "worst concave points" (standardized), y its label; the weights are random.
replay_backward(J) runs J.backward() and records each step of the engine's sweep; the page plays
them back: the op, its rule, the gradient arriving at it and what it sends to each input, and
the leaves' .grad so far (the step at W[2]'s matmul sends dJ/dW[2] = (a[2] - y) a[1]^T, F0.4).

    python examples/replay_doc000.py [--out DIR] [--quick] [--docs]

Writes replay_doc000.html and replay_doc000.png (a middle step, drawn by headless Chromium) under
--out (default examples/out/, as every example); --docs writes them into docs/ instead, which is
how the page and the picture the README links to are regenerated. Without Chromium it writes the
page and says how to get the screenshot; without Graphviz's `dot` it says how to install it and
exits with status 1.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import OUT_DEFAULT, doc000_loss  # first: names the extra if one is missing
import numpy as np
from sklearn.datasets import load_breast_cancer

from autograd_mini import replay_backward
from autograd_mini.graph import GraphvizNotFoundError

FEATURES = ["worst radius", "worst texture", "worst concave points"]
DOCS = Path(__file__).resolve().parents[1] / "docs"
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage", "--window-size=1600,1040", "--hide-scrollbars"]


def network(seed):
    """J of the document's network for sample 0, and the tensors a replay reader checks."""
    data = load_breast_cancer()
    X = data.data[:, [list(data.feature_names).index(f) for f in FEATURES]]
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    rng = np.random.default_rng(seed)
    J, t = doc000_loss(X[:1].T, [[float(data.target[0])]], rng)  # x: a column; y 0: malignant
    return J, dict(y=t["y"].data, a1=t["a1"].data, a2=t["a2"].data, W2=t["W2"])


def screenshot(page, png, step):
    """Open the page in headless Chromium, go to `step` (1-based) and save a PNG; False if
    Chromium, its driver or selenium is missing."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return False
    if chromium is None or driver is None:
        return False
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    with tempfile.TemporaryDirectory() as profile:
        for flag in BROWSER_FLAGS + [f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        browser = webdriver.Chrome(service=Service(driver), options=options)
        try:
            browser.get(page.resolve().as_uri())
            shown = browser.execute_script(  # the page's own "next" button, step - 1 times
                "var r = document.querySelector('.amr-replay');"
                "for (var i = 1; i < arguments[0]; i++) "
                "  r.querySelector('[data-action=next]').click();"
                "return r.querySelector('[data-role=step-index]').textContent;", step)
            browser.save_screenshot(str(png))
        finally:
            browser.quit()
    print(f"screenshot of step {shown}: {png}")
    return True


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT_DEFAULT,
                   help="folder for the page and screenshot (default examples/out/)")
    p.add_argument("--docs", action="store_true",
                   help="write them into docs/, replacing the files the README shows")
    p.add_argument("--quick", action="store_true", help="accepted, as by every example")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights")
    args = p.parse_args()
    if args.docs:
        args.out = DOCS

    J, t = network(args.seed)
    replay = replay_backward(J, rankdir="TB")  # top to bottom: the sweep runs down the page
    print(f"J = {J.item():.4f}, y = {t['y'].item():.0f}, a[2] = {t['a2'].item():.4f}; "
          f"{len(replay.steps)} backward steps:")
    for k, s in enumerate(replay.steps, 1):
        print(f"  {k:2d}. {s.title:<22} {s.rule}")
    middle = next(k for k, s in enumerate(replay.steps, 1) if "W[2]" in s.inputs)
    step = replay.steps[middle - 1]
    sent = step.grad_inputs[step.inputs.index("W[2]")]
    closed = (t["a2"] - t["y"]) * t["a1"].T  # F0.4: dJ/dW[2] = (a[2] - y) a[1]^T
    print(f"step {middle} ({step.title}) sends dJ/dW[2] = {np.round(sent, 4).tolist()}; "
          f"F0.4 (a[2] - y) a[1]^T: max difference {np.abs(sent - closed).max():.1e}")

    args.out.mkdir(parents=True, exist_ok=True)
    page, png = args.out / "replay_doc000.html", args.out / "replay_doc000.png"
    try:
        replay.save(page)
    except GraphvizNotFoundError as err:
        sys.exit(f"replay_doc000.py: {err}")
    print(f"page: {page}")
    if not screenshot(page, png, middle):
        print(f"no screenshot: it needs headless Chromium, its driver and selenium "
              f"('sudo apt-get install chromium chromium-driver' on Debian/Ubuntu, "
              f"'pip install selenium'); or open {page} in a browser, go to step {middle} and "
              f"take it by hand")


if __name__ == "__main__":
    main()
