"""``vigil bench``: benchmarks. Each one lives in ``vigil/cli/bench_<name>.py`` with ``register_bench(app)``."""

from __future__ import annotations

import importlib
import pkgutil

import typer

bench_app = typer.Typer(help="Benchmarks: each prints a table and writes JSON (--json FILE).", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    import vigil.cli as package

    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name.startswith("bench_"):
            importlib.import_module(f"vigil.cli.{module.name}").register_bench(bench_app)
    app.add_typer(bench_app, name="bench")
