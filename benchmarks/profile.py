"""Profile the engine side of one workload with cProfile.

    python -m benchmarks.profile mlp_digits [--dtype float32] [--steps 300] [--sort tottime]

Workloads: the MLPs of run.py (mlp_digits, mlp_wide, tiny_moons), op_overhead (a 1000-op chain
on shape (1,)) and op_overhead_1000 (the chain on shape (1000,)).
"""
import argparse
import cProfile
import itertools
import pstats

import numpy as np

from . import engine, run


def engine_step(name, dtype):
    if name.startswith("op_overhead"):
        shape = (1000,) if name.endswith("_1000") else (1,)
        x = np.random.default_rng(2).uniform(-1, 1, shape).astype(dtype)
        return lambda: engine.chain(x, run.CHAIN_OPS)
    models, batches = run.mlp_sides(name, dtype, False)
    m, it = models["engine"], itertools.cycle(batches)
    return lambda: m.step(*next(it))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    p.add_argument("workload", choices=list(run.MLPS) + ["op_overhead", "op_overhead_1000"])
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--threads", type=int, help="limit BLAS threads (threadpoolctl)")
    a = p.parse_args(argv)
    if a.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(a.threads)
    step = engine_step(a.workload, np.dtype(a.dtype).type)
    for _ in range(10):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(a.steps):
        step()
    prof.disable()
    pstats.Stats(prof).strip_dirs().sort_stats(a.sort).print_stats(a.top)


if __name__ == "__main__":
    main()
