"""Reading speed of YouTube-8M TFRecord shards: skqrnn.io vs TensorFlow, protobuf and `tfrecord`.

Usage::

    python benchmarks/bench_io.py            # full run (~2-4 minutes)
    python benchmarks/bench_io.py --quick    # smaller shards
    # load_yt8m vs tf.data on one core, TensorFlow in its own venv (~1 minute):
    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu numpy
    python benchmarks/bench_io.py --anchor --tf-python /tmp/tfvenv/bin/python

The anchor table (``--anchor``): ``load_yt8m`` against
``tf.data.TFRecordDataset(files).batch(1024).map(tf.io.parse_example)`` (float32
features, labels, ids to numpy; frame level: batch 32, ``parse_sequence_example``
+ ``decode_raw``) with TF limited to one thread, both pinned to the same core,
TF in a worker process of the ``--tf-python`` interpreter that times one pass
per request, so skqrnn's and TF's passes alternate; best of ``--repeat``.
Video level: the first 50 real shards of ``shared/data/yt8m-2018-video-tuning``
(14,363 videos, 68 MB); frame level: 4 synthetic shards of 150 videos.
2026-12-06, the team's 2-core x86_64 VM, load average 8 (three other jobs),
Python 3.11, numpy 2.4, TensorFlow 2.21 CPU; ratio = tf.data time / skqrnn
time::

    level  data                        videos   skqrnn s  tf.data s  wall x  CPU x
    # before (commit b3bd1d4: one record at a time)
    video  50 real shards               14363     0.329     0.323    0.98   0.71
    frame  4 synthetic shards, uint8      600     0.359     0.653    1.82   1.54
    # after (whole shards, records decoded in batches), two runs
    video  50 real shards               14363     0.197     0.321    1.63   1.32
    frame  4 synthetic shards, uint8      600     0.297     0.594    2.00   1.98
    video  50 real shards               14363     0.174     0.319    1.83   1.34
    frame  4 synthetic shards, uint8      600     0.164     0.667    4.06   1.77
    # the same code, 2026-12-06 21:03 UTC, an idle 2-core Intel Xeon VM (AVX-512)
    video  50 real shards               14363     0.095     0.155    1.63   1.16
    frame  4 synthetic shards, uint8      600     0.167     0.320    1.92   1.26

Where the video-level time went before (cProfile, 50 shards): ~20 us per
record of Python -- ``_video_fast`` walking the map entries (45%), framing
with a bytes slice per record and buffer splicing (20%), CRCs, per-record
arrays -- and a final copy of all row blocks into X. Now (CPU time, 91 ms in
all): file reads 28 ms, data CRCs 20 ms (google-crc32c takes bytes only: a
copy per record), the vectorized map walk 15 ms, copying the floats into X
34 ms (memory-bound: a plain 66 MB copy takes as long on this VM), labels and
ids 5 ms. Frame-level reading is unchanged (the table's swing is the VM).

Data: video-level and frame-level shards written by ``make_yt8m`` (the real
format; frame-level videos have 120-300 frames). Each reader gets the same
files, one process unless said otherwise, and must deliver numpy arrays
(features, labels, ids); frame-level figures exclude dequantization unless
the row says "float32" (uint8 frames, as TF's ``decode_raw`` gives them).
Best of ``--repeat`` runs. Baselines, when installed (an optional
benchmark dependency, run this script in a venv that has them):
``tf.data.TFRecordDataset`` + batched ``tf.io.parse_example`` /
``parse_sequence_example`` + ``decode_raw`` with TF limited to one thread;
the PyPI ``tfrecord`` package (no CRC check; run in a child process, as
it registers ``tensorflow.*`` protobuf types that clash with TensorFlow's);
``protobuf`` (upb C backend)
with message classes built at run time from descriptors + skqrnn's framing.
The last table gives the peak traced memory of one ``iter_yt8m`` pass as
the number of shards grows.

Choice of decoder (why skqrnn.io has its own protobuf wire decoder): on the
same files and in the same process, protobuf's upb C backend (message
classes built at run time from descriptors, its float lists serialized back
to reach numpy without Python floats) reads video records at 0.56x and
frame records at 0.66x the CPU-time throughput of skqrnn's decoder (table
below). upb parses fast, but getting its repeated fields into numpy costs
more than the whole hand-written decode, and at frame level it builds 300
Python ``bytes`` per feature per video where skqrnn views the feature list
as one strided numpy array. The hand-written decoder also adds no dependency.

Measured 2026-11-26 on the team's 2-core CPU VM while other jobs ran (load
average 10-15, so wall-clock figures are a fraction of an idle machine's
and swing +-30% between runs; the CPU-time columns are steadier), Python
3.11, numpy 2.4, TensorFlow 2.21 (CPU, one thread), tfrecord 1.14.6,
protobuf 7.36 (upb). Full run (``--repeat 5``), 4 video shards x 1000
videos (19 MB), 4 frame shards x 150 videos of 120-300 frames (147 MB)::

                                                          --- wall time ---    --- CPU time ---
    level  reader                                        records/s     MB/s  records/s     MB/s
    video  skqrnn read_records (framing + CRC only)          95264    448.9     287993   1357.2
    video  skqrnn load_yt8m                                  23554    111.0      70756    333.4
    video  skqrnn load_yt8m verify_crc=False                 25834    121.7      76407    360.1
    video  skqrnn load_yt8m n_jobs=2                          7524     35.5
    video  skqrnn iter_yt8m (shuffled batches)               19416     91.5      49016    231.0
    video  protobuf upb + skqrnn framing                     12415     58.5      39756    187.3
    video  tfrecord (PyPI, no CRC)                            5934     28.0      18179     85.7
    video  tf.data + parse_example, 1 thread                 17171     80.9      57064    268.9
    frame  skqrnn read_records (framing + CRC only)           4449   1089.8      12525   3068.2
    frame  skqrnn load_yt8m                                    665    162.8       2376    582.1
    frame  skqrnn load_yt8m verify_crc=False                   866    212.2       2681    656.7
    frame  skqrnn load_yt8m n_jobs=2                           835    204.4
    frame  skqrnn load_yt8m float32 (dequantized)               89     21.8        269     65.8
    frame  skqrnn iter_yt8m (shuffled batches)                 770    188.7       2710    664.0
    frame  protobuf upb + skqrnn framing                       453    111.0       1562    382.6
    frame  tfrecord (PyPI, no CRC)                             189     46.3        662    162.3
    frame  tf.data + parse_example, 1 thread                   501    122.7       2246    550.3
    # iter_yt8m peak traced memory (frame level, uint8, shuffle_buffer 32, batch 16, interleave 2)
       2 shards:    30.5 MB
       4 shards:    30.6 MB
       8 shards:    30.8 MB
      16 shards:    31.0 MB

Reading: skqrnn's single-process load_yt8m is at or above TensorFlow's
single-thread throughput at both levels (video 1.24x CPU / 1.37x wall,
frame 1.06x CPU / 1.33x wall in this run; earlier runs on the same machine
gave 0.96-1.3x at video level, 1.0-2.3x at frame level). n_jobs=2 cannot
help on a saturated 2-core machine: at video level the worker start-up
and result transfer make it slower here; at frame level (threads) it gained
1.26x. Dequantizing to float32 is bounded by writing the 4x larger output
(830 MB here; first touches of fresh memory are slow in this VM). The peak
memory of a streamed pass stays flat (30.5 -> 31.0 MB) from 2 to 16 shards.
"""

