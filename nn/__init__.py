"""nn: modules, losses and optimizers on top of the autograd_mini engine (PyTorch-shaped).

`nn.functional` is `autograd_mini.functional`, and `from autograd_mini import nn` is this
package. `nn.manual_seed` is `autograd_mini.manual_seed`.
"""
from autograd_mini import functional

from . import init, optim, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, SiLU, Softplus
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool2d
from .dropout import Dropout
from .embedding import Embedding
from .layers import (MLP, Identity, Linear, ReLU, Sequential, Sigmoid, Softmax, Tanh,
                     manual_seed)
from .losses import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss,
                     NLLLoss, SmoothL1Loss)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .serialization import load, save

__all__ = ["functional", "Module", "Parameter", "Linear", "Sigmoid", "Tanh", "ReLU", "Identity", "Softmax",
           "Sequential", "MLP", "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "BCELoss",
           "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "optim", "init", "utils", "save",
           "load", "manual_seed", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Flatten", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
           "Dropout", "LeakyReLU", "ELU", "GELU", "SiLU", "Softplus", "LogSoftmax"]
