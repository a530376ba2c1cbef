"""Document 000: the 3-4-1 sigmoid network, trained by batch gradient descent on breast cancer.

The document's network takes x in R^3, has 4 sigmoid hidden units and one sigmoid output
a[2] = P(y = 1 | x), and minimises the log loss J = -[y log a[2] + (1 - y) log(1 - a[2])],
here averaged over the training set (batch gradient descent: theta <- theta - alpha dJ/dtheta).

Three inputs: the data set has 30 features, so we keep three informative and weakly redundant
ones, one of each kind: "worst radius" (size), "worst texture" (texture) and "worst concave
points" (shape), standardized with the training split's mean and std. Label 1 = benign.

    python examples/doc000_breast_cancer.py [--quick]
"""
from _common import accuracy, parse_args, standardize  # first: names the extra if one is missing
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import nn
from autograd_mini import Tensor, no_grad

FEATURES = ["worst radius", "worst texture", "worst concave points"]


def main():
    args = parse_args(__doc__.splitlines()[0],
                      steps=dict(type=int, default=None, help="gradient descent steps"),
                      lr=dict(type=float, default=0.5, help="step size alpha"))
    steps = args.steps or (200 if args.quick else 3000)

    data = load_breast_cancer()
    cols = [list(data.feature_names).index(f) for f in FEATURES]
    X_tr, X_te, y_tr, y_te = train_test_split(data.data[:, cols], data.target, test_size=0.25,
                                              stratify=data.target, random_state=args.seed)
    X_tr, X_te = standardize(X_tr, X_te)
    print(f"breast cancer: {len(X_tr)} training and {len(X_te)} held-out samples, "
          f"features {FEATURES} (standardized)")

    model = nn.MLP([3, 4, 1], activation="sigmoid", output_activation="sigmoid")
    loss_fn = nn.BCELoss()  # mean over samples of document 000's per-sample log loss
    opt = nn.optim.SGD(model.parameters(), lr=args.lr)
    x, y = Tensor(X_tr), y_tr[:, None].astype(float)
    for step in range(steps + 1):
        loss = loss_fn(model(x), y)
        if step % (steps // 5) == 0:
            print(f"step {step:5d}  training log loss J = {loss.item():.4f}")
        if step < steps:
            opt.zero_grad()
            loss.backward()
            opt.step()

    with no_grad():
        acc_tr = accuracy(model(x).data, y_tr)
        acc_te = accuracy(model(Tensor(X_te)).data, y_te)
    print(f"train accuracy: {acc_tr:.4f}")
    print(f"test accuracy: {acc_te:.4f}   (held-out 25%, majority class alone: "
          f"{max(y_te.mean(), 1 - y_te.mean()):.4f})")


if __name__ == "__main__":
    main()
