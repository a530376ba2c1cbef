"""replay_backward's page in a real browser: headless Debian Chromium driven by Selenium.

One browser for the module. Each page is opened from file://, and each test checks that the
console stayed free of errors and that nothing but the file itself (and data: URLs) was
requested. Skipped, with the install advice, when Chromium, its driver or selenium is missing.
Set REPLAY_SCREENSHOTS=DIR to keep the screenshots the tests take.
"""
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd_mini.functional as F
from autograd_mini import Tensor, replay_backward
from test_replay import doc000

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium")) if p and
                 os.path.exists(p)), None)
DRIVER = next((p for p in ("/usr/bin/chromedriver", shutil.which("chromedriver")) if p and
               os.path.exists(p)), None)
INSTALL = ("needs headless Chromium, its driver and selenium: 'sudo apt-get install chromium "
           "chromium-driver' (Debian/Ubuntu) and 'pip install -e \".[dev]\"' (selenium)")
try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    pytest.skip(INSTALL, allow_module_level=True)
if CHROMIUM is None or DRIVER is None:
    pytest.skip(INSTALL, allow_module_level=True)

pytestmark = pytest.mark.requires_dot
# no sandbox and no /dev/shm: CI runs as root, maybe in a container; nothing in the background
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1600,1040"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # Service with the Debian driver's path: Selenium Manager downloads nothing
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def doc_page(tmp_path_factory):
    """Document 000's page, and its replay's data as the page holds it."""
    J, t, v = doc000(seed=3, y=0.0)
    replay = replay_backward(J, rankdir="TB")
    path = replay.save(tmp_path_factory.mktemp("pages") / "doc000.html")
    return path, replay._data, v


# -- Jupyter's output areas, as fixtures ----------------------------------------------------
# The few rules of Jupyter's own CSS that bear on an HTML output, with JupyterLab's variables
# replaced by their default values: JupyterLab's rendermime and outputarea style/base.css, and
# the classic notebook's style as nbconvert's classic template inlines it. The notebook is
# 1000 px wide, as on a laptop with JupyterLab's side bar open.
LAB_CSS = """
body { margin: 0; font-family: sans-serif; }
.jp-Notebook { width: 1000px; padding: 8px; }
.jp-OutputArea { overflow-y: auto; }
.jp-OutputArea-child { display: flex; flex-direction: row; }
.jp-OutputPrompt { flex: 0 0 64px; padding: 5px; font-size: 13px; text-align: right; }
.jp-OutputArea-output { height: auto; overflow: auto; }
.jp-OutputArea-child .jp-OutputArea-output { flex-grow: 1; flex-shrink: 1; }
.jp-RenderedHTMLCommon { font-size: 14px; line-height: 1.6; padding-right: 20px; }
.jp-RenderedHTMLCommon img, .jp-RenderedHTMLCommon svg { max-width: 100%; height: auto; }
.jp-RenderedHTMLCommon table { border-collapse: collapse; border-spacing: 0; border: none;
  font-size: 13px; table-layout: fixed; margin-left: auto; margin-bottom: 1em;
  margin-right: auto; }
.jp-OutputArea-output.jp-RenderedHTMLCommon table { margin-left: 0; margin-right: 0; }
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon tr {
  vertical-align: middle; padding: 0.5em; line-height: normal; white-space: normal;
  max-width: none; border: none; }
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon td,
:not(.jp-RenderedMarkdown).jp-RenderedHTMLCommon tr { text-align: right; }
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) { background: #fff; }
.jp-RenderedHTMLCommon tbody tr:nth-child(even) { background: #f5f5f5; }
"""
CLASSIC_CSS = """
body { margin: 0; font-family: sans-serif; font-size: 13px; }
#notebook-container { width: 1000px; padding: 15px; }
div.output_area { display: flex; flex-direction: row; }
div.prompt { min-width: 14ex; padding: 0.4em; text-align: right; }
div.output_area img, div.output_area svg { max-width: 100%; height: auto; }
div.output_subarea { overflow-x: auto; padding: 0.4em; flex: 1; max-width: calc(100% - 14ex); }
.rendered_html table { margin-left: auto; margin-right: auto; border: none;
  border-collapse: collapse; border-spacing: 0; color: black; font-size: 12px;
  table-layout: fixed; }
.rendered_html tr, .rendered_html th, .rendered_html td { text-align: right;
  vertical-align: middle; padding: 0.5em; line-height: normal; white-space: normal;
  max-width: none; border: none; }
.rendered_html tbody tr:nth-child(odd) { background: #f5f5f5; }
"""
# JupyterLab sets an output's HTML as innerHTML, then replaces each <script> by a fresh copy so
# that it runs (rendermime's evalInnerHTMLScriptTags): the fixture does the same. The classic
# notebook app (jQuery's html()) runs a copy of each JavaScript one in <head> instead, leaving
# the others (the JSON data) in place: flavour "lab-head".
LAB_LOADER = """<script>
document.querySelectorAll("template[data-output]").forEach(function (t) {
  var out = document.getElementById(t.getAttribute("data-output"));
  out.innerHTML = t.innerHTML;
  Array.from(out.getElementsByTagName("script")).forEach(function (old) {
    var s = document.createElement("script");
    Array.from(old.attributes).forEach(function (a) { s.setAttribute(a.name, a.value); });
    s.textContent = old.textContent;
    RUN;
  });
});
</script>"""


