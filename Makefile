# The two commands: `make demo` and `make test`. Each runs the idempotent set-up first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export YOLO_OFFLINE := 1
export YOLO_CONFIG_DIR := $(CURDIR)/var/ultralytics

.PHONY: setup demo test test-fast lint bench clean-var

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/vigil demo

# Whole suite with real parts (PostgreSQL, RTSP server, ONVIF device, detector, Chromium).
test: setup
	$(BIN)/python -m pytest -p no:cacheprovider

# Skip the tests marked slow (real video through the detector, fault injection).
test-fast: setup
	$(BIN)/python -m pytest -p no:cacheprovider -m "not slow"

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/vigil bench store --json var/bench-store.json

clean-var:
	rm -rf var/db var/spool var/evidence
