"""Tests of skqrnn.io: real YouTube-8M bytes, written bytes, bad input, TensorFlow parity."""

import gc
import glob
import gzip
import json
import os
import struct
import tracemalloc
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skqrnn.io import (
    MAX_RECORD_BYTES,
    UINT8_PAD_VALUE,
    EmptyFileWarning,
    SkippedRecordsWarning,
    YT8MFormatError,
    decode_example,
    decode_sequence_example,
    dequantize,
    encode_example,
    encode_sequence_example,
    expand_paths,
    iter_yt8m,
    load_yt8m,
    masked_crc32c,
    quantize,
    read_records,
    write_records,
    write_yt8m,
)
from skqrnn.io._protobuf import frames_matrix, scan_sequence_example

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "data" / "yt8m-2018-video-sample"
needs_sample = pytest.mark.skipif(
    not (SAMPLE / "golden.json").is_file(),
    reason=f"real YouTube-8M sample not found at {SAMPLE} (CI lays shared/ beside the clone)",
)


def _shards():
    return sorted(str(p) for p in SAMPLE.glob("validate*.tfrecord"))


# ------------------------------------------------------------------- helpers
def _video_record(vid="ab", labels=(1, 2), rgb=1024, audio=128, seed=0, **extra):
    rng = np.random.default_rng(seed)
    feats = {"id": vid, "labels": np.asarray(labels, np.int64)}
    if rgb is not None:
        feats["mean_rgb"] = rng.standard_normal(rgb).astype(np.float32)
    if audio is not None:
        feats["mean_audio"] = rng.standard_normal(audio).astype(np.float32)
    feats.update(extra)
    return encode_example(feats)


def _frame_data(n=6, t=12, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (n, t, 1152), dtype=np.uint8)
    n_frames = rng.integers(0, t + 1, n)
    n_frames[0] = t
    y = [sorted(rng.choice(3862, rng.integers(1, 5), replace=False).tolist()) for _ in range(n)]
    ids = [f"f{i:03d}" for i in range(n)]
    return X, y, ids, n_frames


def _ld(tag, payload):
    n = len(payload)
    out = bytearray([tag])
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + payload


def _frame(data):
    """TFRecord framing, written independently of skqrnn."""
    length = struct.pack("<Q", len(data))
    return (
        length
        + struct.pack("<I", masked_crc32c(length))
        + data
        + struct.pack("<I", masked_crc32c(data))
    )


def _assert_error(excinfo, path, index, *words):
    err = excinfo.value
    msg = str(err)
    assert os.path.basename(str(path)) in msg, msg
    if index is not None:
        assert f"record {index}" in msg, msg
        assert err.record_index == index
    assert err.path == str(path)
    for w in words:
        assert w in msg, msg


# ------------------------------------------------------------- real YT8M bytes
@needs_sample
def test_golden_all_20_real_shards():
    golden = json.loads((SAMPLE / "golden.json").read_text())["files"]
    assert len(golden) == 20
    paths = [str(SAMPLE / name) for name in sorted(golden)]
    data = load_yt8m(paths)
    assert data.X.dtype == np.float32 and data.X.shape[1] == 1152
    assert sp.issparse(data.y) and data.y.format == "csr" and data.y.shape[1] == 3862
    assert data.n_skipped == 0
    start = 0
    for name in sorted(golden):
        g = golden[name]
        n = g["records"]
        y = data.y[start : start + n]
        assert y.nnz == g["total_labels"], name
        for i, r in enumerate(g["first_records"]):
            row = data.X[start + i]
            assert data.ids[start + i] == r["id"]
            assert np.flatnonzero(y[i].toarray()).tolist() == r["labels"]
            np.testing.assert_array_equal(row[:6], np.float32(r["mean_rgb_head"]))
            np.testing.assert_array_equal(row[1024:1030], np.float32(r["mean_audio_head"]))
            np.testing.assert_allclose(row[:1024].sum(dtype=np.float64), r["mean_rgb_sum"], atol=1e-4)
            np.testing.assert_allclose(
                row[1024:].sum(dtype=np.float64), r["mean_audio_sum"], atol=1e-4
            )
        start += n
    assert start == data.X.shape[0] == 5889


# load_yt8m reads uncompressed video shards whole and decodes all their records
# at once (skqrnn/io/_video_batch.py); every record it does not recognise goes
# through the record-by-record decoder. Both paths must give the same data,
# errors and skipped records.
def _record_by_record(monkeypatch, fn):
    """``fn()`` with load_yt8m's batched video path switched off."""
    import skqrnn.io._yt8m as yt8m

    with monkeypatch.context() as m:
        m.setattr(yt8m, "load_video_files", lambda *a, **k: None)
        m.setattr(yt8m, "read_video_file", lambda *a, **k: None)
        return fn()


def _same_data(a, b):
    np.testing.assert_array_equal(a.X, b.X)
    assert a.X.dtype == b.X.dtype and a.ids.dtype == b.ids.dtype
    assert a.ids.tolist() == b.ids.tolist()
    assert a.y.shape == b.y.shape and type(a.y) is type(b.y)
    assert (sp.csr_matrix(a.y) != sp.csr_matrix(b.y)).nnz == 0
    assert [(e.path, e.record_index, str(e)) for e in a.skipped] == [
        (e.path, e.record_index, str(e)) for e in b.skipped
    ]
    assert a.empty_files == b.empty_files
    for key in ("segment_labels", "segment_start_times", "segment_scores"):
        assert (key in a) == (key in b)
        if key in a:
            assert len(a[key]) == len(b[key])
            for u, v in zip(a[key], b[key]):
                np.testing.assert_array_equal(u, v)


def _odd_records():
    """Video records in layouts the batched decoder must hand over (or read) exactly."""
    rng = np.random.default_rng(5)
    rgb = rng.standard_normal(1024).astype(np.float32)
    audio = rng.standard_normal(128).astype(np.float32)
    entry = lambda key, feature: _ld(0x0A, _ld(0x0A, key) + _ld(0x12, feature))  # noqa: E731
    floats = lambda v: _ld(0x12, _ld(0x0A, v.tobytes()))  # noqa: E731
    unpacked = b"".join(b"\x08" + bytes([v]) for v in (3, 9, 3))  # labels 3, 9, 3 unpacked
    return [
        _video_record("canon", labels=[1, 2]) + b"\x12\x00",  # as the real records end
        encode_example({"mean_audio": audio, "labels": np.array([3000, 7]), "id": "rev",
                        "mean_rgb": rgb}),  # another key order, a 2-byte varint
        _video_record("nolab", labels=[]),
        _video_record("\u00e9t\u00e9", labels=[5]),  # non-ASCII id
        _video_record("a\x00", labels=[6]),  # an id ending in NUL
        _video_record("longer-id-than-4", labels=list(range(0, 3800, 60))),  # 64 labels
        _video_record("seg", labels=[1], segment_labels=np.array([1]),
                      segment_start_times=np.array([5]),
                      segment_scores=np.array([1.0], np.float32)),
        encode_example({"video_id": "v2017", "labels": np.array([4]), "mean_rgb": rgb,
                        "mean_audio": audio}),
        _ld(0x0A, entry(b"id", _ld(0x0A, _ld(0x0A, b"unp"))) + entry(b"labels", _ld(0x1A, unpacked))
            + entry(b"mean_rgb", floats(rgb)) + entry(b"mean_audio", floats(audio))),
        _ld(0x0A, entry(b"id", _ld(0x0A, _ld(0x0A, b"dup"))) + entry(b"labels",
            _ld(0x1A, _ld(0x0A, b"\x01"))) + entry(b"mean_rgb", floats(rgb))
            + entry(b"mean_audio", floats(audio)) + entry(b"labels", _ld(0x1A, _ld(0x0A, b"\x02")))),
        _video_record("extra", labels=[8], other=np.array([1.5], np.float32)),
    ]


