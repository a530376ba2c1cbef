"""replay_backward: the engine's own backward sweep, recorded step by step, and a page to watch it.

The record comes from the sweep itself (`tape.sweep(..., watch=...)` calls back after each op's
VJPs), not from a second implementation of backward: a step is one op of the tape, in the order
the engine ran it, with the gradient g = dL/d(out) that arrived at the op and the VJP's result
g * d(out)/d(input) that it sent to each input. The page draws the graph with draw_graph's own
walk, ids, labels and module boxes (graph._Plan), and plays the steps back over it.
"""
import hashlib
import itertools
import json
from pathlib import Path

import numpy as np

from . import tape
from .graph import _params, _Plan, _title, rule_of, rule_words
from .tensor import Tensor

PANEL_SMALL = 16  # gradients with at most this many elements are shown value by value
DIGITS = 4  # significant digits of the values on the page
_pages = itertools.count()  # numbers the Replay objects of a process, for unique page ids


class Step:
    """One op of the backward sweep.

    op: the primitive's name; rule: its derivative in one line; grad_out: the gradient that
    arrived at the op's output, dL/d(out) (summed over all its consumers); grad_inputs: one
    entry per input of the op, in argument order: the gradient it sent to that input,
    g * d(out)/d(input) reduced to the input's shape, or None (a constant, a tensor without grad);
    inputs: the inputs' names (a tensor's .name, else its node's title as the graph labels it;
    None for options such as an index);
    leaf_grads: {leaf Tensor: its running .grad after this step} for the leaves this step sent
    to (the .grad it had before backward included); node_id: the op's node in the drawn graph
    (None beyond max_nodes); title: the first line of its label ("z[1] = add"); input_ids: the
    inputs' nodes in the drawn graph (None: not drawn); key: id() of the op's Node, unique while
    the graph lives.
    """

    __slots__ = ("op", "rule", "grad_out", "grad_inputs", "inputs", "leaf_grads", "node_id",
                 "title", "input_ids", "key")

    def __repr__(self):
        sent = ", ".join(name or "?" for name, g in zip(self.inputs, self.grad_inputs)
                         if g is not None)
        return f"<Step {self.op}: grad_out {_shape(self.grad_out)} -> {sent or 'nothing'}>"


def _shape(a):
    return "scalar" if a.ndim == 0 else str(tuple(a.shape))


def replay_backward(loss, gradient=None, retain_graph=False, *, grad=None, max_nodes=300,
                    rankdir="LR"):
    """Run `loss.backward(gradient, retain_graph)` and record every step of the sweep.

    Returns a Replay: `.steps` (a list of Step, in the order the engine ran the ops), `.html()`,
    `.save(path)`, and inline display in Jupyter. The leaves end with the same `.grad` as after
    `loss.backward(gradient, retain_graph)`. max_nodes and rankdir as in draw_graph: the page
    draws the max_nodes nodes nearest the output and plays the steps of the ops drawn.
    """
    gradient = gradient if grad is None else grad  # grad=: backward's alias, taken alike
    plan = _Plan(loss, max_nodes, what="replay_backward")
    if not loss.requires_grad:
        raise RuntimeError(
            "replay_backward: this tensor does not require grad and has no grad_fn; create the "
            "inputs with requires_grad=True (and not under no_grad()) to get gradients")
    seed = tape.seed(loss, gradient, "replay_backward")
    drawn_first = plan.topo + [k for k in plan.order if k not in plan.keep]  # data-flow order
    leaves = [t for t in (plan.items[k].tensor for k in drawn_first)
              if isinstance(t, Tensor) and t.grad_fn is None and t.requires_grad]
    prior = {t: None if t.grad is None else np.array(t.grad, copy=True) for t in leaves}
    steps = []

    def watch(node, g, sent, pending):
        step = Step()
        step.op, step.rule, step.key = node.name, rule_of(node), id(node)
        step.grad_out = np.array(g, copy=True)  # the engine may reuse its arrays
        step.title = _title(plan.items[id(node)])
        step.node_id = _drawn_id(plan, id(node))
        grads = [None] * len(node.inputs)
        step.leaf_grads = {}
        for i, gt in sent:
            grads[i] = np.array(gt, copy=True)
            t = node.inputs[i]
            if t.grad_fn is None:  # a leaf: .grad so far = before + this sweep's sum
                before = prior.get(t)
                step.leaf_grads[t] = np.array(pending[t] if before is None else before + pending[t],
                                              copy=True)
        step.grad_inputs = tuple(grads)
        keys = [_input_key(node, i) for i in range(len(node.inputs))]
        step.inputs = tuple(_name(plan.items[k]) if k in plan.items else None for k in keys)
        step.input_ids = tuple(_drawn_id(plan, k) for k in keys)
        steps.append(step)

    tape.sweep((loss,), (seed,), retain_graph, watch=watch)
    return Replay(plan, steps, leaves, prior, rankdir)


