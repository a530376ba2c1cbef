"""draw_graph: the computation graph behind a Tensor, as a `graphviz.Digraph`.

One node per op (a `Node`, labelled with the shape, dtype and values of its output tensor), per
leaf tensor and per raw constant input; edges point the way data flows (inputs -> op). The walk
is iterative, so graphs of any depth work; above `max_nodes` only the part nearest the output is
drawn and one node says how many were left out and how to draw them all.

Gradients are shown where `.grad` exists: on leaves once a backward has reached them, and on op
nodes only if their output tensor kept its gradient (`t.retain_grad()` before backward), as in
PyTorch. Nothing is shown before backward (never made-up zeros). Values stay visible after
backward for small tensors and for those you still hold; backward frees the arrays of larger
intermediate results that nobody holds ("values freed by backward"), as the memory they take is
the point of freeing the graph.

Module grouping needs no bookkeeping in the engine: a parameter's `Tensor.name` (set by nn, the
full dotted path, e.g. "0.weight") names its module ("0"). An op belongs to module M when an
input is a parameter of M or a view of one (a transpose/reshape of it), as nn.Linear's `linear`
op or the transpose, matmul and add of a hand-written `x @ weight.T + bias`; ops touching
parameters of two modules belong to none.
"""
import html
import inspect
import re
import textwrap
from collections import deque
from functools import lru_cache

import graphviz
import numpy as np

from .primitives import OPS
from .tape import Released
from .tensor import Tensor

SMALL = 4  # tensors with at most this many elements are shown value by value
_VIEW_OPS = ("transpose", "reshape")  # ops whose output is still "the parameter" for grouping
_COMMUTATIVE = ("add", "mul")  # no need to label which input is which

# kind -> (legend text, node attributes)
_STYLES = {
    "output": ("output", dict(fillcolor="#f6b26b", penwidth="2")),
    "op": ("op (output shape, values)", dict(fillcolor="#cfe2f3")),
    "param": ("parameter (name)", dict(fillcolor="#b6d7a8")),
    "leaf": ("leaf, requires_grad", dict(fillcolor="#ffe599")),
    "data": ("tensor without grad", dict(fillcolor="#eeeeee")),
    "const": ("constant", dict(fillcolor="white", style="dashed,rounded")),  # small font
    "more": ("not drawn (max_nodes)", dict(fillcolor="white", style="dashed", color="#999999")),
}
_GRAD_COLOR = "#b00000"