def test_batched_video_decoder_matches_record_by_record(tmp_path, monkeypatch):
    import skqrnn.io._video_batch as vb

    odd = _odd_records()
    canon = [_video_record(f"c{i:03d}", labels=[i % 50, 100 + i], seed=i) for i in range(40)]
    paths = []
    for k, recs in enumerate((canon[:15], odd, canon[15:], odd[::-1] + canon[:3])):
        p = tmp_path / f"mix{k}.tfrecord"
        write_records(p, recs)
        paths.append(str(p))
    gz = tmp_path / "mix_gz.tfrecord.gz"
    write_records(gz, canon[:5] + odd[:3])
    empty = tmp_path / "mix_empty.tfrecord"
    empty.write_bytes(b"")
    paths[2:2] = [str(gz), str(empty)]
    bad = tmp_path / "mix_bad.tfrecord"  # a label out of range, a protobuf cut short
    write_records(bad, canon[:2] + [_video_record("big", labels=[3862]), odd[1][:-9]] + odd[:2])
    crc = bytearray(Path(paths[0]).read_bytes())
    crc[100] ^= 1  # a data CRC mismatch: the whole file goes to the streaming reader
    crc_path = tmp_path / "mix_crc.tfrecord"
    crc_path.write_bytes(bytes(crc))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EmptyFileWarning)
        for group in (vb.GROUP_BYTES, 30_000):  # many files per group, or about one
            monkeypatch.setattr(vb, "GROUP_BYTES", group)
            for kwargs in ({}, {"n_classes": None}, {"sparse_labels": False}):
                fast = load_yt8m(paths, **kwargs)
                slow = _record_by_record(monkeypatch, lambda: load_yt8m(paths, **kwargs))
                _same_data(fast, slow)
            assert fast.X.shape[0] == 15 + 25 + 8 + 2 * len(odd) + 3
            # Only the 6 odd layouts of each odd list, and the GZIP file, are
            # decoded one record at a time.
            import skqrnn.io._yt8m as yt8m

            calls = []
            one = yt8m._decode_video
            monkeypatch.setattr(yt8m, "_decode_video", lambda *a: calls.append(1) or one(*a))
            load_yt8m(paths)
            monkeypatch.setattr(yt8m, "_decode_video", one)
            assert len(calls) == 6 + 6 + 8
            assert fast.X.flags.owndata  # the unused rows were given back
            with pytest.warns(SkippedRecordsWarning):
                fast = load_yt8m(paths + [str(bad), str(crc_path)], on_error="skip")
            with pytest.warns(SkippedRecordsWarning):
                slow = _record_by_record(
                    monkeypatch, lambda: load_yt8m(paths + [str(bad), str(crc_path)],
                                                   on_error="skip"))
            _same_data(fast, slow)
            assert [e.record_index for e in fast.skipped] == [2, 3, 0]
            for path in (bad, crc_path):
                with pytest.raises(YT8MFormatError) as e1:
                    load_yt8m(paths + [str(path)])
                e2 = _record_by_record(monkeypatch, lambda: pytest.raises(
                    YT8MFormatError, load_yt8m, paths + [str(path)]))
                assert str(e1.value) == str(e2.value)
    # The one-shard-at-a-time reader (n_jobs > 1, max_videos) gives the same.
    for kwargs in ({"max_videos": 20}, {"max_videos": 100}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EmptyFileWarning)
            _same_data(load_yt8m(paths, **kwargs),
                       _record_by_record(monkeypatch, lambda: load_yt8m(paths, **kwargs)))
    with pytest.warns(SkippedRecordsWarning):
        got = load_yt8m([bad] * 3, on_error="skip", max_videos=7)
    assert got.ids.tolist() == ["c000", "c001", "canon", "rev", "c000", "c001", "canon"]


@needs_sample
def test_real_records_have_the_documented_quirks_and_decode():
    rec = next(iter(read_records(_shards()[0])))
    assert rec.endswith(b"\x12\x00")  # the empty field 2 a reader must skip
    ex = decode_example(rec)
    assert sorted(ex) == ["id", "labels", "mean_audio", "mean_rgb"]
    assert ex["id"] == [b"02aa"] and ex["labels"].tolist() == [3, 4, 9, 34]


@needs_sample
def test_paths_directory_glob_list_and_parallel_agree():
    shards = _shards()
    by_dir = load_yt8m(str(SAMPLE), max_videos=700)
    by_glob = load_yt8m(str(SAMPLE / "validate000[0-3].tfrecord"), n_jobs=2)
    by_list = load_yt8m([Path(p) for p in shards[:4]], n_jobs=1, sparse_labels=False)
    assert by_dir.paths == shards and by_dir.X.shape[0] == 700
    np.testing.assert_array_equal(by_glob.X, by_list.X)
    np.testing.assert_array_equal(by_glob.y.toarray(), by_list.y)
    np.testing.assert_array_equal(by_glob.ids, by_list.ids)
    np.testing.assert_array_equal(by_dir.X, by_list.X[:700])
    assert by_list.y.dtype == np.int8
    X, y = load_yt8m(shards[0], return_X_y=True)
    assert X.shape == (284, 1152) and y.shape == (284, 3862)
    limited = load_yt8m(shards[:3], max_videos=300, n_jobs=2)
    np.testing.assert_array_equal(limited.X, by_list.X[:300])


@needs_sample
def test_compressed_streams_are_detected(tmp_path):
    raw = Path(_shards()[0]).read_bytes()
    gz = tmp_path / "a.tfrecord"  # gzip content under an uncompressed-looking name
    gz.write_bytes(gzip.compress(raw))
    zz = tmp_path / "b.zlib"
    zz.write_bytes(zlib.compress(raw))
    ref = load_yt8m(_shards()[0])
    for p, comp in ((gz, None), (zz, None), (gz, "GZIP"), (zz, "zlib")):
        got = load_yt8m(p, compression=comp)
        np.testing.assert_array_equal(got.X, ref.X)
        assert (got.y != ref.y).nnz == 0


# ---------------------------------------------------------------- framing
def test_masked_crc32c_known_values():
    # CRC-32C("123456789") = 0xE3069283, masked as TFRecord does.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"") == 0xA282EAD8


@pytest.mark.parametrize("name", ["r.tfrecord", "r.tfrecord.gz", "r.tfrecord.zz"])
def test_write_read_records_roundtrip(tmp_path, name):
    records = [b"", b"x", os.urandom(70000), b"abc" * 1000]
    path = tmp_path / name
    assert write_records(path, records) == 4
    assert list(read_records(path)) == records
    assert list(read_records([path, path], verify_crc=False)) == records * 2
    if name.endswith(".tfrecord"):
        assert path.read_bytes() == b"".join(_frame(r) for r in records)


