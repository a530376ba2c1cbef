"""The course notebooks (notebooks/*.ipynb and their solutions) run top to bottom.

Each notebook asserts what it claims (closed forms against backward, errata failing as printed
and passing corrected, accuracies), so executing it is the test: a failing assert or any error
in a cell fails here, naming the cell. The kernel is "python3", which ipykernel installs for the
interpreter running pytest, so the notebooks see the same autograd_mini. Also: notebooks are
committed with their outputs stripped.

Run-time budget: all notebooks and their solutions together under two minutes on an idle 2-core
machine, about half for documents 000-002 and half for the others (003, 004, 10, 11); `pytest -s`
prints each notebook's time.
"""
import json
import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "notebooks"
NOTEBOOKS = sorted(FOLDER.glob("*.ipynb")) + sorted((FOLDER / "solutions").glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; the whole set runs in well under two minutes
INSTALL = ('running the notebooks needs nbclient, nbformat and ipykernel: '
           'pip install -e ".[dev]"')


def _name(path):
    return str(path.relative_to(FOLDER))


@pytest.mark.requires_dot  # the graphs and replays render with Graphviz
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason=INSTALL)
    nbclient = pytest.importorskip("nbclient", reason=INSTALL)
    pytest.importorskip("ipykernel", reason=INSTALL)
    # the kernel inherits this environment: a file-only matplotlib backend, no display needed
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # the notebooks import autograd_mini and nn from the repository even without pip install -e
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    start = time.perf_counter()
    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
            break
        except nbclient.exceptions.CellExecutionError as err:
            pytest.fail(f"{_name(path)}: a cell failed:\n{err}", pytrace=False)
        except Exception:  # the kernel did not start: e.g. the free port that Jupyter picked
            if attempt == 2 or any(c.get("outputs") for c in nb.cells):  # was taken meanwhile
                raise
    print(f"{_name(path)}: {time.perf_counter() - start:.1f} s")


def test_there_are_notebooks():
    """A broken glob would make the parametrized test above pass vacuously."""
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_notebook_is_committed_without_outputs(path):
    """Outputs are produced when run, never stored: clean diffs, no stale figures."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, (f"{_name(path)}: code cells {dirty} have outputs or execution counts; "
                       f"clear them before committing (jupyter nbconvert --clear-output "
                       f"--inplace {path.relative_to(ROOT)})")


@pytest.mark.parametrize("path", NOTEBOOKS + [FOLDER / "README.md"], ids=_name)
def test_relative_links_resolve(path):
    """Markdown links to files of the repository point at files that exist (a solution sits one
    folder deeper than its notebook)."""
    import re
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    targets = [t.split("#")[0] for t in re.findall(r"\]\(([^)\s]+)\)", text)]
    broken = [t for t in targets if t and "://" not in t and not (path.parent / t).exists()]
    assert not broken, f"{_name(path)}: links to missing files: {broken}"
