"""Speed benchmark: autograd_mini against the same computation written by hand in numpy.

Run `python -m benchmarks.run` (add `--quick` for a correctness-only smoke run); see run.py.
"""