def test_expand_paths(tmp_path):
    for name in ("b.tfrecord", "a.tfrecord", "c.tfrecords.gz", "README.md"):
        (tmp_path / name).write_bytes(b"")
    assert [os.path.basename(p) for p in expand_paths(tmp_path)] == [
        "a.tfrecord",
        "b.tfrecord",
        "c.tfrecords.gz",
    ]
    assert len(expand_paths([tmp_path / "a.tfrecord", str(tmp_path / "*.tfrecord")])) == 3


def test_remote_urls_through_fsspec():
    fsspec = pytest.importorskip("fsspec")
    X = np.random.default_rng(0).standard_normal((3, 1152)).astype(np.float32)
    fs = fsspec.filesystem("memory")
    write_yt8m("memory://bucket/yt/train0000.tfrecord", X, [[1], [2], [3]])
    write_yt8m("memory://bucket/yt/train0001.tfrecord", X, [[4], [5], [6]])
    try:
        data = load_yt8m("memory://bucket/yt/train*.tfrecord")
        np.testing.assert_array_equal(data.X, np.concatenate([X, X]))
        assert np.asarray(data.y.argmax(1)).ravel().tolist() == [1, 2, 3, 4, 5, 6]
        assert len(list(read_records("memory://bucket/yt"))) == 6
    finally:
        fs.rm("/bucket", recursive=True)


# ------------------------------------------------------------------- protobuf
def test_unpacked_encodings_unknown_fields_and_key_order():
    rgb = np.arange(1024, dtype=np.float32) / 7
    audio = -np.arange(128, dtype=np.float32)
    # float_list unpacked (tag 0x0d per value), int64_list unpacked (tag 0x08),
    # unknown fields in the Feature, in the map entry and in the Example.
    float_unpacked = b"".join(b"\x0d" + struct.pack("<f", v) for v in audio)
    int_unpacked = b"\x08\x05\x08\x96\x01"  # 5, 150
    entries = [
        (b"mean_audio", _ld(0x12, float_unpacked) + b"\x20\x07"),  # + unknown varint field 4
        (b"labels", _ld(0x1A, int_unpacked)),
        (b"id", _ld(0x0A, _ld(0x0A, b"zz"))),
        (b"mean_rgb", _ld(0x12, _ld(0x0A, rgb.tobytes()))),
    ]
    feats = b"".join(
        _ld(0x0A, _ld(0x0A, k) + _ld(0x12, v) + b"\x1d\x00\x00\x00\x00") for k, v in entries
    )
    rec = _ld(0x0A, feats) + b"\x12\x00" + b"\x18\x01"
    ex = decode_example(rec)
    np.testing.assert_array_equal(ex["mean_audio"], audio)
    np.testing.assert_array_equal(ex["mean_rgb"], rgb)
    assert ex["labels"].tolist() == [5, 150] and ex["id"] == [b"zz"]
    # Mixed packed and unpacked chunks of one list concatenate, as protobuf merges them.
    mixed = _ld(0x0A, np.float32([1, 2]).tobytes()) + b"\x0d" + struct.pack("<f", 3.0)
    rec2 = _ld(0x0A, _ld(0x0A, _ld(0x0A, b"x") + _ld(0x12, _ld(0x12, mixed))))
    assert decode_example(rec2)["x"].tolist() == [1.0, 2.0, 3.0]


def test_encode_decode_example_types():
    feats = {
        "f": np.float32([1.5, -2.0]),
        "i": np.array([0, 127, 128, 2**40, -1, -(2**63)], np.int64),
        "b": [b"a", b"", b"\xff" * 300],
        "s": "txt",
        "empty": np.array([], np.int64),
    }
    ex = decode_example(encode_example(feats))
    assert ex["f"].dtype == np.float32 and ex["f"].tolist() == [1.5, -2.0]
    assert ex["i"].tolist() == feats["i"].tolist()
    assert ex["b"] == feats["b"] and ex["s"] == [b"txt"] and ex["empty"].size == 0
    assert decode_example(encode_example(feats), keys=["f"]).keys() == {"f"}


def test_sequence_example_roundtrip_and_frame_fast_path():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (7, 1024), dtype=np.uint8)
    ctx = {"id": "v", "labels": np.array([3, 9])}
    rec = encode_sequence_example(
        ctx, {"rgb": rgb, "audio": rgb[:, :128], "other": [np.float32([1.0]), np.float32([2.0])]}
    )
    context, lists = decode_sequence_example(rec)
    assert context["labels"].tolist() == [3, 9]
    assert [f[0] for f in lists["rgb"]] == [r.tobytes() for r in rgb]
    assert [f.tolist() for f in lists["other"]] == [[1.0], [2.0]]
    _, index = scan_sequence_example(rec)
    np.testing.assert_array_equal(frames_matrix(rec, *index[b"rgb"], 1024), rgb)
    # The general path: a frame Feature carrying an extra unknown field.
    odd = b"".join(_ld(0x0A, _ld(0x0A, _ld(0x0A, r.tobytes())) + b"\x28\x01") for r in rgb)
    np.testing.assert_array_equal(frames_matrix(odd, 0, len(odd), 1024), rgb)
    with pytest.raises(ValueError, match="frame 0 has 1024 bytes, expected 1000"):
        frames_matrix(odd, 0, len(odd), 1000)


def test_quantize_inverts_dequantize():
    q = np.arange(256, dtype=np.uint8)
    x = dequantize(q)
    np.testing.assert_array_equal(x, q.astype(np.float32) * np.float32(4 / 255) - np.float32(1.9921875))
    np.testing.assert_array_equal(quantize(x), q)
    assert abs(dequantize(np.uint8([UINT8_PAD_VALUE]))[0]) < 1e-4


# ------------------------------------------------------------- frame level
def test_frame_level_write_load_roundtrip(tmp_path):
    X, y, ids, n_frames = _frame_data(n=6, t=12)
    path = tmp_path / "frame.tfrecord"
    assert write_yt8m(path, X, y, ids, level="frame", n_frames=n_frames) == 6
    q = load_yt8m(path, level="frame", max_frames=10, dequantize=False, sparse_labels=False)
    f = load_yt8m(path, level="frame", max_frames=10, n_jobs=2)
    assert q.X.dtype == np.uint8 and q.X.shape == (6, 10, 1152)
    assert f.X.dtype == np.float32 and f.X.shape == (6, 10, 1152)
    np.testing.assert_array_equal(q.n_frames, np.minimum(n_frames, 10))
    np.testing.assert_array_equal(f.n_frames, q.n_frames)
    assert q.ids.tolist() == ids
    for i in range(6):
        k = q.n_frames[i]
        np.testing.assert_array_equal(q.X[i, :k], X[i, :k])
        assert (q.X[i, k:] == UINT8_PAD_VALUE).all()
        np.testing.assert_array_equal(f.X[i, :k], dequantize(X[i, :k]))
        assert (f.X[i, k:] == 0.0).all()
        assert np.flatnonzero(q.y[i]).tolist() == y[i]
    # Floats are quantized with the exact inverse: a load -> write -> load round trip is exact.
    write_yt8m(tmp_path / "again.tfrecord", f.X, f.y, f.ids, level="frame", n_frames=f.n_frames)
    again = load_yt8m(tmp_path / "again.tfrecord", level="frame", max_frames=10)
    np.testing.assert_array_equal(again.X, f.X)
    # One feature only, other sizes.
    only = load_yt8m(path, level="frame", feature_names=["audio"], max_frames=12, dequantize=False)
    np.testing.assert_array_equal(only.X[0], X[0, :, 1024:])