import argparse
import gc
import glob
import os
import shutil
import sys
import tempfile
import time
import tracemalloc

import numpy as np

try:
    from skqrnn.datasets import make_yt8m
    from skqrnn.io import iter_yt8m, load_yt8m, read_records
except ImportError:  # the tf.data worker runs in an interpreter without skqrnn
    if "--_tf_worker" not in sys.argv:
        raise


def _best(fn, repeat):
    """Best wall time and best CPU time (all threads of this process) of ``repeat`` runs.

    On a shared machine the CPU time is the steadier measure of the work a
    reader does; wall time also counts waiting for the CPU.
    """
    wall = cpu = float("inf")
    out = None
    for _ in range(repeat):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        c, t = time.process_time() - c, time.perf_counter() - t
        wall, cpu = min(wall, t), min(cpu, c)
    return wall, cpu, out


# ---------------------------------------------------------------- readers
def skqrnn_framing(paths, level):
    return sum(1 for _ in read_records(paths))


def skqrnn_load(paths, level, n_jobs=None, dequantize=False):
    d = load_yt8m(paths, level=level, n_jobs=n_jobs, dequantize=dequantize)
    return d.X.shape[0]


def skqrnn_iter(paths, level):
    n = 0
    for X, _ in iter_yt8m(paths, level=level, batch_size=256, dequantize=False,
                          shuffle_buffer=256):
        n += X.shape[0]
    return n