def _input_key(node, i):
    t = node.inputs[i]
    if isinstance(t, Tensor):
        return id(t.grad_fn) if t.grad_fn is not None else id(t)
    return (id(node), i)  # a constant operand: one node per use, as draw_graph


def _name(item):
    """An input as the panel names it: the tensor's own name, else its node's title."""
    t = item.tensor
    return t.name if isinstance(t, Tensor) and t.name else _title(item)


def _drawn_id(plan, key):
    return plan.items[key].id if key in plan.keep else None


def _num(x):
    x = x.item() if isinstance(x, (np.ndarray, np.generic)) else x
    if isinstance(x, complex):
        return f"{x:.{DIGITS}g}"
    return f"{x + 0:.{DIGITS}g}"  # + 0: no "-0"


def _value(a):
    """A gradient for the page: its values (small), or shape, norm, min, max and mean."""
    a = np.asarray(a)
    out = {"shape": list(a.shape)}
    if a.size <= PANEL_SMALL:
        out["v"] = _nested(a.tolist())
    else:
        f = a.astype(np.float64, copy=False)
        out.update(norm=_num(np.linalg.norm(f.ravel())), min=_num(f.min()), max=_num(f.max()),
                   mean=_num(f.mean()))
    return out


def _nested(v):
    return [_nested(x) for x in v] if isinstance(v, list) else _num(v)


