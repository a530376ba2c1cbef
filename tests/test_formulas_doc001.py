"""Document 001 (李旻先, "第六章 神经网络"): closed forms F1.1-F1.11 and mapping M1.

The document's layout: column vectors, W^(l) in R^(s_{l-1} x s_l) (in x out, W_ij joins unit i
of layer l-1 to unit j of layer l), z^(l) = (W^(l))^T a^(l-1) + b^(l), a^(l) = g_l(z^(l)),
softmax output with J = -log a_y^(L) per sample, delta^(l) = dJ/dz^(l) a column.

Each formula's statement, the document's conventions and any erratum: docs/formulas.md,
section "Document 001".
"""
import numpy as np
import pytest

from autograd_mini import Tensor
from conftest import close



def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def softmax(t):
    e = np.exp(t - t.max())
    return e / e.sum()


# g and g' of the hidden layers (the document's g_l is any element-wise function)
ACT = {"sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z)), Tensor.sigmoid),
       "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2, Tensor.tanh)}
SIZES = [5, 4, 3, 3]  # s_0 .. s_L, L = 3, C = 3 classes


def params(seed=0):
    rng = np.random.default_rng(seed)
    W = [rng.standard_normal((SIZES[l - 1], SIZES[l])) for l in range(1, len(SIZES))]
    b = [rng.standard_normal((SIZES[l], 1)) for l in range(1, len(SIZES))]
    return rng.standard_normal((SIZES[0], 1)), W, b


def one_hot(y, C=3):
    v = np.zeros((C, 1))
    v[y] = 1
    return v


def autodiff(x, W, b, y, act):
    """Forward pass z^(l) = (W^(l))^T a^(l-1) + b^(l) on Tensors; J = -log softmax(z^(L))_y."""
    Wt = [Tensor(w, requires_grad=True) for w in W]
    bt = [Tensor(v, requires_grad=True) for v in b]
    a, zs = Tensor(x), []
    for l, (w, v) in enumerate(zip(Wt, bt)):
        z = w.T @ a + v
        z.retain_grad()
        zs.append(z)
        a = ACT[act][2](z) if l < len(Wt) - 1 else z.softmax(axis=0)
    J = -a[y, 0].log()
    J.backward()
    return [w.grad for w in Wt], [v.grad for v in bt], [z.grad for z in zs]


def manual(x, W, b, y, act, diag_form=False):
    """Back-propagation as printed: delta^(L) = a^(L) - y (F1.5), delta^(l) by F1.3,
    dJ/dW^(l) = a^(l-1) (delta^(l))^T (F1.1), dJ/db^(l) = delta^(l) (F1.2)."""
    g, dg = ACT[act][:2]
    a, zs = [x], []
    for l, (w, v) in enumerate(zip(W, b)):
        zs.append(w.T @ a[-1] + v)
        a.append(g(zs[-1]) if l < len(W) - 1 else softmax(zs[-1]))
    delta = [None] * len(W)
    delta[-1] = a[-1] - one_hot(y)
    for l in range(len(W) - 2, -1, -1):  # 0-based l is the document's layer l+1
        if diag_form:  # diag(g'(z^(l))) W^(l+1) delta^(l+1)
            delta[l] = np.diag(dg(zs[l]).ravel()) @ W[l + 1] @ delta[l + 1]
        else:          # g'(z^(l)) (.) (W^(l+1) delta^(l+1)): no transpose, W is in x out
            delta[l] = dg(zs[l]) * (W[l + 1] @ delta[l + 1])
    dW = [a[l] @ delta[l].T for l in range(len(W))]
    return dW, delta, delta


acts = pytest.mark.parametrize("act", ["sigmoid", "tanh"])
labels = pytest.mark.parametrize("y", [0, 1, 2], ids=["y1", "y2", "y3"])  # document's 1-based


@acts
@labels
def test_F1_1_dJ_dW_is_a_prev_times_delta_T(act, y):
    x, W, b = params()
    dW, _, _ = autodiff(x, W, b, y, act)
    for l, (ga, gm) in enumerate(zip(dW, manual(x, W, b, y, act)[0])):
        assert gm.shape == (SIZES[l], SIZES[l + 1])  # s_{l-1} x s_l
        close(ga, gm)


@acts
@labels
def test_F1_2_dJ_db_is_delta(act, y):
    x, W, b = params()
    _, db, _ = autodiff(x, W, b, y, act)
    for ga, gm in zip(db, manual(x, W, b, y, act)[1]):
        close(ga, gm)


@acts
@pytest.mark.parametrize("form", ["diag", "hadamard"])
def test_F1_3_delta_recursion_without_transpose(act, form):
    x, W, b = params(1)
    _, _, dz = autodiff(x, W, b, 2, act)
    for ga, gm in zip(dz, manual(x, W, b, 2, act, diag_form=form == "diag")[2]):
        close(ga, gm)


def test_F1_4_softmax_jacobian():
    """dg(z)_i/dz_j = g_i(1 - g_i) if i = j else -g_i g_j, i.e. diag(g) - g g^T."""
    z = np.random.default_rng(4).standard_normal((4, 1))
    g = softmax(z)
    J = np.array([[g[i, 0] * (1 - g[i, 0]) if i == j else -g[i, 0] * g[j, 0]
                   for j in range(4)] for i in range(4)])
    close(J, np.diag(g.ravel()) - g @ g.T)  # the two printed forms agree
    rows = []
    for i in range(4):  # row i of the Jacobian is the gradient of g_i
        zt = Tensor(z, requires_grad=True)
        zt.softmax(axis=0)[i, 0].backward()
        rows.append(zt.grad.ravel())
    close(np.array(rows), J)


@labels
def test_F1_5_softmax_cross_entropy_delta(y):
    """delta_c = -(da_y/dz_c)/a_y = a_c - 1 (c = y), a_c (c != y); delta^(L) = a^(L) - y."""
    z = np.random.default_rng(5).standard_normal((3, 1))
    a = softmax(z)
    jac_row_y = [a[y, 0] * (1 - a[y, 0]) if c == y else -a[y, 0] * a[c, 0] for c in range(3)]
    by_chain = np.array([[-jac_row_y[c] / a[y, 0]] for c in range(3)])
    by_cases = np.array([[a[c, 0] - 1 if c == y else a[c, 0]] for c in range(3)])
    zt = Tensor(z, requires_grad=True)
    (-zt.softmax(axis=0)[y, 0].log()).backward()
    close(zt.grad, by_chain)
    close(zt.grad, by_cases)
    close(zt.grad, a - one_hot(y))


def test_F1_6_sigmoid_output_squared_error_delta():
    """J = 1/2 ||a - y||^2, a = sigmoid(z): delta = diag(a(1 - a)) (a - y)."""
    rng = np.random.default_rng(6)
    z, y = rng.standard_normal((3, 1)), rng.uniform(size=(3, 1))
    a = sigmoid(z)
    zt = Tensor(z, requires_grad=True)
    (0.5 * ((zt.sigmoid() - y) ** 2).sum()).backward()
    close(zt.grad, np.diag((a * (1 - a)).ravel()) @ (a - y))
    close(zt.grad, a * (1 - a) * (a - y))  # element by element, delta_c


# -- the worked 5-4-3 example: p_l = sum_i x_i v_il, h = sigmoid(p), o_j = sum_l h_l w_lj ------

def example(y, seed=7):
    rng = np.random.default_rng(seed)
    x, V, Wo = rng.standard_normal((5, 1)), rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    Vt, Wt = Tensor(V, requires_grad=True), Tensor(Wo, requires_grad=True)
    h_t = (Vt.T @ Tensor(x)).sigmoid()
    (-(Wt.T @ h_t).softmax(axis=0)[y, 0].log()).backward()
    p = V.T @ x
    h = sigmoid(p)
    yhat = softmax(Wo.T @ h)
    return dict(x=x, V=V, W=Wo, p=p, h=h, yhat=yhat, yv=one_hot(y), dV=Vt.grad, dW=Wt.grad)


@labels
def test_F1_7_example_output_layer_gradient(y):
    e = example(y)
    delta2 = e["yhat"] - e["yv"]
    assert e["dW"].shape == (4, 3)
    close(e["dW"], e["h"] @ delta2.T)


@labels
def test_F1_8_example_dJ_dw32(y):
    e = example(y)
    h, yhat, yv = e["h"].ravel(), e["yhat"].ravel(), e["yv"].ravel()
    close(e["dW"][3 - 1, 2 - 1], h[3 - 1] * (yhat[2 - 1] - yv[2 - 1]))  # h_3 (yhat_2 - y_2)


@labels
def test_F1_9_example_hidden_delta(y):
    e = example(y)
    fprime = e["h"] * (1 - e["h"])  # f'(p_l) = h_l (1 - h_l)
    d = e["yhat"] - e["yv"]
    delta1 = np.diag(fprime.ravel()) @ e["W"] @ d
    rows = np.array([[fprime[l, 0] * sum(e["W"][l, j] * d[j, 0] for j in range(3))]
                     for l in range(4)])
    close(delta1, rows)
    # dJ/dp from autodiff: dJ/dV = x delta1^T and x_0 != 0, so row 0 of dV / x_0 is delta1^T
    close(e["dV"][[0]].T / e["x"][0, 0], delta1)


@labels
def test_F1_10_example_input_layer_gradient(y):
    e = example(y)
    fprime = e["h"] * (1 - e["h"])
    delta1 = np.diag(fprime.ravel()) @ e["W"] @ (e["yhat"] - e["yv"])
    assert e["dV"].shape == (5, 4)
    close(e["dV"], e["x"] @ delta1.T)


@labels
def test_F1_11_example_dJ_dv43(y):
    e = example(y)
    x, h, W = e["x"].ravel(), e["h"].ravel(), e["W"]
    d = (e["yhat"] - e["yv"]).ravel()
    v43 = x[4 - 1] * h[3 - 1] * (1 - h[3 - 1]) * sum(W[3 - 1, j] * d[j] for j in range(3))
    close(e["dV"][4 - 1, 3 - 1], v43)


# -- M1: the PyTorch-style layout of nn: Linear(s_{l-1}, s_l).weight = (W^(l))^T ---------------

def _nn_layers(W, b):
    import nn
    layers = []
    for w, v in zip(W, b):
        lin = nn.Linear(*w.shape, bias=v is not None)
        lin.weight.data = w.T.copy()
        if v is not None:
            lin.bias.data = v.ravel().copy()
        layers.append(lin)
    return layers


def _nn_forward(layers, X, act):
    a = Tensor(X)
    for l, lin in enumerate(layers):
        a = lin(a)
        if l < len(layers) - 1:
            a = ACT[act][2](a)
    return a  # logits z^(L), rows are samples


@acts
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_M1_nn_cross_entropy_on_logits(act, reduction):
    """weight.grad = (dJ/dW^(l))^T = delta (a^(l-1))^T; `sum` = per-sample J summed (a batch of
    one is the document's J), `mean` = the document's 1/m-averaged J: the batch mean of F1.1/F1.2.
    """
    import nn
    _, W, b = params(8)
    rng = np.random.default_rng(9)
    m = 4
    X, labels = rng.standard_normal((m, SIZES[0])), rng.integers(0, 3, m)
    layers = _nn_layers(W, b)
    nn.CrossEntropyLoss(reduction=reduction)(_nn_forward(layers, X, act), labels).backward()
    per = [manual(X[[i]].T, W, b, labels[i], act) for i in range(m)]
    scale = 1.0 if reduction == "sum" else 1.0 / m
    for l, lin in enumerate(layers):
        close(lin.weight.grad, scale * sum(p[0][l] for p in per).T)
        close(lin.bias.grad, scale * sum(p[1][l] for p in per).ravel())


@labels
def test_M1_nn_worked_example_indices(y):
    """Linear(5,4,bias=False).weight[l-1, i-1] = v_il: dJ/dv_43 is layer1.weight.grad[2, 3];
    Linear(4,3,bias=False).weight[j-1, l-1] = w_lj: dJ/dw_32 is layer2.weight.grad[1, 2]."""
    import nn
    e = example(y)
    l1, l2 = _nn_layers([e["V"], e["W"]], [None, None])
    logits = l2(l1(Tensor(e["x"].T)).sigmoid())
    nn.CrossEntropyLoss(reduction="sum")(logits, np.array([y])).backward()
    x, h, W = e["x"].ravel(), e["h"].ravel(), e["W"]
    d = (e["yhat"] - e["yv"]).ravel()
    close(l1.weight.grad[2, 3], x[3] * h[2] * (1 - h[2]) * sum(W[2, j] * d[j] for j in range(3)))
    close(l2.weight.grad[1, 2], h[2] * (e["yhat"][1, 0] - e["yv"][1, 0]))
    delta1 = np.diag(h * (1 - h)) @ W @ d[:, None]
    close(l1.weight.grad, (e["x"] @ delta1.T).T)  # F1.10 transposed
    close(l2.weight.grad, (e["h"] @ d[None, :]).T)  # F1.7 transposed


def test_M1_nn_sigmoid_squared_error_is_half_mse_sum():
    """Sigmoid output + 1/2 ||a - y||^2 per sample = 0.5 * MSELoss(sum); delta by F1.6."""
    import nn
    x, W, b = params(10)
    yv = np.random.default_rng(11).uniform(size=(3, 1))
    layers = _nn_layers(W, b)
    a = _nn_forward(layers, x.T, "sigmoid").sigmoid()
    (0.5 * nn.MSELoss(reduction="sum")(a, yv.T)).backward()
    # closed form: delta^(L) = a(1-a)(a-y) (F1.6), then F1.3 and F1.1/F1.2
    g, dg = ACT["sigmoid"][:2]
    acts_, zs = [x], []
    for w, v in zip(W, b):
        zs.append(w.T @ acts_[-1] + v)
        acts_.append(g(zs[-1]))
    delta = [None] * len(W)
    delta[-1] = acts_[-1] * (1 - acts_[-1]) * (acts_[-1] - yv)
    for l in range(len(W) - 2, -1, -1):
        delta[l] = dg(zs[l]) * (W[l + 1] @ delta[l + 1])
    for l, lin in enumerate(layers):
        close(lin.weight.grad, (acts_[l] @ delta[l].T).T)
        close(lin.bias.grad, delta[l].ravel())
