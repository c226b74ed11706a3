"""Benchmarks, the soak and its memory trace, and the report table: ``vigil bench ...``.

Imported by the CLI and tests only; runtime packages never import it."""
