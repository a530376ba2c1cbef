"""draw_graph: DOT structure of known graphs, gradients only after backward, module boxes, real
rendering with `dot`, large graphs, and the error when `dot` is missing."""
import os
import re
import subprocess
import sys
from pathlib import Path

import graphviz
import numpy as np
import pytest

import nn
from autograd_mini import Tensor, draw_graph, no_grad
from autograd_mini.graph import GraphvizNotFoundError

KINDS = ("output", "op", "param", "leaf", "data", "const")
ROOT = Path(__file__).resolve().parents[1]


def nodes(g):
    """node id -> label, for every graph node (legend and summary included)."""
    return dict(re.findall(r"^\s*(\w+) \[label=(<.*?>)(?: \w|\])", g.source, flags=re.M))


def count(g):
    ids = nodes(g)
    return {k: sum(bool(re.fullmatch(k + r"\d+", i)) for i in ids) for k in KINDS}


def edges(g):
    return re.findall(r"^\s*(\w+) -> (\w+)", g.source, flags=re.M)


def label(g, text):
    """The single label containing `text`."""
    found = [lab for i, lab in nodes(g).items() if text in lab and i != "legend"]
    assert len(found) == 1, (text, found)
    return found[0]


def clusters(g):
    """cluster name -> node ids inside it."""
    out, name = {}, None
    for line in g.source.splitlines():
        m = re.match(r"\s*subgraph cluster_(\S+) \{", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif line.strip() == "}":
            name = None
        elif name is not None:
            m = re.match(r"\s*(\w+) \[label=", line)
            if m:
                out[name].append(m.group(1))
    return out


def two_layers(seed=0):
    """A 3-4-2 sigmoid network on hand-named tensors (as nn names them) and an MSE-like loss."""
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((5, 3)))
    params = {}
    for name, shape in [("0.weight", (4, 3)), ("0.bias", (4,)), ("2.weight", (2, 4)),
                        ("2.bias", (2,))]:
        params[name] = Tensor(rng.standard_normal(shape), requires_grad=True)
        params[name].name = name
    h = (x @ params["0.weight"].T + params["0.bias"]).sigmoid()
    y = h @ params["2.weight"].T + params["2.bias"]
    loss = ((y - 1.0) ** 2).mean()
    return loss, params


def test_node_counts_and_edges_of_a_known_graph():
    loss, _ = two_layers()
    g = draw_graph(loss)
    # ops: transpose matmul add sigmoid | transpose matmul add | sub pow mean(output)
    assert count(g) == dict(output=1, op=9, param=4, leaf=0, data=1, const=2)
    e = edges(g)
    assert len(e) == (1 + 2 + 2 + 1) + (1 + 2 + 2) + (2 + 2 + 1)  # each input of each op
    assert all(not src.startswith("output") for src, _ in e)  # the output feeds nothing
    assert sum(dst.startswith("output") for _, dst in e) == 1
    assert "legend" in nodes(g)


def test_labels_show_op_names_shapes_dtypes_parameter_names_and_values():
    loss, _ = two_layers()
    g = draw_graph(loss)
    src = g.source
    for op in ("transpose", "matmul", "add", "sigmoid", "sub", "pow", "mean"):
        assert f"<b>{op}</b>" in src
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert f"<b>{name}</b>" in src
    assert "(5, 4) float64" in label(g, "sigmoid")  # the op's output shape, not an input's
    assert "(3, 4) float64" in label(g, "<b>transpose</b></td></tr><tr><td>(3, 4)")
    out = label(g, "<b>mean</b>")
    assert "scalar float64" in out and f"{loss.item():.4g}" in out  # a small tensor: its value
    assert "mean " in label(g, "0.weight") and "min " in label(g, "0.weight")  # 12 elements


