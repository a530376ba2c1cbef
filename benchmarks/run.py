"""Run the benchmark: every workload, engine and compiled step against hand-written numpy (and
PyTorch if present).

    python -m benchmarks.run [--quick] [--dtype float32|float64|both] [--steps N] [--json PATH]
                             [--threads N] [--no-torch] [--clock wall|cpu] [--deep-max N]

Each workload is timed side by side in one process: the sides alternate in blocks of steps, so
machine noise hits all of them alike. The figures are the median step time after warm-up and the
ratio side / numpy: the median over rounds of the ratio of adjacent blocks' medians. The
compiled side is the engine's step through `autograd_mini.compile` (benchmarks/compiled.py):
its trace and build (the first call of each signature) is timed apart, in seconds and in eager
steps, and is not in its step time. Before timing, one step from identical weights is checked in
float64: the engine's and the compiled program's gradients and updated weights must equal the
hand-written ones (relative 1e-10).
`--quick` runs the checks plus a few timed steps (a smoke test; its ratios mean nothing).
"""
import argparse
import functools
import gc
import itertools
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

from . import baseline, cnn, compiled, engine, reference_torch

TOL = 1e-10  # float64 agreement with the hand-written baseline (relative, per array)
SIDES = ("engine", "compiled", "numpy", "torch")
CHECKED = ("engine", "compiled")  # the sides a failed check stops the run for


# -- data and initial weights (shared by every side) -------------------------------------------