def test_segment_keys_are_read(tmp_path):
    X = np.zeros((3, 1152), np.float32)
    path = tmp_path / "seg.tfrecord"
    write_yt8m(
        path, X, [[1], [2], [3]], ["a", "b", "c"],
        segment_labels=[[1, 1], [], [3]],
        segment_start_times=[[0, 5], [], [40]],
        segment_scores=[[1.0, 0.0], [], [1.0]],
    )
    data = load_yt8m(path)
    assert [s.tolist() for s in data.segment_labels] == [[1, 1], [], [3]]
    assert [s.tolist() for s in data.segment_start_times] == [[0, 5], [], [40]]
    assert [s.tolist() for s in data.segment_scores] == [[1.0, 0.0], [], [1.0]]
    plain = tmp_path / "plain.tfrecord"
    write_yt8m(plain, X, [[1], [2], [3]])
    assert "segment_labels" not in load_yt8m(plain)


def test_unlabelled_data_and_2017_video_id(tmp_path):
    path = tmp_path / "u.tfrecord"
    rec = encode_example({"video_id": "old", "mean_rgb": np.zeros(1024, np.float32),
                          "mean_audio": np.zeros(128, np.float32)})
    write_records(path, [rec])
    data = load_yt8m(path, label_key=None)
    assert data.y is None and data.ids.tolist() == ["old"]
    with pytest.raises(YT8MFormatError, match="missing label feature 'labels'"):
        load_yt8m(path)


def test_write_yt8m_label_formats_agree(tmp_path):
    X = np.random.default_rng(0).standard_normal((4, 1152)).astype(np.float32)
    lists = [[0, 5], [], [3861], [2, 3, 4]]
    dense = np.zeros((4, 3862), np.int8)
    for i, ls in enumerate(lists):
        dense[i, ls] = 1
    outs = []
    for k, y in enumerate((lists, dense, sp.csr_matrix(dense))):
        write_yt8m(tmp_path / f"{k}.tfrecord", X, y)
        outs.append(load_yt8m(tmp_path / f"{k}.tfrecord", sparse_labels=False))
    for o in outs:
        np.testing.assert_array_equal(o.y, dense)
        np.testing.assert_array_equal(o.X, X)
    with pytest.raises(ValueError, match=r"shape \(n, 1152\)"):
        write_yt8m(tmp_path / "bad.tfrecord", X[:, :100], lists)


# ---------------------------------------------------------------- bad input
@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.tfrecord"
    write_records(path, [_video_record(f"v{i}", seed=i) for i in range(5)])
    return path


def _offsets(data):
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 16 + struct.unpack_from("<Q", data, pos)[0]
    return offsets


def _record_offsets(path):
    data = Path(path).read_bytes()
    return data, _offsets(data)


def test_bad_crc(good_file):
    data, offs = _record_offsets(good_file)
    corrupt = bytearray(data)
    corrupt[offs[2] + 40] ^= 0xFF
    good_file.write_bytes(bytes(corrupt))
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(good_file)
    _assert_error(ei, good_file, 2, "data CRC mismatch")
    # A corrupt length header is caught by its own CRC.
    corrupt = bytearray(data)
    corrupt[offs[1] + 3] ^= 0x01
    good_file.write_bytes(bytes(corrupt))
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(good_file))
    _assert_error(ei, good_file, 1, "length header CRC mismatch")


def test_truncated_record(good_file):
    data, offs = _record_offsets(good_file)
    good_file.write_bytes(data[: offs[3] + 100])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(good_file)
    _assert_error(ei, good_file, 3, "bytes of data")
    good_file.write_bytes(data[: offs[3] + 5])  # inside the header
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(good_file))
    _assert_error(ei, good_file, 3, "truncated record")


# Compressed streams cut short. gzip.GzipFile.read raised EOFError and dropped
# all it had decompressed in that read (up to a MiB: every record of a small
# file), so on_error="skip" kept no record and the error named record 0; a ZLIB
# stream cut on a record boundary was read as complete, silently.
def _check_cut_stream(path, data, kind, frac):
    """Cut ``data`` compressed at ``frac``; the records whole in it must all come back."""
    offs = _offsets(data)
    ends = offs[1:] + [len(data)]
    comp = gzip.compress(data) if kind == "gz" else zlib.compress(data)
    cut = comp[: int(len(comp) * frac)]
    path.write_bytes(cut)
    d = zlib.decompressobj(31 if kind == "gz" else 15)  # what the cut stream still holds
    held = len(d.decompress(cut) + d.flush())
    k = sum(1 for e in ends if e <= held)  # the records whole in it
    assert k < len(offs)
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, k, "truncated")
    assert ei.value.offset == offs[k]  # offset in the decompressed stream
    with pytest.warns(SkippedRecordsWarning, match="skipped 1"):
        kept = list(read_records(path, on_error="skip"))
    assert kept == [data[o + 12 : e - 4] for o, e in zip(offs[:k], ends[:k])]
    return k


@pytest.mark.parametrize("kind", ["gz", "zz"])
@pytest.mark.parametrize("frac", [0.1, 0.5, 0.9])
def test_truncated_compressed_stream_keeps_intact_records(tmp_path, good_file, kind, frac):
    data = good_file.read_bytes()  # 5 records of ~4.7 kB: one read of the old GzipFile
    k = _check_cut_stream(tmp_path / f"cut.tfrecord.{kind}", data, kind, frac)
    assert k >= 4 * frac - 1  # random floats barely compress: about frac of them survive


@needs_sample
@pytest.mark.parametrize("kind", ["gz", "zz"])
def test_truncated_compressed_real_shard(tmp_path, kind):
    data = Path(_shards()[0]).read_bytes()
    path = tmp_path / f"cut.tfrecord.{kind}"
    for frac in (0.3, 0.9):
        k = _check_cut_stream(path, data, kind, frac)
        # The same records load_yt8m keeps from the uncompressed file cut there.
        plain = tmp_path / "cut.tfrecord"
        plain.write_bytes(data[: _offsets(data)[k] + 100])
        with pytest.warns(SkippedRecordsWarning):
            ids = load_yt8m(path, on_error="skip").ids
        with pytest.warns(SkippedRecordsWarning):
            assert ids.tolist() == load_yt8m(plain, on_error="skip").ids.tolist()
        assert len(ids) == k > 0


