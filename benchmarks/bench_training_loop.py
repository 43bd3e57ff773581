"""Read-ahead: a frame-level streaming epoch against the same data in memory.

Usage::

    python benchmarks/bench_training_loop.py           # 768 videos, 3 epochs per run
    python benchmarks/bench_training_loop.py --quick   # checks the script

``make_yt8m`` writes frame-level shards in the real YouTube-8M format
(``SequenceExample``, uint8 frames, 60-150 frames per video, 3862 classes)
into a temporary directory. One ``QRNNClassifier(units=128, batch_size=64)``
configuration is trained three ways, interleaved run by run so that the
machine's load falls on all of them alike:

- ``memory``: ``load_yt8m(level="frame")`` then ``fit(X, y)`` (the baseline);
- ``stream``: ``fit(iter_yt8m(shards, level="frame"))`` with the default
  read-ahead (one background thread decoding 4 batches ahead);
- ``stream, no read-ahead``: the same with ``skqrnn.base.READ_AHEAD = 0``
  (decoding in the training thread, as before the one-loop redesign).

Epoch times come from a Keras callback; epoch 1 includes XLA compilation,
so the figure is the mean of the later epochs. ``decode`` is a pass of
``iter_yt8m`` alone (no training): what read-ahead has to hide.

The goal (issue 15): a streamed epoch <= 1.15x the in-memory epoch.
Measured 2026-12-06 on the idle 2-core VM: memory 2.52 s, stream 2.71 s
(1.08x), stream without read-ahead 2.54 s (1.01x), decoding alone 0.09 s;
the table and its reading are in ``benchmarks/README.md``.
"""

import argparse
import tempfile
import time

import skqrnn  # noqa: F401  (picks the Keras backend before Keras is imported)

import keras
import numpy as np

import skqrnn.base
from skqrnn import QRNNClassifier
from skqrnn.datasets import make_yt8m
from skqrnn.io import iter_yt8m, load_yt8m


class _EpochTimes(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def __deepcopy__(self, memo):  # fit copies its callbacks; keep this one
        return self

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t0)


def _steady(times):
    return float(np.mean(times[1:])) if len(times) > 1 else float(times[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    n_videos = 192 if args.quick else 768
    epochs = 2 if args.quick else 3
    directory = tempfile.mkdtemp(prefix="skqrnn-bench-loop-")
    paths = make_yt8m(n_videos, level="frame", n_frames=(60, 150), n_shards=4,
                      directory=directory, random_state=0)
    params = dict(units=128, batch_size=64, epochs=epochs, random_state=0)

    def stream():
        return iter_yt8m(paths, level="frame", batch_size=64, sparse_labels=True,
                         dequantize=False, max_frames=150, random_state=0)

    t0 = time.perf_counter()
    data = load_yt8m(paths, level="frame", dequantize=False, max_frames=150)
    load_s = time.perf_counter() - t0
    rows = {"memory": [], "stream": [], "stream, no read-ahead": [], "decode": []}
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _batch in stream():
            pass
        rows["decode"].append(time.perf_counter() - t0)
        for name in ("memory", "stream", "stream, no read-ahead"):
            timer = _EpochTimes()
            est = QRNNClassifier(callbacks=[timer], **params)
            skqrnn.base.READ_AHEAD = 0 if name.endswith("no read-ahead") else 4
            try:
                if name == "memory":
                    est.fit(data.X, data.y)
                else:
                    est.fit(stream())
            finally:
                skqrnn.base.READ_AHEAD = 4
            rows[name].append(_steady(timer.times))
    memory = min(rows["memory"])
    print(f"{n_videos} frame-level videos (uint8, 60-150 frames), QRNN units=128, batch 64; "
          f"load_yt8m {load_s:.2f} s")
    print(f"{'run':<24}{'epoch s (best)':>16}{'all runs':>24}{'x memory':>10}")
    for name, times in rows.items():
        best = min(times)
        print(f"{name:<24}{best:>16.2f}{', '.join(f'{t:.2f}' for t in times):>24}"
              f"{best / memory:>10.2f}")


if __name__ == "__main__":
    main()