def notebook_page(fragments, flavour="lab"):
    """A notebook as JupyterLab ("lab") or nbconvert's classic template ("classic") shows it,
    one code cell per `_repr_html_()` fragment, with a markdown cell between them."""
    cells, templates = [], []
    for k, fragment in enumerate(fragments):
        if flavour.startswith("lab"):
            cells.append(
                '<div class="jp-Cell jp-CodeCell"><div class="jp-OutputArea">'
                '<div class="jp-OutputArea-child"><div class="jp-OutputPrompt">[%d]:</div>'
                '<div class="jp-RenderedHTMLCommon jp-RenderedHTML jp-OutputArea-output" '
                'data-mime-type="text/html" id="output%d"></div></div></div></div>' % (k + 1, k))
            templates.append(f'<template data-output="output{k}">{fragment}</template>')
        else:
            cells.append(
                '<div class="cell code_cell"><div class="output_wrapper"><div class="output">'
                '<div class="output_area"><div class="prompt output_prompt">Out[%d]:</div>'
                '<div class="output_html rendered_html output_subarea output_execute_result">'
                '%s</div></div></div></div></div>' % (k + 1, fragment))
        cells.append('<div class="text_cell"><p>A markdown cell between the outputs.</p></div>')
    lab = flavour.startswith("lab")
    run = ("old.parentNode.replaceChild(s, old)" if flavour == "lab" else
           "if (!old.type) { old.remove(); document.head.appendChild(s); }")
    loader = LAB_LOADER.replace("RUN", run)
    body = ('<div class="jp-Notebook">' if lab else '<div id="notebook-container">') + \
        "".join(cells) + "</div>" + "".join(templates) + (loader if lab else "")
    css = LAB_CSS if lab else CLASSIC_CSS
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>" + css +
            "</style></head><body>" + body + "</body></html>")


def notebook000_replay():
    """Notebook 000's replay cell: its code cells run in order up to that cell's own code."""
    nb = json.loads((ROOT / "notebooks" / "000_one_hidden_layer.ipynb").read_text("utf-8"))
    scope = {}
    with contextlib.redirect_stdout(io.StringIO()):  # the cells' prints
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            if "replay_backward(" in source:
                exec(source.rsplit("\n", 1)[0], scope)  # all but the last line, the display
                return scope["replay"]
            exec(source, scope)
    raise AssertionError("notebook 000 has no replay cell")