def test_small_values_and_constants_are_inline():
    a = Tensor([1.5, -2.0], requires_grad=True)
    g = draw_graph((2 * a).reshape(2, 1))
    assert "[1.5, -2]" in label(g, "<b>leaf</b>")
    assert count(g) == dict(output=1, op=1, param=0, leaf=1, data=0, const=1)
    assert "<td>2</td>" in nodes(g)["const0"]
    assert "reshape shape=(2, 1)" in nodes(g)["output0"]  # the shape is an option, not a node


def test_indices_are_written_as_in_python():
    x = Tensor(np.arange(24.0).reshape(4, 6), requires_grad=True)
    y = x[:, 1:5:2][np.array([0, 2, 2])][..., 0] + x[np.arange(10) % 4][0, :3]
    titles = re.findall(r"<b>(.*?)</b>", draw_graph(y).source)
    for index in ("[:, 1:5:2]", "[[0, 2, 2]]", "[..., 0]", "[&lt;int64 array (10,)&gt;]",
                  "[0, :3]"):
        assert f"getitem {index}" in titles
    assert count(draw_graph(y))["const"] == 0  # an index is not a data input
    assert not re.search(r"-> op\d+ \[label", draw_graph(y).source)  # one data input each


def test_constants_keep_their_digits():
    g = draw_graph(Tensor([1.0, 2.0], requires_grad=True) * 1.0001)
    assert "<td>1.0001</td>" in nodes(g)["const0"]


def test_shared_input_is_one_node_with_one_edge_per_use():
    a = Tensor(np.arange(3.0), requires_grad=True)
    b = a * a
    g = draw_graph(b + b)
    assert count(g) == dict(output=1, op=1, param=0, leaf=1, data=0, const=0)
    assert sorted(edges(g)) == [("leaf0", "op0"), ("leaf0", "op0"), ("op0", "output0"),
                                ("op0", "output0")]


def test_non_commutative_inputs_are_labelled_by_argument():
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((3, 1)), requires_grad=True)
    g = draw_graph(a @ b - 1)
    src = g.source
    assert "leaf0 -> op0 [label=a]" in src and "leaf1 -> op0 [label=b]" in src
    assert "op0 -> output0 [label=a]" in src and "const0 -> output0 [label=b]" in src


def test_gradients_appear_only_after_backward_and_match_grad():
    loss, params = two_layers()
    before = draw_graph(loss)
    assert "grad " not in before.source.replace("grad shown after backward", "")
    loss.backward()
    after = draw_graph(loss)
    b2 = params["2.bias"].grad
    assert f"grad [{b2[0]:.4g}, {b2[1]:.4g}]" in label(after, "2.bias")
    w0 = params["0.weight"].grad
    assert f"grad: norm {np.linalg.norm(w0):.4g}, shape (4, 3)" in label(after, "0.weight")
    # op outputs keep no gradient unless asked (retain_grad): nothing is shown for them
    assert "grad" not in label(after, "<b>sigmoid</b>")
    assert "grad [" not in draw_graph(loss, show_grads=False).source
    assert "grad: norm" not in draw_graph(loss, show_grads=False).source


def test_op_gradient_shown_with_retain_grad():
    x = Tensor([0.5, -1.0], requires_grad=True)
    s = x.sigmoid()
    s.retain_grad()
    loss = s.sum()
    loss.backward()
    sig = 1 / (1 + np.exp(-np.array([0.5, -1.0])))
    lab = label(draw_graph(loss), "<b>sigmoid</b>")
    assert "grad [1, 1]" in lab  # d sum / d s
    assert f"grad [{sig[0] * (1 - sig[0]):.4g}" in label(draw_graph(loss), "<b>leaf</b>")


def test_show_vjp_adds_each_ops_rule():
    loss, _ = two_layers()
    assert "g * out * (1 - out)" not in draw_graph(loss).source
    src = draw_graph(loss, show_vjp=True).source
    assert "dx = g * out * (1 - out)" in src and "da = g @ b.T, db = a.T @ g" in src


