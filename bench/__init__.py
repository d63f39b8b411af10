"""Benchmarks: they print figures, they are not tests (see bench/README.md)."""
