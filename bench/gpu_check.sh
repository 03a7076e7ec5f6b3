#!/usr/bin/env bash
# One-command GPU check, about 5 minutes on one GPU (at most 8: each check has a time limit).
# On a GPU node, from the repository root, after `make install` and
#   .venv/bin/pip uninstall -y faiss-cpu && .venv/bin/pip install faiss-gpu-cu12
# run
#   bash bench/gpu_check.sh
# Each check prints one figure line (bench/_synthetic/gpu.py says what it runs):
#   hypernet     a paper-size hypernetwork epoch through train_hypernet on trainer=gpu, bf16-mixed
#   cpt_encoder  continued pre-training steps, XLM-R base shapes with 401,145 tokens, bf16-mixed
#   cpt_decoder  the same for the decoder, Gemma 3 270M shapes
#   ofa          the OFA initializer at paper size with faiss on the GPU
# Models have random weights and inputs are random (real shapes and sizes): figures are speed and
# memory, not quality. Without a CUDA device it stops at once with `NoGPUError` (exit 3); a
# failed or timed-out check is named at the end (exit 1). PYTHON=... picks the interpreter.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" TOKENIZERS_PARALLELISM=true

if ! command -v "$PYTHON" >/dev/null 2>&1; then
  echo "gpu_check: no interpreter at $PYTHON: run \`make install\` first (or set PYTHON=...)" >&2
  exit 2
fi
if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)'; then
  echo "gpu_check: NoGPUError: no CUDA device visible to torch (torch.cuda.is_available() is" \
    "False; nvidia-smi: $(command -v nvidia-smi >/dev/null && echo present || echo absent))." \
    "Run this on a GPU node with a CUDA build of torch." >&2
  exit 3
fi
"$PYTHON" -c 'import torch; print("gpu_check on", torch.cuda.get_device_name(0), "| torch",
  torch.__version__, "| CUDA", torch.version.cuda)'

failed=()
run_check() {  # name, time limit in seconds
  local started=$SECONDS
  timeout --signal=INT --kill-after=15 "$2" "$PYTHON" -m bench._synthetic.gpu "$1"
  local rc=$?
  if [ "$rc" -eq 3 ]; then exit 3; fi  # NoGPUError (printed by the check)
  if [ "$rc" -ne 0 ]; then
    [ "$rc" -eq 124 ] && echo "gpu_check: $1 ran past its ${2}s limit" >&2
    failed+=("$1 (exit $rc)")
  fi
  echo "  ($1: $((SECONDS - started)) s)"
}

run_check ofa 180 # first: a missing faiss-gpu shows before the long checks
run_check hypernet 150
run_check cpt_encoder 70
run_check cpt_decoder 70

if [ "${#failed[@]}" -gt 0 ]; then
  echo "gpu_check: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "gpu_check: all checks ran"
