"""``vigil bench backends``: every backend that can run the model, measured side by side on real frames."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.support.vision import MODELS, VTEST
from vigil.cli import app


@pytest.mark.skipif(not VTEST.is_file() or not (MODELS / "yolov3-tiny.onnx").is_file(),
                    reason="vtest or yolov3-tiny's export missing (run scripts/setup.sh)")
def test_the_default_model_is_measured_on_opencv_and_openvino_with_both_layouts(tmp_path) -> None:
    out = tmp_path / "backends.json"
    result = CliRunner().invoke(app, ["bench", "backends", "--seconds", "1", "--json", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    rows = {row["backend"]: row for row in document["rows"]}
    assert list(rows) == ["opencv", "openvino"]  # the reference first
    for row in rows.values():  # both layouts measured, every figure a real rate
        rates = [v for k, v in row.items() if k.startswith("fps_")]
        assert len(rates) == 2 and all(rate > 0 for rate in rates), row
    assert rows["openvino"]["ratio_to_first"] == pytest.approx(
        rows["openvino"]["best_fps"] / rows["opencv"]["best_fps"], abs=0.01)
    assert document["summary"]["fastest"] in rows
    assert "opencv" in result.output and "openvino" in result.output


def test_a_model_that_does_not_exist_is_a_clear_error() -> None:
    result = CliRunner().invoke(app, ["bench", "backends", "--model", "no-such-model"])
    assert result.exit_code != 0
    assert "no-such-model" in result.output and "Traceback" not in result.output
