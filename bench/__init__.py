"""Benchmarks: each script writes a JSON result to ``bench/results/`` and prints how to rerun it."""
