#!/usr/bin/env bash
# The GPU measurements of issue #4 in one call (the device machine of this workplace is lent
# by the quarter hour, so everything runs in one prepared script and each step has its own
# time limit). Run from the repository root on a machine with a CUDA GPU and JAX installed:
#
#     bash benchmarks/gpu_check.sh [OUTPUT_DIR]
#
# Keras and the two dependencies the GPU image lacked (namex, optree) travel as wheels in .whl/,
# downloaded on a machine with the package index for the GPU machine's Python 3.12:
#
#     pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#         --platform manylinux_2_28_x86_64 -d .whl keras==3.15.1 namex optree
#
# Each step's output is also written to OUTPUT_DIR. Figures: benchmarks/README.md.
out=${1:-${OUT:-/tmp/gpu_check}}
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "=== $name ($(date +%T))"
    timeout "$limit" "$@" 2>&1 | tee "$out/$name.txt"
}

nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
step env 40 python3 -c "
import jax, keras, numpy as np, jax.numpy as jnp
print('jax', jax.__version__, 'keras', keras.__version__, jax.devices())
from jax.experimental.rnn import lstm, init_lstm_weight
# Keras's LSTM uses this cuDNN kernel on a JAX GPU; if it fails Keras falls back to a scan.
w = init_lstm_weight(jax.random.PRNGKey(0), 8, 16, 1, False)
y = lstm(jnp.ones((2, 5, 8)), jnp.zeros((1, 2, 16)), jnp.zeros((1, 2, 16)), w,
         jnp.full((2,), 5, jnp.int32), input_size=8, hidden_size=16, num_layers=1,
         dropout=0.0, bidirectional=False)[0]
print('cuDNN LSTM through jax.experimental.rnn: ok', y.shape)
"
step layer_b32 150 python3 benchmarks/bench_qrnn_layer.py --batch 32 --repeats 10
step scan 70 python3 benchmarks/bench_scan.py --repeats 20
# The float64 reference tests at float32 tolerance: matmuls at full float32 precision (JAX
# rounds float32 matmul operands to TF32 by default on this GPU).
JAX_DEFAULT_MATMUL_PRECISION=highest step tests_highest 110 python3 -m pytest -q -n 8 \
    -p no:cacheprovider -p no:benchmark -rf --tb=line tests/test_layers_qrnn.py
step layer_b256 90 python3 benchmarks/bench_qrnn_layer.py --batch 256 --repeats 10 \
    --lengths 300 --scans auto sequential
step tests_default 60 python3 -m pytest -q -n 8 -p no:cacheprovider -p no:benchmark -rf \
    --tb=line tests/test_layers_qrnn.py -k "linear_recurrence_matches or forward_matches"
