"""Benchmark scripts, and the synthetic problem generator they share with the tests.

Run a script by its path (``.venv/bin/python benchmarks/negotiation_bench.py``); the
tests import these modules as ``benchmarks.*`` (pytest puts the repository root on
``sys.path``).
"""
