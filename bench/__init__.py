"""Benchmarks: scripts run by hand (see bench/README.md), never timed tests."""