@pytest.mark.parametrize("kind", ["gz", "zz"])
def test_compressed_stream_cut_on_a_record_boundary_is_an_error(tmp_path, good_file, kind):
    # A writer killed after a flush leaves whole records and no end marker:
    # the framing looks complete, only the compressed stream says it is cut.
    data = good_file.read_bytes()
    offs = _offsets(data)
    c = zlib.compressobj(wbits=31 if kind == "gz" else 15)
    path = tmp_path / f"flushed.tfrecord.{kind}"
    path.write_bytes(c.compress(data[: offs[3]]) + c.flush(zlib.Z_SYNC_FLUSH))
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, 3, "truncated", "end-of-stream marker")
    with pytest.warns(SkippedRecordsWarning, match="skipped 1"):
        assert len(load_yt8m(path, on_error="skip").ids) == 3


def test_gzip_members_padding_and_trailing_garbage(tmp_path, good_file):
    # Read as gzip.GzipFile reads: members in a row, zero padding between them.
    data = good_file.read_bytes()
    offs = _offsets(data)
    path = tmp_path / "multi.tfrecord.gz"
    path.write_bytes(
        gzip.compress(data[: offs[2]]) + b"\0" * 7 + gzip.compress(data[offs[2] :]) + b"\0"
    )
    assert list(read_records(path)) == list(read_records(good_file))
    path.write_bytes(gzip.compress(data) + b"junk")
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, 5, "Not a gzipped file")
    path.write_bytes(data)  # an uncompressed file named .gz
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, 0, "Not a gzipped file")


@pytest.mark.parametrize("name", ["r.tfrecord.gz", "r.tfrecord.zz"])
def test_compressed_files_are_closed(tmp_path, good_file, name):
    # gzip.GzipFile(fileobj=raw).close() left raw open: a ResourceWarning per read.
    path = tmp_path / name
    write_records(path, list(read_records(good_file)))
    cut = tmp_path / ("cut_" + name)
    cut.write_bytes(path.read_bytes()[:-30])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_yt8m(path)
        list(read_records(path))
        list(iter_yt8m(path, batch_size=2))
        len(iter_yt8m(path, batch_size=2))  # counts the records
        load_yt8m(cut, on_error="skip")
        with pytest.raises(YT8MFormatError):
            load_yt8m(cut)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


@pytest.mark.parametrize("compressed", [False, True])
def test_length_header_larger_than_file_is_not_allocated(tmp_path, compressed):
    huge = struct.pack("<Q", 1 << 50)
    bad = huge + struct.pack("<I", masked_crc32c(huge)) + b"\x00" * 100
    good = _frame(_video_record())
    path = tmp_path / ("huge.tfrecord.gz" if compressed else "huge.tfrecord")
    content = good + bad
    path.write_bytes(gzip.compress(content) if compressed else content)
    tracemalloc.start()
    try:
        with pytest.raises(YT8MFormatError) as ei:
            load_yt8m(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200 << 20
    _assert_error(ei, path, 1, str(1 << 50))


# A length header inside a compressed stream cannot be checked against the
# file's size, so the reader buffered everything that decompressed before it
# could say the record was cut short: +311 MB from a 0.3 MB file. Now a claim
# above max_record_bytes, or above what the rest of the compressed file can
# inflate to (DEFLATE: at most 1032:1), is refused before anything is buffered.
def _bomb(path, records, claim, zeros, kind="gz", level=6):
    """``records`` framed, then a header claiming ``claim`` bytes and ``zeros`` zero bytes."""
    head = struct.pack("<Q", claim)
    c = zlib.compressobj(level, zlib.DEFLATED, 31 if kind == "gz" else 15)
    out = [c.compress(b"".join(_frame(r) for r in records)),
           c.compress(head + struct.pack("<I", masked_crc32c(head)))]
    chunk = bytes(1 << 20)
    for i in range(0, zeros, len(chunk)):  # streamed: the test holds no 100 MB buffer
        out.append(c.compress(chunk[: min(len(chunk), zeros - i)]))
    out.append(c.flush())
    path.write_bytes(b"".join(out))
    return path


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@needs_sample
@pytest.mark.parametrize("kind", ["gz", "zz"])
def test_huge_length_claim_in_compressed_stream_is_refused_before_buffering(tmp_path, kind):
    real = list(read_records(_shards()[0]))[:3]  # real YouTube-8M records
    claim = 100_000_000
    path = _bomb(tmp_path / f"bomb.tfrecord.{kind}", real, claim, claim, kind, level=9)
    assert path.stat().st_size < 200_000  # 100 MB of zeros compress ~1000:1

    peak = _peak(lambda: pytest.raises(YT8MFormatError, list, read_records(path)))
    assert peak < 8 << 20  # was > 100 MB: the whole decompressed claim
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, 3, str(claim), f"max_record_bytes={MAX_RECORD_BYTES}")
    assert ei.value.offset == sum(16 + len(r) for r in real)
    with pytest.warns(SkippedRecordsWarning, match="record 3"):
        assert list(read_records(path, on_error="skip")) == real
    with pytest.warns(SkippedRecordsWarning):
        assert load_yt8m(path, on_error="skip").ids.tolist() == [
            decode_example(r)["id"][0].decode() for r in real
        ]
    with pytest.raises(YT8MFormatError, match=r"record 3 .*max_record_bytes"):
        list(iter_yt8m(path, shuffle=False))
    with pytest.raises(YT8MFormatError, match="max_record_bytes"):
        len(iter_yt8m(path))  # counting the records reads the headers


@pytest.mark.parametrize("kind", ["gz", "zz"])
def test_length_claim_above_what_the_compressed_rest_can_hold(tmp_path, kind):
    # Under the cap, but more than the rest of the file can inflate to: refused
    # at once (it was read to the end and buffered first).
    path = _bomb(tmp_path / f"short.tfrecord.{kind}", [_video_record()], 50_000_000, 200_000,
                 kind)
    rest = path.stat().st_size
    with pytest.raises(YT8MFormatError) as ei:
        list(read_records(path))
    _assert_error(ei, path, 1, "50000000", "decompresses to at most", "1032:1")
    assert _peak(lambda: pytest.raises(YT8MFormatError, list, read_records(path))) < 4 << 20
    most = int(str(ei.value).split("at most ")[1].split()[0])
    assert 200_000 <= most <= 1032 * rest + (1 << 16)


@pytest.mark.parametrize("name", ["big.tfrecord.gz", "big.tfrecord.zz"])
def test_large_records_within_the_cap_are_read(tmp_path, name):
    # Zeros inflate near DEFLATE's 1032:1: the bound must not refuse them.
    records = [bytes(30_000_000), b"tail", b""]
    path = tmp_path / name
    comp = gzip.compress if name.endswith("gz") else zlib.compress
    path.write_bytes(comp(b"".join(_frame(r) for r in records), 9))
    assert path.stat().st_size < 60_000
    assert list(read_records(path)) == records
    with pytest.raises(YT8MFormatError, match="record 0 .*above max_record_bytes=1000000"):
        list(read_records(path, max_record_bytes=1_000_000))
    assert list(read_records(path, max_record_bytes=len(records[0]))) == records
    # Uncompressed local files check each header against the file's size instead.
    plain = tmp_path / "big.tfrecord"
    write_records(plain, records)
    assert list(read_records(plain, max_record_bytes=1)) == records
    for bad in (0, -5, 1.5, True):
        with pytest.raises(ValueError, match="max_record_bytes"):
            read_records(plain, max_record_bytes=bad)
    with pytest.raises(ValueError, match="max_record_bytes"):
        load_yt8m(plain, max_record_bytes=0)
    with pytest.raises(ValueError, match="max_record_bytes"):
        iter_yt8m(plain, max_record_bytes=0)


