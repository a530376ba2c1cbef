"""The documentation a newcomer reads: a README of one sitting without the project's history,
docs/ops.md naming every op and every primitive with its current rule, and links that resolve.

`python tests/test_docs.py` rewrites the generated table of primitives in docs/ops.md.
"""
import json
import re
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
OPS_MD = DOCS / "ops.md"
BEGIN, END = "<!-- primitives: begin -->", "<!-- primitives: end -->"
PAGES = ["ops.md", "pytorch.md", "internals.md", "performance.md", "guide.md", "examples.md",
         "formulas.md"]


def primitives_table():
    """The Markdown table of autograd_mini.OPS, in the op table's order (name and rule), then
    the words the rules use, as graph.RULE_WORDS explains them where a rule is shown."""
    from autograd_mini.graph import RULE_WORDS
    from autograd_mini.primitives import OPS
    rows = [f"| **`{name}`** | `{_cell(op.rule)}` |" for name, op in OPS.items()]
    words = [f"| `{k[1]}` in `{k[0]}` | {_cell(v)} |" if isinstance(k, tuple)
             else f"| `{k}` | {_cell(v)} |" for k, v in RULE_WORDS.items()]
    return "\n".join(["| primitive | rule |", "|---|---|"] + rows
                     + ["", "| word | in a rule, it means |", "|---|---|"] + words)


def _cell(text):
    """A `|` would end the table cell; GitHub reads `\\|` in a cell, code spans too, as `|`."""
    return text.replace("|", "\\|")


def generated_block(text):
    assert BEGIN in text and END in text, f"docs/ops.md lacks the markers {BEGIN} ... {END}"
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip()


def write_primitives_table():
    text = OPS_MD.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    OPS_MD.write_text(f"{head}{BEGIN}\n{primitives_table()}\n{END}{rest.split(END, 1)[1]}",
                      encoding="utf-8")


# ---------------------------------------------------------------- the README

def test_readme_is_read_in_one_sitting():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move detail to docs/"


