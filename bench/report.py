"""How every benchmark reports: a table on stdout and a JSON file with the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A plain aligned text table; floats shown with 3 significant decimals."""
    if not rows:
        return "(no rows)"
    cols = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
        return "" if value is None else str(value)

    body = [[cell(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in body]
    return "\n".join(lines)


def report(name: str, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], json_file: Path | None,
           columns: Sequence[str] | None = None, notes: Sequence[str] = (),
           extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Print the table and summary; write ``{"benchmark", "machine", "rows", "summary", "notes"}`` as JSON, with
    ``extra`` keys after them in the file (detail too long for the table: per-scenario scores, raw rows)."""
    print(f"\n== vigil bench {name} ==")
    print(format_table(rows, columns))
    if summary:
        print()
        for key, value in summary.items():
            print(f"{key}: {value:.4g}" if isinstance(value, float) else f"{key}: {value}")
    for note in notes:
        print(f"note: {note}")
    document = {"benchmark": name, "machine": machine_info(), "rows": list(rows), "summary": dict(summary),
                "notes": list(notes)}
    if json_file is not None:
        document.update(extra or {})
        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {json_file}")
    return document
