"""nn: modules, losses and optimizers on top of the autograd_mini engine (PyTorch-shaped)."""
from . import optim
from .layers import (MLP, Identity, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh,
                     manual_seed)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module, Parameter
from .serialization import load, save

__all__ = ["Module", "Parameter", "Linear", "Sigmoid", "Tanh", "ReLU", "Identity", "Softmax",
           "Sequential", "MLP", "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "optim", "save", "load", "manual_seed"]
