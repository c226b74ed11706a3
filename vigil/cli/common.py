"""What every command shares: settings loading with clear errors, exit codes, printing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import typer

from core.logs import setup_logging
from core.redact import redact
from core.settings import Settings, SettingsError, load_settings

log = logging.getLogger("vigil")


class ExitCode(IntEnum):
    """Exit codes a script can act on. ONVIF errors have their own range (see cameras.onvif)."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    SETTINGS = 3
    DATABASE = 4
    NOT_FOUND = 5
    INVALID_INPUT = 6
    NOT_BUILT = 9


@dataclass
class State:
    config_file: str | None = None
    log_level: str | None = None
    _settings: Settings | None = field(default=None, repr=False)

    def settings(self) -> Settings:
        """The validated settings; exits with code 3 and the bad keys named when they are invalid."""
        if self._settings is None:
            try:
                self._settings = load_settings(self.config_file)
            except SettingsError as exc:
                setup_logging("INFO")
                typer.secho(str(exc), err=True, fg=typer.colors.RED)
                raise typer.Exit(ExitCode.SETTINGS) from None
            setup_logging(self.log_level or self._settings.log_level)
        return self._settings


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    if not isinstance(obj, State):  # commands invoked directly in tests
        obj = State()
        ctx.find_root().obj = obj
    return obj


def fail(message: str, code: ExitCode = ExitCode.FAILURE) -> typer.Exit:
    """Print a one-line error for a person and return the Exit to raise."""
    typer.secho(f"error: {redact(message)}", err=True, fg=typer.colors.RED)
    return typer.Exit(int(code))


def bench_inputs(footage: Path, cameras: str, example: str = "1,4,8") -> list[int]:
    """A benchmark's footage (must exist) and its ``--cameras`` list (whole numbers of at least 1), in order."""
    if not footage.is_file():
        raise fail(f"{footage}: no such file (run `bash scripts/setup.sh`)", ExitCode.NOT_FOUND)
    try:
        counts = [int(c) for c in cameras.split(",") if c.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise fail(f"--cameras {cameras!r}: give camera counts like {example}", ExitCode.USAGE)
    return counts
