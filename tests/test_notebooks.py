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


# The five lecture documents, each as it names itself: file (as the course hands it out), title,
# author, and the source it gives (the institution, the date, or the address of the original).
# notebooks/README.md carries the same table; each notebook's first Markdown cell names the
# document it uses. Document 004 names no author, only its original's address: the author here
# is that book's (Daniel Friedman, "Machine Learning from Scratch").
DOCUMENTS = {
    "000": ("000_b7b3d4c968f13b84.txt", "2-1 只有一个隐藏层的神经网络 I", "王中雷",
            "厦门大学王亚南经济研究院和经济学院"),
    "001": ("001_9826b287a8589fe4.txt", "第六章 神经网络", "李旻先", "南京理工大学"),
    "002": ("002_929814c1664ac2cb.txt", "深度神经网络极简介", "许志钦", "xuzhiqin@sjtu.edu.cn"),
    "003": ("003_4b4617ca519233c3.txt", "(ML-2-1) 神经网络", "Shy_Vector", "2025-03-22"),
    "004": ("004_e01b6a90ce021c56.txt", "概念", "Daniel Friedman",
            "dafriedman97.github.io/mlbook/content/c7/concept.html"),
}
# notebook -> the document it follows (None: it goes beyond the five documents); a new notebook
# needs a line here
USES = {"000_one_hidden_layer": "000", "001_softmax_network": "001", "002_two_layer_fit": "002",
        "003_neural_networks": "003", "004_concept": "004", "10_second_derivatives": "000",
        "11_cnn": None, "12_training_health": None}


def _first_markdown(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def _words(text):
    """Line breaks and runs of spaces as one space: a title may wrap in Markdown."""
    return " ".join(text.split())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_name)
def test_first_markdown_cell_names_its_document(path):
    """A reader meets the document's title, author and source before anything else, and learns
    that the notebook restates what it uses (so the document itself is not needed)."""
    assert path.stem in USES, f"{_name(path)}: add it to USES in {Path(__file__).name}"
    text = _words(_first_markdown(path))
    if USES[path.stem] is None:
        assert "none of the five lecture documents" in text, text
        return
    _, title, author, source = DOCUMENTS[USES[path.stem]]
    missing = [s for s in (title, author, source, "restates") if s not in text]
    assert not missing, f"{_name(path)}: the first Markdown cell lacks {missing}"


def test_notebooks_readme_lists_the_documents():
    """notebooks/README.md has one table row per document: file, title, author, source."""
    lines = (FOLDER / "README.md").read_text(encoding="utf-8").splitlines()
    for file, title, author, source in DOCUMENTS.values():
        rows = [line for line in lines if line.startswith("|") and file in line]
        assert len(rows) == 1, f"notebooks/README.md: no single table row for {file}"
        missing = [s for s in (title, author, source) if s not in rows[0]]
        assert not missing, f"notebooks/README.md, the row of {file}, lacks {missing}"


@pytest.mark.parametrize("path", sorted((FOLDER / "solutions").glob("*.ipynb")), ids=_name)
def test_solution_is_the_full_notebook(path):
    """A solution is its notebook with every exercise filled in: the same opening (its links one
    folder deeper), the notebook's section headings, and no TODO left. A training section
    without an exercise may be left out, if a note names it where it was."""
    notebook = FOLDER / path.name
    assert notebook.exists(), f"{_name(path)} has no notebook {notebook.name}"
    assert _first_markdown(path) == _first_markdown(notebook).replace("](../", "](../../")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    todo = [i for i, c in enumerate(cells) if "TODO" in "".join(c["source"])]
    assert not todo, f"{_name(path)}: cells {todo} still say TODO"
    headings = [line for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
                if c["cell_type"] == "markdown" for line in c["source"] if line.startswith("#")]
    text = "\n".join("".join(c["source"]) for c in cells)
    notes = "\n".join("".join(c["source"]) for c in cells if "this copy leaves" in "".join(c["source"]))
    absent = [h.strip() for h in headings if h.strip() not in text]
    unnamed = [h for h in absent if f'"{h.lstrip("#").strip()}"' not in notes]
    assert not unnamed, f"{_name(path)}: the notebook's sections {unnamed} are missing"