def deep_chain(layers=100):
    """300 ops (mul, add, tanh per layer) and a sum; 200 parameter leaves."""
    rng = np.random.default_rng(0)
    h = Tensor(rng.standard_normal(3))
    for i in range(layers):
        w = Tensor(rng.uniform(0.5, 1.5, 3), requires_grad=True)
        b = Tensor(rng.standard_normal(3) * 0.1, requires_grad=True)
        w.name, b.name = f"w{i}", f"b{i}"
        h = (h * w + b).tanh()
    return h.sum()


def open_page(browser, path):
    for log in ("browser", "performance"):  # reading a log empties it: keep this page's only
        browser.get_log(log)
    browser.get(Path(path).resolve().as_uri())
    return browser


def assert_clean(browser, path):
    """No console message of level SEVERE or WARNING, and no request by the page but for the page
    itself and data: URLs (the browser's own start page may still be loading its resources)."""
    logs = browser.get_log("browser")
    assert not [e for e in logs if e["level"] in ("SEVERE", "WARNING")], logs
    uri = Path(path).resolve().as_uri()
    urls = []
    for entry in browser.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent" and (
                msg["params"].get("documentURL") == uri or msg["params"]["request"]["url"] == uri):
            urls.append(msg["params"]["request"]["url"])
    assert urls and all(u == uri or u.startswith("data:") for u in urls), urls


def index(browser):
    return browser.find_element(By.CSS_SELECTOR, '[data-role="step-index"]').text


STATE = """
var r = document.querySelector('.amr-replay'), p = r.getAttribute('data-prefix') + '-';
if (arguments[0]) r.querySelector('[data-action="' + arguments[0] + '"]').click();
return [r.querySelector('[data-role="step-index"]').textContent,
        Array.from(r.querySelectorAll('svg g.node.current')).map(
          function (g) { return g.id.slice(p.length); })];"""


def state(browser, action=None):
    """(step index text, the graph's id of the one node marked current), after clicking the
    button of `action` (a click event, in the same round trip)."""
    text, found = browser.execute_script(STATE, action)
    assert len(found) == 1, found
    return text, found[0]


def current(browser):
    return state(browser)[1]


def classes(browser, kind):
    """{graph id: state class} of the SVG nodes or edges."""
    return browser.execute_script(
        "var r = document.querySelector('.amr-replay'), p = r.getAttribute('data-prefix') + '-';"
        "var out = {}; r.querySelectorAll('svg g.' + arguments[0]).forEach(function (g) {"
        "  var c = ['current', 'done', 'queued', 'later', 'nograd', 'flow', 'passed'].filter("
        "    function (x) { return g.classList.contains(x); });"
        "  out[g.id.slice(p.length)] = c.join(' '); }); return out;", kind)


def click(browser, action):
    browser.find_element(By.CSS_SELECTOR, f'[data-action="{action}"]').click()


def key(browser, k):
    browser.find_element(By.TAG_NAME, "body").send_keys(k)


def detail(browser):
    return browser.find_element(By.CSS_SELECTOR, '[data-role="step-detail"]').text


def shot(browser, tmp_path, name):
    keep = os.environ.get("REPLAY_SCREENSHOTS")
    folder = Path(keep) if keep else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    browser.save_screenshot(str(path))
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    return path


