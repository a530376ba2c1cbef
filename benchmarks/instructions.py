"""Instructions per step, counted by callgrind: the steady measure on a shared machine.

    python -m benchmarks.instructions [workload ...] [--steps N] [--dtype float32|float64]

Timings on these machines drift by tens of percent between runs; an instruction count repeats
to a fraction of a percent, so it shows what a change to the engine did. Each workload's side
(engine, its step compiled by autograd_mini.compile, and hand-written numpy) runs in a child
process under callgrind twice, once with N steps and once with none; the difference over N is
one step, imports and set-up (the compiled side's trace and build among them) cancelled out.
One BLAS thread, hash seed 0 and no address randomisation make the counts repeat. Instructions
are not time (a BLAS kernel runs more of them per nanosecond than the interpreter does), so
report both.

The data are synthetic, of the benchmark's shapes (scikit-learn would take minutes to import
under callgrind). Needs valgrind (Debian: `apt-get install valgrind`) and `setarch`.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys

import numpy as np

from . import baseline, engine, run

WORKLOADS = ("tiny_moons", "mlp_digits", "chain")
SIDES = ("engine", "compiled", "numpy")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAIN = 3000  # ops of the chain workload (run.CHAIN_OPS is 1000; more ops, steadier count)


def workload(name, side, dtype):
    """A function doing one step of `name` on `side` (one of SIDES); the compiled side is traced
    before it returns."""
    if name == "chain":
        x = np.random.default_rng(2).uniform(-1, 1, (1,)).astype(dtype)
        f = {"engine": engine.chain, "numpy": baseline.chain}.get(side)
        if side == "compiled":
            f = run.compiled_chain(x, CHAIN)[0]
        return lambda: f(x, CHAIN)
    sizes, _, loss, _, _ = run.MLPS[name]
    batch = 100 if name == "tiny_moons" else 128
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = (rng.standard_normal((batch, 1)).astype(dtype) if loss == "mse"
         else rng.integers(0, sizes[-1], batch))
    m = run.mlp_models(name, dtype, trace_batches=[(x, y)] if side == "compiled" else None)[side]
    return lambda: m.step(x, y)


def count(name, side, dtype, steps):
    """Instructions of a child process doing `steps` steps after two warm-up steps."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    cmd = ["setarch", "-R", "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
           sys.executable, "-m", "benchmarks.instructions", "--child", name, side, dtype,
           str(steps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode or not found:
        raise RuntimeError(f"callgrind failed on {name} ({side}): {out.stderr[-2000:]}")
    return int(found.group(1))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions")
    p.add_argument("workloads", nargs="*", help=f"some of {', '.join(WORKLOADS)} (default: all)")
    p.add_argument("--steps", type=int, help="steps per count (default: 3 chains, 100 steps)")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        name, side, dtype, steps = a.child
        step = workload(name, side, np.dtype(dtype).type)
        for _ in range(2 + int(steps)):
            step()
        return
    unknown = set(a.workloads) - set(WORKLOADS)
    if unknown:
        p.error(f"unknown workload {sorted(unknown)[0]!r}; choose from {', '.join(WORKLOADS)}")
    missing = [t for t in ("valgrind", "setarch") if shutil.which(t) is None]
    if missing:
        raise SystemExit(f"benchmarks.instructions needs {' and '.join(missing)} "
                         f"(Debian: apt-get install valgrind util-linux)")
    print(f"instructions per step, {a.dtype}, one BLAS thread (callgrind)")
    for name in a.workloads or WORKLOADS:  # compile the bytecode first: not counted in either
        for side in SIDES:
            subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--child", name,
                            side, a.dtype, "0"], check=True, cwd=ROOT)
    pool = concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2)  # the children run apart
    for name in a.workloads or WORKLOADS:
        steps = a.steps or (3 if name == "chain" else 100)
        runs = {(side, n): pool.submit(count, name, side, a.dtype, n)
                for side in SIDES for n in (steps, 0)}
        per = {side: (runs[side, steps].result() - runs[side, 0].result()) / steps
               for side in SIDES}
        print(f"{name:12} engine {per['engine']:14,.0f}  compiled {per['compiled']:14,.0f}  "
              f"numpy {per['numpy']:14,.0f}  engine/numpy {per['engine'] / per['numpy']:.3f}  "
              f"compiled/numpy {per['compiled'] / per['numpy']:.3f}")


if __name__ == "__main__":
    main()