class Replay:
    """The recorded backward sweep (see replay_backward). `steps`: a list of Step; `leaves`:
    the leaf tensors that require grad; `graph`: the drawn graph (a ComputationGraph)."""

    def __init__(self, plan, steps, leaves, prior, rankdir):
        self.steps, self.leaves = steps, leaves
        self._data = self._page_data(plan, steps, leaves, prior)
        source_id = hashlib.sha1(json.dumps(self._data).encode()).hexdigest()[:8]
        n = next(_pages)
        self._prefix = f"replay-{source_id}" + (f"-{n}" if n else "")
        # larger text, closer ranks than draw_graph: the page shrinks the drawing to its window
        self.graph = plan.digraph(show_values=True, show_grads=False, rankdir=rankdir,
                                  svg_ids=self._prefix, fontsize=15, ranksep=0.2,
                                  legend=False)  # the page has its own
        self._svg = None
        self._shown = 0  # how many times html()/_repr_html_ ran: unique root ids per display

    def __len__(self):
        return len(self.steps)

    def __repr__(self):
        return f"<Replay of {len(self.steps)} backward steps, {len(self.leaves)} leaves>"

    # -- the page ------------------------------------------------------------------------------

    @staticmethod
    def _page_data(plan, steps, leaves, prior):
        """The steps of the drawn ops as JSON-ready dicts; a skipped op's leaf updates go to the
        next shown step, so the page's .grad column is always the engine's."""
        leaf_index = {t: k for k, t in enumerate(leaves)}
        shown, carried = [], {}
        for n, s in enumerate(steps, 1):
            for t, g in s.leaf_grads.items():
                carried[leaf_index[t]] = g
            if s.node_id is None:
                continue
            sent, skipped = [], []
            params = _params(s.op)
            for i, (name, g) in enumerate(zip(s.inputs, s.grad_inputs)):
                if name is None:
                    continue  # an option (an index, a shape), not a data input
                arg = params[i] if i < len(params) else f"arg{i}"
                entry = dict(i=i, arg=arg, to=name, id=s.input_ids[i])
                if g is None:
                    skipped.append(entry)
                else:
                    entry["v"] = _value(g)
                    sent.append(entry)
            out = plan.items[s.key].tensor.name
            here = {"out": out, "x": s.inputs[0], "a": s.inputs[0],
                    "b": s.inputs[1] if len(s.inputs) > 1 else None}
            words = [line + (f", here {here[w]}" if here.get(w) else "")
                     for w, line in rule_words(s.op, s.rule)]
            shown.append(dict(op=s.op, title=s.title, out=out or "out", rule=s.rule, words=words,
                              node=s.node_id, engine=n,
                              g=_value(s.grad_out), sent=sent, skipped=skipped,
                              leaves={str(k): _value(g) for k, g in sorted(carried.items())}))
            carried = {}
        leaf_rows = []
        for t in leaves:
            item = plan.items[id(t)]
            leaf_rows.append(dict(name=_title(item), id=item.id if id(t) in plan.keep else None,
                                  prior=None if prior[t] is None else _value(prior[t])))
        root = plan.items[plan.order[0]].tensor
        return dict(steps=shown, total=len(steps), leaves=leaf_rows, max_nodes=plan.max_nodes,
                    loss=root.name or "L")

    def _svg_text(self):
        if self._svg is None:
            svg = self.graph.pipe(format="svg").decode("utf-8")
            self._svg = svg[svg.index("<svg"):]  # no XML prolog or DOCTYPE inside HTML
        return self._svg

    def _fragment(self, standalone):
        root = f"{self._prefix}-v{self._shown}"
        self._shown += 1
        # the SVG's ids of this display: "<root>-op3" (Graphviz writes "-" as &#45;)
        svg = self._svg_text().replace(f'id="{self._prefix.replace("-", "&#45;")}&#45;',
                                       f'id="{root.replace("-", "&#45;")}&#45;')
        data_id = "replay-data" if standalone else f"{root}-data"
        data = json.dumps(self._data, separators=(",", ":")).replace("<", "\\u003c")
        n = len(self._data["steps"])
        skipped = self._data["total"] - n
        note = ""
        if skipped:
            note = (f'<div class="amr-note">{skipped:,} of {self._data["total"]:,} steps are ops '
                    f'not drawn (max_nodes={self._data["max_nodes"]}); the page plays the '
                    f'{n:,} drawn ones. replay_backward(loss, max_nodes=None) draws them all.'
                    f'</div>')
        return _PAGE.format(
            root=root, css=_CSS.replace("ROOT", f"#{root}"), svg=svg,
            n=max(n, 1), start=1 if n else 0, nsteps=n, note=note, data_id=data_id, data=data,
            standalone="true" if standalone else "false",
            js=_JS.replace("ROOT_ID", root)).replace("LEGEND", _LEGEND)

    def html(self):
        """The page: one self-contained HTML document (inline SVG, CSS, JS and data)."""
        return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                '<meta name="viewport" content="width=device-width, initial-scale=1">'
                '<title>backward, step by step</title></head>'
                '<body style="margin:0">' + self._fragment(True) + '</body></html>\n')

    def save(self, path):
        """Write html() to `path` (UTF-8); returns the path."""
        path = Path(path)
        path.write_text(self.html(), encoding="utf-8")
        return path

    def _repr_html_(self):
        """Jupyter: the page as a fragment whose ids, CSS and script touch only itself."""
        return self._fragment(False)


# -- the page: markup, style and script -----------------------------------------------------
# Every selector is scoped to the page's root element and every lookup starts from it, so
# several replays in one notebook do not touch each other.