def test_buttons_and_arrow_keys_move_the_step_and_the_highlight(browser, doc_page, tmp_path):
    path, data, _ = doc_page
    ids, n = [s["node"] for s in data["steps"]], len(data["steps"])
    open_page(browser, path)
    assert state(browser) == (f"1 / {n}", ids[0]) and ids[0] == "output0"
    click(browser, "next")  # a click by WebDriver, as a user's
    assert state(browser) == (f"2 / {n}", ids[1])
    assert state(browser, "last") == (f"{n} / {n}", ids[-1])
    assert state(browser, "next") == (f"{n} / {n}", ids[-1])  # stays at the end
    assert state(browser, "prev") == (f"{n - 1} / {n}", ids[-2])
    assert state(browser, "first") == (f"1 / {n}", ids[0])
    assert state(browser, "prev") == (f"1 / {n}", ids[0])  # stays at the start
    for k in range(2, 5):
        key(browser, Keys.ARROW_RIGHT)
        assert state(browser) == (f"{k} / {n}", ids[k - 1])
    key(browser, Keys.ARROW_LEFT)
    assert state(browser) == (f"3 / {n}", ids[2])
    key(browser, Keys.END)
    assert index(browser) == f"{n} / {n}"
    key(browser, Keys.HOME)
    assert index(browser) == f"1 / {n}"
    # the slider, as a mouse or touch moves it
    browser.execute_script(
        "var s = document.querySelector('[data-role=slider]'); s.value = 7;"
        "s.dispatchEvent(new Event('input', {bubbles: true}));")
    assert state(browser) == (f"7 / {n}", ids[6])
    shot(browser, tmp_path, "doc000_step7")
    assert_clean(browser, path)


def test_nodes_and_edges_are_shaded_by_their_state(browser, doc_page):
    path, data, _ = doc_page
    steps = data["steps"]
    k = next(i for i, s in enumerate(steps) if any(e["to"] == "W[2]" for e in s["sent"]))
    open_page(browser, path)
    for _ in range(k):
        state(browser, "next")
    nodes, edges = classes(browser, "node"), classes(browser, "edge")
    step = steps[k]
    assert nodes[step["node"]] == "current"
    assert all(nodes[s["node"]] == "done" for s in steps[:k])  # ops that ran: done
    assert all(nodes[s["node"]] == "later" for s in steps[k + 1:] if s["node"] not in
               {e["id"] for e in step["sent"]})
    ids = {e["to"]: e["id"] for e in step["sent"]}
    assert nodes[ids["W[2]"]] == "done"        # a leaf that now has its gradient
    assert nodes[ids["a[1]"]] == "queued"      # an op whose gradient arrived, still to run
    w1 = next(leaf["id"] for leaf in data["leaves"] if leaf["name"] == "W[1]")
    assert nodes[w1] == "later"
    x = next(i for i, c in nodes.items() if i.startswith("data"))
    assert nodes[x] == "nograd"
    flowing = sorted(i for i, c in edges.items() if c == "flow")
    assert flowing == sorted(f"{step['node']}-{e['i']}" for e in step["sent"])
    passed = {i for i, c in edges.items() if c == "passed"}
    assert passed == {f"{s['node']}-{e['i']}" for s in steps[:k] for e in s["sent"]}
    assert_clean(browser, path)


def test_detail_panel_shows_the_op_its_rule_and_the_values(browser, doc_page, tmp_path):
    path, data, v = doc_page
    steps = data["steps"]
    k = next(i for i, s in enumerate(steps) if s["title"] == "z[2] = add")
    open_page(browser, path)
    text = detail(browser)
    assert "neg" in text and "dx = -g" in text and "J = neg" not in text.split("\n")[1]
    for _ in range(k):
        state(browser, "next")
    text = detail(browser)
    a2_minus_y = f"{(v['a2'] - v['y']).item():.4g}"
    lines = text.split("\n")
    assert lines[0] == f"step {k + 1} of {len(steps)}" and lines[1] == "add"
    assert "z[2] = add" in lines and "da = g, db = g" in lines
    assert lines[lines.index("gradient arriving: g = ∂J/∂z[2]") + 1] == a2_minus_y
    assert lines[lines.index("to b[2] (input a)") + 1] == a2_minus_y  # F0.3
    table = {r.get_attribute("data-leaf"): r for r in browser.find_elements(
        By.CSS_SELECTOR, "[data-role=step-detail] tr[data-leaf]")}
    assert set(table) == {"W[1]", "b[1]", "W[2]", "b[2]"}
    assert table["b[2]"].text.split() == ["b[2]", a2_minus_y]
    assert "amr-fresh" in table["b[2]"].get_attribute("class")     # updated at this step
    assert table["W[1]"].text.split() == ["W[1]", "none", "yet"]
    # W[1]'s gradient (4 x 3, F0.6) as a matrix of its 12 values, at the last step
    state(browser, "last")
    a1, W2, x = v["a1"], v["W2"], v["x"]
    F06 = (v["a2"] - v["y"]) * np.diag((a1 * (1 - a1)).ravel()) @ W2.T @ x.T
    cells = [c.text for c in table_cells(browser, "W[1]")]
    assert cells == [f"{c + 0:.4g}" for c in F06.ravel()]
    shot(browser, tmp_path, "doc000_last")
    assert_clean(browser, path)


