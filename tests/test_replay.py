"""replay_backward, the Python side: the record is the engine's own sweep, its steps come in a
valid order, and every gradient in it equals an independent value (central differences of the
loss in float64, or document 000's closed forms F0.3-F0.6). The page's HTML is checked for being
self-contained here; tests/test_replay_browser.py drives it in headless Chromium."""
import inspect
import json
import re

import numpy as np
import pytest

import nn
import autograd_mini.functional as F
from autograd_mini import Tensor, draw_graph, no_grad, replay_backward
from autograd_mini.graph import RULE_ATTRIBUTES, RULE_WORDS, GraphvizNotFoundError
from autograd_mini.primitives import OPS
from conftest import close, sigma

RNG = np.random.default_rng


# -- graphs ------------------------------------------------------------------------------------

def program(p, h):
    """A graph with a broadcast bias, an input used twice by one op and once more (a diamond),
    a getitem, a constant and a mean; every op's result goes through h(name, tensor)."""
    x, W1, b1, W2, b2 = (p[k] for k in ("x", "W1", "b1", "W2", "b2"))
    u = h("u", x @ W1)
    z = h("z", u + b1)
    a = h("a", z.tanh())
    s = h("s", a * a)
    d = h("d", s + a)
    v = h("v", d @ W2)
    w = h("w", v + b2)
    q = h("q", w.sigmoid())
    m = h("m", q[:, 0])
    e = h("e", m - 0.5)
    f = h("f", e * e)
    return h("J", f.mean())


def arrays(seed=0):
    rng = RNG(seed)
    return dict(x=rng.standard_normal((5, 3)), W1=rng.standard_normal((3, 4)),
                b1=rng.standard_normal(4), W2=rng.standard_normal((4, 2)),
                b2=rng.standard_normal(2))


def build(p, dtype=np.float64):
    """program() on fresh Tensors: (J, {name: intermediate}, {name: parameter})."""
    params = {k: Tensor(v.astype(dtype), requires_grad=(k != "x")) for k, v in p.items()}
    for k, t in params.items():
        t.name = k
    seen = {}

    def keep(name, t):
        seen[name] = t
        return t

    return program(params, keep), seen, params


def J_value(p, at=None, delta=None):
    """J in float64 without recording, with `delta` added to the intermediate or leaf `at`."""
    p = {k: v + delta if k == at else v for k, v in p.items()}
    with no_grad():
        return float(program({k: Tensor(v) for k, v in p.items()},
                             lambda name, t: t + delta if name == at else t).data)


def central(p, at, shape, eps=1e-6):
    """dJ/d(at) by central differences, one element at a time."""
    g = np.zeros(shape)
    for k in np.ndindex(shape):
        d = np.zeros(shape)
        d[k] = eps
        g[k] = (J_value(p, at, d) - J_value(p, at, -d)) / (2 * eps)
    return g