@pytest.mark.parametrize("pattern, what", [
    (r"\bissues?\s*#?\d+", "an issue number"),
    (r"#\d+\b", "an issue number"),
    (r"\b(?:API\s+)?v\d+\b", "a version of the API"),
    (r"\bversion\s+\d+\b", "a version of the API"),
    (r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b", "a commit hash"),
])
def test_readme_has_no_history(pattern, what):
    """The README says what the project is today; history lives in git."""
    found = re.findall(pattern, README.read_text(encoding="utf-8"), flags=re.I)
    assert not found, f"README.md names {what}: {found}"


def test_history_patterns_catch_what_they_must():
    """The patterns above are not vacuous."""
    text = "see issue 12 and API v2 (commit 7fd5f49), version 3"
    assert re.search(r"\bissues?\s*#?\d+", text) and re.search(r"\b(?:API\s+)?v\d+\b", text)
    assert re.search(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,40}\b", text)
    assert re.search(r"\bversion\s+\d+\b", text)


def test_readme_links_every_docs_page():
    text = README.read_text(encoding="utf-8")
    missing = [p for p in PAGES if f"](docs/{p}" not in text]
    assert not missing, f"README.md does not link docs/{missing}"


def test_ci_runs_the_readmes_test_command():
    readme = README.read_text(encoding="utf-8")
    command = 'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev,examples]" && pytest'
    assert command in readme.splitlines(), "README.md's test command changed: update .ci/run too"
    ci = (ROOT / ".ci" / "run").read_text() if (ROOT / ".ci" / "run").exists() else None
    if ci is None:
        pytest.skip("no .ci/run (an unpacked sdist)")
    assert re.search(r'pip install (-q )?-e "\.\[dev,examples\]" && pytest\b', ci)


FENCE = re.compile(r"(<!-- \w+: verify -->\n)?^( *)```(\w*)\n(.*?)^\2```[ \t]*$", re.S | re.M)


def page_code(path):
    """[(python source, the output block shown right after it or None)] of a Markdown page, in
    order, without the blocks marked `<!-- ...: verify -->` (features whose examples the lead
    still checks against their implementation)."""
    text = path.read_text(encoding="utf-8")
    blocks = list(FENCE.finditer(text))
    out = []
    for k, m in enumerate(blocks):
        if m.group(3) != "python" or m.group(1):
            continue
        nxt = blocks[k + 1] if k + 1 < len(blocks) else None
        shown = (textwrap.dedent(nxt.group(4)) if nxt is not None and nxt.group(3) == ""
                 and text[m.end():nxt.start()].strip() == "" else None)
        out.append((textwrap.dedent(m.group(4)), shown))
    return out


@pytest.mark.requires_dot
@pytest.mark.parametrize("name", ["README.md", "docs/guide.md", "docs/pytorch.md", "docs/ops.md"])
def test_page_code_runs_and_prints_what_it_shows(name, tmp_path, monkeypatch, capsys):
    """A page's python blocks run in order in one namespace, as a reader pastes them; a block
    followed by an output block prints exactly that; a block that raises says so, with the
    error's class, in a comment (`# LabelError: ...`)."""
    monkeypatch.chdir(tmp_path)                     # the blocks write model.npz, loss.png, ...
    code = page_code(ROOT / name)
    assert code, f"{name}: no python blocks found"
    namespace = {}
    for source, shown in code:
        capsys.readouterr()
        try:
            exec(compile(source, name, "exec"), namespace)
        except Exception as err:
            if not re.search(rf"^\s*# {type(err).__name__}:", source, flags=re.M):
                raise
            continue
        if shown is not None:
            assert capsys.readouterr().out == shown, source


def test_page_code_finds_indented_blocks_outputs_and_skips_verify_marks():
    text = ("<!-- x: verify -->\n```python\nskipped()\n```\n\n- item\n\n  ```python\n"
            "  print(1)\n  ```\n\n  ```\n  1\n  ```\n")
    path = Path(__import__("tempfile").mkdtemp()) / "page.md"
    path.write_text(text, encoding="utf-8")
    assert page_code(path) == [("print(1)\n", "1\n")]


# ---------------------------------------------------------------- docs/ops.md

def test_ops_md_marks_every_primitive_with_its_current_rule():
    from autograd_mini.primitives import OPS
    block = generated_block(OPS_MD.read_text(encoding="utf-8"))
    marked = re.findall(r"^\| \*\*`(\w+)`\*\* \|", block, flags=re.M)
    assert sorted(marked) == sorted(OPS), (
        f"docs/ops.md marks {sorted(set(marked) ^ set(OPS))} wrongly as primitives or not at all")
    assert block == primitives_table(), (
        "docs/ops.md's table of primitives is out of date: run `python tests/test_docs.py`")


def test_ops_md_names_every_functional_op():
    import autograd_mini.functional as F
    text = OPS_MD.read_text(encoding="utf-8")
    named = set()
    for span in re.findall(r"`([^`]+)`", text):
        named.update(span.split())
    missing = sorted(n for n in F.__all__ if n not in named)
    assert not missing, f"docs/ops.md does not list these ops of F.__all__: {missing}"


def test_the_generated_table_escapes_a_pipe():
    assert _cell("a | b") == "a \\| b"


# ---------------------------------------------------------------- links

def _slug(heading):
    """GitHub's anchor of a Markdown heading."""
    s = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return s.replace(" ", "-")


def _anchors(path):
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def _markdown(path):
    """A page's text, or a notebook's markdown cells, without code blocks."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = json.loads(text)["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return re.sub(r"```.*?```", "", text, flags=re.S)


NOTEBOOKS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "notebooks").rglob("*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("name", ["README.md"] + [f"docs/{p}" for p in PAGES] + NOTEBOOKS)
def test_links_resolve(name):
    """Relative links point at files that exist, and #anchors at headings of their page."""
    path = ROOT / name
    text = _markdown(path)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if "://" in target or target.startswith("mailto:"):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file) if file else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(target)
    assert not broken, f"{name}: broken links {broken}"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    write_primitives_table()
    print(f"rewrote the table of primitives in {OPS_MD.relative_to(ROOT)}")


@pytest.mark.requires_dot
def test_the_compiled_step_shown_in_the_readme_is_what_compile_prints(tmp_path, monkeypatch,
                                                                       capsys):
    """The README shows the step function of its tour's compiled MLP: it must be the one
    `step.source` ends with, line for line, after the README's own code has run."""
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for source, _ in page_code(ROOT / "README.md"):
        try:
            exec(compile(source, "README.md", "exec"), namespace)
        except Exception as err:
            if not re.search(rf"^\s*# {type(err).__name__}:", source, flags=re.M):
                raise
        if "autograd_mini.compile(" in source:
            break
    capsys.readouterr()
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"^```\n(def step\(.*?)^```", text, flags=re.S | re.M).group(1)
    source = namespace["step"].source
    assert source.endswith(shown), (shown, source[source.index("def step("):])
