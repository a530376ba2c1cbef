"""Packaging a user can trust (issue 15): one version, a license, what the sdist and wheel carry,
and an example that names the extra to install when one of its packages is missing.

The sdist and wheel checks read the configuration (MANIFEST.in, pyproject.toml) with setuptools'
own rules instead of building: a build needs setuptools >= 77 in an isolated environment, which
means the network. What a real build gave is in docs/internals.md, "Packaging".
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_mini

ROOT = Path(__file__).resolve().parents[1]
# tracked files that the sdist leaves out on purpose: CI's own script and git's ignore list
NOT_IN_SDIST = (".ci/", ".gitignore")


def pyproject():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# ---------------------------------------------------------------- version and license

def test_version_is_the_installed_distributions():
    try:
        installed = importlib.metadata.version("autograd_mini")
    except importlib.metadata.PackageNotFoundError:
        pytest.fail("autograd_mini is not installed: run `pip install -e .` in the repository")
    assert installed == autograd_mini.__version__, (
        f"installed metadata says {installed}, the package {autograd_mini.__version__}: "
        "the install is stale, run `pip install -e .` again")


def test_version_is_written_once():
    config = pyproject()
    assert "version" not in config["project"] and "version" in config["project"]["dynamic"]
    attr = config["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "autograd_mini.__version__"
    major, minor, patch = (int(p) for p in autograd_mini.__version__.split("."))
    assert (major, minor) >= (0, 2)  # API v2 semantics (issue 10) came with 0.2.0


def test_license_is_the_mit_license_pyproject_declares():
    config = pyproject()["project"]
    assert config["license"] == "MIT" and config["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the autograd_mini authors" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


# ---------------------------------------------------------------- wheel and sdist contents

def test_wheel_holds_the_packages_autograd_mini_and_nn_only():
    setuptools = pytest.importorskip("setuptools")
    include = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(setuptools.find_packages(where=str(ROOT), include=include))
    assert {p.partition(".")[0] for p in found} == {"autograd_mini", "nn"}
    # every sub-package is in (f053d2e: compositions and nn.optim were once missing from a wheel)
    on_disk = {str(d.parent.relative_to(ROOT)).replace(os.sep, ".")
               for top in ("autograd_mini", "nn") for d in (ROOT / top).rglob("__init__.py")}
    assert found == on_disk


def manifest_files(candidates):
    """The files of `candidates` that MANIFEST.in's commands select, by setuptools' rules."""
    filelist = pytest.importorskip("setuptools._distutils.filelist")

    class Quiet(filelist.FileList):
        def warn(self, msg):  # "no files found matching ...": not an error here
            pass

    files = Quiet()
    files.set_allfiles(list(candidates))
    for line in (ROOT / "MANIFEST.in").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            files.process_template_line(line)
    return set(files.files)


def test_sdist_carries_every_tracked_file_so_its_tests_run():
    """Tests read benchmarks/, examples/, docs/ and notebooks/: the sdist has them all."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout (an unpacked sdist): nothing to compare with")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    tracked = [f for f in tracked if (ROOT / f).exists()]  # a deletion not yet committed
    automatic = {f for f in tracked  # what setuptools puts in any sdist of this project
                 if f in ("README.md", "pyproject.toml", "LICENSE", "MANIFEST.in")
                 or (f.startswith(("autograd_mini/", "nn/")) and f.endswith(".py"))}
    in_sdist = manifest_files(tracked) | automatic
    left_out = [f for f in tracked if f not in in_sdist and not f.startswith(NOT_IN_SDIST)]
    assert not left_out, f"tracked but not in the sdist (add them to MANIFEST.in): {left_out}"


def test_sdist_leaves_out_what_runs_leave_behind():
    junk = ["examples/out/digits_curves.png", "tests/__pycache__/conftest.cpython-311.pyc",
            "benchmarks/results.json", "benchmarks/results_quick.json",
            "notebooks/.ipynb_checkpoints/000-checkpoint.ipynb"]
    wanted = ["examples/digits.py", "tests/conftest.py", "benchmarks/run.py",
              "docs/digits_curves.png", "notebooks/solutions/000.ipynb"]
    assert manifest_files(junk + wanted) == set(wanted)


# ---------------------------------------------------------------- the examples extra

def run_blocked(module, code):
    """Run `code` in a fresh interpreter in which `module` cannot be imported."""
    prelude = (f"import sys; sys.modules[{module!r}] = None; "
               f"sys.path.insert(0, {str(ROOT / 'examples')!r}); sys.argv = ['digits.py']\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=120)


def test_example_without_scikit_learn_names_the_extra():
    script = ROOT / "examples" / "digits.py"
    run = run_blocked("sklearn", f"import runpy; runpy.run_path({str(script)!r}, "
                                 "run_name='__main__')")
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert 'pip install -e ".[examples]"' in run.stderr and run.stdout == ""
    assert run.stderr.startswith("digits.py needs scikit-learn (")


@pytest.mark.parametrize("module, code", [
    ("tqdm", "import _common; from tqdm import tqdm"),
    # the examples import matplotlib only when they plot, through _common.matplotlib_pyplot
    ("matplotlib", "import _common; _common.matplotlib_pyplot()")])
def test_missing_tqdm_or_matplotlib_names_the_extra(module, code):
    run = run_blocked(module, code)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert 'pip install -e ".[examples]"' in run.stderr
    assert run.stderr.startswith(f"digits.py needs {module} (")


def test_other_errors_keep_their_traceback():
    run = run_blocked("sklearn", "import _common; import a_module_of_no_extra")
    assert run.returncode == 1 and "Traceback" in run.stderr
    assert "No module named 'a_module_of_no_extra'" in run.stderr
    assert "[examples]" not in run.stderr


def test_the_hint_names_the_packages_of_the_extra():
    sys.path.insert(0, str(ROOT / "examples"))
    hook = sys.excepthook
    try:
        import _common
    finally:
        sys.path.remove(str(ROOT / "examples"))
        sys.excepthook = hook  # importing _common installs its hook: not for this process
    extra = pyproject()["project"]["optional-dependencies"]["examples"]
    names = {req.split(">")[0].split("=")[0].split("<")[0].strip() for req in extra}
    assert set(_common.EXTRA_MODULES.values()) <= names


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_every_example_imports_common_before_the_extra(script):
    """The hint works only if `_common` (its excepthook) is imported before the extra's modules."""
    import ast
    first = {}
    for node in ast.parse(script.read_text(encoding="utf-8")).body:  # module-level imports
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        for name in names:
            first.setdefault(name.partition(".")[0], node.lineno)
    extra = [m for m in ("sklearn", "matplotlib", "tqdm") if m in first]
    if extra and script.name != "_common.py":
        assert first.get("_common", 10**9) < min(first[m] for m in extra), (
            f"{script.name} imports {extra} before _common")
