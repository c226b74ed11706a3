"""The ``vigil`` command. Each command group lives in its own module under vigil/cli/ and exposes
``register(app)``; heavy imports (torch, cv2, FastAPI) happen inside the commands, so ``--help`` is quick.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from vigil.cli.common import State

app = typer.Typer(
    name="vigil",
    help="Vigil: camera analytics for public-service centers and city streets.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: str = typer.Option(None, "--config", "-c", envvar="VIGIL_CONFIG",
                               help="Settings YAML file (default: ./vigil.yaml when present)."),
    log_level: str = typer.Option(None, "--log-level", help="DEBUG, INFO, WARNING or ERROR."),
) -> None:
    ctx.obj = State(config_file=config, log_level=log_level)


def _register_all() -> None:
    import vigil.cli as package

    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name == "common" or module.name.startswith("bench_"):
            continue
        loaded = importlib.import_module(f"vigil.cli.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    sys.exit(app())