def test_not_a_protobuf(tmp_path):
    path = tmp_path / "junk.tfrecord"
    write_records(path, [_video_record(), b"\x0a\xff\xff\xff\x7f garbage", b"\x07\x07"])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path)
    _assert_error(ei, path, 1, "not a valid tf.train.Example protobuf")
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path, level="frame")
    _assert_error(ei, path, 0, "missing feature list 'rgb'", "level='video'")


def test_missing_feature_key(tmp_path):
    path = tmp_path / "missing.tfrecord"
    write_records(path, [_video_record(), _video_record(audio=None)])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path)
    _assert_error(ei, path, 1, "missing feature 'mean_audio'")
    write_records(path, [encode_example({"labels": np.array([1]), "mean_rgb": np.zeros(1024),
                                         "mean_audio": np.zeros(128)})])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path)
    _assert_error(ei, path, 0, "missing id feature")


def test_feature_of_wrong_length(tmp_path):
    path = tmp_path / "short.tfrecord"
    write_records(path, [_video_record(), _video_record(), _video_record(rgb=1000)])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path)
    _assert_error(ei, path, 2, "feature 'mean_rgb' has 1000 values, expected 1024")
    # Frame level: a frame of the wrong width, and feature lists of different lengths.
    frames = np.zeros((4, 1024), np.uint8)
    bad_width = encode_sequence_example(
        {"id": "a", "labels": np.array([1])}, {"rgb": frames, "audio": np.zeros((4, 100), np.uint8)}
    )
    bad_len = encode_sequence_example(
        {"id": "b", "labels": np.array([1])}, {"rgb": frames, "audio": np.zeros((3, 128), np.uint8)}
    )
    for k, rec, words in (
        (0, bad_width, ("feature list 'audio'", "frame 0 has 100 bytes, expected 128")),
        (1, bad_len, ("'rgb' (4 frames)", "'audio' (3 frames) differ in length")),
    ):
        p = tmp_path / f"frames{k}.tfrecord"
        write_records(p, [rec])
        with pytest.raises(YT8MFormatError) as ei:
            load_yt8m(p, level="frame")
        _assert_error(ei, p, 0, *words)


def test_label_out_of_range(tmp_path):
    path = tmp_path / "labels.tfrecord"
    write_records(path, [_video_record(labels=[0, 3861]), _video_record(labels=[5, 3862])])
    with pytest.raises(YT8MFormatError) as ei:
        load_yt8m(path)
    _assert_error(ei, path, 1, "label 3862 out of range", "n_classes=3862")
    assert load_yt8m(path, n_classes=4000).y.shape == (2, 4000)
    assert load_yt8m(path, n_classes=None).y.shape == (2, 3863)
    write_records(path, [_video_record(labels=[-3])])
    with pytest.raises(YT8MFormatError, match="record 0: label -3 out of range"):
        load_yt8m(path)


# Empty shards. TensorFlow's TFRecordWriter leaves a file of 0 bytes when no
# record is written, and tf.data reads it as zero records; it was an error here
# ("empty file (0 bytes): it holds no record"), at every entry point.
def _empty_files(tmp_path):
    plain = tmp_path / "empty.tfrecord"
    plain.write_bytes(b"")
    gz = tmp_path / "empty.tfrecord.gz"  # a GZIP file of 0 bytes, named as such
    gz.write_bytes(b"")
    zz = tmp_path / "nothing.tfrecord.zz"  # a ZLIB stream of 0 decompressed bytes
    zz.write_bytes(zlib.compress(b""))
    return plain, gz, zz


def test_empty_file_is_zero_records_in_read_records(tmp_path, good_file):
    empties = _empty_files(tmp_path)
    want = list(read_records([good_file, good_file]))
    assert len(want) == 10
    for empty in empties:
        reader = read_records([good_file, empty, good_file])
        with pytest.warns(EmptyFileWarning, match=rf"1 of 3 file.*{empty.name}"):
            assert list(reader) == want
        assert reader.empty_files == [str(empty)] and reader.n_skipped == 0
        with pytest.warns(EmptyFileWarning):
            assert list(read_records(empty)) == []


def test_empty_file_is_zero_records_in_load_yt8m(tmp_path, good_file):
    empty = _empty_files(tmp_path)[0]
    want = load_yt8m([good_file, good_file])
    for kwargs in ({}, {"on_error": "skip"}, {"n_jobs": 2}):
        with pytest.warns(EmptyFileWarning, match="empty.tfrecord"):
            got = load_yt8m([empty, good_file, empty, good_file], **kwargs)
        np.testing.assert_array_equal(got.X, want.X)
        assert (got.y != want.y).nnz == 0
        assert got.ids.tolist() == want.ids.tolist()
        assert got.empty_files == [str(empty)] * 2 and got.n_skipped == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning without an empty file
        assert load_yt8m([good_file]).empty_files == []


def test_empty_file_is_zero_records_in_iter_yt8m(tmp_path, good_file):
    empty = _empty_files(tmp_path)[0]
    full = load_yt8m(good_file, sparse_labels=False)
    batches = iter_yt8m([good_file, empty], batch_size=3, shuffle=False)
    assert len(batches) == 2
    with pytest.warns(EmptyFileWarning, match="1 of 2 file") as rec:
        got = list(batches)
    assert len([w for w in rec if w.category is EmptyFileWarning]) == 1
    np.testing.assert_array_equal(np.concatenate([X for X, _ in got]), full.X)
    np.testing.assert_array_equal(np.concatenate([y for _, y in got]), full.y)
    assert batches.empty_files == [str(empty)]
    shuffled = iter_yt8m([empty, good_file, empty], batch_size=2, epochs=3, interleave=2)
    with pytest.warns(EmptyFileWarning) as rec:
        assert sum(X.shape[0] for X, _ in shuffled) == 3 * 5
    # One warning per pass, however many epochs: the files are the same.
    assert len([w for w in rec if w.category is EmptyFileWarning]) == 1


def test_all_files_empty_is_an_empty_dataset(tmp_path):
    # Zero records is what an empty shard holds, so only empty shards make an
    # empty dataset (as max_videos=0 does), shaped for the level; the
    # warning names the files. An estimator then refuses to fit on it.
    plain, gz, zz = _empty_files(tmp_path)
    with pytest.warns(EmptyFileWarning, match="3 of 3 file"):
        data = load_yt8m([plain, gz, zz])
    assert data.X.shape == (0, 1152) and data.X.dtype == np.float32
    assert sp.issparse(data.y) and data.y.shape == (0, 3862)
    assert data.ids.shape == (0,) and data.n_skipped == 0
    assert data.empty_files == [str(plain), str(gz), str(zz)]
    with pytest.warns(EmptyFileWarning):
        X, y = load_yt8m(plain, level="frame", max_frames=20, sparse_labels=False,
                         return_X_y=True)
    assert X.shape == (0, 20, 1152) and y.shape == (0, 3862) and y.dtype == np.int8
    with pytest.warns(EmptyFileWarning):
        assert load_yt8m(plain, level="frame").n_frames.shape == (0,)
    batches = iter_yt8m([plain, gz], batch_size=4)
    assert len(batches) == 0
    with pytest.warns(EmptyFileWarning, match="2 of 2 file"):
        assert list(batches) == []


