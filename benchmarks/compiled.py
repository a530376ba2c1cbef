"""The compiled side of each workload: the engine's own step through `autograd_mini.compile`
(API.md v3, "Compiled steps"), the same models, loss and optimizer as engine.py and cnn.py:

    step = autograd_mini.compile(lambda x, y: loss_fn(model(x), y), params=model.parameters())
    opt.zero_grad(); step(x, y); opt.step()

The first call of a signature is the trace (fn run eagerly, the backward swept, the program
written and exec'd); `prepare` makes those calls before anything is checked or timed, records
how long each took (`build_seconds`) and restores the model's state (a trace in training mode
updates BatchNorm's running statistics), so every checked or timed step runs the program.
"""
import time

import numpy as np

import autograd_mini
from autograd_mini import Tensor

from .engine import chain_ops

clock = time.perf_counter  # what prepare times the traces by (run.py's --clock sets it)


class CompiledStep:
    """An engine TrainStep (engine.EngineMLP, cnn.EngineCNN) whose forward and backward run as
    one compiled program; weights(), gradients() and buffers() are the engine side's."""

    def __init__(self, side, batches):
        self.side = side
        model, loss_fn = side.model, side.loss_fn
        self.program = autograd_mini.compile(lambda x, y: loss_fn(model(x), y),
                                             params=side.params)
        self.build_seconds = prepare(self.program, side.model, side.params,
                                     [(x, y) for x, y in batches])

    def step(self, x, y):
        opt = self.side.opt
        opt.zero_grad()
        loss = self.program(x, y)
        opt.step()
        return loss

    def weights(self):
        return self.side.weights()

    def gradients(self):
        return self.side.gradients()

    def buffers(self):
        return self.side.buffers()


def prepare(program, model, params, calls):
    """Call `program` once on each new signature among `calls` (argument tuples), timing each
    call (the trace and build); then put back the model's state and clear the params' grads.
    Returns the seconds per traced signature, oldest first."""
    state = model.state_dict() if model is not None else None
    seconds, seen = [], set()
    for args in calls:
        key = tuple((np.shape(a), np.asarray(a).dtype.str) for a in args)
        if key in seen:
            continue
        seen.add(key)
        t0 = clock()
        program(*args)
        seconds.append(clock() - t0)
    if state is not None:
        model.load_state_dict(state)  # copied into the same buffers, which the program reads
    for p in params:
        p.grad = None
    return seconds


class CompiledChain:
    """The n-op chain compiled with its input as the one param: the program returns
    sum(chain(x)) and the gradient of that sum, which is the chain's backward from a seed of
    ones (what baseline.chain and engine.chain compute)."""

    def __init__(self, x, n):
        self.x0 = Tensor(x, requires_grad=True)
        self.program = autograd_mini.compile(lambda: chain_ops(self.x0, n).sum(),
                                             params=[self.x0])
        self.build_seconds = prepare(self.program, None, [self.x0], [()])

    def __call__(self, x):
        """(sum of the chain's output, its gradient with respect to x)."""
        x0 = self.x0
        if x0.data is not x:  # a param's shape is not part of a signature: one chain per shape
            if x.shape != x0.shape or x.dtype != x0.dtype:
                raise ValueError(f"CompiledChain: built for {x0.shape} {x0.dtype}, "
                                 f"given {x.shape} {x.dtype}")
            x0.data = x
        x0.grad = None
        loss = self.program()
        return loss.data, x0.grad
