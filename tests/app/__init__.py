"""Tests of the application shell: CLI, worker, supervisor, benchmarks."""