def test_streaming_fit_over_an_empty_shard(tmp_path, good_file):
    from skqrnn import DenseNetClassifier

    empty = _empty_files(tmp_path)[0]
    clf = DenseNetClassifier(epochs=1, stem_units=8, growth_rate=4, random_state=0)
    with pytest.warns(EmptyFileWarning):
        clf.fit(iter_yt8m([good_file, empty], batch_size=4, n_classes=10))
    assert clf.predict_proba(load_yt8m(good_file, n_classes=10).X).shape == (5, 10)


def test_path_matching_no_file(tmp_path):
    for p in (tmp_path / "nope.tfrecord", tmp_path / "x*.tfrecord", [tmp_path / "nope2"]):
        with pytest.raises(FileNotFoundError, match="nope|x\\*"):
            load_yt8m(p)
    with pytest.raises(FileNotFoundError, match="no TFRecord file"):
        read_records(tmp_path)  # an empty directory


@pytest.mark.filterwarnings("ignore::skqrnn.io.EmptyFileWarning")
def test_on_error_skip_counts_and_reports(tmp_path, good_file):
    data, offs = _record_offsets(good_file)
    crc = bytearray(data)
    crc[offs[1] + 50] ^= 0xFF  # record 1: data CRC -> only it is skipped
    (tmp_path / "a_crc.tfrecord").write_bytes(bytes(crc))
    write_records(tmp_path / "b_bad.tfrecord",
                  [_video_record("b0"), _video_record("b1", labels=[9999]), b"\xff",
                   _video_record("b3")])
    (tmp_path / "c_trunc.tfrecord").write_bytes(data[: offs[4] + 30])  # record 4: rest skipped
    (tmp_path / "d_empty.tfrecord").write_bytes(b"")  # zero records, not an error
    paths = sorted(glob.glob(str(tmp_path / "*_*.tfrecord")))
    with pytest.warns(SkippedRecordsWarning, match="skipped 4 bad record"):
        data = load_yt8m(paths, on_error="skip")
    assert data.n_skipped == 4 and len(data.skipped) == 4
    assert data.ids.tolist() == ["v0", "v2", "v3", "v4", "b0", "b3", "v0", "v1", "v2", "v3"]
    reasons = [(os.path.basename(e.path), e.record_index) for e in data.skipped]
    assert reasons == [
        ("a_crc.tfrecord", 1),
        ("b_bad.tfrecord", 1),
        ("b_bad.tfrecord", 2),
        ("c_trunc.tfrecord", 4),
    ]
    assert [os.path.basename(p) for p in data.empty_files] == ["d_empty.tfrecord"]
    assert "rest of the file skipped" in str(data.skipped[3])
    reader = read_records(paths, on_error="skip")
    with pytest.warns(SkippedRecordsWarning):
        assert len(list(reader)) == 4 + 4 + 4
    assert reader.n_skipped == 2
    with pytest.raises(ValueError, match="on_error"):
        load_yt8m(paths, on_error="ignore")


def test_parameter_validation(tmp_path, good_file):
    with pytest.raises(ValueError, match="level"):
        load_yt8m(good_file, level="clip")
    with pytest.raises(ValueError, match="feature_sizes"):
        load_yt8m(good_file, feature_names=["unknown"])
    with pytest.raises(ValueError, match="compression"):
        load_yt8m(good_file, compression="bz2")
    with pytest.raises(ValueError, match="batch_size"):
        iter_yt8m(good_file, batch_size=0)


# ----------------------------------------------------------------- streaming
@pytest.fixture(scope="module")
def video_shards(tmp_path_factory):
    d = tmp_path_factory.mktemp("shards")
    rng = np.random.default_rng(0)
    paths = []
    for s in range(6):
        n = 40 + 7 * s
        X = rng.standard_normal((n, 1152)).astype(np.float32)
        y = [rng.choice(50, rng.integers(1, 4), replace=False).tolist() for _ in range(n)]
        p = d / f"train{s:04d}.tfrecord"
        write_yt8m(p, X, y, [f"s{s}v{i}" for i in range(n)])
        paths.append(str(p))
    return paths


