"""Run every example in examples/ with --quick in a subprocess and check what it reports.

The scripts start together (a few at a time) on first use, since most of their time is spent
importing scikit-learn and matplotlib; each test then waits for its own script.
"""
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

for _module in ("sklearn", "matplotlib", "tqdm"):
    pytest.importorskip(_module, reason="the examples need the 'examples' extra")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["doc000_breast_cancer", "doc001_softmax", "doc002_1d_fit", "doc002_exercise_cv",
            "doc003_xor", "doc004_abs", "digits", "quickstart", "manual_vs_autodiff",
            "draw_graphs", "training_health", "compiled_digits"]
WRITES_NOTHING = {"manual_vs_autodiff"}  # takes no --out
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(name, out, root=ROOT, default_out=False):
    """Runs root/examples/name.py --quick in the folder `out`, writing there (--out) unless
    `default_out`; the code imported is root's."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(root)] + [p for p in [os.environ.get("PYTHONPATH")] if p]),
        MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [sys.executable, str(root / "examples" / f"{name}.py"), "--quick"]
    if name not in WRITES_NOTHING and not default_out:
        cmd += ["--out", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=out, timeout=300)
    return proc, out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    pool = ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2)))
    futures = {name: pool.submit(_run, name, tmp_path_factory.mktemp(name))
               for name in EXAMPLES}
    yield futures
    pool.shutdown(wait=True)


def result(runs, name):
    """(stdout, output folder) of a finished example; fails with its stderr if it crashed."""
    proc, out = runs[name].result()
    assert proc.returncode == 0, f"{name}.py --quick failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout, out


def number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"pattern {pattern!r} not found in:\n{text}"
    return float(m.group(1))


def assert_png(path):
    assert path.is_file(), f"{path} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 10_000


def test_doc000_breast_cancer_beats_majority_class(runs):
    out, _ = result(runs, "doc000_breast_cancer")
    assert number(r"test accuracy: ([\d.]+)", out) >= 0.85       # majority class: 0.63
    losses = [float(v) for v in re.findall(r"training log loss J = ([\d.]+)", out)]
    assert losses[-1] < 0.5 * losses[0]


def test_doc001_updates_match_the_closed_forms(runs):
    out, _ = result(runs, "doc001_softmax")
    for name in ("w_32", "v_43"):
        g, c, diff, new, expected = (float(v) for v in re.search(
            rf"^{name}\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$", out, re.M).groups())
        assert g != 0 and abs(g - c) <= 1e-12 * max(1.0, abs(c))
        assert abs(new - expected) <= 1e-9               # the SGD step is w - alpha * closed form
    assert number(r"max gradient error: (\S+)", out) < 1e-12


def test_doc002_1d_fit_errors_and_plot(runs):
    out, folder = result(runs, "doc002_1d_fit")
    for act in ("relu", "tanh"):
        assert number(rf"{act}: train error L_S = (\S+)", out) < 0.05
        assert number(rf"{act}: .*test error = (\S+)", out) < 0.05   # target variance ~0.5
    assert_png(folder / "doc002_1d_fit.png")


def test_doc002_exercise_cv_table(runs):
    out, _ = result(runs, "doc002_exercise_cv")
    for model in ("logistic regression", "softmax regression", "BP network"):
        line = next(ln for ln in out.splitlines() if ln.startswith(model))
        cells = re.findall(r"([\d.]+) \+- ([\d.]+)", line)
        assert len(cells) == 2, line
        (iris, iris_sd), (cancer, cancer_sd) = [(float(m), float(s)) for m, s in cells]
        assert iris >= 0.75 and cancer >= 0.9 and 0 <= iris_sd < 0.2 and 0 <= cancer_sd < 0.2


def test_doc003_xor_and_gradient_check(runs):
    out, _ = result(runs, "doc003_xor")
    assert "xor correct: 4/4" in out
    assert number(r"gradient check max error: (\S+)", out) < 1e-8
    assert len(re.findall(r"max \|autodiff - central diff\| = ", out)) == 4  # 2 layers x 2 points


def test_doc004_hand_set_weights_give_abs_and_training_matches(runs):
    out, folder = result(runs, "doc004_abs")
    assert number(r"hand-set weights .*max \|f\(x\) - \|x\|\| on a grid = (\S+),", out) == 0.0
    hand_rss = number(r"hand-set weights .*RSS = ([\d.]+)", out)
    trained_rss = number(r"trained: RSS = ([\d.]+)", out)
    assert trained_rss <= 1.05 * hand_rss       # as good a fit of the noisy data
    assert number(r"trained: .*on the grid = ([\d.]+)", out) < 0.5
    assert_png(folder / "doc004_abs.png")


def test_digits_accuracy_and_curves(runs):
    out, folder = result(runs, "digits")
    assert number(r"test accuracy: ([\d.]+)", out) >= 0.85     # 3 epochs; 30 give >= 0.96
    assert_png(folder / "digits_curves.png")


def test_compiled_digits_prints_its_program_and_matches_the_eager_run(runs):
    out, folder = result(runs, "compiled_digits")
    assert [p.name for p in folder.iterdir()] == ["compiled_digits_step.py"]
    source = (folder / "compiled_digits_step.py").read_text()
    assert source in out  # the program is printed as written
    assert re.search(r"^def step\(W_0_weight, W_0_bias, W_2_weight, W_2_bias, x, y\):", source,
                     re.M)
    assert "g_0_weight = g_linear1.T @ x" in source
    imports = [ln for ln in source.splitlines() if re.match(r"\s*(import|from)\s", ln)]
    assert imports == ["import numpy as np"]
    eager_acc = number(r"test accuracy: eager ([\d.]+)", out)
    assert number(r"test accuracy: eager [\d.]+, compiled ([\d.]+)", out) == eager_acc
    assert eager_acc >= 0.85  # examples/digits.py's run: same seed, batches and optimizer
    assert number(r"largest relative difference of the training losses: (\S+)", out) <= 1e-12
    assert number(r"largest difference of the final weights: (\S+)", out) <= 1e-10
    t_eager = number(r"eager ([\d.]+) us, compiled", out)
    t_comp = number(r"compiled ([\d.]+) us, compiled/eager", out)
    assert number(r"compiled/eager ([\d.]+)", out) == pytest.approx(t_comp / t_eager, abs=0.01)
    assert number(r"trace and build \(batch of 32\): ([\d.]+) ms", out) > 0


def test_quickstart_table_training_and_files(runs):
    out, folder = result(runs, "quickstart")
    assert "all match" in out and "FAIL" not in out
    assert len(re.findall(r"PASS", out)) == 4
    assert number(r"test accuracy: ([\d.]+)", out) >= 0.8
    written = re.findall(r"^   [^:\n]+: (\S+)$", out.split("\nwrote:\n")[1], re.M)
    assert len(written) == 2
    for path in written:
        assert (folder / path).is_file(), path
    graph = next(p for p in written if "graph" in p)
    text = (folder / graph).read_text()
    assert "0.weight" in text and "cross_entropy" in text


def test_manual_vs_autodiff_runs(runs):
    out, _ = result(runs, "manual_vs_autodiff")
    assert "PASS" in out


@pytest.mark.requires_dot
def test_draw_graphs_writes_svg(runs):
    _, folder = result(runs, "draw_graphs")
    assert list(folder.glob("*.svg"))


def test_newton_logistic_converges_and_matches_the_closed_form_hessian(tmp_path):
    proc, _ = _run("newton_logistic", tmp_path)
    assert proc.returncode == 0, f"newton_logistic.py --quick failed:\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    norms = [float(v) for v in re.findall(r"\|\|gradient\|\| = (\S+)$", out, re.M)]
    assert norms[-1] < 1e-10 and len(norms) <= 15
    assert any(b < 0.1 * a for a, b in zip(norms, norms[1:]))   # Newton: fast near the optimum
    assert "converged after" in out
    assert number(r"X\^T diag\(p\(1-p\)\) X, max abs difference: (\S+)", out) < 1e-9
    assert number(r"closed form X\^T \(p - y\), max abs difference: (\S+)", out) < 1e-9
    assert number(r"scikit-learn's unpenalized fit, max abs difference of the coefficients: "
                  r"(\S+)", out) < 1e-4
    rows = re.findall(r"^(intercept|worst radius|worst texture|worst concave points|"
                      r"mean smoothness|worst symmetry)\s+(-?[\d.]+)\s+([\d.]+)\s+(-?[\d.]+)$",
                      out, re.M)
    assert len(rows) == 6
    for _, est, se, z in rows:
        assert float(se) > 0 and abs(float(est) / float(se) - float(z)) < 0.01


def test_hinge_and_huber_match_scikit_learn(tmp_path):
    proc, _ = _run("hinge_and_huber", tmp_path)
    assert proc.returncode == 0, f"hinge_and_huber.py --quick failed:\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    assert out.count("converged after") == 2
    assert number(r"LinearSVC.*max abs difference of the coefficients and intercept: (\S+)",
                  out) < 1e-5
    agree, total = re.search(r"decision agreement with LinearSVC: (\d+)/(\d+)", out).groups()
    assert agree == total == "569"
    assert number(r"test accuracy: ([\d.]+)", out) >= 0.95
    assert number(r"HuberRegressor.*relative to the largest: (\S+)", out) < 1e-3
    assert number(r"ours lower by (\S+)\)", out) >= -1e-6    # ours is the minimum
    assert "the same as HuberRegressor's: True" in out
    huber_err = number(r"clean data: Huber ([\d.]+)", out)
    assert huber_err < 0.5 * number(r"least squares on the corrupted data ([\d.]+)", out)


def test_cnn_digits_accuracy_curves_and_filters(tmp_path):
    proc, folder = _run("cnn_digits", tmp_path)
    assert proc.returncode == 0, f"cnn_digits.py --quick failed:\n{proc.stdout}\n{proc.stderr}"
    assert number(r"test accuracy: ([\d.]+)", proc.stdout) >= 0.9  # 3 epochs; 40 give >= 0.985
    assert_png(folder / "cnn_digits_curves.png")
    assert_png(folder / "cnn_digits_filters.png")


NEEDS_DOT = {"draw_graphs", "replay_doc000"}  # without `dot` they exit with status 1, by design


def test_every_example_leaves_a_fresh_clone_clean(tmp_path):
    """Every script in examples/, run with its defaults in a clone of HEAD, writes only what git
    ignores (examples/out/): never into docs/, beside the sources or into the working folder."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout (an unpacked sdist): nothing to clone")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", head], cwd=clone, check=True)
    names = sorted(p.stem for p in (clone / "examples").glob("*.py")
                   if not p.name.startswith("_"))
    assert len(names) >= len(EXAMPLES) + 3, names       # a broken glob must not pass vacuously
    if shutil.which("dot") is None:
        names = [n for n in names if n not in NEEDS_DOT]
    with ThreadPoolExecutor(max_workers=2) as pool:   # from the clone's root, as a reader would
        procs = dict(zip(names, pool.map(
            lambda n: _run(n, clone, root=clone, default_out=True)[0], names)))
    failed = {n: p.stderr[-2000:] for n, p in procs.items() if p.returncode != 0}
    assert not failed, f"examples failed in a fresh clone: {failed}"
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                            cwd=clone, capture_output=True, text=True, check=True).stdout
    assert status == "", f"running the examples changed the clone (write under examples/out/):\n{status}"
    written = {p.name for p in (clone / "examples" / "out").iterdir()}
    assert {"digits_curves.png", "cnn_digits_curves.png"} <= written, written
    if "replay_doc000" in names:
        assert "replay_doc000.html" in written, written