def table_cells(browser, leaf):
    return browser.find_elements(
        By.CSS_SELECTOR, f'[data-role=step-detail] tr[data-leaf="{leaf}"] table.amr-m td')


def test_play_advances_by_itself_and_pauses(browser, doc_page):
    path, data, _ = doc_page
    n = len(data["steps"])
    open_page(browser, path)
    click(browser, "play")
    deadline = time.time() + 5
    while index(browser) == f"1 / {n}" and time.time() < deadline:
        time.sleep(0.1)
    assert index(browser) == f"2 / {n}"
    while index(browser) == f"2 / {n}" and time.time() < deadline:
        time.sleep(0.1)
    assert index(browser) == f"3 / {n}" and current(browser) == data["steps"][2]["node"]
    click(browser, "play")  # pause
    paused = index(browser)
    time.sleep(1.2)
    assert index(browser) == paused
    assert_clean(browser, path)


def test_two_replays_on_one_page_do_not_clash(browser, tmp_path):
    """As in a notebook: two _repr_html_ fragments of the same graph in one document."""
    fragments = [replay_backward(doc000(seed=5)[0])._repr_html_() for _ in range(2)]
    path = tmp_path / "notebook.html"
    path.write_text("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>" +
                    "<p>cell output</p>".join(fragments) + "</body></html>", encoding="utf-8")
    open_page(browser, path)
    roots = browser.find_elements(By.CSS_SELECTOR, ".amr-replay")
    assert len(roots) == 2

    def state(r):
        return (r.find_element(By.CSS_SELECTOR, '[data-role="step-index"]').text,
                len(r.find_elements(By.CSS_SELECTOR, "svg g.node.current")))

    assert [state(r) for r in roots] == [("1 / 13", 1), ("1 / 13", 1)]
    roots[1].find_element(By.CSS_SELECTOR, '[data-action="last"]').click()
    assert [state(r) for r in roots] == [("1 / 13", 1), ("13 / 13", 1)]
    roots[0].find_element(By.CSS_SELECTOR, '[data-action="next"]').click()
    roots[0].send_keys(Keys.ARROW_RIGHT)  # keys go to the replay that has the focus
    assert [state(r) for r in roots] == [("3 / 13", 1), ("13 / 13", 1)]
    key(browser, Keys.ARROW_RIGHT)  # elsewhere on the page: neither moves
    assert [state(r) for r in roots] == [("3 / 13", 1), ("13 / 13", 1)]
    assert_clean(browser, path)


def test_a_300_op_page_opens_quickly_and_steps_fast(browser, tmp_path, record_property):
    loss = deep_chain()
    start = time.perf_counter()
    replay = replay_backward(loss, max_nodes=None)
    path = replay.save(tmp_path / "deep.html")
    build = time.perf_counter() - start
    assert len(replay.steps) == 301
    start = time.perf_counter()
    open_page(browser, path)  # returns after the load event: the script has run
    assert index(browser) == "1 / 301"
    opened = time.perf_counter() - start
    nav = browser.execute_script(
        "var e = performance.getEntriesByType('navigation')[0]; return e.loadEventEnd;")
    per_step = browser.execute_script(
        "var r = document.querySelector('.amr-replay'), b = r.querySelector("
        "'[data-action=next]'), t = performance.now();"
        "for (var i = 0; i < 100; i++) b.click();"
        "document.body.offsetHeight; return (performance.now() - t) / 100;")
    assert index(browser) == "101 / 301"
    record_property("replay_300_ops", dict(build_s=build, open_s=opened, load_event_ms=nav,
                                           step_ms=per_step, html_bytes=path.stat().st_size))
    print(f"\n300-op page: built and saved in {build:.2f} s ({path.stat().st_size:,} bytes), "
          f"opened in {opened:.2f} s (load event at {nav:.0f} ms), {per_step:.1f} ms per step")
    assert opened < 10 and per_step < 100
    shot(browser, tmp_path, "deep_step101")
    assert_clean(browser, path)