_INSTALL_HELP = (
    "draw_graph: rendering needs the Graphviz program 'dot', which was not found on PATH "
    "({cause}). Install Graphviz (the Python package 'graphviz' alone is not enough): "
    "'sudo apt-get install graphviz' (Debian/Ubuntu), 'brew install graphviz' (macOS), "
    "'conda install -c conda-forge graphviz' (conda), or https://graphviz.org/download/ "
    "(Windows: add its bin folder to PATH). The DOT text is available without it: graph.source")


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Raised on rendering when `dot` is missing; a graphviz.ExecutableNotFound (RuntimeError)."""

    def __init__(self, cause):
        RuntimeError.__init__(self, _INSTALL_HELP.format(cause=cause))


class ComputationGraph(graphviz.Digraph):
    """A graphviz.Digraph whose render/pipe/view explain how to install Graphviz if it is missing.

    Jupyter displays it inline through graphviz's own `_repr_mimebundle_` (which calls `pipe`).
    """

    def pipe(self, *args, **kwargs):
        return _explaining_missing_dot(super().pipe, *args, **kwargs)

    def render(self, *args, **kwargs):  # view() goes through render()
        return _explaining_missing_dot(super().render, *args, **kwargs)


def _explaining_missing_dot(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except graphviz.ExecutableNotFound as err:
        if isinstance(err, GraphvizNotFoundError):
            raise
        raise GraphvizNotFoundError(err) from err


class _Item:
    """One drawn node: an op (obj = Node, tensor = its output), a leaf tensor, or a constant."""

    __slots__ = ("kind", "obj", "tensor", "inputs", "options", "id")

    def __init__(self, kind, obj, tensor):
        self.kind, self.obj, self.tensor = kind, obj, tensor
        self.inputs = []  # (key of input item, edge label or None, argument index), in order
        self.options = ""


@lru_cache(maxsize=None)
def _params(op_name):
    """The names of the op's inputs (its forward's positional parameters)."""
    if op_name not in OPS:
        return ()
    sig = inspect.signature(OPS[op_name].fwd).parameters.values()
    return tuple(p.name for p in sig if p.kind is p.POSITIONAL_OR_KEYWORD)


# -- the rules' words ----------------------------------------------------------------------------
# A rule (an op's derivative in one line, from the op table) is written with g, out, the op's
# input names and their d-names (da: the gradient sent to input a), its options (axis, idx...),
# x for an op's only input and a, b for its two, names its note defines ("(z = input, ...)",
# after two spaces), and the words below, which the replay page and draw_graph's legend define
# wherever a rule uses them. (op, word) entries say more about a word in that op's rule.
RULE_WORDS = {
    "g": "the gradient arriving at the op's output, dL/d(out)",
    "out": "the op's output",
    "x": "the op's input (its only one)",
    "a": "the op's first input",
    "b": "the op's second input",
    "[c]": "1 where the condition c holds, else 0",
    "N": "what reduction='mean' divides by: the number of samples for cross_entropy (times "
         "d1 * d2 ... for logits (N, C, d1, ...)), of elements for the other losses; 1 for "
         "reduction='sum' and 'none'",
    "softmax": "softmax(z) = exp(z) / sum(exp(z)) over the classes",
    "log_softmax": "log_softmax(z) = log(softmax(z)) = z - log(sum(exp(z))) over the classes",
    "onehot": "onehot(y): for each sample, 1 at its class y and 0 at the other classes",
    ("cross_entropy", "q"): "q: the target, one distribution over the classes per sample, "
        "as cross_entropy builds it. From probabilities p: q = p, or (1 - eps) p + eps / C with "
        "label_smoothing eps (C classes), times w with class weights w. From class labels y "
        "with weights, label_smoothing or ignore_index: q = (1 - eps) w[y] onehot(y) + eps w / C "
        "(0 for an ignored sample); the op then sums (reduction='sum') and a div divides by "
        "sum(w[y]). Without weights sum(q) = 1; for plain labels the rule is "
        "dz = g * (softmax(z) - onehot(y)) / N",
    "sum": "sum(v): v summed over the op's axis (the classes for cross_entropy), kept as "
           "size 1",
    "sum_rows": "sum_rows(g): g summed over its rows (the batch axes), one value per column",
    "sum_to": "sum_to(g, shape): g summed over the axes that broadcasting added or stretched",
    "expand": "expand(v, shape): v repeated along the reduced axes, to that shape",
    "count": "count(c): how many elements along the reduced axes satisfy c (ties share g)",
    "prod_others": "prod_others(x): for each element, the product of all the others along "
                   "the axis",
    "where": "where(c, u, v): u where the condition c holds, else v",
    "zeros": "zeros(shape): an array of zeros",
    "transpose": "transpose(v, axes): v with its axes permuted, as numpy.transpose",
    "argsort": "argsort(axes): the inverse permutation of axes",
    "split": "split(g, [k], axis): g cut in two along axis, before index k",
    "flip": "flip(v): v in reverse order along the axis",
    "cumsum": "cumsum(v): the running sum along the axis",
    "im2col": "im2col(v): every kernel window of v as one column (conv2d's unfolding)",
    "col2im": "col2im(v): each column added back to its window: im2col's adjoint",
    "max": "max(u, v): the larger of u and v",
    "exp": "e to the power of", "log": "the natural logarithm", "sqrt": "the square root",
    "sign": "sign(v): -1, 0 or 1", "sigmoid": "sigmoid(v) = 1 / (1 + exp(-v))",
    "sin": "sine", "cos": "cosine", "pi": "3.14159...",
    "likewise": "the same rule with the inputs' roles swapped",
}
# attributes written after a dot: v.T, v.shape, v.dtype, v.reshape(shape), v.astype(dtype)
RULE_ATTRIBUTES = ("T", "shape", "dtype", "reshape", "astype")
_CROSS_ENTROPY_LABELS = ("dz = g * (softmax(z) - onehot(y)) / N  (z = input, the logits; "
                         "y = target, the class labels)")


def rule_of(node):
    """The rule shown for a recorded op: its line of the op table, or for cross_entropy on
    class labels the textbook form (the table's line is the general one, with a target
    distribution q; see RULE_WORDS)."""
    if node.name == "cross_entropy":
        target = node.inputs[1]
        if isinstance(target, np.ndarray) and target.dtype.kind in "iu":
            return _CROSS_ENTROPY_LABELS
    return node.prim.rule


def rule_words(op, rule):
    """[(word, its line)] for the words of `rule` that RULE_WORDS explains, in order of first
    use: x, a and b only where the op's inputs are not so named; no input or option name."""
    formula, _, note = rule.partition("  (")  # the formulas, and the note after two spaces
    named = _note_names(note) | (set(inspect.signature(OPS[op].fwd).parameters) if op in OPS
                                 else set())
    found = ["[c]"] if re.search(r"\[[^\]]*[<>=]", formula) else []
    for word in re.findall(r"(?<![\w.])[A-Za-z_]\w*",
                           re.sub(r"\b\d[\d.]*(e-?\d+)?\b", " ", formula)):  # not 1e-12's e
        if word not in found and word not in named and word != "g":
            found.append(word)
    found += [w for w in sorted(_note_names(note)) if (op, w) in RULE_WORDS]
    return [(w, _says(w, RULE_WORDS.get((op, w), RULE_WORDS.get(w)))) for w in found
            if (op, w) in RULE_WORDS or w in RULE_WORDS]