def _protobuf_classes():
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="bench_example.proto", package="bench_tf", syntax="proto3"
    )
    R, O = F.LABEL_REPEATED, F.LABEL_OPTIONAL

    def msg(name, fields):
        m = fdp.message_type.add(name=name)
        for fname, num, typ, label, tname in fields:
            f = m.field.add(name=fname, number=num, type=typ, label=label)
            if tname:
                f.type_name = tname
        return m

    msg("BytesList", [("value", 1, F.TYPE_BYTES, R, None)])
    msg("FloatList", [("value", 1, F.TYPE_FLOAT, R, None)])
    msg("Int64List", [("value", 1, F.TYPE_INT64, R, None)])
    m = msg("Feature", [("bytes_list", 1, F.TYPE_MESSAGE, O, ".bench_tf.BytesList"),
                        ("float_list", 2, F.TYPE_MESSAGE, O, ".bench_tf.FloatList"),
                        ("int64_list", 3, F.TYPE_MESSAGE, O, ".bench_tf.Int64List")])
    m.oneof_decl.add(name="kind")
    for f in m.field:
        f.oneof_index = 0
    for name, entry, value in (("Features", "FeatureEntry", ".bench_tf.Feature"),
                               ("FeatureLists", "FeatureListEntry", ".bench_tf.FeatureList")):
        field = "feature" if name == "Features" else "feature_list"
        mm = msg(name, [(field, 1, F.TYPE_MESSAGE, R, f".bench_tf.{name}.{entry}")])
        e = mm.nested_type.add(name=entry)
        e.options.map_entry = True
        e.field.add(name="key", number=1, type=F.TYPE_STRING, label=O)
        e.field.add(name="value", number=2, type=F.TYPE_MESSAGE, label=O, type_name=value)
        if name == "Features":
            msg("FeatureList", [("feature", 1, F.TYPE_MESSAGE, R, ".bench_tf.Feature")])
    msg("Example", [("features", 1, F.TYPE_MESSAGE, O, ".bench_tf.Features")])
    msg("SequenceExample", [("context", 1, F.TYPE_MESSAGE, O, ".bench_tf.Features"),
                            ("feature_lists", 2, F.TYPE_MESSAGE, O, ".bench_tf.FeatureLists")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    get = message_factory.GetMessageClass
    return (get(pool.FindMessageTypeByName("bench_tf.Example")),
            get(pool.FindMessageTypeByName("bench_tf.SequenceExample")))


def protobuf_reader(paths, level):
    Example, SequenceExample = _protobuf_classes()
    n = 0
    if level == "video":
        X = []
        for rec in read_records(paths):
            ex = Example()
            ex.ParseFromString(rec)
            f = ex.features.feature
            row = np.empty(1152, np.float32)
            # Serializing the FloatList back is the fastest way from upb to numpy.
            s = f["mean_rgb"].float_list.SerializeToString()
            row[:1024] = np.frombuffer(s, np.float32, offset=len(s) - 4096)
            s = f["mean_audio"].float_list.SerializeToString()
            row[1024:] = np.frombuffer(s, np.float32, offset=len(s) - 512)
            _ = list(f["labels"].int64_list.value), f["id"].bytes_list.value[0]
            X.append(row)
            n += 1
        return n
    for rec in read_records(paths):
        ex = SequenceExample()
        ex.ParseFromString(rec)
        fl = ex.feature_lists.feature_list
        rgb = np.frombuffer(b"".join(v.bytes_list.value[0] for v in fl["rgb"].feature), np.uint8)
        audio = np.frombuffer(
            b"".join(v.bytes_list.value[0] for v in fl["audio"].feature), np.uint8
        )
        _ = rgb.reshape(-1, 1024), audio.reshape(-1, 128)
        ctx = ex.context.feature
        _ = list(ctx["labels"].int64_list.value), ctx["id"].bytes_list.value[0]
        n += 1
    return n


def tfrecord_pkg_reader(paths, level):
    from tfrecord.reader import tfrecord_loader

    n = 0
    if level == "video":
        desc = {"id": "byte", "labels": "int", "mean_rgb": "float", "mean_audio": "float"}
        for p in paths:
            for ex in tfrecord_loader(p, None, desc):
                _ = ex["mean_rgb"], ex["mean_audio"], ex["labels"], ex["id"]
                n += 1
        return n
    ctx = {"id": "byte", "labels": "int"}
    seq = {"rgb": "byte", "audio": "byte"}
    for p in paths:
        for c, s in tfrecord_loader(p, None, ctx, sequence_description=seq):
            rgb = np.frombuffer(b"".join(bytes(v) for v in s["rgb"]), np.uint8).reshape(-1, 1024)
            audio = np.frombuffer(b"".join(bytes(v) for v in s["audio"]), np.uint8)
            _ = audio.reshape(-1, 128), c["labels"], c["id"]
            n += 1
    return n


def tf_reader(paths, level):
    """Build the tf.data pipeline once (outside the timing); return the timed reader."""
    import tensorflow as tf

    opts = tf.data.Options()
    opts.threading.private_threadpool_size = 1
    opts.threading.max_intra_op_parallelism = 1
    if level == "video":
        feat = {
            "id": tf.io.FixedLenFeature([], tf.string),
            "labels": tf.io.VarLenFeature(tf.int64),
            "mean_rgb": tf.io.FixedLenFeature([1024], tf.float32),
            "mean_audio": tf.io.FixedLenFeature([128], tf.float32),
        }
        ds = tf.data.TFRecordDataset(paths).batch(256).map(lambda s: tf.io.parse_example(s, feat))
        ds = ds.with_options(opts)

        def run():
            n = 0
            for b in ds:
                _ = b["mean_rgb"].numpy(), b["mean_audio"].numpy(), b["labels"].values.numpy()
                n += b["id"].shape[0]
            return n

        return run
    ctx = {"id": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.VarLenFeature(tf.int64)}
    seq = {k: tf.io.FixedLenSequenceFeature([], dtype=tf.string) for k in ("rgb", "audio")}

    def parse(s):
        c, f, _ = tf.io.parse_sequence_example(s, context_features=ctx, sequence_features=seq)
        rgb = tf.io.decode_raw(f["rgb"], tf.uint8, fixed_length=1024)
        audio = tf.io.decode_raw(f["audio"], tf.uint8, fixed_length=128)
        return c["id"], c["labels"], rgb, audio

    ds = tf.data.TFRecordDataset(paths).batch(32).map(parse).with_options(opts)

    def run():
        n = 0
        for ids, labels, rgb, audio in ds:
            _ = rgb.numpy(), audio.numpy(), labels.values.numpy()
            n += ids.shape[0]
        return n

    return run


# ----------------------------------------------- tf.data anchor, own interpreter
# TensorFlow need not be installed with skqrnn: the anchor runs in the
# interpreter given by --tf-python (e.g. a venv with tensorflow-cpu), as a
# worker that builds its pipeline once and then times one pass per "run" line
# on its stdin, so its passes interleave with skqrnn's on the same core.
def tf_worker(level, cpu, paths):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    opts = tf.data.Options()
    opts.threading.private_threadpool_size = 1
    opts.threading.max_intra_op_parallelism = 1
    if level == "video":
        feat = {
            "id": tf.io.FixedLenFeature([], tf.string),
            "labels": tf.io.VarLenFeature(tf.int64),
            "mean_rgb": tf.io.FixedLenFeature([1024], tf.float32),
            "mean_audio": tf.io.FixedLenFeature([128], tf.float32),
        }
        ds = tf.data.TFRecordDataset(paths).batch(1024).map(lambda s: tf.io.parse_example(s, feat))

        def arrays(b):
            return b["mean_rgb"].numpy(), b["mean_audio"].numpy(), b["labels"].values.numpy(), \
                b["id"].numpy()
    else:
        ctx = {"id": tf.io.FixedLenFeature([], tf.string), "labels": tf.io.VarLenFeature(tf.int64)}
        seq = {k: tf.io.FixedLenSequenceFeature([], dtype=tf.string) for k in ("rgb", "audio")}

        def parse(s):
            c, f, _ = tf.io.parse_sequence_example(s, context_features=ctx, sequence_features=seq)
            return (c["id"], c["labels"], tf.io.decode_raw(f["rgb"], tf.uint8, fixed_length=1024),
                    tf.io.decode_raw(f["audio"], tf.uint8, fixed_length=128))

        ds = tf.data.TFRecordDataset(paths).batch(32).map(parse)

        def arrays(b):
            return b[2].numpy(), b[3].numpy(), b[1].values.numpy(), b[0].numpy()
    ds = ds.with_options(opts)

    def run():
        n = 0
        for b in ds:
            n += arrays(b)[3].shape[0]
        return n

    run()  # warm-up: tracing the graph is not reading
    print("ready", flush=True)
    for _ in sys.stdin:
        t, c = time.perf_counter(), time.process_time()
        n = run()
        print(n, time.perf_counter() - t, time.process_time() - c, flush=True)


def anchor(tf_python, level, paths, repeat, cpu, skqrnn_fn):
    """Best-of-``repeat`` (wall, CPU) of skqrnn and of tf.data, passes interleaved."""
    import subprocess

    worker = subprocess.Popen(
        [tf_python, os.path.abspath(__file__), "--_tf_worker", level, "--cpu", str(cpu), *paths],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        if worker.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the TensorFlow worker ({tf_python}) did not start")
        skqrnn_fn()  # warm-up
        ours, theirs = [], []
        for _ in range(repeat):
            gc.collect()
            t, c = time.perf_counter(), time.process_time()
            n = skqrnn_fn()
            ours.append((time.perf_counter() - t, time.process_time() - c))
            worker.stdin.write("run\n")
            worker.stdin.flush()
            m, w, c = worker.stdout.readline().split()
            theirs.append((float(w), float(c)))
            assert int(m) == n, (m, n)
    finally:
        worker.stdin.close()
        worker.wait()
    best = lambda runs, k: min(r[k] for r in runs)  # noqa: E731
    return n, (best(ours, 0), best(ours, 1)), (best(theirs, 0), best(theirs, 1))


def anchor_table(args):
    """skqrnn's load_yt8m against tf.data on one core: real video shards, synthetic frames."""
    cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    real = sorted(glob.glob(os.path.join(args.real_dir, "*.tfrecord")))[: args.n_real]
    if len(real) < args.n_real:
        raise SystemExit(f"{args.real_dir}: {len(real)} shards, --n-real {args.n_real} wanted")
    root = tempfile.mkdtemp(prefix="skqrnn-bench-io-")
    try:
        frames = _make(root, "frame", 4, 40 if args.quick else 150)
        cases = [
            ("video", f"{len(real)} real shards", real,
             lambda: load_yt8m(real).X.shape[0]),
            ("frame", "4 synthetic shards, uint8", frames,
             lambda: load_yt8m(frames, level="frame", dequantize=False).X.shape[0]),
        ]
        print(f"# load_yt8m vs tf.data + parse_example (batch 1024 video / 32 frame), one core "
              f"(cpu {cpu}), best of {args.repeat}, passes interleaved")
        print(f"{'level':6} {'data':26} {'videos':>7} {'MB':>6} {'skqrnn s':>9} {'tf.data s':>9} "
              f"{'wall x':>7} {'CPU x':>6}")
        for level, what, paths, fn in cases:
            size = sum(os.path.getsize(p) for p in paths) / 1e6
            n, ours, theirs = anchor(args.tf_python, level, paths, args.repeat, cpu, fn)
            print(f"{level:6} {what:26} {n:7d} {size:6.0f} {ours[0]:9.3f} {theirs[0]:9.3f} "
                  f"{theirs[0] / ours[0]:7.2f} {theirs[1] / ours[1]:6.2f}")
        print(f"# load average {os.getloadavg()[0]:.1f} (2-core machine)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------- main
def _available(name):
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def tfrecord_pkg_subprocess(paths, level, repeat):
    """`tfrecord` registers tensorflow.* protos, clashing with TensorFlow: own process."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--_tfrecord", level, "--repeat", str(repeat), *paths],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    return float(out[0]), float(out[1]), int(out[2])


def _make(root, level, n_shards, per_shard):
    d = os.path.join(root, level)
    return make_yt8m(n_shards * per_shard, n_classes=3862, level=level, n_shards=n_shards,
                     directory=d, random_state=0)


def _peak_iter(paths, level):
    tracemalloc.start()
    try:
        for _ in iter_yt8m(paths, level=level, batch_size=16, shuffle_buffer=32,
                           interleave=2, dequantize=False):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--anchor", action="store_true",
                    help="only the load_yt8m vs tf.data table (one core, interleaved)")
    ap.add_argument("--tf-python", default=os.environ.get("SKQRNN_TF_PYTHON"),
                    help="interpreter with TensorFlow for the anchor (env SKQRNN_TF_PYTHON)")
    ap.add_argument("--real-dir", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data",
        "yt8m-2018-video-tuning"), help="real video-level shards for the anchor")
    ap.add_argument("--n-real", type=int, default=50)
    ap.add_argument("--cpu", type=int, default=None, help="the core the anchor runs on")
    ap.add_argument("--_tfrecord", help=argparse.SUPPRESS)
    ap.add_argument("--_tf_worker", help=argparse.SUPPRESS)
    ap.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args._tf_worker:
        tf_worker(args._tf_worker, args.cpu, args.paths)
        return 0
    if args.anchor:
        if not args.tf_python:
            if not _available("tensorflow"):
                raise SystemExit("--anchor needs --tf-python (an interpreter with tensorflow)")
            args.tf_python = sys.executable
        anchor_table(args)
        return 0
    if args._tfrecord:
        t, c, n = _best(lambda: tfrecord_pkg_reader(args.paths, args._tfrecord), args.repeat)
        print(t, c, n)
        return 0
    if _available("tensorflow"):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow as tf

        tf.config.threading.set_inter_op_parallelism_threads(1)
        tf.config.threading.set_intra_op_parallelism_threads(1)
    root = tempfile.mkdtemp(prefix="skqrnn-bench-io-")
    try:
        video_per, frame_per = (250, 40) if args.quick else (1000, 150)
        files = {"video": _make(root, "video", 4, video_per),
                 "frame": _make(root, "frame", 4, frame_per)}
        readers = [
            ("skqrnn read_records (framing + CRC only)", skqrnn_framing, True),
            ("skqrnn load_yt8m", skqrnn_load, True),
            ("skqrnn load_yt8m verify_crc=False",
             lambda p, lv: len(load_yt8m(p, level=lv, dequantize=False, verify_crc=False).X),
             True),
            ("skqrnn load_yt8m n_jobs=2", lambda p, lv: skqrnn_load(p, lv, n_jobs=2), True),
            ("skqrnn load_yt8m float32 (dequantized)",
             lambda p, lv: skqrnn_load(p, lv, dequantize=True), "frame"),
            ("skqrnn iter_yt8m (shuffled batches)", skqrnn_iter, True),
            ("protobuf upb + skqrnn framing", protobuf_reader, _available("google.protobuf")),
            ("tfrecord (PyPI, no CRC)", tfrecord_pkg_reader, _available("tfrecord")),
            ("tf.data + parse_example, 1 thread", tf_reader, _available("tensorflow")),
        ]
        print(f"{'':51} {'--- wall time ---':>19} {'--- CPU time ---':>19}")
        print(f"{'level':6} {'reader':44} {'records/s':>10} {'MB/s':>8} {'records/s':>10} "
              f"{'MB/s':>8}")
        for level in ("video", "frame"):
            paths = files[level]
            size = sum(os.path.getsize(p) for p in paths) / 1e6
            n_rec = sum(1 for _ in read_records(paths))
            print(f"# {level} level: {len(paths)} shards, {n_rec} records, {size:.0f} MB")
            for name, fn, ok in readers:
                if ok is not True and ok != level:
                    if ok is False:
                        print(f"{level:6} {name:44} {'(not installed)':>19}")
                    continue
                if fn is tfrecord_pkg_reader:
                    t, c, n = tfrecord_pkg_subprocess(paths, level, args.repeat)
                elif fn is tf_reader:
                    run = tf_reader(paths, level)
                    run()  # warm-up: graph tracing is not reading
                    t, c, n = _best(run, args.repeat)
                else:
                    t, c, n = _best(lambda: fn(paths, level), args.repeat)
                assert n == n_rec, (name, n, n_rec)
                # CPU time of worker processes is not counted: no CPU figure for n_jobs.
                cpu = "" if "n_jobs" in name else f"{n / c:10.0f} {size / c:8.1f}"
                print(f"{level:6} {name:44} {n / t:10.0f} {size / t:8.1f} {cpu}")
        print("# iter_yt8m peak traced memory (frame level, uint8, shuffle_buffer 32, batch 16, "
              "interleave 2)")
        base = files["frame"]
        for k in (2, 4, 8, 16):
            shard_list = (base * 4)[:k]  # the same shards repeated: as many as wanted
            peak = _peak_iter(shard_list, "frame")
            print(f"  {k:2d} shards: {peak / 1e6:7.1f} MB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