def test_one_cluster_per_linear_layer_from_parameter_names():
    loss, _ = two_layers()
    g = draw_graph(loss)
    box = clusters(g)
    assert set(box) == {"0", "2"}
    for name, ids in box.items():
        labels = [nodes(g)[i] for i in ids]
        assert sorted(re.search(r"<b>([\w.]+)</b>", lab).group(1) for lab in labels) == sorted(
            ["transpose", "matmul", "add", f"{name}.weight", f"{name}.bias"])
    assert 'label="module 0"' in g.source
    assert clusters(draw_graph(loss, group_modules=False)) == {}


def test_nn_mlp_parameters_are_named_and_grouped():
    model = nn.MLP([3, 4, 4, 2], activation="tanh", rng=0)
    x = np.random.default_rng(0).standard_normal((6, 3))
    loss = nn.CrossEntropyLoss()(model(Tensor(x)), np.array([0, 1, 1, 0, 1, 0]))
    g = draw_graph(loss)
    for name, _ in model.named_parameters():
        assert f"<b>{name}</b>" in g.source
    assert set(clusters(g)) == {"0", "2", "4"}
    for name, ids in clusters(g).items():  # nn.Linear records one fused op: linear
        assert sorted(re.search(r"<b>([\w.]+)</b>", nodes(g)[i]).group(1) for i in ids) == sorted(
            ["linear", f"{name}.weight", f"{name}.bias"])
    c = count(g)
    assert c["param"] == 6 and c["op"] + c["output"] == 3 + 2 + 1  # linears, tanh, loss
    assert "cross_entropy" in label(g, "cross_entropy")
    assert c["const"] == 1 and "(6,) int64" in nodes(g)["const0"]  # the labels: a constant
    assert "input" in g.source and "target" in g.source  # edge labels of the fused loss


def test_linear_without_bias_still_grouped():
    layer = nn.Sequential(nn.Linear(3, 2, bias=False, rng=0))
    g = draw_graph(layer(Tensor(np.ones((1, 3)))).sum())
    assert len(clusters(g)["0"]) == 2  # weight, linear


def test_user_names_of_results_and_data_are_shown():
    x = Tensor(np.ones((2, 1)))
    x.name = "x"
    w = Tensor(np.full((1, 2), 0.5), requires_grad=True)
    z = w @ x
    z.name = "z[1]"
    g = draw_graph(z.sigmoid())
    assert count(g) == dict(output=1, op=1, param=0, leaf=1, data=1, const=0)  # x: no grad
    assert "<b>x</b>" in nodes(g)["data0"] and "<b>z[1] = matmul</b>" in nodes(g)["op0"]


def test_leaf_and_no_grad_roots():
    w = Tensor(np.ones(3), requires_grad=True)
    w.name = "w"
    assert count(draw_graph(w)) == dict(output=0, op=0, param=1, leaf=0, data=0, const=0)
    with no_grad():
        y = w * 2
    assert count(draw_graph(y)) == dict(output=0, op=0, param=0, leaf=0, data=1, const=0)


def test_output_is_deterministic():
    a = draw_graph(two_layers(seed=1)[0]).source
    b = draw_graph(two_layers(seed=1)[0]).source
    assert a == b


