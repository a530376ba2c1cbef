"""docs/formulas.md, the formula catalog: complete, each id defined once, every named test real.

The catalog's table of contents is kept here: the numbering of the five course documents'
closed forms (F0.1-F0.6, F1.1-F1.11, F2.1-F2.3, F3.1-F3.11, F4.1-F4.16), the mappings to the
PyTorch layout (M0-M4), and which entries carry an erratum. It was derived once from the
course's catalog, so the test needs nothing outside the repository.

`problems(path)` lists everything wrong with a catalog file. The first test asks for none in
docs/formulas.md; the others break a copy in a temporary directory and ask for the complaint.
"""
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "docs" / "formulas.md"

FORMULAS_PER_DOCUMENT = {0: 6, 1: 11, 2: 3, 3: 11, 4: 16}
# document by document: its formulas, then its mapping
EXPECTED = [i for d, n in FORMULAS_PER_DOCUMENT.items()
            for i in [f"F{d}.{k}" for k in range(1, n + 1)] + [f"M{d}"]]
ERRATA = {"F2.1", "F3.4", "F3.5", "F3.8", "F3.9", "F3.10", "F3.11",
          "F4.10", "F4.11", "F4.13", "F4.14", "F4.15", "F4.16"}

ID = r"(?:F\d+\.\d+|M\d+)"
ANY_ID = re.compile(rf"(?<![\w.])({ID})(?![\w.]*\w)")       # F3.10 but not F3.10a or xM1
DEFINITION = re.compile(rf"^(?:#{{1,6}}[ \t]+({ID})(?![\w.])|\|[ \t]*({ID})[ \t]*\|)", re.M)
SECTION_END = re.compile(r"^#{1,6}[ \t]", re.M)
TEST_REF = re.compile(r"tests/(test_\w+)\.py::(test_\w+)(?:\[([^\]\s`]*)\])?")
MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)


def token(entry):
    """The id as test names spell it: F3.9 -> F3_9_, M3 -> M3_."""
    return entry.replace(".", "_") + "_"


def sections(text):
    """{id: the text of its entry}: from its heading (or table row) to the next heading."""
    out = {}
    for m in DEFINITION.finditer(text):
        entry = m.group(1) or m.group(2)
        if m.group(1):
            nxt = SECTION_END.search(text, m.end())
            out.setdefault(entry, text[m.start():nxt.start() if nxt else len(text)])
        else:
            out.setdefault(entry, text[m.start():text.find("\n", m.start())])
    return out


def named_test(module, name):
    """The named test function, or None. Imports tests/<module>.py as pytest does."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    fn = getattr(mod, name, None)
    return fn if callable(fn) and (ROOT / "tests" / f"{module}.py").exists() else None


def param_ids(fn):
    """Every id a parametrize mark of fn can contribute (explicit ids, else the values)."""
    ids = set()
    for mark in getattr(fn, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        values = mark.args[1]
        given = mark.kwargs.get("ids")
        ids.update(map(str, given) if given is not None else
                   ("-".join(map(str, v)) if isinstance(v, tuple) else str(v) for v in values))
    return ids


def math_problems(text):
    out = []
    prose = MATH.sub("", re.sub(r"`[^`\n]*`", "", text))
    if "$" in prose:
        out.append("an unpaired $ (math that will not render)")
    for m in MATH.finditer(text):
        body = m.group(1) or m.group(2)
        depth = 0
        for ch in re.sub(r"\\[{}]", "", body):
            depth += {"{": 1, "}": -1}.get(ch, 0)
            if depth < 0:
                break
        if depth:
            out.append(f"unbalanced braces in ${body}$")
        if m.group(2) is not None and (body != body.strip() or "\n\n" in body):
            out.append(f"inline math with outer spaces or a blank line: ${body}$")
        if m.group(2) is not None and re.search(r"\\[{},;:! |]", body):
            # a Markdown renderer may read these as escaped punctuation before the math
            out.append(f"inline math with \\{{ \\, \\; ... (use \\lbrace, or none): ${body}$")
    return out


def problems(path):
    """Everything wrong with the catalog at path, as sentences; [] when it is sound."""
    text = Path(path).read_text(encoding="utf-8")
    out = []
    defined = [m.group(1) or m.group(2) for m in DEFINITION.finditer(text)]
    for entry in EXPECTED:
        if defined.count(entry) != 1:
            out.append(f"{entry} is defined {defined.count(entry)} times (a heading or table "
                       "row), not once")
    for entry in sorted(set(defined) - set(EXPECTED)):
        out.append(f"{entry} is defined but is no formula of the documents")
    if [d for d in defined if d in EXPECTED] != [e for e in EXPECTED if e in defined]:
        out.append("the entries are out of order: " + " ".join(defined))
    for entry in sorted(set(ANY_ID.findall(text)) - set(EXPECTED)):
        out.append(f"{entry} is mentioned but is no formula of the documents")

    for entry, body in sections(text).items():
        refs = TEST_REF.findall(body)
        if not any(token(entry) in name for _, name, _ in refs):
            out.append(f"{entry} names no test of its own (test_{token(entry)}...)")
        if ("**Erratum" in body) != (entry in ERRATA):
            out.append(f"{entry}: erratum {'missing' if entry in ERRATA else 'unexpected'}")
        if entry in ERRATA and not any(f"{token(entry)}ERRATUM" in n for _, n, _ in refs):
            out.append(f"{entry} names no test_{token(entry)}ERRATUM_... test")

    for module, name, param in sorted(set(TEST_REF.findall(text))):
        fn = named_test(module, name)
        ref = f"tests/{module}.py::{name}"
        if fn is None:
            out.append(f"{ref} does not exist")
        elif param and not set(param.split("-")) <= param_ids(fn):
            out.append(f"{ref}[{param}]: no such parametrization (ids {sorted(param_ids(fn))})")
    return out + math_problems(text)


# -- the catalog itself ------------------------------------------------------------------------

def test_catalog_is_complete_and_every_named_test_exists():
    assert len(EXPECTED) == 52 and len(set(EXPECTED)) == 52
    assert problems(CATALOG) == []


def test_catalog_sections_are_the_documents():
    """One section per document, 000-004 in order, each headed by the document's own title."""
    titles = re.findall(r"^## Document (\d{3}) — (.+)$", CATALOG.read_text(encoding="utf-8"),
                        re.M)
    assert [n for n, _ in titles] == ["000", "001", "002", "003", "004"]
    assert [t for _, t in titles] == ["2-1 只有一个隐藏层的神经网络 I（一个训练样本）",
                                      "第六章 神经网络", "深度神经网络极简介",
                                      "(ML-2-1) 神经网络", "概念"]