def _says(word, meaning):
    """A word's line: "out: the op's output"; a meaning that starts with the word as it is
    written ("softmax(z) = ...", "q: ...") stays as it is."""
    return meaning if meaning.startswith((word + "(", word + ":")) else f"{word}: {meaning}"


def _note_names(note):
    """The names a rule's note defines: "z = input", "(r2 = ...": {"z", "r2"}."""
    return set(re.findall(r"(?:^|[(,;]\s*)([A-Za-z_]\w*) = ", note))


def _fmt(a, digits=4):
    """Values of a small array, nested like numpy's repr, `digits` significant digits."""
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item() + 0:.{digits}g}" if a.dtype.kind in "fc" else str(a.item())  # -0: 0
    return "[" + ", ".join(_fmt(row, digits) for row in a) + "]"  # depth a.ndim: no recursion


def _summary(a):
    a = np.asarray(a)
    if a.size <= SMALL:
        return _fmt(a)
    if a.dtype.kind not in "fciub":
        return f"{a.size} elements"
    a = a.astype(np.float64, copy=False)
    return f"mean {a.mean():.3g}, min {a.min():.3g}, max {a.max():.3g}"


def _grad_text(g):
    g = np.asarray(g)
    if g.size <= SMALL:
        return "grad " + _fmt(g)
    return f"grad: norm {np.linalg.norm(g.astype(np.float64, copy=False).ravel()):.4g}, " \
           f"shape {tuple(g.shape)}"


def _shape_text(a):
    a = a if isinstance(a, Tensor) else np.asarray(a)  # a Released tensor has no values
    return f"{'scalar' if a.ndim == 0 else tuple(a.shape)} {a.dtype}"


def _html(rows, small=9):
    """An HTML-like Graphviz label: a borderless table, one row per (text, font tag or None);
    "i" rows in italics at the `small` point size."""
    cells = []
    for text, tag in rows:
        text = html.escape(text, quote=False)
        if tag == "b":
            text = f"<b>{text}</b>"
        elif tag == "i":
            text = f'<i><font point-size="{small:g}">{text}</font></i>'
        elif tag == "grad":
            text = f'<font color="{_GRAD_COLOR}">{text}</font>'
        cells.append(f"<tr><td>{text}</td></tr>")
    return f'<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">{"".join(cells)}</table>>'


def _is_T(node, key, axes):
    """x.T's transpose: all axes reversed, the familiar case, shown without its axes."""
    return node.name == "transpose" and key == "axes" and list(axes) == list(
        range(len(axes) - 1, -1, -1))


def _is_operand(value):
    return isinstance(value, (int, float, complex, np.number, np.ndarray)) and not isinstance(
        value, (bool, np.bool_))


