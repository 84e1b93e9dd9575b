"""Benchmarks: run with `make bench`. Each reports a ratio against a baseline measured in the same run."""
