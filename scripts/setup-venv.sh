#!/usr/bin/env bash
# Create .venv and install steergan into it. On a machine without an NVIDIA GPU the CPU
# build of torch is installed first, so pip never pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
EXTRAS=${EXTRAS:-test,ui,tensorboard}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
if ! python -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    pip install -q "torch>=2.1,<3"
  else
    # the CPU build where the index has it; otherwise any torch 2.x (set PIP_INDEX_URL or
    # PIP_EXTRA_INDEX_URL to your CPU wheel index first if yours only carries CUDA builds)
    pip install -q torch==2.13.0 || pip install -q "torch>=2.1,<3"
  fi
fi
pip install -q -e ".[${EXTRAS}]"
