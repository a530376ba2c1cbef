"""Document 002's exercise: a three-layer BP network vs logistic and softmax regression, 5-fold CV.

Three models, all written with this library and trained by full-batch Adam on standardized
features (mean and std of each fold's training part):
- logistic regression: Linear(d, k) with a sigmoid per output and binary cross-entropy
  (BCEWithLogitsLoss); k = 1 for a binary task, and one-vs-rest (k = C independent sigmoid
  outputs on one-hot targets, predict the largest) for C > 2 classes;
- softmax regression: Linear(d, C) with softmax cross-entropy (CrossEntropyLoss);
- BP network: input, one sigmoid hidden layer, softmax output: MLP([d, hidden, C]).
Logistic and softmax regression have no hidden layer. Data: iris (3 classes) and breast cancer
(2 classes); StratifiedKFold(5, shuffle=True). Prints mean +- std of the held-out accuracy.

    python examples/doc002_exercise_cv.py [--quick]
"""
import numpy as np
from _common import parse_args, standardize  # first: names the extra if one is missing
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import StratifiedKFold

import nn
from autograd_mini import Tensor, no_grad


def logistic(d, classes):
    k = 1 if classes == 2 else classes
    loss = nn.BCEWithLogitsLoss()

    def targets(y):
        return y[:, None].astype(float) if k == 1 else np.eye(classes)[y]

    return nn.Linear(d, k), lambda out, y: loss(out, targets(y))


def softmax_regression(d, classes):
    return nn.Linear(d, classes), nn.CrossEntropyLoss()


def bp_network(d, classes, hidden=16):
    return nn.MLP([d, hidden, classes], activation="sigmoid"), nn.CrossEntropyLoss()


MODELS = {"logistic regression": logistic, "softmax regression": softmax_regression,
          "BP network (1 hidden)": bp_network}


def predict(model, X):
    with no_grad():
        out = model(Tensor(X)).data
    return (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else out.argmax(axis=1)


def cross_validate(make, X, y, steps, seed):
    classes = int(y.max()) + 1
    scores = []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in folds.split(X, y):
        X_tr, X_te = standardize(X[train], X[test])
        model, loss_fn = make(X.shape[1], classes)
        opt = nn.optim.Adam(model.parameters(), lr=0.05)
        x_tr = Tensor(X_tr)
        for _ in range(steps):
            loss = loss_fn(model(x_tr), y[train])
            opt.zero_grad()
            loss.backward()
            opt.step()
        scores.append(float((predict(model, X_te) == y[test]).mean()))
    return np.array(scores)


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="Adam steps per fold"))
    steps = args.steps or (40 if args.quick else 300)
    datasets = {"iris": load_iris(return_X_y=True),
                "breast cancer": load_breast_cancer(return_X_y=True)}
    print(f"5-fold cross-validation, {steps} full-batch Adam steps (lr 0.05) per fold; "
          f"held-out accuracy, mean +- std over the folds")
    width = max(map(len, MODELS))
    print(f"{'model':{width}s}  " + "  ".join(f"{name:>15s}" for name in datasets))
    for model_name, make in MODELS.items():
        cells = []
        for X, y in datasets.values():
            s = cross_validate(make, X, y, steps, args.seed)
            cells.append(f"{s.mean():.3f} +- {s.std():.3f}")
        print(f"{model_name:{width}s}  " + "  ".join(f"{c:>15s}" for c in cells))


if __name__ == "__main__":
    main()