def test_iter_yt8m_one_epoch_is_the_dataset(video_shards):
    full = load_yt8m(video_shards, n_classes=50, sparse_labels=False)
    batches = iter_yt8m(video_shards, n_classes=50, batch_size=64, random_state=3,
                        shuffle_buffer=100, return_meta=True)
    n = full.X.shape[0]
    assert len(batches) == -(-n // 64)
    got = list(batches)
    assert len(got) == len(batches)
    assert all(X.shape == (64, 1152) and X.dtype == np.float32 for X, _, _ in got[:-1])
    assert all(y.shape == (64, 50) and y.dtype == np.int8 for _, y, _ in got[:-1])
    ids = np.concatenate([m["ids"] for _, _, m in got])
    assert sorted(ids) == sorted(full.ids) and ids.tolist() != full.ids.tolist()  # shuffled
    pos = {v: i for i, v in enumerate(full.ids)}
    order = [pos[v] for v in ids]
    np.testing.assert_array_equal(np.concatenate([X for X, _, _ in got]), full.X[order])
    np.testing.assert_array_equal(np.concatenate([y for _, y, _ in got]), full.y[order])
    # Deterministic for a seed; successive passes and other seeds differ.
    first = lambda b: next(iter(b))[2]["ids"].tolist()  # noqa: E731
    again = iter_yt8m(video_shards, n_classes=50, batch_size=64, random_state=3,
                      shuffle_buffer=100, return_meta=True)
    assert first(again) == got[0][2]["ids"].tolist()
    assert first(again) != got[0][2]["ids"].tolist()
    other = iter_yt8m(video_shards, n_classes=50, batch_size=64, random_state=4, return_meta=True)
    assert first(other) != got[0][2]["ids"].tolist()


def test_iter_yt8m_options(video_shards):
    plain = iter_yt8m(video_shards, n_classes=50, batch_size=100, shuffle=False,
                      sparse_labels=True)
    full = load_yt8m(video_shards, n_classes=50)
    X = np.concatenate([X for X, _ in plain])
    np.testing.assert_array_equal(X, full.X)  # unshuffled: load_yt8m's order
    ys = [y for _, y in plain]
    assert all(sp.issparse(y) for y in ys)
    assert (sp.vstack(ys) != full.y).nnz == 0
    two = iter_yt8m(video_shards, n_classes=50, batch_size=100, epochs=2, drop_remainder=True)
    sizes = [X.shape[0] for X, _ in two]
    assert sizes == [100] * (2 * (full.X.shape[0] // 100))
    forever = iter(iter_yt8m(video_shards, n_classes=50, batch_size=100, epochs=None))
    assert sum(next(forever)[0].shape[0] for _ in range(10)) > full.X.shape[0]


def test_iter_yt8m_frame_level(tmp_path):
    X, y, ids, n_frames = _frame_data(n=9, t=8)
    path = tmp_path / "f.tfrecord"
    write_yt8m(path, X, y, ids, level="frame", n_frames=n_frames)
    full = load_yt8m(path, level="frame", max_frames=8, sparse_labels=False, dequantize=False)
    for deq in (True, False):
        batches = iter_yt8m(path, level="frame", max_frames=8, batch_size=4, dequantize=deq,
                            shuffle=False, return_meta=True)
        got = list(batches)
        assert [b[0].shape for b in got] == [(4, 8, 1152), (4, 8, 1152), (1, 8, 1152)]
        Xs = np.concatenate([b[0] for b in got])
        assert Xs.dtype == (np.float32 if deq else np.uint8)
        expect = full.X if not deq else load_yt8m(path, level="frame", max_frames=8).X
        np.testing.assert_array_equal(Xs, expect)
        np.testing.assert_array_equal(np.concatenate([b[2]["n_frames"] for b in got]),
                                      full.n_frames)


def test_iter_yt8m_bad_records(tmp_path):
    path = tmp_path / "mixed.tfrecord"
    write_records(path, [_video_record("a"), b"\xff", _video_record("c", labels=[4000]),
                         _video_record("d")])
    with pytest.raises(YT8MFormatError) as ei:
        list(iter_yt8m(path, batch_size=2))
    assert ei.value.record_index in (1, 2)
    batches = iter_yt8m(path, batch_size=8, on_error="skip", shuffle=False, return_meta=True)
    with pytest.warns(SkippedRecordsWarning, match="skipped 2"):
        (X, y, meta), = list(batches)
    assert meta["ids"].tolist() == ["a", "d"] and X.shape == (2, 1152)
    assert batches.n_skipped == 2


def test_partial_fit_on_batches(video_shards):
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(random_state=0)
    for X, y in iter_yt8m(video_shards, n_classes=50, batch_size=50, epochs=2, random_state=0):
        clf.partial_fit(X, y[:, 0], classes=[0, 1])
    assert clf.coef_.shape == (1, 1152)


def test_iter_yt8m_memory_is_flat_in_the_number_of_shards(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (20, 30, 1152), dtype=np.uint8)
    paths = []
    for s in range(16):
        p = tmp_path / f"f{s:02d}.tfrecord"
        write_yt8m(p, X, [[1]] * 20, level="frame")
        paths.append(p)

    def peak(files):
        tracemalloc.start()
        try:
            for _ in iter_yt8m(files, level="frame", max_frames=30, batch_size=8,
                               shuffle_buffer=16, interleave=2):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak(paths[:2]), peak(paths)
    assert large < 1.3 * small + (1 << 20), (small, large)


# ----------------------------------------------------- TensorFlow parity (optional)
_TF_VIDEO = None


def _tf():
    tf = pytest.importorskip("tensorflow")
    return tf


def test_tensorflow_reads_what_write_yt8m_writes(tmp_path):
    tf = _tf()
    rng = np.random.default_rng(0)
    Xv = rng.standard_normal((5, 1152)).astype(np.float32)
    y = [[1, 2], [], [3861], [7], [0, 5, 9]]
    for name in ("v.tfrecord", "v.tfrecord.gz"):
        p = str(tmp_path / name)
        write_yt8m(p, Xv, y, [f"id{i}" for i in range(5)])
        ds = tf.data.TFRecordDataset(p, compression_type="GZIP" if name.endswith("gz") else "")
        spec = {
            "id": tf.io.FixedLenFeature([], tf.string),
            "labels": tf.io.VarLenFeature(tf.int64),
            "mean_rgb": tf.io.FixedLenFeature([1024], tf.float32),
            "mean_audio": tf.io.FixedLenFeature([128], tf.float32),
        }
        for i, rec in enumerate(ds):
            ex = tf.io.parse_single_example(rec, spec)
            assert ex["id"].numpy().decode() == f"id{i}"
            assert tf.sparse.to_dense(ex["labels"]).numpy().tolist() == y[i]
            np.testing.assert_array_equal(ex["mean_rgb"].numpy(), Xv[i, :1024])
            np.testing.assert_array_equal(ex["mean_audio"].numpy(), Xv[i, 1024:])
    # Frame level, read the starter code's way (readers.YT8MFrameFeatureReader).
    X, yf, ids, n_frames = _frame_data(n=4, t=9)
    p = str(tmp_path / "f.tfrecord")
    write_yt8m(p, X, yf, ids, level="frame", n_frames=n_frames)
    ours = load_yt8m(p, level="frame", max_frames=9)
    for i, rec in enumerate(tf.data.TFRecordDataset(p)):
        ctx, seq = tf.io.parse_single_sequence_example(
            rec,
            context_features={"id": tf.io.FixedLenFeature([], tf.string),
                              "labels": tf.io.VarLenFeature(tf.int64)},
            sequence_features={k: tf.io.FixedLenSequenceFeature([], dtype=tf.string)
                               for k in ("rgb", "audio")},
        )
        mats = []
        for k, size in (("rgb", 1024), ("audio", 128)):
            q = tf.reshape(tf.cast(tf.io.decode_raw(seq[k], tf.uint8), tf.float32), [-1, size])
            mats.append((q * (4.0 / 255) + (4.0 / 512 - 2.0)).numpy())  # utils.Dequantize
        frames = np.concatenate(mats, axis=1)
        assert frames.shape[0] == n_frames[i] == ours.n_frames[i]
        np.testing.assert_array_equal(ours.X[i, : n_frames[i]], frames)
        assert tf.sparse.to_dense(ctx["labels"]).numpy().tolist() == yf[i]
        assert ctx["id"].numpy().decode() == ids[i]


def test_we_read_what_tensorflow_writes(tmp_path):
    tf = _tf()
    rng = np.random.default_rng(1)
    p = str(tmp_path / "tf.tfrecord.zz")
    rows = rng.standard_normal((3, 1152)).astype(np.float32)
    with tf.io.TFRecordWriter(p, options="ZLIB") as w:
        for i, row in enumerate(rows):
            f = {
                "id": tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"t{i}".encode()])),
                "labels": tf.train.Feature(int64_list=tf.train.Int64List(value=[i, 300 + i])),
                "mean_rgb": tf.train.Feature(float_list=tf.train.FloatList(value=row[:1024])),
                "mean_audio": tf.train.Feature(float_list=tf.train.FloatList(value=row[1024:])),
            }
            w.write(tf.train.Example(features=tf.train.Features(feature=f)).SerializeToString())
    data = load_yt8m(p, sparse_labels=False)
    np.testing.assert_array_equal(data.X, rows)
    assert data.ids.tolist() == ["t0", "t1", "t2"]
    assert [np.flatnonzero(r).tolist() for r in data.y] == [[0, 300], [1, 301], [2, 302]]


def test_io_imports_neither_keras_nor_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, skqrnn.io, skqrnn.datasets\n"
        "skqrnn.datasets.load_yt8m_sample()\n"
        "print([m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