_PAGE = """<div class="amr-replay" id="{root}" tabindex="0" data-prefix="{root}" \
data-standalone="{standalone}">
<style>{css}</style>
<div class="amr-bar">
<button type="button" data-action="first" title="first step (Home)">&#9664;&#9664; first</button>
<button type="button" data-action="prev" title="previous step (left arrow)">&#9664; prev</button>
<button type="button" data-action="play" title="play / pause">&#9654; play</button>
<button type="button" data-action="next" title="next step (right arrow)">next &#9654;</button>
<button type="button" data-action="last" title="last step (End)">last &#9654;&#9654;</button>
<input type="range" data-role="slider" min="1" max="{n}" value="{start}" aria-label="step">
<span data-role="step-index">{start} / {nsteps}</span>
<button type="button" data-action="zoom" title="switch between the graph fitted to the \
output area (labels kept at 9 px or more) and its natural size">zoom</button>
</div>
LEGEND{note}
<div class="amr-main">
<div class="amr-graph">{svg}</div>
<div class="amr-detail" data-role="step-detail">The steps need JavaScript (in Jupyter: trust the
notebook).</div>
</div>
<script type="application/json" id="{data_id}" data-role="replay-data">{data}</script>
<script>{js}</script>
</div>"""

_LEGEND = """<div class="amr-legend">
<span><i class="amr-chip amr-c-current"></i>current op</span>
<span><i class="amr-chip amr-c-queued"></i>gradient arrived, waiting</span>
<span><i class="amr-chip amr-c-done"></i>done</span>
<span><i class="amr-chip amr-c-later"></i><i class="amr-chip amr-c-param"></i>not reached yet
(op, parameter)</span>
<span><i class="amr-chip amr-c-nograd"></i>no gradient</span>
<span><i class="amr-chip amr-c-flow"></i>gradient sent now</span>
</div>"""