def init_weights(sizes, seed):
    """uniform(-1/sqrt(in), 1/sqrt(in)) weights (out, in) and biases, float64."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(-1, 1, (o, i)) / np.sqrt(i), rng.uniform(-1, 1, o) / np.sqrt(i))
            for i, o in zip(sizes[:-1], sizes[1:])]


@functools.cache
def data_digits(batch=128):
    from sklearn.datasets import load_digits
    x, y = load_digits(return_X_y=True)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1)  # standardized
    order = np.random.default_rng(0).permutation(len(x))
    return [(x[i], y[i].astype(np.int64)) for i in np.array_split(order, len(x) // batch)]


@functools.cache
def data_wide(batch=128):
    rng = np.random.default_rng(1)
    return [(rng.standard_normal((batch, 784)), rng.integers(0, 10, batch))]


@functools.cache
def data_moons():
    from sklearn.datasets import make_moons
    x, y = make_moons(100, noise=0.1, random_state=0)
    return [(x, y[:, None].astype(np.float64))]


MLPS = {  # name: (sizes, activation, loss, lr, data)
    "mlp_digits": ([64, 128, 64, 10], "relu", "ce", 0.05, data_digits),
    "mlp_wide": ([784, 256, 128, 10], "relu", "ce", 0.01, data_wide),
    "tiny_moons": ([2, 16, 16, 1], "tanh", "mse", 0.1, data_moons),
}
CHAIN_OPS = 1000
DEEP = (10**3, 10**4, 10**5)


def mlp_models(name, dtype, with_torch=False, trace_batches=None):
    """Fresh models on every side from the same initial weights, in `dtype`; with
    `trace_batches`, the compiled side too, traced on them."""
    sizes, act, loss, lr, _ = MLPS[name]
    w = init_weights(sizes, seed=sum(sizes))
    models = {"engine": engine.EngineMLP(w, act, loss, lr, dtype),
              "numpy": baseline.NumpyMLP([(W.astype(dtype), b.astype(dtype)) for W, b in w],
                                         act, loss, lr)}
    if trace_batches is not None:
        models["compiled"] = compiled.CompiledStep(engine.EngineMLP(w, act, loss, lr, dtype),
                                                   trace_batches)
    if with_torch:
        models["torch"] = reference_torch.TorchMLP(w, act, loss, lr, dtype)
    return models


def reversed_rows(batches):
    """The batches with their rows in reverse order: the same signatures, other values. The
    checks trace on these, so a program that kept a value of its trace (a mask, a one-hot)
    fails them."""
    return [(x[::-1].copy(), y[::-1].copy()) for x, y in batches]


def mlp_sides(name, dtype, with_torch, trace_batches=None):
    """mlp_models, and the same batches in `dtype`; the compiled side is traced on the batches
    themselves, or on `trace_batches(batches)`."""
    _, _, loss, _, data = MLPS[name]
    batches = [(x.astype(dtype), y.astype(dtype) if loss == "mse" else y) for x, y in data()]
    traced = trace_batches(batches) if trace_batches else batches
    return mlp_models(name, dtype, with_torch, traced), batches


def chain_sides(with_torch):
    sides = {"numpy": baseline.chain, "engine": engine.chain}
    if with_torch:
        sides["torch"] = reference_torch.chain
    return sides


def compiled_chain(x, n, traced_at=None):
    """The compiled n-op chain on x, as a function of x like the other chain sides (its first
    value is the sum of the chain's output), and its trace and build in seconds."""
    c = compiled.CompiledChain(x if traced_at is None else traced_at, n)
    return (lambda x, n: c(x)), c.build_seconds[0]


# -- correctness -------------------------------------------------------------------------------

def rel_err(a, b):
    """max |a - b| / max |b|: relative to the array's scale, so near-zero entries are fair."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def check_mlp(name, with_torch):
    """One float64 step from identical weights: gradients and updated weights vs numpy."""
    models, batches = mlp_sides(name, np.float64, with_torch, reversed_rows)
    x, y = batches[0]
    ref = models.pop("numpy")
    ref.keep_grads = True
    ref_loss = ref.step(x, y)
    out = {}
    for side, m in models.items():
        errs = [rel_err(m.step(x, y).item(), ref_loss)]  # an engine or a torch scalar tensor
        errs += [rel_err(a, b) for a, b in zip(m.gradients(), ref.gradients(), strict=True)]
        errs += [rel_err(a, b) for a, b in zip(m.weights(), ref.weights(), strict=True)]
        out[side] = max(errs)
    # dtype is preserved: a float32 step leaves float32 weights and gradients
    m32, b32 = mlp_sides(name, np.float32, False, reversed_rows)
    kept = True
    for side in CHECKED:
        m32[side].step(*b32[0])
        kept &= all(a.dtype == np.float32 for a in m32[side].weights() + m32[side].gradients())
    return out, kept


def check_cnn():
    """The cnn_digits step (float64, identical weights): loss, gradients, updated weights and
    batch-norm running statistics vs numpy; and a float32 step keeps float32."""
    models, batches = cnn.sides(np.float64, data_digits(), trace_batches=reversed_rows)
    ref = models.pop("numpy")
    ref.keep_grads = True
    ref_loss = ref.step(*batches[0])
    out = {}
    for side, m in models.items():
        errs = [rel_err(m.step(*batches[0]).item(), ref_loss)]
        for a, b in ((m.gradients(), ref.gradients()), (m.weights(), ref.weights()),
                     (m.buffers(), ref.buffers())):
            errs += [rel_err(u, v) for u, v in zip(a, b, strict=True)]
        out[side] = max(errs)
    m32, b32 = cnn.sides(np.float32, data_digits(), trace_batches=reversed_rows)
    kept = True
    for side in CHECKED:
        m32[side].step(*b32[0])
        kept &= all(a.dtype == np.float32 for a in m32[side].weights() + m32[side].gradients())
    return out, kept


def check_chain(shape, with_torch):
    x = np.random.default_rng(2).uniform(-1, 1, shape)
    ref_out, ref_g = baseline.chain(x, CHAIN_OPS)
    out = {}
    for side, fn in chain_sides(with_torch).items():
        if side != "numpy":
            o, g = fn(x, CHAIN_OPS)
            out[side] = max(rel_err(o, ref_out), rel_err(g, ref_g))
    # the compiled chain returns sum(output) and its gradient; traced at other values
    fn, _ = compiled_chain(x, CHAIN_OPS, traced_at=x * 0.5)
    o, g = fn(x, CHAIN_OPS)
    out["compiled"] = max(rel_err(o, ref_out.sum()), rel_err(g, ref_g))
    return {k: out[k] for k in SIDES if k in out}


def check_hvp():
    """H v of the mlp_digits loss (float64) against central differences of the gradient, with
    tanh for ReLU: differences of a ReLU network's gradient jump wherever a unit crosses 0."""
    sizes, _, _, _, data = MLPS["mlp_digits"]
    side = engine.EngineHVP(init_weights(sizes, seed=sum(sizes)), "tanh", np.float64)
    x, y = data()[0]
    hv, eps, plus_minus = side.hvp(x, y), 1e-6, []  # the error shrinks as eps^2 down to 1e-6
    for sign in (1, -1):
        for p, v in zip(side.params, side.v):
            p.data = p.data + sign * eps * v.data
        plus_minus.append(side.gradient(x, y))
        for p, v in zip(side.params, side.v):
            p.data = p.data - sign * eps * v.data
    return max(rel_err(h, (a - b) / (2 * eps)) for h, a, b in zip(hv, *plus_minus))


# -- timing ------------------------------------------------------------------------------------

CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
CLOCK = ["wall"]  # the clock interleaved reads (main's --clock)


def interleaved(fns, steps, warmup, block=5):
    """Time the functions in alternating blocks of `block` calls each, by the clock CLOCK[0]
    names ("cpu": this process's CPU time, which a machine busy with other processes does not
    inflate as it inflates the wall time of every call longer than the scheduler's slice).

    Returns ({side: median seconds per call}, {side: median over rounds of the side's block
    median divided by the first side's}). The per-round ratio pairs blocks run moments apart,
    so load that drifts during the run cancels; the order of the sides rotates every round.
    """
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {k: [] for k in fns}
    ratios = {k: [] for k in fns}
    names = list(fns)
    clock = CLOCKS[CLOCK[0]]
    for r in range(-(-steps // block)):
        for k in names[r % len(names):] + names[:r % len(names)]:
            fn, ts = fns[k], times[k]
            for _ in range(block):
                t0 = clock()
                fn()
                ts.append(clock() - t0)
        ref = statistics.median(times[names[0]][-block:])
        for k in names:
            ratios[k].append(statistics.median(times[k][-block:]) / ref)
    return ({k: statistics.median(v) for k, v in times.items()},
            {k: statistics.median(v) for k, v in ratios.items()})


def peak_bytes(fn):
    """Peak traced memory allocated by one call of fn, above what was live before it."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def bench_mlp(name, dtype, steps, warmup, with_torch):
    """Timings and ratios (interleaved's), and the compiled side's trace and build in seconds
    (its first signature's)."""
    models, batches = mlp_sides(name, dtype, with_torch)
    fns = {}
    for side, m in sorted(models.items(), key=lambda kv: kv[0] != "numpy"):
        it = itertools.cycle(batches)
        fns[side] = lambda m=m, it=it: m.step(*next(it))
    return interleaved(fns, steps, warmup) + (models["compiled"].build_seconds[0],)


def bench_cnn(dtype, steps, warmup):
    models, batches = cnn.sides(dtype, data_digits())
    fns = {}
    for side in ("numpy", "engine", "compiled"):
        it = itertools.cycle(batches)
        fns[side] = lambda m=models[side], it=it: m.step(*next(it))
    return interleaved(fns, steps, warmup) + (models["compiled"].build_seconds[0],)


def bench_hvp(dtype, steps, warmup):
    """Seconds of one H v and of one gradient of the mlp_digits loss, interleaved; the ratio is
    the cost of H v in gradients ("numpy" holds the engine's own gradient here)."""
    sizes, act, _, _, data = MLPS["mlp_digits"]
    side = engine.EngineHVP(init_weights(sizes, seed=sum(sizes)), act, dtype)
    x, y = data()[0]
    x = x.astype(dtype)
    return interleaved({"numpy": lambda: side.gradient(x, y), "engine": lambda: side.hvp(x, y)},
                       steps, warmup)


def chain_fns(x, n, with_torch):
    """Each side's chain as a function of nothing, and the compiled chain's trace and build."""
    sides = chain_sides(with_torch)
    sides["compiled"], build = compiled_chain(x, n)
    return {k: (lambda f=f: f(x, n)) for k, f in sides.items()}, build


def bench_chain(shape, dtype, steps, warmup, with_torch):
    x = np.random.default_rng(2).uniform(-1, 1, shape).astype(dtype)
    fns, build = chain_fns(x, CHAIN_OPS, with_torch)
    return interleaved(fns, steps, warmup) + (build,)


def bench_deep(n, dtype, reps, with_torch):
    """Median time of a forward+backward chain of n ops on shape (1,), the compiled chain's
    trace and build, and each side's peak memory (the compiled side's without its build)."""
    x = np.full(1, 0.5, dtype=dtype)
    fns, build = chain_fns(x, n, with_torch)
    t = interleaved(fns, reps, warmup=1, block=1)
    mem = {k: peak_bytes(f) for k, f in fns.items() if k != "torch"}  # torch's C++ heap is untraced
    return t + (build, mem)


def mlp_memory(name, dtype):
    """Peak memory of a training step, above the weights and the data, in a training loop.

    Traced from before the models exist, so what a side keeps between steps counts: the
    engine's `.grad` arrays (until zero_grad) and the graph behind the previous step's loss,
    held by the loop's `loss` variable until the new step returns, as in
    `for ...: loss = step()`.
    """
    gc.collect()
    tracemalloc.start()
    try:
        models, batches = mlp_sides(name, dtype, False)  # the compiled side traced here
        out = {}
        for side, m in models.items():
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
            loss = m.step(*batches[0])  # warm-up step
            tracemalloc.reset_peak()
            loss = m.step(*batches[0])
            out[side] = tracemalloc.get_traced_memory()[1] - base
            del loss
        return out
    finally:
        tracemalloc.stop()


# -- environment -------------------------------------------------------------------------------

def environment():
    env = {"python": sys.version.split()[0], "numpy": np.__version__,
           "platform": platform.platform(), "cpu": platform.processor() or platform.machine(),
           "cpu_count": os.cpu_count(), "torch": None, "blas": []}
    try:  # which engine was measured
        import subprocess
        git = ["git", "-C", os.path.dirname(os.path.abspath(__file__))]
        env["commit"] = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True,
                                       text=True, timeout=10).stdout.strip() or None
        env["dirty"] = bool(subprocess.run(git + ["status", "--porcelain", "autograd_mini", "nn"],
                                           capture_output=True, text=True, timeout=10).stdout)
    except (OSError, subprocess.SubprocessError):
        env["commit"] = None
    if hasattr(os, "getloadavg"):
        env["load_average_at_start"] = os.getloadavg()
    if hasattr(os, "sched_getaffinity"):
        env["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        from threadpoolctl import threadpool_info
        env["blas"] = [{k: d.get(k) for k in ("user_api", "internal_api", "version",
                                              "num_threads", "threading_layer", "architecture")}
                       for d in threadpool_info()]
    except ImportError:
        env["blas"] = "threadpoolctl not installed"
    if reference_torch.torch is not None:
        env["torch"] = reference_torch.torch.__version__
        env["torch_threads"] = reference_torch.torch.get_num_threads()
    return env


# -- the run -----------------------------------------------------------------------------------

def run(quick=False, dtypes=("float32", "float64"), steps=None, with_torch=None, log=print,
        deep_max=None):
    """Run the checks and the timings; return a JSON-ready dict. Raises if a check fails.
    `deep_max`: the longest deep_chain timed (default 10^5, quick 10^3)."""
    if with_torch is None:
        with_torch = reference_torch.torch is not None
    deep_max = deep_max or (DEEP[0] if quick else DEEP[-1])
    steps = steps or (5 if quick else 200)
    warmup = 2 if quick else 20
    res = {"environment": environment(), "quick": quick, "steps": steps, "warmup": warmup,
           "clock": CLOCK[0],
           "checks": {}, "timings": [], "memory": {}}
    if not with_torch:
        log("PyTorch not installed: skipping the PyTorch reference")

    failures = []
    for name in MLPS:
        errs, kept = check_mlp(name, with_torch)
        res["checks"][name] = {"max_rel_err": errs, "float32_preserved": kept}
        failures += _failed(name, errs, kept)
    errs, kept = check_cnn()
    res["checks"]["cnn_digits"] = {"max_rel_err": errs, "float32_preserved": kept}
    failures += _failed("cnn_digits", errs, kept)
    for shape in ((1,), (1000,)):
        errs = check_chain(shape, with_torch)
        res["checks"][f"op_overhead{shape}"] = {"max_rel_err": errs}
        failures += _failed(f"op_overhead{shape}", errs)
    hvp_err = check_hvp()
    if hvp_err > 1e-6:
        failures.append(f"hvp: rel err {hvp_err:.1e} against differences of gradients")
    for k, v in res["checks"].items():
        log(f"check {k:22s} max rel err vs {v.get('against', 'numpy')} (float64): "
            + ", ".join(f"{s} {e:.1e}" for s, e in v["max_rel_err"].items()))
    res["checks"]["hvp"] = {"max_rel_err": {"engine": hvp_err},
                            "against": "central differences of the gradient (tanh network)"}
    if failures:
        raise AssertionError("benchmark correctness check failed: " + "; ".join(failures))

    for dt in dtypes:
        dtype = np.dtype(dt).type
        for name in MLPS:
            _record(res, name, dt, bench_mlp(name, dtype, steps, warmup, with_torch), log)
        _record(res, "cnn_digits", dt, bench_cnn(dtype, steps, warmup), log)
        for shape in ((1,), (1000,)):
            t = bench_chain(shape, dtype, steps, warmup, with_torch)
            _record(res, f"op_overhead{shape}", dt, t, log, per_op=CHAIN_OPS)
        for n in [n for n in DEEP if n <= deep_max]:
            reps = 2 if quick else max(3, min(50, 10**5 // n * 2))
            *t, mem = bench_deep(n, dtype, reps, with_torch)
            _record(res, f"deep_chain 10^{len(str(n)) - 1}", dt, t, log, per_op=n, mem=mem)
        _record(res, "hvp mlp_digits", dt, bench_hvp(dtype, steps, warmup), log)
        m = mlp_memory("mlp_wide", dtype)
        res["memory"][f"mlp_wide {dt}"] = {**m, "ratio": m["engine"] / m["numpy"],
                                           "compiled_ratio": m["compiled"] / m["numpy"]}
    if hasattr(os, "getloadavg"):
        res["environment"]["load_average_at_end"] = os.getloadavg()
    return res


def _failed(name, errs, kept=True):
    return [f"{name}: {side} rel err {errs[side]:.1e}" for side in CHECKED
            if errs[side] > TOL] + ([] if kept else [f"{name}: float32 not kept"])


def _record(res, name, dtype, timing, log, per_op=None, mem=None):
    t, ratio, *build = timing
    row = {"workload": name, "dtype": dtype, "seconds": t, "ratio": ratio["engine"]}
    if "compiled" in t:
        row["compiled_ratio"] = ratio["compiled"]
        # the first call of the compiled side's first signature, in seconds and in eager steps
        row["build_seconds"] = build[0]
        row["build_eager_steps"] = build[0] / t["engine"]
    if "torch" in t:
        row["torch_ratio"] = ratio["torch"]
    if per_op:
        row["us_per_op"] = {k: v / per_op * 1e6 for k, v in t.items()}
    if mem:
        row["peak_bytes"] = mem
    res["timings"].append(row)
    log(f"{name:20s} {dtype}  engine/numpy {row['ratio']:.2f}"
        + (f"  compiled/numpy {row['compiled_ratio']:.2f}" if "compiled_ratio" in row else ""))


def table(res):
    """The results as an aligned text table."""
    torch = any("torch_ratio" in r for r in res["timings"])
    head = ["workload", "dtype", "engine", "compiled", "numpy", "engine/numpy",
            "compiled/numpy"] + (["torch", "torch/numpy"] if torch else []) + ["note"]
    rows = []
    for r in res["timings"]:
        s = r["seconds"]
        notes = []
        if "build_seconds" in r:
            notes.append(f"trace+build {_fmt(r['build_seconds'])} = "
                         f"{r['build_eager_steps']:.0f} eager steps")
        if "us_per_op" in r:
            u = r["us_per_op"]
            notes.append(f"{u['engine']:.2f} / {u['compiled']:.2f} / {u['numpy']:.2f} us/op")
        if r["workload"].startswith("hvp"):
            notes.append("H v vs one gradient, both by the engine: the ratio is H v in gradients")
        if "peak_bytes" in r:
            p = r["peak_bytes"]
            notes.append(f"peak {p['engine'] / 2**20:.2f} / {p['compiled'] / 2**20:.2f} / "
                         f"{p['numpy'] / 2**20:.2f} MiB")
        row = [r["workload"], r["dtype"], _fmt(s["engine"]),
               _fmt(s["compiled"]) if "compiled" in s else "-", _fmt(s["numpy"]),
               f"{r['ratio']:.2f}",
               f"{r['compiled_ratio']:.2f}" if "compiled_ratio" in r else "-"]
        if torch:
            row += [_fmt(s["torch"]), f"{r['torch_ratio']:.2f}"] if "torch" in s else ["-", "-"]
        rows.append(row + ["; ".join(notes)])
    for k, m in res["memory"].items():
        row = [f"peak memory {k.split()[0]}", k.split()[1], f"{m['engine'] / 2**20:.2f} MiB",
               f"{m['compiled'] / 2**20:.2f} MiB", f"{m['numpy'] / 2**20:.2f} MiB",
               f"{m['ratio']:.2f}", f"{m['compiled_ratio']:.2f}"]
        rows.append(row + (["-", "-"] if torch else []) + ["one step in a loop, tracemalloc"])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), line(["-" * w for w in widths])] + [line(r) for r in rows])


def _fmt(seconds):
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} us"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="checks and a few steps only")
    p.add_argument("--dtype", choices=("float32", "float64", "both"), default="both")
    p.add_argument("--steps", type=int, help="timed steps per side (default 200, quick 5)")
    p.add_argument("--json", default=os.path.join(os.path.dirname(__file__), "results.json"),
                   help="where to write the results (default: benchmarks/results.json)")
    p.add_argument("--threads", type=int, help="limit BLAS (and torch) threads, threadpoolctl")
    p.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    p.add_argument("--clock", choices=tuple(CLOCKS), default="wall",
                   help="time by the wall clock (default) or by the process's CPU time, "
                        "steadier on a machine busy with other work (use with --threads 1)")
    p.add_argument("--deep-max", type=int, choices=DEEP,
                   help="the longest deep_chain to time (default 10^5, quick 10^3)")
    a = p.parse_args(argv)
    dtypes = ("float32", "float64") if a.dtype == "both" else (a.dtype,)
    CLOCK[0] = a.clock
    compiled.clock = CLOCKS[a.clock]
    if a.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(a.threads)  # kept for the whole run
        if reference_torch.torch is not None:
            reference_torch.torch.set_num_threads(a.threads)
    res = run(a.quick, dtypes, a.steps, False if a.no_torch else None, deep_max=a.deep_max)
    env = res["environment"]
    blas = env["blas"] if isinstance(env["blas"], list) else []
    print(f"\nPython {env['python']}, numpy {env['numpy']}, {env['cpu']} "
          f"({env.get('cpus_usable', env['cpu_count'])} cores usable); BLAS: "
          + ", ".join(f"{b['internal_api']} {b['version']} {b['num_threads']} threads"
                      for b in blas)
          + (f"; torch {env['torch']}" if env["torch"] else "")
          + f"; median of {res['steps']} steps ({res['clock']} clock); engine at "
            f"{env.get('commit')}"
          + (" (modified)" if env.get("dirty") else "")
          + (f"; load average {env['load_average_at_start'][0]:.1f} at start, "
             f"{env['load_average_at_end'][0]:.1f} at end" if "load_average_at_end" in env else ""))
    print(table(res))
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    print(f"\nwrote {a.json}")


if __name__ == "__main__":
    main()
