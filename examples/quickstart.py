"""Build a small graph, run backward and print the gradients."""
import numpy as np

from autograd_mini import Tensor

rng = np.random.default_rng(0)
x = Tensor(rng.standard_normal((4, 3)))
W = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
b = Tensor(np.zeros(2), requires_grad=True)
loss = (x @ W + b).sigmoid().log().sum()
loss.backward()
print("loss   =", loss.item())
print("dL/dW  =\n", W.grad)
print("dL/db  =", b.grad)
