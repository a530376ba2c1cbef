"""Layers: Linear, the activations, Sequential and MLP."""
import numpy as np

from autograd_mini import Tensor, factories
from autograd_mini import functional as F
from autograd_mini.tape import ShapeError

from .module import Module, Parameter

manual_seed = factories.manual_seed  # one default generator: randn, nn's init, Dropout


def _as_rng(rng):
    """None (the default generator, which manual_seed reseeds), an int seed or a Generator."""
    return factories.as_generator(rng)


def _cast_input(x, dtype):
    """x in the parameters' dtype, cast differentiably (its gradient comes back in x's dtype):
    every layer with parameters computes in its own dtype, as Linear does."""
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else x.to(dtype)
    x = np.asarray(x)
    return x if x.dtype == dtype else x.astype(dtype)


def _check_size(owner, what, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{owner}: {what} must be a positive int, got {n!r}")
    return int(n)


class Linear(Module):
    """y = x @ weight.T + bias, with weight (out_features, in_features) and bias (out_features,).

    Both start uniform in (-1/sqrt(in_features), 1/sqrt(in_features)) as in PyTorch: random,
    never all zeros (identical units would get identical gradients and never differ).
    `rng`: an int seed or a numpy Generator, kept for `reset_parameters()` (default: the
    default generator, see `nn.manual_seed`). `dtype`: float64 by default; float32 is faster.
    The input is a Tensor or an ndarray, rows are samples; a Python list is refused (TypeError),
    as in PyTorch: wrap it as Tensor(x) or np.asarray(x). An input of another dtype is cast to
    the parameters' dtype (differentiably), so float64 data into a float32 model computes in
    float32; PyTorch raises on the mixed dtypes instead.
    """

    def __init__(self, in_features, out_features, bias=True, dtype=np.float64, rng=None):
        super().__init__()
        self.in_features = _check_size("Linear", "in_features", in_features)
        self.out_features = _check_size("Linear", "out_features", out_features)
        self.rng = None if rng is None else _as_rng(rng)  # a seed becomes one Generator, kept
        self.weight = Parameter(np.zeros((self.out_features, self.in_features)), dtype)
        self.bias = Parameter(np.zeros(self.out_features), dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        """Draw weight and bias from U(-1/sqrt(in_features), 1/sqrt(in_features)), as PyTorch,
        with the layer's generator (`rng`, or the default one)."""
        rng, k = _as_rng(self.rng), 1 / np.sqrt(self.in_features)
        for p in (self.weight, self.bias):
            if p is not None:
                p.data = rng.uniform(-k, k, p.shape).astype(p.dtype)

    def forward(self, x):
        if isinstance(x, (list, tuple)):
            raise TypeError(f"{self!r}: the input is a Python {type(x).__name__}; wrap the data "
                            f"as Tensor(x) or np.asarray(x) (rows are samples)")
        dtype = self.weight.dtype
        if x.dtype != dtype:  # the model's dtype wins: float64 data into a float32 model
            x = x.to(dtype) if isinstance(x, Tensor) else np.asarray(x, dtype=dtype)
        try:
            return F.linear(x, self.weight, self.bias)  # one op: x @ weight.T + bias
        except ShapeError as err:
            raise ShapeError(
                f"Linear(in_features={self.in_features}, out_features={self.out_features}): "
                f"the input's last axis must have size {self.in_features}, got input shape "
                f"{np.shape(x)}") from err

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Sigmoid(Module):
    """1 / (1 + exp(-x)), elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x):
        return F.relu(x)


class Identity(Module):
    def forward(self, x):
        return x


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (default: the last axis, i.e. over classes per row).

    `dim` is PyTorch's name, `axis` numpy's: pass one or the other. Unlike PyTorch, which picks
    an axis from the input's ndim (with a warning) when `dim` is not given, the default is
    always the last axis.
    """

    def __init__(self, dim=None, *, axis=None):
        super().__init__()
        if dim is not None and axis is not None:
            raise TypeError(f"Softmax: pass dim= or axis=, not both (got dim={dim!r}, "
                            f"axis={axis!r}); they name the same thing")
        if dim is None:
            dim = -1 if axis is None else axis
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Sequential(Module):
    """Apply modules in order; they are registered as "0", "1", ... as in torch.nn.Sequential."""

    def __init__(self, *modules):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {module!r} is not an nn.Module")
        setattr(self, str(len(self._modules)), module)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)  # through __call__, so each module's hooks run
        return x

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        n = len(self._modules)
        if not isinstance(i, (int, np.integer)) or not -n <= i < n:
            raise IndexError(f"Sequential: index {i!r} out of range for {n} modules")
        return list(self._modules.values())[i]


_ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
_OUTPUTS = {None: None, "identity": None, "sigmoid": Sigmoid, "softmax": Softmax, "tanh": Tanh,
            "relu": ReLU}


class MLP(Sequential):
    """Linear layers of sizes[0] -> sizes[1] -> ... -> sizes[-1], `activation` between them.

    `activation`: "sigmoid" (the course documents' default), "tanh" or "relu".
    `output_activation`: None (raw scores: use with CrossEntropyLoss / BCEWithLogitsLoss),
    "sigmoid" or "softmax" (over the last axis). Modules are numbered as torch.nn.Sequential, so
    the state_dict keys are "0.weight", "0.bias", "2.weight", ... `rng` seeds all layers.
    """

    def __init__(self, sizes, activation="sigmoid", output_activation=None, dtype=np.float64,
                 rng=None):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLP: activation must be one of {list(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        if output_activation not in _OUTPUTS:
            raise ValueError(f"MLP: output_activation must be one of {list(_OUTPUTS)}, "
                             f"got {output_activation!r}")
        rng = _as_rng(rng)
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if i:
                layers.append(_ACTIVATIONS[activation]())
            layers.append(Linear(n_in, n_out, dtype=dtype, rng=rng))
        if _OUTPUTS[output_activation] is not None:
            layers.append(_OUTPUTS[output_activation]())
        super().__init__(*layers)
        self.sizes = sizes
