"""``vigil bench store`` runs end to end on a small city and reports every figure the issue asks for."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigil.cli import app


@pytest.mark.slow
def test_bench_store_reports_ingest_spool_and_query_figures(tmp_path: Path) -> None:
    out = tmp_path / "store.json"
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        result = CliRunner().invoke(app, ["bench", "store", "--json", str(out), "--days", "3", "--cameras", "20",
                                          "--ingest-rows", "20000", "--spool-rows", "10000", "--runs", "5"])
    finally:  # the command logs to the runner's stream, which is closed afterwards
        root.handlers[:] = handlers
        root.setLevel(level)
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())["summary"]
    for key in ("ingest_rows_per_s_1_thread", "ingest_rows_per_s_2_threads", "spool_flush_rows_per_s",
                "live_counter_state_p95_ms", "event_search_site_7d_p50_ms", "counter_daily_audit_p95_ms"):
        assert summary[key] > 0, key
    assert summary["history_rows"] > 100_000
    assert "ingest_rows_per_s (1 thread)" in result.output
