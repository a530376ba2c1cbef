"""nn.optim: optimizers with PyTorch's documented update rules, and learning-rate schedulers.

`SGD` (momentum, dampening, nesterov), `Adam` (amsgrad), `AdamW` (decoupled weight decay),
`RMSprop` (centered, momentum); parameter groups and `state_dict()` / `load_state_dict()` as
torch.optim; `lr_scheduler.StepLR`, `lr_scheduler.CosineAnnealingLR`.
"""
from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "lr_scheduler"]