def nodes_of(root):
    """Every op Node behind `root`, by id(), walked through grad_fn and the nodes' inputs."""
    found, stack = {}, [root.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in found:
            continue
        found[id(node)] = node
        stack.extend(t.grad_fn for t in node.inputs if isinstance(t, Tensor))
    return found


def doc000(seed=0, y=1.0):
    """Document 000's 3-4-1 sigmoid network for one sample, in its notation (as
    examples/replay_doc000.py): J and the arrays of the closed forms."""
    rng = RNG(seed)
    v = dict(x=rng.standard_normal((3, 1)), W1=rng.standard_normal((4, 3)),
             b1=rng.standard_normal((4, 1)), W2=rng.standard_normal((1, 4)),
             b2=rng.standard_normal((1, 1)))
    names = {"W1": "W[1]", "b1": "b[1]", "W2": "W[2]", "b2": "b[2]"}
    t = {k: Tensor(a, requires_grad=k != "x") for k, a in v.items()}
    for k, name in names.items():
        t[k].name = name
    t["x"].name = "x"
    z1 = b1 = t["b1"] + t["W1"] @ t["x"]
    z1.name = "z[1]"
    a1 = z1.sigmoid()
    a1.name = "a[1]"
    z2 = t["b2"] + t["W2"] @ a1
    z2.name = "z[2]"
    a2 = z2.sigmoid()
    a2.name = "a[2]"
    J = -(y * a2.log() + (1 - y) * (1 - a2).log())
    J.name = "J"
    del b1
    a1v = sigma(v["b1"] + v["W1"] @ v["x"])
    a2v = sigma(v["b2"] + v["W2"] @ a1v)
    return J, t, dict(v, a1=a1v, a2=a2v, y=y)


def mlp_loss(seed=0):
    model = nn.MLP([3, 5, 4, 2], activation="tanh", rng=seed)
    x = RNG(seed).standard_normal((6, 3))
    loss = nn.CrossEntropyLoss()(model(Tensor(x)), np.array([0, 1, 1, 0, 1, 0]))
    return loss, [p for _, p in model.named_parameters()]


GRAPHS = {
    "program": lambda: (lambda J, _, p: (J, [p[k] for k in ("W1", "b1", "W2", "b2")]))(
        *build(arrays())),
    "program_float32": lambda: (lambda J, _, p: (J, [p[k] for k in ("W1", "b1", "W2", "b2")]))(
        *build(arrays(), np.float32)),
    "doc000": lambda: (lambda J, t, _: (J, [t[k] for k in ("W1", "b1", "W2", "b2")]))(*doc000()),
    "nn_mlp": mlp_loss,
}


# -- the record is the engine's own sweep --------------------------------------------------------

@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("prior", [False, True], ids=["fresh", "with_prior_grad"])
def test_leaf_grads_equal_those_of_backward_on_a_fresh_identical_graph(graph, prior):
    (loss_a, leaves_a), (loss_b, leaves_b) = GRAPHS[graph](), GRAPHS[graph]()
    if prior:  # .grad accumulates across backward calls: the replay must do the same
        for a, b in zip(leaves_a, leaves_b):
            a.grad = RNG(1).standard_normal(a.shape).astype(a.dtype)
            b.grad = a.grad.copy()
    replay = replay_backward(loss_a)
    loss_b.backward()
    assert replay.steps
    for a, b in zip(leaves_a, leaves_b):
        assert a.grad.dtype == b.grad.dtype and a.grad.shape == b.grad.shape
        np.testing.assert_array_equal(a.grad, b.grad)  # the same sweep: bit for bit
    # each leaf's last running .grad is its final .grad, and the first is the prior + one term
    for leaf in leaves_a:
        updates = [s for s in replay.steps if leaf in s.leaf_grads]
        assert updates, leaf.name
        np.testing.assert_array_equal(updates[-1].leaf_grads[leaf], leaf.grad)
        first = updates[0]
        sent = sum(g for g, t in zip(first.grad_inputs, nodes_of(loss_a)[first.key].inputs)
                   if t is leaf)
        before = RNG(1).standard_normal(leaf.shape).astype(leaf.dtype) if prior else 0
        np.testing.assert_allclose(first.leaf_grads[leaf], before + sent, rtol=1e-6)


@pytest.mark.parametrize("graph", GRAPHS)
def test_each_op_comes_after_all_its_consumers_and_runs_once(graph):
    loss, _ = GRAPHS[graph]()
    nodes = nodes_of(loss)
    replay = replay_backward(loss)
    position = {}
    for k, s in enumerate(replay.steps):
        assert s.key not in position, f"{s.op} ran twice"
        position[s.key] = k
        assert s.op == nodes[s.key].name
    assert set(position) == set(nodes)  # every op of this graph leads to the loss
    for key, node in nodes.items():
        for t in node.inputs:
            if isinstance(t, Tensor) and t.grad_fn is not None:  # node consumes t's op
                assert position[key] < position[id(t.grad_fn)], (node.name, t.grad_fn.name)


def test_grad_out_and_what_is_sent_equal_central_differences_of_the_loss():
    p = arrays()
    J, seen, params = build(p)
    name_of = {id(t.grad_fn): name for name, t in seen.items()}
    nodes = nodes_of(J)
    replay = replay_backward(J)
    assert {name_of[s.key] for s in replay.steps} == set(seen)  # each named op is one step
    received = {}  # tensor name -> sum of what the steps sent to it
    names = {id(t): name for name, t in {**seen, **params}.items()}
    for s in replay.steps:
        name = name_of[s.key]
        fd = central(p, name, seen[name].shape)
        np.testing.assert_allclose(s.grad_out, fd, rtol=1e-6, atol=1e-9, err_msg=name)
        for t, g in zip(nodes[s.key].inputs, s.grad_inputs):
            if g is not None:
                received[names[id(t)]] = received.get(names[id(t)], 0) + g
    # what the steps sent to a tensor sums to dJ/d(that tensor), for intermediates and leaves
    assert set(received) == set(seen) - {"J"} | {"W1", "b1", "W2", "b2"}
    for name, total in received.items():
        shape = seen[name].shape if name in seen else p[name].shape
        np.testing.assert_allclose(total, central(p, name, shape), rtol=1e-6, atol=1e-9,
                                   err_msg=name)
    # steps record rules and names as the op table and the graph have them
    a_step = next(s for s in replay.steps if s.key == id(seen["a"].grad_fn))
    assert a_step.op == "tanh" and a_step.rule.startswith("dx = ")
    w_step = next(s for s in replay.steps if s.key == id(seen["w"].grad_fn))
    assert w_step.inputs == ("matmul", "b2") and w_step.grad_inputs[1].shape == (2,)


@pytest.mark.parametrize("y", [0.0, 1.0], ids=["y0", "y1"])
def test_document_000_steps_match_the_closed_forms(y):
    J, t, v = doc000(seed=3, y=y)
    replay = replay_backward(J)
    titles = [s.title for s in replay.steps]
    assert titles[0] == "J = neg" and titles[-5:] == [
        "z[2] = add", "matmul", "a[1] = sigmoid", "z[1] = add", "matmul"]
    assert sorted(titles[1:-6]) == ["add", "log", "log", "mul", "mul", "sub"]  # the log loss
    steps = {s.title: s for s in replay.steps}
    a1, a2, W2, x = v["a1"], v["a2"], v["W2"], v["x"]
    D = np.diag((a1 * (1 - a1)).ravel())
    s = steps["a[2] = sigmoid"]
    close(s.grad_out, -y / a2 + (1 - y) / (1 - a2))            # dJ/da[2]
    close(s.grad_inputs[0], a2 - y)                            # dJ/dz[2]
    s = steps["z[2] = add"]
    close(s.grad_inputs[s.inputs.index("b[2]")], a2 - y)       # F0.3
    s = next(s for s in replay.steps if "W[2]" in s.inputs)
    close(s.grad_out, a2 - y)
    close(s.grad_inputs[s.inputs.index("W[2]")], (a2 - y) * a1.T)  # F0.4
    close(s.grad_inputs[s.inputs.index("a[1]")], W2.T * (a2 - y))
    s = steps["a[1] = sigmoid"]
    close(s.grad_inputs[0], (a2 - y) * D @ W2.T)               # dJ/dz[1]
    s = steps["z[1] = add"]
    close(s.grad_inputs[s.inputs.index("b[1]")], (a2 - y) * D @ W2.T)  # F0.5
    s = next(s for s in replay.steps if "W[1]" in s.inputs)
    close(s.grad_inputs[s.inputs.index("W[1]")], (a2 - y) * D @ W2.T @ x.T)  # F0.6
    assert s.grad_inputs[s.inputs.index("x")] is None          # x does not require grad
    close(t["W1"].grad, (a2 - y) * D @ W2.T @ x.T)


def test_arrays_in_the_record_are_copies():
    J, t, _ = doc000()
    replay = replay_backward(J)
    kept = [s.grad_out.copy() for s in replay.steps]
    t["b2"].grad += 100.0  # changing a .grad afterwards does not change the record
    for s, g in zip(replay.steps, kept):
        np.testing.assert_array_equal(s.grad_out, g)
    b2 = [s.leaf_grads[t["b2"]] for s in replay.steps if t["b2"] in s.leaf_grads]
    assert all(np.all(g < 50) for g in b2)


# -- the arguments, as backward's ----------------------------------------------------------------

def test_arguments_as_backward():
    x = Tensor(np.arange(3.0), requires_grad=True)
    with pytest.raises(ValueError, match="replay_backward: grad can be implicitly created only"):
        replay_backward(x * 2)
    w = RNG(0).standard_normal(3)
    replay = replay_backward((x * x).sin(), w)
    np.testing.assert_allclose(x.grad, w * np.cos(np.arange(3.0) ** 2) * 2 * np.arange(3.0))
    np.testing.assert_array_equal(replay.steps[0].grad_out, w)
    with pytest.raises(RuntimeError, match="does not require grad"):
        replay_backward(Tensor([1.0]).sum())
    with pytest.raises(TypeError, match="replay_backward: expected a Tensor"):
        replay_backward(np.ones(1))
    with pytest.raises(ValueError, match="replay_backward: max_nodes"):
        replay_backward(x.sum(), max_nodes=0)


def test_retain_graph_as_backward():
    x = Tensor([0.5, 2.0], requires_grad=True)
    y = (x * x).sum()
    first = replay_backward(y, retain_graph=True)
    second = replay_backward(y)
    assert [s.op for s in first.steps] == [s.op for s in second.steps] == ["sum", "mul"]
    np.testing.assert_allclose(x.grad, 2 * 2 * np.array([0.5, 2.0]))
    with pytest.raises(RuntimeError, match="second time"):
        replay_backward(y)


def test_a_leaf_output_has_no_steps():
    x = Tensor([3.0], requires_grad=True)
    replay = replay_backward(x)
    assert replay.steps == [] and x.grad.tolist() == [1.0] and len(replay) == 0


def test_max_nodes_limits_the_drawing_not_the_record():
    x = Tensor(np.array([0.1, 0.2]), requires_grad=True)
    y = x
    for _ in range(400):
        y = y * 1.001
    replay = replay_backward(y.sum(), max_nodes=60)
    assert len(replay.steps) == 401
    np.testing.assert_allclose(x.grad, np.full(2, 1.001 ** 400))
    drawn = [s.node_id for s in replay.steps if s.node_id is not None]
    assert drawn and len(drawn) < 60 and all(s.node_id is None for s in replay.steps[len(drawn):])
    assert len(set(drawn)) == len(drawn)
    data = replay._data
    assert len(data["steps"]) == len(drawn) and data["total"] == 401
    # a skipped step's leaf update is carried to no shown step here (x is reached last), and
    # the leaf list still names x with its id absent (not drawn)
    assert data["leaves"] == [dict(name="leaf", id=None, prior=None)]


# -- the page ----------------------------------------------------------------------------------

def page_parts(page):
    data = re.search(r'<script type="application/json" id="([^"]+)" data-role="replay-data">'
                     r'(.*?)</script>', page, re.S)
    return data.group(1), json.loads(data.group(2))


@pytest.mark.requires_dot
def test_html_is_one_self_contained_page_with_the_hooks(tmp_path):
    J, t, v = doc000()
    replay = replay_backward(J, rankdir="TB")
    page = replay.html()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    data_id, data = page_parts(page)
    assert data_id == "replay-data" and len(data["steps"]) == len(replay.steps) == 13
    first = data["steps"][0]
    assert first["op"] == "neg" and first["title"] == "J = neg" and first["rule"] == "dx = -g"
    assert first["g"] == {"shape": [1, 1], "v": [["1"]]}
    z2 = next(s for s in data["steps"] if s["title"] == "z[2] = add")
    to_b2 = next(e for e in z2["sent"] if e["to"] == "b[2]")
    assert to_b2["v"]["v"] == [[f"{(v['a2'] - v['y']).item():.4g}"]]  # F0.3 on the page
    # the hooks of the contract
    for action in ("first", "prev", "next", "last", "play"):
        assert f'data-action="{action}"' in page
    for role in ("step-index", "step-detail", "slider"):
        assert f'data-role="{role}"' in page
    # every step's node is a node of the inline SVG, by the graph's own id
    prefix = re.search(r'data-prefix="([^"]+)"', page).group(1).replace("-", "&#45;")  # as dot
    svg = page[page.index("<svg"):page.index("</svg>")]
    for s in data["steps"]:
        assert f'<g id="{prefix}&#45;{s["node"]}" class="node">' in svg
    # nothing is fetched: no src/href/url(), no link or import; http only in SVG namespaces
    assert not re.search(r"\b(src|href)\s*=|url\(|<link|@import|<iframe|fetch\(|XMLHttpRequest",
                         page)
    assert set(re.findall(r'[\w:]*="?https?://[^"\s]*"?', page)) == {
        'xmlns="http://www.w3.org/2000/svg"', 'xmlns:xlink="http://www.w3.org/1999/xlink"'}
    assert "<?xml" not in page and "<!DOCTYPE svg" not in page
    # the same labels as draw_graph, and module boxes
    assert "<tspan" not in svg and ">W[2]<" in svg and ">z[1] = add<" in svg
    path = replay.save(tmp_path / "replay.html")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.requires_dot
def test_module_boxes_in_the_page():
    loss, _ = mlp_loss()
    page = replay_backward(loss).html()
    prefix = re.search(r'data-prefix="([^"]+)"', page).group(1).replace("-", "&#45;")
    for path in ("0", "2", "4"):
        assert f'id="{prefix}&#45;cluster&#45;{path}" class="cluster"' in page
        assert f">module {path}<" in page


@pytest.mark.requires_dot
def test_notebook_fragments_do_not_clash():
    J1, _, _ = doc000(seed=1)
    J2, _, _ = doc000(seed=1)  # the same graph twice
    r1, r2 = replay_backward(J1), replay_backward(J2)
    pages = [r1._repr_html_(), r1._repr_html_(), r2._repr_html_()]
    roots = [re.match(r'<div class="amr-replay" id="([^"]+)"', p).group(1) for p in pages]
    assert len(set(roots)) == 3
    svg_ids = [re.findall(r'<g id="([^"]+)"', p) for p in pages]
    assert len(set().union(*svg_ids)) == sum(map(len, svg_ids))  # each display's own SVG ids
    for page, root, ids in zip(pages, roots, svg_ids):
        assert "<html" not in page and "<body" not in page
        data_id, _ = page_parts(page)
        assert data_id == f"{root}-data"
        assert re.search(r'data-prefix="([^"]+)"', page).group(1) == root
        assert all(i.startswith(root.replace("-", "&#45;") + "&#45;") for i in ids)
        # the script finds its root as its parent, or by the root's id: nothing else global
        assert "document.currentScript.parentNode" in page
        assert re.findall(r"document\.\w+\([^)]*\)", page) == [
            f"document.querySelectorAll('[id=\"{root}\"]')",
            'document.addEventListener("keydown", onKey)']  # the latter in a standalone page only
        assert 'data-standalone="false"' in page
        css = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
        css = re.sub(r"@keyframes[^{]*\{[^{}]*\{[^{}]*\}\s*\}", "", css)  # a named animation
        css = re.sub(r"@media[^{]*\{(.*?\})\s*\}", r"\1", css, flags=re.S)
        for selectors in re.findall(r"([^{}]+)\{[^{}]*\}", css):
            for sel in selectors.split(","):
                assert sel.strip().startswith(f"#{root}"), sel  # scoped to its own root


# -- the rules ------------------------------------------------------------------------------------

TEXTBOOK = "dz = g * (softmax(z) - onehot(y)) / N"


def all_rules():
    """(op, rule) for every row of the op table, and cross_entropy's form for class labels, as
    a replay of a plain cross entropy records it."""
    z = Tensor(RNG(0).standard_normal((3, 4)), requires_grad=True)
    labels = replay_backward(F.cross_entropy(z, np.array([0, 3, 1]))).steps[0]
    return [(name, prim.rule) for name, prim in OPS.items()] + [(labels.op, labels.rule)]


@pytest.mark.parametrize("op, rule", all_rules(), ids=lambda x: x if x in OPS else None)
def test_every_rule_is_written_with_words_the_page_defines(op, rule):
    """A rule's formulas (before the note, after two spaces) use only: g, out, the op's inputs
    (x for its only one, a and b for its two) and their d-names, its options, names its note
    defines, the words the page explains (RULE_WORDS) and a few attributes after a dot."""
    params = inspect.signature(OPS[op].fwd).parameters.values()
    inputs = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    options = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    formula, _, note = rule.partition("  (")
    names = {"g", "out", *inputs, *{1: ["x"], 2: ["a", "b"]}.get(len(inputs), [])}
    names |= set(re.findall(r"(?:^|[(,;]\s*)([A-Za-z_]\w*) = ", note))
    explained = {w for w in RULE_WORDS if isinstance(w, str)} | {
        w[1] for w in RULE_WORDS if isinstance(w, tuple) and w[0] == op}
    allowed = names | {"d" + n for n in names} | set(options) | explained
    text = re.sub(r"\b\d[\d.]*(e-?\d+)?\b", " ", formula)  # numbers: 2, 1e-12
    words = re.findall(r"(?<![\w.])[A-Za-z_]\w*", text)
    assert words and not [w for w in words if w not in allowed], (op, rule)
    assert set(re.findall(r"\.([A-Za-z_]\w*)", text)) <= set(RULE_ATTRIBUTES), (op, rule)
    assert "#" not in formula and "_{" not in formula, (op, rule)  # no ad-hoc notation


def test_the_old_rules_would_fail_the_vocabulary_test():
    """The test above catches what the page used to show: q undefined, #ties, prose."""
    for op, rule in [("cross_entropy", "dz = g * (softmax(z) * sum(q) - q), "
                                       "dq = -g * log_softmax(z)"),
                     ("max", "dx = g * [x == out] / #ties"),
                     ("expand", "dx = g summed over the broadcast axes")]:
        with pytest.raises(AssertionError):
            test_every_rule_is_written_with_words_the_page_defines(op, rule)


def cross_entropy_case(**kwargs):
    z = Tensor(RNG(1).standard_normal((5, 3)), requires_grad=True)
    y = np.array([0, 2, 1, 1, 0])
    return z, y, replay_backward(F.cross_entropy(z, y, **kwargs))


def softmax_np(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.requires_dot
def test_cross_entropy_on_labels_reads_as_the_textbook_form():
    z, y, replay = cross_entropy_case()
    (step,) = replay.steps
    assert step.op == "cross_entropy" and step.rule.partition("  (")[0] == TEXTBOOK
    # what the rule says, computed independently: (softmax(z) - onehot(y)) / N with g = 1
    close(step.grad_inputs[0], (softmax_np(z.data) - np.eye(3)[y]) / len(y))
    (shown,) = replay._data["steps"]
    words = {w.split(":")[0].split("(")[0]: w for w in shown["words"]}
    assert set(words) == {"softmax", "onehot", "N"}, shown["words"]
    assert "1 at its class y" in words["onehot"] and "reduction='mean'" in words["N"]
    assert f'"rule":"{TEXTBOOK}  (' in replay.html()  # the page's data
    source = draw_graph(F.cross_entropy(z, y), show_vjp=True).source
    assert TEXTBOOK in source and "onehot(y): for each sample" in source  # the rule, its words


@pytest.mark.requires_dot
@pytest.mark.parametrize("kwargs", [dict(label_smoothing=0.1), dict(weight=np.array([1., 2., .5]))])
def test_cross_entropy_in_general_explains_its_target_distribution(kwargs):
    z, y, replay = cross_entropy_case(**kwargs)
    step = next(s for s in replay.steps if s.op == "cross_entropy")
    assert step.rule.startswith("dz = g * (softmax(z) * sum(q) - q) / N")
    shown = next(s for s in replay._data["steps"] if s["op"] == "cross_entropy")
    (q,) = [w for w in shown["words"] if w.startswith("q:")]
    for part in ("label_smoothing eps", "class weights w", "onehot(y)", "sum(w[y])", TEXTBOOK):
        assert part in q, part
    source = draw_graph(F.cross_entropy(z, y, **kwargs), show_vjp=True).source
    assert "in the rules" in source and "q: the target, one distribution" in source
    assert "onehot" not in draw_graph(F.cross_entropy(z, y, **kwargs)).source  # only show_vjp


def test_a_replay_step_names_the_output_and_input_its_rule_calls_out_and_x():
    x = Tensor(RNG(2).standard_normal((2, 3)), requires_grad=True)
    h = x.sigmoid()
    h.name = "h"
    replay = replay_backward(h.reshape(3, 2).sum())
    words = {s["op"]: s["words"] for s in replay._data["steps"]}
    assert words["sigmoid"] == ["out: the op's output, here h"]
    assert words["reshape"] == ["x: the op's input (its only one), here h"]
    assert [s.rule for s in replay.steps] == [OPS[s.op].rule for s in replay.steps]


def test_without_dot_html_says_how_to_install_it(monkeypatch):
    J, _, _ = doc000()
    replay = replay_backward(J)  # recording needs no Graphviz
    monkeypatch.setenv("PATH", "")
    for call in (replay.html, replay._repr_html_):
        with pytest.raises(GraphvizNotFoundError, match="apt-get install graphviz"):
            call()


@pytest.mark.parametrize("how", ["positional", "gradient=", "grad="])
def test_replay_backward_takes_the_gradient_as_backward_does(how):
    """replay_backward(loss, gradient=g) and (loss, grad=g) leave the .grad that
    loss.backward(g) does, which is torch's (d/dx sum(g * x^2) = 2 g x)."""
    torch = pytest.importorskip("torch")
    x0, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, 1.0, -1.0])
    x = Tensor(x0, requires_grad=True)
    kwargs = {"positional": {}, "gradient=": {"gradient": g}, "grad=": {"grad": g}}[how]
    args = (x * x, g) if how == "positional" else (x * x,)
    replay_backward(*args, **kwargs)
    tx = torch.tensor(x0, requires_grad=True)
    (tx * tx).backward(gradient=torch.tensor(g))
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