# -- the checker can fail: broken copies in a temporary directory --------------------------------

def broken(tmp_path, old, new, count=1):
    text = CATALOG.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    path = tmp_path / "formulas.md"
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return problems(path)


@pytest.mark.parametrize("old,new,complaint", [
    ("### F2.2 · ", "### ", "F2.2 is defined 0 times"),                          # dropped
    ("### M3 · ", "| M3 | the mapping |\n\n### M3 · ", "M3 is defined 2 times"),  # twice
    ("### F1.10 · ", "### F1.1 · ", "F1.1 is defined 2 times"),                  # renumbered
    ("### F4.16 · ", "### F4.17 · ", "F4.17 is defined but is no formula"),
    ("\n### F0.2 · ", "\n### F0.2b · ", "F0.2 is defined 0 times"),
    ("compare F1.5", "compare F1.12", "F1.12 is mentioned but is no formula"),
    ("::test_F0_4_dJ_dW2", "::test_F0_4_dJ_dW2_renamed", "test_F0_4_dJ_dW2_renamed does not"),
    ("tests/test_formulas_doc002.py::test_F2_2_dL_dw", "tests/test_formulas_doc009.py::"
     "test_F2_2_dL_dw", "test_formulas_doc009.py::test_F2_2_dL_dw does not exist"),
    ("[as_numbered]", "[as_printed]", "[as_printed]: no such parametrization"),
    ("`tests/test_formulas_doc001.py::test_F1_8_example_dJ_dw32`", "the document's example",
     "F1.8 names no test of its own"),
    ("> **Erratum: the bias index.**", "> **Note: the bias index.**", "F3.5: erratum missing"),
    ("The derivative at 0 is set to 0", "> **Erratum.** The derivative at 0 is set to 0",
     "F4.3: erratum unexpected"),
    ("`tests/test_formulas_doc004.py::test_F4_16_ERRATUM_sum_bound_R_is_D_L`", "a test",
     "F4.16 names no test_F4_16_ERRATUM_"),
    ("$\\mathbf D$ is 4×4", "$\\mathbf D is 4×4", "unpaired $"),
    ("\\mathrm{diag}(g) - g\\,g^{T}", "\\mathrm{diag}(g) - g\\,g^{T", "unbalanced braces"),
    ("$y \\in \\lbrace 0, 1\\rbrace$", "$y \\in \\{0, 1\\}$", "inline math with \\{"),
], ids=["dropped", "twice", "renumbered", "unknown_id", "mangled_heading", "unknown_reference",
        "renamed_test", "wrong_module", "wrong_param", "no_own_test", "erratum_missing",
        "erratum_unexpected", "no_erratum_test", "unpaired_dollar", "unbalanced_brace",
        "escaped_brace"])
def test_a_broken_copy_is_caught(tmp_path, old, new, complaint):
    found = broken(tmp_path, old, new)
    assert any(complaint in p for p in found), found


def test_entries_out_of_order_are_caught(tmp_path):
    text = CATALOG.read_text(encoding="utf-8")
    f11 = text.index("### F1.1 · ")
    f12 = text.index("### F1.2 · ")
    f13 = text.index("### F1.3 · ")
    path = tmp_path / "formulas.md"
    path.write_text(text[:f11] + text[f12:f13] + text[f11:f12] + text[f13:], encoding="utf-8")
    assert any("out of order" in p for p in problems(path))