_CSS = """
ROOT { font: 20px/1.35 "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a;
  background: #fff; padding: 10px 14px; outline: none; text-align: left; }
ROOT * { box-sizing: border-box; }
ROOT table, ROOT tr, ROOT td { background: none; border: none; margin: 0; padding: 0;
  text-align: left; line-height: inherit; font-size: inherit; color: inherit;
  table-layout: auto; white-space: normal; }
ROOT .amr-bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 0 0 8px; }
ROOT button { font: inherit; font-size: 19px; padding: 5px 12px; border: 2px solid #777;
  border-radius: 8px; background: #f2f2f2; color: #1a1a1a; cursor: pointer; }
ROOT button:hover { background: #e2e2e2; }
ROOT button:disabled { opacity: 0.4; cursor: default; }
ROOT button.amr-on { background: #ffe08a; border-color: #b45f06; }
ROOT input[data-role=slider] { flex: 1 1 180px; min-width: 120px; height: 26px; margin: 0 6px;
  accent-color: #c00000; }
ROOT [data-role=step-index] { font-size: 26px; font-weight: bold; min-width: 5em;
  text-align: center; font-variant-numeric: tabular-nums; }
ROOT .amr-legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 16px; color: #444;
  margin: 0 0 8px; }
ROOT .amr-chip { display: inline-block; width: 26px; height: 16px; border-radius: 4px;
  vertical-align: -2px; margin-right: 6px; border: 2px solid #888; }
ROOT .amr-c-current { background: #ffd966; border: 3px solid #c00000; }
ROOT .amr-c-queued { background: #fff; border: 3px dashed #e67e00; }
ROOT .amr-c-done { background: #d0d0d0; border-color: #8a8a8a; }
ROOT .amr-c-later { background: #cfe2f3; border-color: #9db3c8; }
ROOT .amr-c-param { background: #b6d7a8; border-color: #8fb57f; }
ROOT .amr-c-nograd { background: #eeeeee; border-color: #cccccc; opacity: 0.6; }
ROOT .amr-c-flow { background: none; border: none; border-top: 4px dashed #c00000; height: 4px;
  vertical-align: middle; }
ROOT .amr-note { font-size: 16px; background: #fff3cd; border-radius: 6px; padding: 4px 10px;
  margin: 0 0 8px; }
ROOT .amr-main { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
ROOT .amr-graph { flex: 1 1 560px; min-width: 300px; max-width: 100%; max-height: 84vh;
  overflow: auto; border: 1px solid #ddd; border-radius: 8px; padding: 4px; }
ROOT .amr-graph > svg { display: block; max-width: none; max-height: none; height: auto; }
ROOT .amr-detail { flex: 0 1 600px; min-width: 300px; max-height: 84vh; overflow: auto; }
ROOT .amr-detail h2 { font-size: 30px; margin: 0 0 2px; }
ROOT .amr-detail h3 { font-size: 19px; margin: 14px 0 4px; color: #555; font-weight: bold; }
ROOT .amr-where { font-size: 17px; color: #555; }
ROOT .amr-title { font-size: 22px; color: #333; }
ROOT .amr-rule, ROOT .amr-val { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
ROOT .amr-rule { font-size: 20px; background: #f1f1f1; border-left: 5px solid #888;
  padding: 6px 10px; border-radius: 4px; margin-top: 6px; white-space: pre-wrap; }
ROOT .amr-val { font-size: 20px; }
ROOT .amr-words { font-size: 16px; color: #444; margin: 4px 0 0 15px; }
ROOT .amr-to { margin: 8px 0 2px; font-size: 19px; }
ROOT .amr-to b { color: #c00000; }
ROOT .amr-arg { color: #666; font-size: 17px; }
ROOT .amr-skip { color: #777; font-size: 17px; margin-top: 6px; }
ROOT table.amr-m { border-collapse: separate; border-spacing: 0; display: inline-table;
  vertical-align: middle; border-left: 2px solid #333; border-right: 2px solid #333;
  border-radius: 9px; padding: 1px 2px; margin: 2px 0; }
ROOT table.amr-m td { padding: 0 8px; text-align: right; }
ROOT table.amr-leaves { border-collapse: collapse; width: 100%; }
ROOT table.amr-leaves > tbody > tr > td { padding: 4px 6px; border-top: 1px solid #e4e4e4;
  vertical-align: middle; }
ROOT table.amr-leaves > tbody > tr > td:first-child { font-weight: bold; white-space: nowrap; }
ROOT table.amr-leaves tr.amr-fresh { background: #fff2b3; }
ROOT .amr-none { color: #999; }
ROOT .amr-t { font-size: 16px; margin-left: 2px; }
ROOT svg g.node.nograd { opacity: 0.45; }
ROOT svg g.node.queued > path, ROOT svg g.node.queued > polygon {
  stroke: #e67e00; stroke-width: 4px; stroke-dasharray: 9 4; }
ROOT svg g.node.done > path, ROOT svg g.node.done > polygon { fill: #d0d0d0; stroke: #8a8a8a; }
ROOT svg g.node.current > path, ROOT svg g.node.current > polygon {
  fill: #ffd966; stroke: #c00000; stroke-width: 5px; }
ROOT svg g.edge.flow > path { stroke: #c00000; stroke-width: 4px; stroke-dasharray: 10 6;
  animation: amr-flow 0.8s linear infinite; }
ROOT svg g.edge.flow > polygon { fill: #c00000; stroke: #c00000; }
ROOT svg g.edge.flow > text { fill: #c00000; font-weight: bold; }
ROOT svg g.edge.passed > path { stroke: #d08c8c; stroke-width: 2px; }
ROOT svg g.edge.passed > polygon { fill: #d08c8c; stroke: #d08c8c; }
@keyframes amr-flow { to { stroke-dashoffset: 32; } }
@media (prefers-reduced-motion: reduce) { ROOT svg g.edge.flow > path { animation: none; } }
"""