def test_example_writes_the_page_and_a_screenshot(tmp_path):
    pytest.importorskip("sklearn", reason="the example needs the 'examples' extra")
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "replay_doc000.py"), "--quick",
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert re.search(r"F0\.4 .*max difference (\S+)", run.stdout)
    assert float(re.search(r"max difference (\S+)", run.stdout).group(1)) < 1e-12
    assert (tmp_path / "replay_doc000.html").stat().st_size > 20_000
    png = (tmp_path / "replay_doc000.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
    assert "screenshot of step 10 / 13" in run.stdout


def test_example_without_chromium_writes_the_page_and_says_how_to_get_the_screenshot(
        tmp_path, monkeypatch, capsys):
    pytest.importorskip("sklearn", reason="the example needs the 'examples' extra")
    monkeypatch.syspath_prepend(str(ROOT / "examples"))  # as when run as a script: _common
    spec = importlib.util.spec_from_file_location("replay_doc000",
                                                  ROOT / "examples" / "replay_doc000.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    real_which = shutil.which
    monkeypatch.setattr(example.shutil, "which",
                        lambda name: None if "chrom" in name else real_which(name))
    monkeypatch.setattr(sys, "argv", ["replay_doc000.py", "--out", str(tmp_path)])
    example.main()
    out = capsys.readouterr().out
    assert (tmp_path / "replay_doc000.html").exists()
    assert not (tmp_path / "replay_doc000.png").exists()
    assert "apt-get install chromium chromium-driver" in out and "go to step 10" in out


# -- inside a notebook ---------------------------------------------------------------------------

MEASURE = """
var r = document.querySelectorAll('.amr-replay')[arguments[0]], svg = r.querySelector('svg');
var box = r.querySelector('.amr-graph'), b = box.getBoundingClientRect();
var area = r.parentNode, p = r.getAttribute('data-prefix') + '-';
var cur = r.querySelector('svg g.node.current'), c = cur && cur.getBoundingClientRect();
function heights(sel) {
  return Array.from(svg.querySelectorAll(sel)).map(function (t) {
    return t.getBoundingClientRect().height; });
}
return {index: r.querySelector('[data-role="step-index"]').textContent,
        zoom: r.getAttribute('data-zoom'),
        node: cur && cur.id.slice(p.length),
        svg_width: svg.getBoundingClientRect().width,
        natural_width: parseFloat(svg.getAttribute('width')) * 4 / 3,
        node_text: heights('g.node text'), all_text: heights('text'),
        box: [box.clientWidth, box.scrollWidth],
        area: [area.clientWidth, area.scrollWidth, r.getBoundingClientRect().width],
        current_in_box: !!c && c.left >= b.left + box.clientLeft - 0.5 &&
          c.right <= b.left + box.clientLeft + box.clientWidth + 0.5 &&
          c.top >= b.top + box.clientTop - 0.5 &&
          c.bottom <= b.top + box.clientTop + box.clientHeight + 0.5};"""


def measure(browser, k):
    """Replay k of the page: its step, zoom, current node, the rendered heights of its SVG's
    texts (getBoundingClientRect), its graph box and the output area around it."""
    return browser.execute_script(MEASURE, k)


def press(browser, k, action):
    browser.find_elements(By.CSS_SELECTOR, ".amr-replay")[k].find_element(
        By.CSS_SELECTOR, f'[data-action="{action}"]').click()


@pytest.mark.parametrize("flavour", ["lab", "classic"])
def test_in_a_notebook_the_graph_stays_readable_zooms_and_follows_the_step(browser, tmp_path,
                                                                           flavour):
    """Notebook 000's replay cell, displayed twice, inside JupyterLab's output CSS and the
    classic notebook's (nbconvert): labels of at least 9 px, the graph box scrolling sideways
    inside an output area that keeps its width, a zoom that changes the size, and the current
    node scrolled into view at every step."""
    replay = notebook000_replay()
    path = tmp_path / f"notebook_{flavour}.html"
    path.write_text(notebook_page([replay._repr_html_(), replay._repr_html_()], flavour),
                    encoding="utf-8")
    open_page(browser, path)
    assert len(browser.find_elements(By.CSS_SELECTOR, ".amr-replay")) == 2
    n = len(replay._data["steps"])
    ids = [s["node"] for s in replay._data["steps"]]
    for k in (0, 1):
        m = measure(browser, k)
        assert m["zoom"] == "fit" and m["index"] == f"1 / {n}" and m["node"] == ids[0]
        assert min(m["node_text"]) >= 9 and min(m["all_text"]) >= 9, m
        # wider than the area: the graph box scrolls, the output area keeps its width
        assert m["svg_width"] > m["box"][0] and m["box"][1] > m["box"][0] + 100, m
        assert m["area"][1] <= m["area"][0] + 1 and m["area"][2] <= m["area"][0] + 1, m
        assert m["current_in_box"], m  # the output node, at the right end: scrolled to it
    fitted = measure(browser, 0)
    press(browser, 0, "zoom")
    large = measure(browser, 0)
    assert large["zoom"] == "natural" and abs(large["svg_width"] - large["natural_width"]) < 1
    assert large["svg_width"] > 1.5 * fitted["svg_width"]
    assert min(large["node_text"]) > 1.5 * min(fitted["node_text"])
    assert measure(browser, 1)["svg_width"] == fitted["svg_width"]  # the other display: as it was
    assert browser.find_elements(By.CSS_SELECTOR, '.amr-replay [data-action="zoom"]')[0].text == \
        "zoom: 100%"
    for zoom in ("natural", "fit"):
        for k in range(n):  # every step: its node in the box, whichever way the box must scroll
            m = measure(browser, 0)
            assert m["zoom"] == zoom and m["index"] == f"{k + 1} / {n}" and m["node"] == ids[k]
            assert m["current_in_box"], (k, m)
            press(browser, 0, "next")
        press(browser, 0, "first")
        press(browser, 0, "zoom") if zoom == "natural" else None
    assert abs(measure(browser, 0)["svg_width"] - fitted["svg_width"]) < 1  # fitted again
    assert measure(browser, 1)["index"] == f"1 / {n}"  # the other display did not move
    assert_clean(browser, path)


def test_in_a_notebook_two_replays_keep_their_own_ids_keys_and_steps(browser, tmp_path):
    """Two replays and one of them displayed twice, in JupyterLab's output CSS: every id on
    the page is unique, each root takes its arrow keys only while it has the focus, and a
    small graph is fitted to its output area, larger than its natural size."""
    small = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    r1, r2 = notebook000_replay(), replay_backward((small * 3.0).tanh().sum())
    path = tmp_path / "notebook_two.html"
    path.write_text(notebook_page([r1._repr_html_(), r2._repr_html_(), r1._repr_html_()]),
                    encoding="utf-8")
    open_page(browser, path)
    ids = browser.execute_script(
        "return Array.from(document.querySelectorAll('[id]')).map(function (e) { return e.id; })")
    assert len(ids) == len(set(ids)) and sum(i.startswith("output") for i in ids) == 3
    roots = browser.find_elements(By.CSS_SELECTOR, ".amr-replay")
    n1, n2 = len(r1._data["steps"]), len(r2._data["steps"])
    m = measure(browser, 1)  # the small graph: fitted to the area, so larger than natural
    assert m["zoom"] == "fit" and m["svg_width"] > m["natural_width"] * 1.2
    assert m["svg_width"] <= m["box"][0] and m["box"][1] <= m["box"][0] + 1
    press(browser, 1, "zoom")
    assert abs(measure(browser, 1)["svg_width"] - m["natural_width"]) < 1

    def indices():
        return [measure(browser, k)["index"] for k in range(3)]

    roots[2].click()  # a click in a replay gives it the focus
    roots[2].send_keys(Keys.ARROW_RIGHT)
    roots[2].send_keys(Keys.ARROW_RIGHT)
    assert indices() == [f"1 / {n1}", f"1 / {n2}", f"3 / {n1}"]
    roots[1].send_keys(Keys.END)
    assert indices() == [f"1 / {n1}", f"{n2} / {n2}", f"3 / {n1}"]
    roots[0].send_keys(Keys.END)
    roots[0].send_keys(Keys.ARROW_LEFT)
    roots[2].send_keys(Keys.HOME)
    assert indices() == [f"{n1 - 1} / {n1}", f"{n2} / {n2}", f"1 / {n1}"]
    key(browser, Keys.ARROW_RIGHT)  # the page's body has the focus: no replay moves
    assert indices() == [f"{n1 - 1} / {n1}", f"{n2} / {n2}", f"1 / {n1}"]
    assert [measure(browser, k)["node"] for k in (0, 2)] == [r1._data["steps"][-2]["node"],
                                                             r1._data["steps"][0]["node"]]
    assert_clean(browser, path)


def test_the_cross_entropy_step_shows_the_textbook_rule_and_its_words(browser, tmp_path):
    z = Tensor(np.random.default_rng(4).standard_normal((6, 3)), requires_grad=True)
    path = replay_backward(F.cross_entropy(z.tanh(), np.array([0, 2, 1, 1, 0, 2]))).save(
        tmp_path / "ce.html")
    open_page(browser, path)
    lines = detail(browser).split("\n")
    assert lines[1] == "cross_entropy"
    rule = browser.find_element(By.CSS_SELECTOR, '[data-role="rule"]').text
    assert rule.startswith("dz = g * (softmax(z) - onehot(y)) / N  (z = input")
    words = browser.find_element(By.CSS_SELECTOR, '[data-role="rule-words"]').text.split("\n")
    assert [w.split("(")[0].split(":")[0] for w in words] == ["softmax", "onehot", "N"]
    state(browser, "next")
    assert browser.find_element(By.CSS_SELECTOR, '[data-role="rule-words"]').text == \
        "out: the op's output"  # tanh: dx = g * (1 - out^2)
    assert_clean(browser, path)


@pytest.mark.parametrize("flavour", ["lab", "lab-head", "classic"])
def test_two_outputs_with_the_same_ids_still_play_each_on_its_own(browser, tmp_path, flavour):
    """The same fragment twice, ids and all (a notebook's saved output beside one of a new
    kernel that numbered its replays alike), with the script run in place, in <head> (the
    classic app's jQuery), or parsed with the page (nbconvert): each root is set up once."""
    replay = replay_backward(doc000(seed=6)[0])
    fragment = replay._repr_html_()
    path = tmp_path / f"same_ids_{flavour}.html"
    path.write_text(notebook_page([fragment, fragment], flavour), encoding="utf-8")
    open_page(browser, path)
    n = len(replay._data["steps"])
    ready = browser.execute_script("return Array.from(document.querySelectorAll('.amr-replay'))"
                                   ".map(function (r) { return r.getAttribute('data-ready'); })")
    assert ready == ["1", "1"]
    press(browser, 1, "last")
    press(browser, 0, "next")
    assert [measure(browser, k)["index"] for k in (0, 1)] == [f"2 / {n}", f"{n} / {n}"]
    assert_clean(browser, path)