def _index_text(idx):
    """An index as written between brackets: (slice(None), 0) -> ":, 0"."""
    if isinstance(idx, tuple):
        return ", ".join(_index_text(i) for i in idx)
    if isinstance(idx, slice):
        parts = ["" if v is None else str(v) for v in (idx.start, idx.stop, idx.step)]
        return ":".join(parts[:2] if idx.step is None else parts)
    if idx is Ellipsis:
        return "..."
    if isinstance(idx, (np.ndarray, list)):
        a = np.asarray(idx)
        return _fmt(a) if a.size <= SMALL else f"<{a.dtype} array {a.shape}>"
    return str(idx)


def _option_text(pname, value):
    """An op argument that is not data (an index, a shape, an axis), shown in the op's title."""
    if pname == "idx":
        text = f"[{_index_text(value)}]"
    else:
        text = f"{pname}={_index_text(value) if isinstance(value, (np.ndarray, list)) else value}"
    return text if len(text) <= 40 else text[:37] + "..."


def _walk(root):
    """Breadth-first from the output: every item, keyed by id (constants per use), in BFS order."""
    items, order = {}, []
    queue = deque()

    def visit(t):
        if type(t) is Released:  # backward released it: the tensor itself, if someone holds it
            held = t.ref()
            t = t if held is None else held
        if isinstance(t, Tensor) and t.grad_fn is not None:
            key = id(t.grad_fn)
            if key not in items:
                items[key] = _Item("op", t.grad_fn, t)
                order.append(key)
                queue.append(key)
        else:
            key = id(t)
            if key not in items:
                kind = ("param" if t.name else "leaf") if t.requires_grad else "data"
                items[key] = _Item(kind, t, t)
                order.append(key)
        return key

    visit(root)
    while queue:
        item = items[queue.popleft()]
        node = item.obj
        params = _params(node.name)
        drawn = []
        options = [_option_text(k, v) for k, v in (node.opts or {}).items()
                   if v is not None and v is not False and not _is_T(node, k, v)]
        for i, value in enumerate(node.inputs):
            pname = params[i] if i < len(params) else f"arg{i}"
            if isinstance(value, Tensor) or _is_operand(value):
                drawn.append((i, pname, value))
            elif value is not None:
                options.append(_option_text(pname, value))
        for i, pname, value in drawn:
            label = pname if len(drawn) > 1 and node.name not in _COMMUTATIVE else None
            if isinstance(value, Tensor):
                key = visit(value)
            else:  # a raw number or array operand, e.g. the 2 in 2 * x: one node per use
                key = (id(node), i)
                items[key] = _Item("const", value, value)
                order.append(key)
            item.inputs.append((key, label, i))
        item.options = " ".join(options)
    return items, order


def _topological(items, root_key, keep):
    """Kept items, inputs before consumers (iterative depth-first post-order)."""
    order, done = [], set()
    stack = [(root_key, iter(items[root_key].inputs))]
    done.add(root_key)
    while stack:
        key, inputs = stack[-1]
        for k, *_ in inputs:
            if k in keep and k not in done:
                done.add(k)
                stack.append((k, iter(items[k].inputs)))
                break
        else:
            stack.pop()
            order.append(key)
    return order


def _modules(items, topo):
    """key -> dotted module path, for parameters and the ops that use them (see module doc)."""
    module, view = {}, {}
    for key in topo:
        item = items[key]
        if item.kind == "param":
            path = item.obj.name.rpartition(".")[0]
            if path:
                module[key], view[key] = path, True
        elif item.kind == "op":
            owners = {module[k] for k, *_ in item.inputs if view.get(k)}
            if len(owners) == 1:
                module[key] = owners.pop()
                tensors = [k for k, *_ in item.inputs if items[k].kind != "const"]
                view[key] = item.obj.name in _VIEW_OPS and all(view.get(k) for k in tensors)
    for key in topo:  # a constant operand sits in its consumer's box
        for k, *_ in items[key].inputs:
            if items[k].kind == "const" and key in module:
                module[k] = module[key]
    return module