def test_bad_arguments():
    with pytest.raises(TypeError, match="expected a Tensor"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(Tensor(1.0), max_nodes=0)


def chain(n):
    x = Tensor(np.array([0.1, 0.2]), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


def test_large_graph_is_collapsed_with_a_message():
    g = draw_graph(chain(10_000), max_nodes=200)
    ids = nodes(g)
    assert len(ids) == 200 + 2  # kept nodes + summary + legend
    more = ids["more"]
    total = 10_000 + 1 + 1 + 10_000  # muls and the sum, the leaf, a constant per mul
    assert f"{total - 200:,} more nodes not drawn" in more
    assert f"max_nodes={total}" in more
    assert all(src == "more" or src in ids for src, _ in edges(g))


def test_large_graph_without_limit_builds_without_recursion_error():
    g = draw_graph(chain(10_000), max_nodes=None)
    assert count(g)["op"] == 10_000


@pytest.mark.requires_dot
def test_renders_svg_and_png(tmp_path):
    loss, params = two_layers()
    loss.backward()
    g = draw_graph(loss, show_vjp=True)
    svg = g.pipe(format="svg").decode()
    assert svg.count("<g id=\"node") == len(nodes(g)) and "0.weight" in svg
    out = g.render(tmp_path / "loss", format="png", cleanup=True)
    png = (tmp_path / "loss.png").read_bytes()
    assert out.endswith("loss.png") and png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width > 500 and height > 100


@pytest.mark.requires_dot
def test_10000_op_graph_renders_collapsed():
    svg = draw_graph(chain(10_000)).pipe(format="svg").decode()
    assert "more nodes not drawn" in svg and svg.rstrip().endswith("</svg>")


def test_missing_dot_keeps_source_and_explains_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    g = draw_graph(chain(3))
    assert g.source.startswith("digraph")  # the DOT text needs no Graphviz
    for call in (lambda: g.pipe(format="svg"), lambda: g.render(tmp_path / "x", format="png"),
                 lambda: g._repr_mimebundle_()):
        with pytest.raises(GraphvizNotFoundError) as err:
            call()
        assert isinstance(err.value, graphviz.ExecutableNotFound)  # graphviz's own type too
        msg = str(err.value)
        assert "'dot'" in msg and "apt-get install graphviz" in msg
        assert "brew install graphviz" in msg and "conda install" in msg and "graph.source" in msg


@pytest.mark.requires_dot
def test_jupyter_display_is_svg():
    bundle = draw_graph(chain(2))._repr_mimebundle_()
    assert "<svg" in bundle["image/svg+xml"]


@pytest.mark.requires_dot
def test_example_script_writes_svg_and_png(tmp_path):
    script = ROOT / "examples" / "draw_graphs.py"
    run = subprocess.run([sys.executable, str(script), "--quick", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    for name in ("graph_doc000", "graph_mlp_step"):
        for fmt in ("svg", "png"):
            path = tmp_path / f"{name}.{fmt}"
            assert str(path) in run.stdout and path.stat().st_size > 10_000
    assert "(F0.3)" in run.stdout


# -- a machine without Graphviz (issue 10): nothing fails, everything says how to install it ---

def without_dot(tmp_path):
    """The environment with a PATH on which no program, hence no `dot`, is found."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    return dict(os.environ, PATH=str(empty))


def test_example_script_without_dot_says_how_to_install_it(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "examples" / "draw_graphs.py"), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True,
                         env=without_dot(tmp_path), timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    assert "'dot'" in run.stderr and "apt-get install graphviz" in run.stderr
    assert "brew install graphviz" in run.stderr and "conda install" in run.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# Every test that renders with `dot`, in any file: each needs @pytest.mark.requires_dot.
RENDERING_TESTS = [
    "tests/test_graph.py::test_renders_svg_and_png",
    "tests/test_graph.py::test_10000_op_graph_renders_collapsed",
    "tests/test_graph.py::test_jupyter_display_is_svg",
    "tests/test_graph.py::test_example_script_writes_svg_and_png",
    "tests/test_api_contract.py::test_draw_graph_returns_digraph_with_ops_shapes_and_grads",
    "tests/test_api_contract.py::test_draw_graph_names_module_parameters_without_a_map",
    "tests/test_examples.py::test_draw_graphs_writes_svg",
]


def test_rendering_tests_skip_without_dot_with_the_install_advice(tmp_path):
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                          *RENDERING_TESTS], capture_output=True, text=True, cwd=ROOT,
                         env=without_dot(tmp_path), timeout=300)
    assert run.returncode == 0 and " passed" not in run.stdout, run.stdout + run.stderr
    skips = [ln for ln in run.stdout.splitlines() if ln.startswith("SKIPPED")]
    extra = "the examples need the 'examples' extra"  # test_examples.py without scikit-learn
    assert skips and all("apt-get install graphviz" in ln or extra in ln for ln in skips), skips