_JS = r"""(function () {
"use strict";
// this script's own root: its parent (JupyterLab re-inserts the script in place), else the
// first root of this id not yet set up (a loader that runs scripts elsewhere; a saved output
// of an earlier kernel may carry the same id)
var root = document.currentScript && document.currentScript.parentNode;
if (!root || root.id !== "ROOT_ID") {
  root = Array.prototype.filter.call(document.querySelectorAll('[id="ROOT_ID"]'), function (r) {
    return !r.getAttribute("data-ready");
  })[0];
}
if (!root || root.getAttribute("data-ready")) return;
root.setAttribute("data-ready", "1");
var data = JSON.parse(root.querySelector('script[data-role="replay-data"]').textContent);
var prefix = root.getAttribute("data-prefix") + "-";
var steps = data.steps, n = steps.length, cur = 0, timer = null, INTERVAL = 1000;
var MANY_LEAVES = 12;
var slider = root.querySelector('[data-role="slider"]');
var index = root.querySelector('[data-role="step-index"]');
var detail = root.querySelector('[data-role="step-detail"]');
var box = root.querySelector(".amr-graph");
var playBtn = root.querySelector('[data-action="play"]');
var zoomBtn = root.querySelector('[data-action="zoom"]');
var svg = box.querySelector("svg");

// the drawn nodes and edges by the graph's own ids ("op3", "param0", "op3-1" = input 1 of op3)
var nodes = {}, edges = {};
box.querySelectorAll("g.node, g.edge").forEach(function (g) {
  if (g.id.indexOf(prefix) !== 0 || g.id === prefix + "legend") return;
  (g.classList.contains("node") ? nodes : edges)[g.id.slice(prefix.length)] = g;
});
// when each node runs and when gradient first reaches it; when each edge carries gradient
var ranAt = {}, reachedAt = {}, edgeAt = {}, leafUpdates = data.leaves.map(function () {
  return [];
});
steps.forEach(function (s, k) {
  ranAt[s.node] = k;
  if (!(s.node in reachedAt)) reachedAt[s.node] = k;
  s.sent.forEach(function (e) {
    if (e.id !== null && !(e.id in reachedAt)) reachedAt[e.id] = k;
    var key = s.node + "-" + (e.id !== null ? e.i : "more");
    if (!(key in edgeAt)) edgeAt[key] = k;
  });
  Object.keys(s.leaves).forEach(function (j) { leafUpdates[j].push(k); });
});

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}
function shape(v) { return v.shape.length ? "(" + v.shape.join(", ") + ")" : "scalar"; }
function value(v) {
  if (v === null || v === undefined) return '<span class="amr-none">none yet</span>';
  if (v.v === undefined) {
    return '<span class="amr-val">shape ' + shape(v) + ": norm " + esc(v.norm) + ", min " +
      esc(v.min) + ", max " + esc(v.max) + ", mean " + esc(v.mean) + "</span>";
  }
  if (v.shape.length === 0) return '<span class="amr-val">' + esc(v.v) + "</span>";
  if (v.shape.length === 1) return '<span class="amr-val">[' + v.v.map(esc).join(", ") + "]</span>";
  var rows = v.shape.length === 2 ? v.v : null, column = "";
  if (rows !== null && v.shape[1] === 1 && v.shape[0] > 1) {  // a column, written as a row^T
    rows = [rows.map(function (r) { return r[0]; })];
    column = '<sup class="amr-t">T</sup>';
  }
  if (rows === null) return '<span class="amr-val">' + esc(JSON.stringify(v.v)) + "</span>";
  return '<table class="amr-m amr-val">' + rows.map(function (r) {
    return "<tr>" + r.map(function (x) { return "<td>" + esc(x) + "</td>"; }).join("") + "</tr>";
  }).join("") + "</table>" + column;
}
function leafValue(j, k) {  // .grad of leaf j after step k: its last update, else its prior
  var ups = leafUpdates[j], last = -1;
  for (var u = ups.length - 1; u >= 0; u--) { if (ups[u] <= k) { last = ups[u]; break; } }
  return last < 0 ? data.leaves[j].prior : steps[last].leaves[j];
}
function panel(k) {
  var s = steps[k], h = [];
  h.push('<div class="amr-where">step ' + (k + 1) + " of " + n +
         (data.total !== n ? " (engine step " + s.engine + " of " + data.total + ")" : "") +
         "</div>");
  h.push('<h2 data-role="op">' + esc(s.op) + "</h2>");
  if (s.title !== s.op) h.push('<div class="amr-title">' + esc(s.title) + "</div>");
  h.push('<div class="amr-rule" data-role="rule">' + esc(s.rule) + "</div>");
  if (s.words.length) {
    h.push('<div class="amr-words" data-role="rule-words">' + s.words.map(function (w) {
      return "<div>" + esc(w) + "</div>";
    }).join("") + "</div>");
  }
  h.push("<h3>gradient arriving: g = &part;" + esc(data.loss) + "/&part;" + esc(s.out) + "</h3>");
  h.push('<div data-role="grad-out">' + value(s.g) + "</div>");
  h.push("<h3>sent to each input</h3>");
  s.sent.forEach(function (e) {
    h.push('<div class="amr-to" data-role="sent" data-arg="' + esc(e.arg) + '">to <b>' +
           esc(e.to) + '</b> <span class="amr-arg">(input ' + esc(e.arg) + ")</span></div>" +
           value(e.v));
  });
  if (!s.sent.length) h.push('<div class="amr-skip">nothing (no input requires grad)</div>');
  s.skipped.forEach(function (e) {
    h.push('<div class="amr-skip">' + esc(e.to) + " (input " + esc(e.arg) +
           "): no gradient, it does not require grad</div>");
  });
  if (data.leaves.length) h.push("<h3>leaves' .grad so far</h3>" + leafTable(s, k));
  return h.join("");
}
function leafRow(j, k, fresh) {
  var leaf = data.leaves[j];
  return "<tr" + (fresh ? ' class="amr-fresh"' : "") + ' data-leaf="' + esc(leaf.name) +
         '"><td>' + esc(leaf.name) + "</td><td>" + value(leafValue(j, k)) + "</td></tr>";
}
function leafTable(s, k) {
  // a few leaves: all, in a fixed order; many: this step's first, then the others that have a
  // gradient, then only the names of those still without one
  var rows = [], none = [], few = data.leaves.length <= MANY_LEAVES;
  if (!few) Object.keys(s.leaves).forEach(function (j) { rows.push(leafRow(+j, k, true)); });
  data.leaves.forEach(function (leaf, j) {
    if (!few && j in s.leaves) return;
    if (few || leafValue(j, k)) rows.push(leafRow(j, k, j in s.leaves));
    else none.push(leaf.name);
  });
  var h = "<table class='amr-leaves'>" + rows.join("") + "</table>";
  if (none.length) {
    h += '<div class="amr-skip">' + none.length + " without a gradient yet: " +
         esc(none.slice(0, 12).join(", ")) + (none.length > 12 ? ", ..." : "") + "</div>";
  }
  return h;
}
var shown = {};  // element -> its state class now: only changed elements are touched
function setClass(id, el, base, cls) {
  if (shown[id] === cls) return;
  shown[id] = cls;
  el.setAttribute("class", cls ? base + " " + cls : base);
}
function render(k) {
  cur = k;
  Object.keys(nodes).forEach(function (id) {
    var st = "nograd";
    if (id in ranAt) st = ranAt[id] === k ? "current" : ranAt[id] < k ? "done" :
                          reachedAt[id] <= k ? "queued" : "later";
    else if (id in reachedAt) st = reachedAt[id] <= k ? "done" : "later";
    setClass("n" + id, nodes[id], "node", st);
  });
  Object.keys(edges).forEach(function (id) {
    var at = edgeAt[id];
    setClass("e" + id, edges[id], "edge", at === undefined ? "" : at === k ? "flow" :
             at < k ? "passed" : "");
  });
  slider.value = k + 1;
  index.textContent = (k + 1) + " / " + n;
  detail.innerHTML = panel(k);
  reveal();
}
function reveal() {  // scroll the graph box (only it) so that the current node is in view,
  var g = n && nodes[steps[cur].node];  // centred if it was outside or within 24 px of an edge
  if (!g) return;
  var r = g.getBoundingClientRect(), b = box.getBoundingClientRect(), M = 24;
  var left = b.left + box.clientLeft + M, top = b.top + box.clientTop + M;
  var right = left + box.clientWidth - 2 * M, bottom = top + box.clientHeight - 2 * M;
  if (r.left < left || r.right > right) box.scrollLeft += (r.left + r.right - left - right) / 2;
  if (r.top < top || r.bottom > bottom) box.scrollTop += (r.top + r.bottom - top - bottom) / 2;
}
function go(k) { if (n) render(Math.max(0, Math.min(n - 1, k))); }
function stop() {
  if (timer !== null) { clearInterval(timer); timer = null; }
  playBtn.classList.remove("amr-on");
  playBtn.innerHTML = "&#9654; play";
}
function play() {
  if (timer !== null) { stop(); return; }
  if (cur >= n - 1) go(0);
  playBtn.classList.add("amr-on");
  playBtn.innerHTML = "&#10074;&#10074; pause";
  timer = setInterval(function () { if (cur >= n - 1) stop(); else go(cur + 1); }, INTERVAL);
}
// The graph's size, set inline so that no host page's CSS (a notebook's max-width: 100% on
// SVGs) can shrink it. Graphviz draws in points (its viewBox); at its natural size a point is
// 4/3 px. The fitted view fits the box, but never sets a label under MIN_PX: a wider graph
// keeps that size and the box scrolls sideways.
var PT = 4 / 3, MIN_PX = 9, fitted = true, boxWidth = -1;
var view = svg && svg.viewBox && svg.viewBox.baseVal, smallest = Infinity;
if (svg) {
  svg.querySelectorAll("text").forEach(function (t) {
    smallest = Math.min(smallest, parseFloat(t.getAttribute("font-size")) || Infinity);
  });
}
function layout() {
  if (!view || !view.width) return;
  var s = PT;  // CSS px per point
  if (fitted) {
    s = Math.min((box.clientWidth - 8) / view.width,  // 8: the box's padding
                 0.82 * window.innerHeight / view.height, 2 * PT);
    s = Math.max(s, MIN_PX / smallest);
  }
  svg.style.width = view.width * s + "px";
  svg.style.height = view.height * s + "px";
  boxWidth = box.clientWidth;
}
function zoom(fit) {
  fitted = fit;
  layout();
  zoomBtn.textContent = fit ? "zoom: fit" : "zoom: 100%";
  zoomBtn.setAttribute("aria-pressed", String(!fit));
  root.setAttribute("data-zoom", fit ? "fit" : "natural");
  reveal();
}
if (window.ResizeObserver) {  // a notebook may show the output before it has its width
  new ResizeObserver(function () {
    if (fitted && box.clientWidth !== boxWidth) {
      window.requestAnimationFrame(function () { layout(); reveal(); });
    }
  }).observe(box);
}
var actions = {
  first: function () { stop(); go(0); }, prev: function () { stop(); go(cur - 1); },
  next: function () { stop(); go(cur + 1); }, last: function () { stop(); go(n - 1); },
  play: play, zoom: function () { zoom(!fitted); }
};
root.addEventListener("click", function (ev) {
  var b = ev.target.closest("[data-action]");
  if (b && root.contains(b) && actions[b.getAttribute("data-action")]) {
    actions[b.getAttribute("data-action")]();
  }
});
slider.addEventListener("input", function () { stop(); go(slider.value - 1); });
var keys = { ArrowRight: "next", ArrowLeft: "prev", Home: "first", End: "last" };
function onKey(ev) {
  if (ev.target === slider || ev.altKey || ev.ctrlKey || ev.metaKey || !keys[ev.key]) return;
  ev.preventDefault();
  ev.stopPropagation();
  actions[keys[ev.key]]();
}
if (root.getAttribute("data-standalone") === "true") document.addEventListener("keydown", onKey);
else root.addEventListener("keydown", onKey);
zoom(true);
if (!n) {
  root.querySelectorAll("[data-action], input").forEach(function (b) { b.disabled = true; });
  detail.innerHTML = "No backward step: the output is a leaf.";
} else {
  go(0);
}
})();"""