def _title(item):
    """The first line of a node's label: "z[1] = add", "getitem [0, :3]", "0.weight", "leaf"."""
    t = item.tensor
    if item.kind == "const":
        a = np.asarray(t)
        return _fmt(a, 8) if a.size <= SMALL else "constant"
    if item.kind in ("op", "output"):
        op = f"{item.obj.name} {item.options}".strip()
        return f"{t.name} = {op}" if t.name else op  # a name the user gave a result
    return t.name or ("leaf" if t.requires_grad else "tensor")


def _label(item, show_values, show_grads, show_vjp, small=9):
    t = item.tensor
    if item.kind == "const":
        a = np.asarray(t)
        if a.size <= SMALL:  # typed by the user: more digits, so 1.0001 does not read as 1
            return _html([(_title(item), None)])
        return _html([(_title(item), "b"), (_shape_text(a), None), (_summary(a), None)])
    rows = [(_title(item), "b"), (_shape_text(t), None)]
    if show_values:
        rows.append(("values freed by backward", "i") if type(t) is Released
                    else (_summary(t.data), None))
    if show_grads and t.grad is not None:
        rows.append((_grad_text(t.grad), "grad"))
    if show_vjp and item.kind in ("op", "output") and item.obj.name in OPS:
        rows.append((rule_of(item.obj), "i"))
    return _html(rows, small)