@pytest.mark.requires_dot
def test_replay_doc000_writes_into_docs_only_with_the_flag(tmp_path, monkeypatch):
    """Its default is examples/out/ like every example; --docs regenerates docs/'s page."""
    import importlib.util
    monkeypatch.syspath_prepend(str(ROOT / "examples"))  # as when run as a script: _common
    spec = importlib.util.spec_from_file_location("replay_doc000",
                                                  ROOT / "examples" / "replay_doc000.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    docs, out = tmp_path / "docs", tmp_path / "out"
    monkeypatch.setattr(example, "DOCS", docs)
    monkeypatch.setattr(example, "OUT_DEFAULT", out)
    monkeypatch.setattr(example, "screenshot", lambda page, png, step: True)  # no browser here
    for argv, folder in ([], out), (["--docs"], docs):
        monkeypatch.setattr(sys, "argv", ["replay_doc000.py", "--quick"] + argv)
        example.main()
        assert (folder / "replay_doc000.html").is_file(), argv
    assert [p.name for p in out.iterdir()] == ["replay_doc000.html"]


def test_training_health_tells_the_saturation_story(runs):
    out, folder = result(runs, "training_health")
    lines = {ln.split()[0]: ln for ln in out.splitlines() if "saturated fraction" in ln}
    assert set(lines) == {"saturated", "kaiming", "batchnorm"}

    def values(run, what):
        return [float(v) for v in re.search(rf"{what}: ([-\d. ]+)", lines[run]).group(1).split()]

    assert number(r"\(mean ([\d.]+)\)", lines["saturated"]) > 0.5     # most tanh units saturate
    for good in ("kaiming", "batchnorm"):
        assert max(values(good, "per layer")) < 0.25
        ratios = values(good, "per weight")
        assert all(-3.6 < r < -2.4 for r in ratios), ratios     # near the -3 band
        assert number(r"test accuracy ([\d.]+)", lines[good]) >= 0.9
    assert values("saturated", "per weight")[0] > -2.2           # far above the band
    assert number(r"test accuracy ([\d.]+)", lines["saturated"]) < 0.8
    assert_png(folder / "training_health.png")
