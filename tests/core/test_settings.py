"""Settings: one validated tree from YAML and VIGIL_ variables; bad keys are named at start."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.settings import SettingsError, load_settings
from vigil.cli import app


def test_defaults_load_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.vision.model == "yolov3-tiny"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.database_url is None or settings.database_url.startswith("postgres")


def test_yaml_values_and_environment_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "vigil.yaml"
    config.write_text("vision:\n  max_batch: 4\n  imgsz: 320\napi:\n  port: 9000\n")
    monkeypatch.setenv("VIGIL_VISION__IMGSZ", "640")
    settings = load_settings(config)
    assert settings.vision.max_batch == 4
    assert settings.vision.imgsz == 640  # the environment wins over the file
    assert settings.api.port == 9000


def test_bad_values_name_their_key_path(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("vision:\n  max_batch: 0\n  modle: x\napi:\n  port: 80000\ntimezone: Mars/Olympus\n")
    with pytest.raises(SettingsError) as error:
        load_settings(config)
    message = str(error.value)
    assert "vision.max_batch: Input should be greater than or equal to 1 (got 0)" in message
    assert "vision.modle: unknown key" in message
    assert "api.port" in message and "80000" in message
    assert "timezone" in message and "Mars/Olympus" in message


def test_bad_environment_value_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIL_STORE__WRITER_BATCH_ROWS", "lots")
    with pytest.raises(SettingsError, match=r"store\.writer_batch_rows: .*valid integer"):
        load_settings()


def test_missing_or_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("vision: [unclosed\n")
    with pytest.raises(SettingsError, match="not valid YAML"):
        load_settings(broken)


def test_cli_exits_3_with_the_key_on_bad_settings(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("store:\n  writer_threads: 99\n")
    result = CliRunner().invoke(app, ["--config", str(config), "db", "status"])
    assert result.exit_code == 3
    assert "store.writer_threads" in result.output
    assert "Traceback" not in result.output


def test_every_setting_is_documented_and_the_reference_is_current() -> None:
    from vigil.settings_doc import settings_markdown

    reference = settings_markdown()
    rows = [line.split(" | ") for line in reference.splitlines() if line.startswith("| `")]
    undocumented = [cells[0].strip("| `") for cells in rows if cells[4].strip(" |").startswith("(") or
                    not cells[4].strip(" |")]
    assert undocumented == [], f"settings without a description: {undocumented}"
    on_disk = (Path(__file__).parents[2] / "docs" / "settings.md").read_text(encoding="utf-8")
    assert on_disk == reference, "docs/settings.md is stale: run `vigil settings doc > docs/settings.md`"


def test_tamper_thresholds_are_settings_the_readers_use(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cameras.models import CameraSource
    from ingest.reader import CameraReader

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIGIL_INGEST__TAMPER__FROZEN_S", "30")
    settings = load_settings()
    reader = CameraReader(CameraSource.from_file(1, tmp_path / "clip.mp4"), settings.ingest)
    assert reader._tamper.config.frozen_s == 30.0  # a still lobby may stay frozen-looking for longer
    monkeypatch.setenv("VIGIL_INGEST__TAMPER__FROZEN_S", "-1")
    with pytest.raises(SettingsError, match=r"ingest\.tamper\.frozen_s"):
        load_settings()