class _Plan:
    """What draw_graph draws, before any Graphviz call (shared with replay_backward).

    items: key -> _Item (key: id of the op's Node or of the tensor; (id(node), i) for a
    constant); order: keys breadth-first from the output; keep: the drawn keys (the first
    max_nodes of order); hidden: the others; topo: kept keys, inputs before consumers; module:
    key -> dotted module path. Each kept item has its stable id (kind + data-flow position).
    """

    __slots__ = ("items", "order", "keep", "hidden", "topo", "module", "max_nodes", "kinds")

    def __init__(self, tensor, max_nodes=300, group_modules=True, what="draw_graph"):
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{what}: expected a Tensor, got {type(tensor).__name__}")
        if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
            raise ValueError(
                f"{what}: max_nodes must be a positive int or None, got {max_nodes!r}")
        self.max_nodes = max_nodes
        self.items, self.order = items, order = _walk(tensor)
        root_key = order[0]
        self.keep = keep = set(order if max_nodes is None else order[:max_nodes])
        self.hidden = [k for k in order if k not in keep]
        self.topo = _topological(items, root_key, keep)
        if items[root_key].kind == "op":
            items[root_key].kind = "output"
        self.module = _modules(items, self.topo) if group_modules else {}
        counters = {}
        for key in self.topo:  # stable ids: kind + position in data-flow order
            kind = items[key].kind
            items[key].id = f"{kind}{counters.get(kind, 0)}"
            counters[kind] = counters.get(kind, 0) + 1
        self.kinds = counters

    def digraph(self, show_values=True, show_grads=True, show_vjp=False, rankdir="LR",
                svg_ids=None, fontsize=10, ranksep=0.3, legend=True):
        """The ComputationGraph. svg_ids: a prefix; each node, edge and module box then gets
        the SVG id "<prefix>-<node id>", "<prefix>-<consumer id>-<argument index>" (an edge
        from the "more" node: "<prefix>-<consumer id>-more"), "<prefix>-cluster-<path>".
        fontsize (points) and ranksep (inches between ranks): larger text on a denser graph
        for a page that scales the drawing to its window; constants, freed values and rules
        are set at 0.9 fontsize; legend: the node for the colours."""
        items, topo, module, keep, hidden = (self.items, self.topo, self.module, self.keep,
                                             self.hidden)
        ids = (lambda name: {"id": f"{svg_ids}-{name}"}) if svg_ids else (lambda name: {})
        g = ComputationGraph(
            name="computation_graph",
            graph_attr=dict(rankdir=rankdir, nodesep="0.15", ranksep=f"{ranksep:g}",
                            fontname="Helvetica", fontsize=f"{fontsize + 1:g}", labeljust="l",
                            **ids("graph")),
            node_attr=dict(shape="box", style="rounded,filled", fontname="Helvetica",
                           fontsize=f"{fontsize:g}", margin="0.06,0.03"),
            edge_attr=dict(color="#555555", arrowsize="0.6", fontname="Helvetica",
                           fontsize=f"{fontsize * 0.8:g}", fontcolor="#555555"))

        small = fontsize * 0.9

        def add_node(graph, item):
            size = {"fontsize": f"{small:g}"} if item.kind == "const" else {}
            graph.node(item.id, _label(item, show_values, show_grads, show_vjp, small),
                       **_STYLES[item.kind][1], **size, **ids(item.id))

        boxes = {}
        for key in topo:
            if key in module:
                boxes.setdefault(module[key], []).append(key)
        for path, keys in boxes.items():
            with g.subgraph(name=f"cluster_{path}") as c:
                c.attr(label=f"module {path}", style="rounded,dashed", color="#6aa84f",
                       fontcolor="#38761d", **ids(f"cluster-{path}"))
                for key in keys:
                    add_node(c, items[key])
        for key in topo:
            if key not in module:
                add_node(g, items[key])

        if hidden:
            n_ops = sum(items[k].kind == "op" for k in hidden)
            n_all = len(self.order)
            g.node("more", _html([
                (f"... {len(hidden):,} more nodes not drawn ({n_ops:,} ops, "
                 f"{len(hidden) - n_ops:,} leaves and constants)", "b"),
                (f"draw_graph(t, max_nodes={n_all}) draws all {n_all:,} "
                 f"(max_nodes={self.max_nodes} now)", None)]), **_STYLES["more"][1],
                **ids("more"))

        more_edges = set()
        for key in topo:
            item = items[key]
            for k, label, i in item.inputs:
                if k in keep:
                    g.edge(items[k].id, item.id, **({"label": label} if label else {}),
                           **ids(f"{item.id}-{i}"))
                elif item.id not in more_edges:
                    more_edges.add(item.id)
                    g.edge("more", item.id, style="dashed", color="#999999",
                           **ids(f"{item.id}-more"))

        if legend:
            words = {}
            for key in topo if show_vjp else ():
                node = items[key].obj
                if items[key].kind in ("op", "output") and node.name in OPS:
                    words.update(rule_words(node.name, rule_of(node)))
            self._legend(g, show_grads, ids, words)
        return g

    def _legend(self, g, show_grads, ids, words=None):
        kinds = [k for k in _STYLES if k in self.kinds] + (["more"] if self.hidden else [])
        rows = "".join(f'<tr><td bgcolor="{_STYLES[k][1]["fillcolor"]}" border="1">'
                       f"{html.escape(_STYLES[k][0])}</td></tr>" for k in kinds)
        note = ('<tr><td><font point-size="8" color="{}">grad shown after backward<br/>'
                '(ops: only with retain_grad())</font></td></tr>').format(
                    _GRAD_COLOR) if show_grads else ""
        if words:  # the words of the rules drawn (show_vjp), a few per line
            rows += '<tr><td align="left"><b>in the rules</b></td></tr>'
            for line in words.values():
                text = "<br/>".join(map(html.escape, textwrap.wrap(line, 64)))
                rows += (f'<tr><td align="left" balign="left"><font point-size="8">{text}'
                         f'</font></td></tr>')
        g.node("legend", f'<<table border="0" cellspacing="2" cellpadding="2">'
                         f'<tr><td><b>legend</b></td></tr>{rows}{note}</table>>',
               shape="plaintext", style="", fontsize="8", **ids("legend"))


def draw_graph(tensor, show_values=True, show_grads=True, group_modules=True, show_vjp=False,
               rankdir="LR", max_nodes=300):
    """The computation graph that produced `tensor`, as a graphviz.Digraph (a ComputationGraph).

    show_values: values of small tensors (<= SMALL elements), else mean/min/max.
    show_grads: `.grad` where it exists (leaves after backward; ops only after retain_grad()).
    group_modules: one box per nn module (e.g. a Linear layer), found from parameter names.
    show_vjp: each op's derivative rule in one line (from the op table).
    rankdir: "LR" (left to right) or "TB" (top to bottom), as Graphviz.
    max_nodes: draw at most this many nodes, those nearest the output; None draws all.
    Display it in Jupyter, or `.render("name", format="png")` / `.pipe(format="svg")` with the
    Graphviz `dot` program; `.source` is the DOT text.
    """
    return _Plan(tensor, max_nodes, group_modules).digraph(show_values, show_grads, show_vjp,
                                                           rankdir)
