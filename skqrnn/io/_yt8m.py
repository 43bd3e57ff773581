"""YouTube-8M readers and writer: load_yt8m, iter_yt8m, write_yt8m.

Semantics follow Google's starter code (google/youtube-8m, readers.py):
video level concatenates the float features in ``feature_names`` order;
frame level decodes each feature list of uint8 frames, dequantizes with
``q * (max - min) / 255 + (max - min) / 512 + min`` (``q * 4/255 - 1.9921875``)
in float32, truncates to ``max_frames`` and zero-pads.
"""

import math
import os
import sys
import warnings
from itertools import islice

import numpy as np
import scipy.sparse as sp

from ._errors import (
    YT8MFormatError,
    check_max_record_bytes,
    check_on_error,
    warn_empty,
    warn_skipped,
)
from ._protobuf import (
    _enc_varint,
    BYTES,
    FLOAT,
    INT64,
    DecodeError,
    _KIND_NAMES,
    byteses,
    encode_example,
    encode_sequence_example,
    floats,
    frames_matrix,
    int64s,
    packed_varints,
    scan_example,
    scan_sequence_example,
)
from ._video_batch import _join_ids, load_video_files, read_video_file, register_record_decoder
from ._tfrecord import (
    MAX_RECORD_BYTES,
    _check_compression,
    count_records,
    expand_paths,
    iter_file_records,
    write_records,
)

__all__ = [
    "load_yt8m",
    "iter_yt8m",
    "write_yt8m",
    "dequantize",
    "quantize",
    "YT8MBatches",
    "YT8MData",
    "UINT8_PAD_VALUE",
]

DEFAULT_FEATURES = {"video": ("mean_rgb", "mean_audio"), "frame": ("rgb", "audio")}
KNOWN_SIZES = {"mean_rgb": 1024, "mean_audio": 128, "rgb": 1024, "audio": 128}
SEGMENT_KEYS = ("segment_labels", "segment_start_times", "segment_scores")
MAX_QUANTIZED, MIN_QUANTIZED = 2.0, -2.0
#: Byte used for padded frames when ``dequantize=False``: ``dequantize(127)``
#: is -3.1e-5, the byte closest to the 0.0 that pads dequantized frames, so
#: a model that dequantizes inside the network sees (almost) the same input.
UINT8_PAD_VALUE = 127
LABEL_DTYPE = np.int8
_F32 = np.dtype("<f4")
_VIDEO_BLOCK = 1024  # rows per growing block, video level
_FRAME_BLOCK = 16  # videos per growing block, frame level


# ---------------------------------------------------------------- quantization
def _dequant_table(max_q=MAX_QUANTIZED, min_q=MIN_QUANTIZED):
    # float32 arithmetic exactly as TF's utils.Dequantize computes it.
    span = max_q - min_q
    q = np.arange(256, dtype=np.float32)
    return q * np.float32(span / 255.0) + np.float32(span / 512.0 + min_q)


_LUT = _dequant_table()


def dequantize(q, max_quantized_value=MAX_QUANTIZED, min_quantized_value=MIN_QUANTIZED):
    """Dequantize uint8 features as the starter code does (float32).

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.io import dequantize
    >>> dequantize(np.array([0, 127, 255], dtype=np.uint8))
    array([-1.9921875e+00, -3.0517578e-05,  2.0078125e+00], dtype=float32)
    """
    q = np.asarray(q)
    if q.dtype != np.uint8:
        raise ValueError(f"dequantize expects uint8 data, got dtype {q.dtype}")
    if (max_quantized_value, min_quantized_value) == (MAX_QUANTIZED, MIN_QUANTIZED):
        return _LUT[q]
    return _dequant_table(max_quantized_value, min_quantized_value)[q]


def quantize(x, max_quantized_value=MAX_QUANTIZED, min_quantized_value=MIN_QUANTIZED):
    """Inverse of :func:`dequantize`: nearest byte, clipped to 0..255.

    ``quantize(dequantize(q)) == q`` for every byte, so frames loaded with
    :func:`load_yt8m` are written back bit-identically by :func:`write_yt8m`.
    """
    span = max_quantized_value - min_quantized_value
    # float32 arithmetic (4 bytes per value: frame arrays are large); the
    # grid step 4/255 is far above float32 rounding, so the inverse is exact.
    q = np.asarray(x, dtype=np.float32) - np.float32(span / 512.0 + min_quantized_value)
    q *= np.float32(255.0 / span)
    np.rint(q, out=q)
    np.clip(q, 0, 255, out=q)
    return q.astype(np.uint8)


# ----------------------------------------------------------------- validation
class _Spec:
    """Validated reading parameters (picklable: sent to worker processes)."""

    def __init__(
        self,
        level,
        feature_names,
        feature_sizes,
        max_frames,
        n_classes,
        id_key,
        label_key,
        compression,
        verify_crc,
        on_error,
        max_record_bytes=MAX_RECORD_BYTES,
    ):
        if level not in ("video", "frame"):
            raise ValueError(f"level must be 'video' or 'frame', got {level!r}")
        if feature_names is None:
            feature_names = DEFAULT_FEATURES[level]
        elif isinstance(feature_names, str):
            feature_names = [feature_names]
        feature_names = tuple(str(f) for f in feature_names)
        if not feature_names or len(set(feature_names)) != len(feature_names):
            raise ValueError(f"feature_names must be distinct names, got {feature_names!r}")
        if feature_sizes is None:
            missing = [f for f in feature_names if f not in KNOWN_SIZES]
            if missing:
                raise ValueError(
                    f"feature_sizes must be given for features of unknown size {missing} "
                    f"(known: {KNOWN_SIZES})"
                )
            feature_sizes = [KNOWN_SIZES[f] for f in feature_names]
        elif isinstance(feature_sizes, (int, np.integer)):
            feature_sizes = [feature_sizes]
        feature_sizes = tuple(int(s) for s in feature_sizes)
        if len(feature_sizes) != len(feature_names) or min(feature_sizes) < 1:
            raise ValueError(
                f"feature_sizes {feature_sizes} must be positive, one per feature name "
                f"{feature_names}"
            )
        if level == "frame" and (int(max_frames) != max_frames or max_frames < 1):
            raise ValueError(f"max_frames must be a positive integer, got {max_frames!r}")
        if n_classes is not None and (int(n_classes) != n_classes or n_classes < 1):
            raise ValueError(f"n_classes must be a positive integer or None, got {n_classes!r}")
        self.level = level
        self.names = feature_names
        self.keys = tuple(f.encode() for f in feature_names)
        self.sizes = feature_sizes
        self.offsets = tuple(int(o) for o in np.cumsum((0,) + feature_sizes[:-1]))
        self.features = tuple(zip(self.names, self.keys, self.sizes, self.offsets))
        # The video fast path knows the default id/label keys only.
        self.templates = None
        if level == "video" and id_key is None and label_key == "labels":
            self.templates = tuple(
                (_entry_header(name, size), off, size, 4 * size)
                for name, size, off in zip(self.names, self.sizes, self.offsets)
            )
        self.width = int(sum(feature_sizes))
        self.max_frames = int(max_frames)
        self.n_classes = None if n_classes is None else int(n_classes)
        self.id_key = id_key
        self.label_key = None if label_key is None else label_key.encode()
        self.compression = _check_compression(compression)
        self.verify_crc = bool(verify_crc)
        self.on_error = check_on_error(on_error)
        self.max_record_bytes = check_max_record_bytes(max_record_bytes)

    @property
    def row_shape(self):
        return (self.width,) if self.level == "video" else (self.max_frames, self.width)


class _Problem(Exception):
    """A record-level problem; the caller adds the file and record index."""


def _present(index):
    return sorted(k.decode("utf-8", "replace") for k in index)


def _read_id(index, buf, spec):
    keys = (b"id", b"video_id") if spec.id_key is None else (spec.id_key.encode(),)
    for key in keys:
        ent = index.get(key)
        if ent is not None:
            break
    else:
        raise _Problem(
            f"missing id feature {' or '.join(repr(k.decode()) for k in keys)} "
            f"(record has {_present(index)})"
        )
    kind, s, e, ps, pe = ent
    if kind == BYTES and ps >= 0:
        return buf[ps:pe].decode("utf-8", "replace")
    if kind != BYTES:
        raise _Problem(f"id feature {key.decode()!r} is a {_KIND_NAMES.get(kind)}, expected bytes_list")
    vals = byteses(buf, s, e)
    if len(vals) != 1:
        raise _Problem(f"id feature {key.decode()!r} holds {len(vals)} values, expected 1")
    return vals[0].decode("utf-8", "replace")


def _read_labels(index, buf, spec):
    if spec.label_key is None:
        return None
    ent = index.get(spec.label_key)
    if ent is None:
        raise _Problem(
            f"missing label feature {spec.label_key.decode()!r} (record has {_present(index)}); "
            "pass label_key=None to read unlabelled data"
        )
    kind, s, e, ps, pe = ent
    if kind != INT64:
        raise _Problem(
            f"label feature {spec.label_key.decode()!r} is a {_KIND_NAMES.get(kind)}, "
            "expected int64_list"
        )
    n = spec.n_classes
    labels = packed_varints(buf, ps, pe) if ps >= 0 else int64s(buf, s, e)
    if labels and min(labels) >= 0 and (n is None or max(labels) < n):
        return labels
    for lab in labels:
        if lab < 0 or (n is not None and lab >= n):
            raise _Problem(
                f"label {lab} out of range: labels must be in [0, n_classes={n})"
                if n is not None
                else f"label {lab} is negative"
            )
    return labels


_SEGMENT_BKEYS = tuple(k.encode() for k in SEGMENT_KEYS)


def _read_segments(index, buf):
    if _SEGMENT_BKEYS[0] not in index and _SEGMENT_BKEYS[1] not in index and (
        _SEGMENT_BKEYS[2] not in index
    ):
        return None
    out = []
    for key, want in zip(SEGMENT_KEYS, (INT64, INT64, FLOAT)):
        ent = index.get(key.encode())
        if ent is None:
            raise _Problem(f"has some segment features but not {key!r}")
        kind, s, e = ent[:3]
        if kind != want:
            raise _Problem(
                f"segment feature {key!r} is a {_KIND_NAMES.get(kind)}, expected {_KIND_NAMES[want]}"
            )
        out.append(
            np.array(int64s(buf, s, e), np.int64) if want == INT64 else floats(buf, s, e).copy()
        )
    if not len(out[0]) == len(out[1]) == len(out[2]):
        raise _Problem(
            "segment_labels, segment_start_times and segment_scores differ in length "
            f"({len(out[0])}, {len(out[1])}, {len(out[2])})"
        )
    return tuple(out)


def _entry_header(name, size):
    """Canonical bytes before the payload of a Features map entry holding ``size`` packed floats.

    TensorFlow, protobuf and :func:`encode_example` all serialize a float
    feature this way: ``0a L(entry) 0a L(key) key 12 L(Feature) 12 L(FloatList) 0a L(packed)``.
    """
    key = name.encode()
    packed = 4 * size
    flist = b"\x0a" + _enc_varint(packed)
    feature = b"\x12" + _enc_varint(len(flist) + packed) + flist
    body = b"\x0a" + _enc_varint(len(key)) + key + b"\x12" + _enc_varint(len(feature) + packed)
    body += feature
    return b"\x0a" + _enc_varint(len(body) + packed) + body


def _video_fast(buf, spec, row):
    """Decode a canonically serialized video Example; None means "use the general path".

    The float features are recognised by their exact entry header (lengths
    included), so the payload is copied without parsing; the id and labels
    entries are parsed inline. Anything unexpected -- other keys (e.g. the
    segment keys), another encoding, a label out of range -- returns None
    and the general decoder (which also reports errors) takes over.
    """
    end = len(buf)
    if end < 3 or buf[0] != 10:
        return None
    b = buf[1]
    if b < 128:
        pos = 2
        fe = 2 + b
    elif buf[2] < 128:
        pos = 3
        fe = 3 + ((b & 127) | (buf[2] << 7))
    else:
        return None
    if fe != end and not (fe == end - 2 and buf[fe] == 0x12 and buf[fe + 1] == 0):
        return None
    templates = spec.templates
    vid = labels = None
    seen = 0
    while pos < fe:
        for head, off, size, nbytes in templates:
            if buf.startswith(head, pos):
                q = pos + len(head)
                row[off : off + size] = np.frombuffer(buf, _F32, size, q)
                pos = q + nbytes
                seen += 1
                break
        else:
            # 0a L 0a kl key 12 fl <kind> ll 0a vl value, all lengths < 128.
            if buf[pos] != 10 or buf[pos + 2] != 10:
                return None
            ee = pos + 2 + buf[pos + 1]
            kl = buf[pos + 3]
            q = pos + 4 + kl
            if buf[pos + 1] >= 128 or kl >= 128 or ee > fe or buf[q] != 0x12:
                return None
            key = buf[pos + 4 : q]
            fl = buf[q + 1]
            ll = buf[q + 3]
            if fl >= 128 or q + 2 + fl != ee or ll >= 128 or q + 4 + ll != ee:
                return None
            kind = buf[q + 2]
            if ll == 0:
                value = None
            elif buf[q + 4] == 10 and buf[q + 5] < 128 and q + 6 + buf[q + 5] == ee:
                value = q + 6
            else:
                return None
            if key == b"labels" and kind == 0x1A:
                labels = [] if value is None else packed_varints(buf, value, ee)
            elif key == b"id" and kind == 0x0A and value is not None:
                vid = buf[value:ee].decode("utf-8", "replace")
            else:
                return None
            pos = ee
    if seen != len(templates) or vid is None or labels is None or pos != fe:
        return None
    if labels and (min(labels) < 0 or (spec.n_classes is not None and max(labels) >= spec.n_classes)):
        return None
    return vid, labels


def _decode_video(buf, spec, row):
    """Decode one Example into ``row`` (float32, width); return (id, labels, segments)."""
    if spec.templates is not None:
        try:
            fast = _video_fast(buf, spec, row)
        except IndexError:
            fast = None
        if fast is not None:
            return fast[0], fast[1], None
    index = scan_example(buf)
    for name, key, size, off in spec.features:
        ent = index.get(key)
        if ent is None:
            raise _Problem(f"missing feature {name!r} (record has {_present(index)})")
        kind, s, e, ps, pe = ent
        if kind == FLOAT and ps >= 0 and pe - ps == 4 * size:
            # The packed run of the right length: one copy, no parsing.
            row[off : off + size] = np.frombuffer(buf, _F32, size, ps)
            continue
        if kind != FLOAT:
            raise _Problem(f"feature {name!r} is a {_KIND_NAMES.get(kind)}, expected float_list")
        vals = floats(buf, s, e)
        if vals.shape[0] != size:
            raise _Problem(f"feature {name!r} has {vals.shape[0]} values, expected {size}")
        row[off : off + size] = vals
    return _read_id(index, buf, spec), _read_labels(index, buf, spec), _read_segments(index, buf)


def _decode_frames(buf, spec):
    """Decode one SequenceExample; return (mats, id, labels, segments).

    ``mats`` holds one uint8 (n, size) matrix per feature, n <= max_frames:
    read-only views into ``buf`` (no copy; the caller copies them into X).
    """
    context, lists = scan_sequence_example(buf)
    n = None
    mats = []
    for name, key, size in zip(spec.names, spec.keys, spec.sizes):
        ent = lists.get(key)
        if ent is None:
            raise _Problem(
                f"missing feature list {name!r} (record has {_present(lists)})"
                if lists
                else f"missing feature list {name!r}: the record has no feature lists "
                "(is this video-level data? use level='video')"
            )
        try:
            m = frames_matrix(buf, ent[0], ent[1], size)
        except DecodeError as exc:
            raise _Problem(f"feature list {name!r}: {exc}") from None
        if n is None:
            n = m.shape[0]
        elif m.shape[0] != n:
            raise _Problem(
                f"feature lists {spec.names[0]!r} ({n} frames) and {name!r} "
                f"({m.shape[0]} frames) differ in length"
            )
        mats.append(m[: spec.max_frames])
    return (
        mats,
        _read_id(context, buf, spec),
        _read_labels(context, buf, spec),
        _read_segments(context, buf),
    )


def _put_frames(out, mats, spec, dequantize_frames):
    """Copy one video's feature matrices into ``out`` (max_frames, width); pad the rest."""
    k = mats[0].shape[0]
    for m, off, size in zip(mats, spec.offsets, spec.sizes):
        if dequantize_frames:
            np.take(_LUT, m, out=out[:k, off : off + size], mode="clip")
        else:
            out[:k, off : off + size] = m
    out[k:] = 0.0 if dequantize_frames else UINT8_PAD_VALUE
    return k


def _record_error(path, index, exc, spec, buf):
    """The YT8MFormatError for a record that failed to decode."""
    if isinstance(exc, _Problem):
        return YT8MFormatError(path, index, str(exc))
    kind = "tf.train.Example" if spec.level == "video" else "tf.train.SequenceExample"
    what = str(exc) if isinstance(exc, DecodeError) else "truncated message"
    what = f"not a valid {kind} protobuf: {what}"
    if spec.level == "video" and _looks_like_sequence_example(buf):
        what += " (this looks like frame-level data: use level='frame')"
    return YT8MFormatError(path, index, what)


def _iter_decoded(path, spec, skipped, empty=None):
    """Yield (id, labels, segments, x) per good record of one file.

    ``x`` is a float32 row (video) or the list of uint8 feature matrices
    of :func:`_decode_frames` (frame level). A file of 0 bytes yields
    nothing and is appended to ``empty`` (a list).
    """
    sink = skipped if spec.on_error == "skip" else None
    video = spec.level == "video"
    for index, buf in iter_file_records(path, spec.compression, spec.verify_crc, sink,
                                        spec.max_record_bytes, empty):
        try:
            if video:
                x = np.empty(spec.width, np.float32)
                vid, labels, segs = _decode_video(buf, spec, x)
            else:
                x, vid, labels, segs = _decode_frames(buf, spec)
        except (_Problem, DecodeError, IndexError) as exc:
            err = _record_error(path, index, exc, spec, buf)
            if sink is None:
                raise err from None
            sink.append(err)
            continue
        yield vid, labels, segs, x


def _looks_like_sequence_example(buf):
    try:
        _, lists = scan_sequence_example(buf)
        return bool(lists)
    except (DecodeError, IndexError):
        return False


# ---------------------------------------------------------------- shard reading
def _read_shard(path, spec, limit=None):
    """Read one file into blocks; returns a dict (picklable, for n_jobs > 1)."""
    if spec.level == "video" and spec.templates is not None:
        # Uncompressed local shards are read whole and decoded all at once.
        fast = read_video_file(path, spec, limit)
        if fast is not None:
            X, ids, values, counts, segments, skipped = fast
            return {
                "path": path,
                "blocks": [X] if X.shape[0] else [],
                "n": X.shape[0],
                "ids": ids,
                "label_indices": values,
                "label_counts": counts,
                "n_frames": [],
                "segments": segments,
                "skipped": skipped,
                "empty_paths": [],
            }
    skipped = []
    sink = skipped if spec.on_error == "skip" else None
    video = spec.level == "video"
    blocks = []  # video level: float32 row blocks; frame level: per-video matrices
    block = None
    fill = cap = _VIDEO_BLOCK
    # Labels kept flat (+ counts): a list per video would make the cyclic
    # garbage collector rescan millions of containers while reading.
    ids, flat, counts, n_frames, segments = [], [], [], [], []
    has_segments = False
    empty = []
    for index, buf in iter_file_records(path, spec.compression, spec.verify_crc, sink,
                                        spec.max_record_bytes, empty):
        if video and fill == cap:
            if block is not None:
                blocks.append(block)
            block = np.empty((cap, spec.width), np.float32)
            fill = 0
        try:
            if video:
                # Decoded straight into the block: no per-record array.
                vid, labs, segs = _decode_video(buf, spec, block[fill])
                fill += 1
            else:
                # Views into the record: the padded copy is made once, in X.
                mats, vid, labs, segs = _decode_frames(buf, spec)
                blocks.append(mats)
                n_frames.append(mats[0].shape[0])
        except (_Problem, DecodeError, IndexError) as exc:
            err = _record_error(path, index, exc, spec, buf)
            if sink is None:
                raise err from None
            sink.append(err)
            continue
        ids.append(vid)
        if labs is not None:
            flat.extend(labs)
            counts.append(len(labs))
        segments.append(segs)
        has_segments |= segs is not None
        if limit is not None and len(ids) >= limit:
            break
    if block is not None:
        blocks.append(block[:fill] if fill < cap else block)
    return {
        "path": path,
        "blocks": blocks,
        "n": len(ids),
        "ids": ids,
        "label_indices": np.array(flat, np.int64),
        "label_counts": np.array(counts, np.int64),
        "n_frames": n_frames,
        "segments": segments if has_segments else None,
        "skipped": skipped,
        "empty_paths": [path] if empty else [],
    }


def _labels_matrix(indices, counts, n_classes, sparse):
    """int8 indicator matrix from flat label indices and per-video counts."""
    n = counts.shape[0]
    if n_classes is None:
        n_classes = 1 + int(indices.max()) if indices.size else 1
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    if sparse:
        idx_dtype = np.int32 if max(indptr[-1], n_classes) < 2**31 else np.int64
        y = sp.csr_matrix(
            (
                np.ones(indices.shape[0], LABEL_DTYPE),
                indices.astype(idx_dtype),
                indptr.astype(idx_dtype),
            ),
            shape=(n, n_classes),
        )
        y.sum_duplicates()  # a label repeated in a record is one label
        y.data[:] = 1
        return y
    y = np.zeros((n, n_classes), LABEL_DTYPE)
    y[np.repeat(np.arange(n), counts), indices] = 1
    return y


def _labels_from_lists(label_lists, n_classes, sparse):
    counts = np.fromiter((len(ls) for ls in label_lists), np.int64, len(label_lists))
    indices = np.fromiter(
        (lab for ls in label_lists for lab in ls), np.int64, int(counts.sum())
    )
    return _labels_matrix(indices, counts, n_classes, sparse)


class YT8MData(dict):
    """Result of :func:`load_yt8m`: a dict whose keys are also attributes.

    Attributes
    ----------
    X : ndarray
        Video level: float32 (n_videos, n_features). Frame level: float32
        (n_videos, max_frames, n_features), zero-padded, or uint8 with
        ``dequantize=False`` (padding byte :data:`UINT8_PAD_VALUE`).
    y : scipy.sparse.csr_matrix, ndarray or None
        int8 label indicator (n_videos, n_classes); dense with
        ``sparse_labels=False``; None with ``label_key=None``.
    ids : ndarray of str
    n_frames : ndarray of int32 (frame level only)
        Frames per video in X (the video's frame count capped at max_frames).
    feature_names : list of str
    level : str
    paths : list of str
        The files read, in order.
    n_skipped : int
    skipped : list of YT8MFormatError
        Bad records dropped with ``on_error="skip"``.
    empty_files : list of str
        The files of 0 bytes among ``paths``, read as zero records.
    segment_labels, segment_start_times, segment_scores : list of ndarray
        Only when some record carries the 2019 segment keys; one array per
        video (empty for videos without them).
    """

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __dir__(self):
        return list(self.keys())

    def __repr__(self):
        parts = []
        for k, v in self.items():
            if hasattr(v, "shape"):
                parts.append(f"{k}=<{type(v).__name__} {v.shape} {getattr(v, 'dtype', '')}>")
            elif isinstance(v, list) and len(v) > 3:
                parts.append(f"{k}=<list of {len(v)}>")
            else:
                parts.append(f"{k}={v!r}")
        return "YT8MData(" + ", ".join(parts) + ")"


def _assemble(results, spec, dequantize_frames, sparse_labels, paths, max_videos):
    n = sum(r["n"] for r in results)
    if max_videos is not None:
        n = min(n, max_videos)
    video = spec.level == "video"
    whole = None  # one block holding every row (load_video_files): used as X, no copy
    if video and len(results) == 1 and len(results[0]["blocks"]) == 1:
        whole = results[0]["blocks"][0]
        if whole.shape[0] != n:
            whole = None
    if whole is not None:
        X = whole
        results[0]["blocks"] = []
    elif video:
        X = np.empty((n, spec.width), np.float32)
    elif dequantize_frames:
        X = np.empty((n, spec.max_frames, spec.width), np.float32)
    else:
        X = np.empty((n, spec.max_frames, spec.width), np.uint8)
    ids, indices, counts, n_frames, segments, skipped = [], [], [], [], [], []
    has_segments = any(r["segments"] is not None for r in results)
    off = 0
    for r in results:
        ids.append(r["ids"])
        indices.append(r["label_indices"])
        counts.append(r["label_counts"])
        n_frames.extend(r["n_frames"])
        skipped.extend(r["skipped"])
        if has_segments:
            segments.extend(r["segments"] if r["segments"] is not None else [None] * r["n"])
        # Copy block by block and drop each one at once: np.empty pages are
        # committed only when written, so the peak stays near one copy.
        blocks = r["blocks"]
        r["blocks"] = []
        blocks.reverse()
        while blocks and off < n:
            b = blocks.pop()
            if video:
                k = min(b.shape[0], n - off)
                X[off : off + k] = b[:k]
                off += k
            else:
                _put_frames(X[off], b, spec, dequantize_frames)
                off += 1
            del b
        r["blocks"] = []
    ids = _join_ids(ids)[:n]
    n_frames = n_frames[:n]
    counts = np.concatenate(counts)[:n] if counts else np.zeros(0, np.int64)
    indices = np.concatenate(indices)[: int(counts.sum())] if indices else np.zeros(0, np.int64)
    out = YT8MData()
    if not video:
        n_frames = np.asarray(n_frames, np.int32)
    out["X"] = X
    out["y"] = (
        None
        if spec.label_key is None
        else _labels_matrix(indices, counts, spec.n_classes, sparse_labels)
    )
    out["ids"] = ids
    if not video:
        out["n_frames"] = n_frames
    out["feature_names"] = list(spec.names)
    out["level"] = spec.level
    out["paths"] = list(paths)
    out["n_skipped"] = len(skipped)
    out["skipped"] = skipped
    out["empty_files"] = [p for r in results for p in r["empty_paths"]]
    if has_segments:
        segments = segments[:n]
        empty_i = np.empty(0, np.int64)
        empty_f = np.empty(0, np.float32)
        for j, key in enumerate(SEGMENT_KEYS):
            blank = empty_f if j == 2 else empty_i
            out[key] = [blank if s is None else s[j] for s in segments]
    return out


def load_yt8m(
    paths,
    *,
    level="video",
    feature_names=None,
    feature_sizes=None,
    max_frames=300,
    n_classes=3862,
    dequantize=True,
    sparse_labels=True,
    max_videos=None,
    n_jobs=None,
    return_X_y=False,
    id_key=None,
    label_key="labels",
    compression=None,
    verify_crc=True,
    on_error="raise",
    max_record_bytes=MAX_RECORD_BYTES,
):
    """Load YouTube-8M TFRecord shards into memory, as Google's starter code reads them.

    Parameters
    ----------
    paths : str, os.PathLike or iterable of them
        Files, glob patterns (``"train*.tfrecord"``), directories or URLs
        (``gs://...`` via fsspec).
    level : {'video', 'frame'}, default='video'
        Video level: one ``tf.train.Example`` per video. Frame level: one
        ``tf.train.SequenceExample`` per video with uint8 frames.
    feature_names : list of str, optional
        Features to concatenate, in order; default ``["mean_rgb",
        "mean_audio"]`` (video) or ``["rgb", "audio"]`` (frame) -> 1152.
    feature_sizes : list of int, optional
        Their sizes; known for the four standard names.
    max_frames : int, default=300
        Frame level: frames kept per video (longer videos are truncated).
    n_classes : int or None, default=3862
        Width of the label matrix; a label >= n_classes is an error. None
        uses ``1 + max label``.
    dequantize : bool, default=True
        Frame level: float32 ``q * 4/255 - 1.9921875`` (padding 0.0), or
        keep uint8 (4x less memory; padding byte :data:`UINT8_PAD_VALUE`)
        for models that dequantize inside the network. Ignored at video
        level, whose features are stored as floats.
    sparse_labels : bool, default=True
        y as a scipy.sparse CSR indicator (int8); False gives a dense
        (n_videos, n_classes) int8 array.
    max_videos : int, optional
        Stop after this many videos (in path order).
    n_jobs : int, optional
        Files read in parallel when > 1 (-1: all cores), by joblib worker
        processes at video level (Python-bound decoding) and threads at frame
        level (C-bound; no copy of the frames between processes).
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of the :class:`YT8MData`.
    id_key : str, optional
        Id feature; default ``"id"`` (2018+), falling back to ``"video_id"``
        (2017).
    label_key : str or None, default='labels'
        None reads unlabelled data (y is None).
    compression : {None, '', 'gzip', 'zlib'}, default=None
        None detects it per file.
    verify_crc : bool, default=True
        Check the TFRecord checksums.
    on_error : {'raise', 'skip'}, default='raise'
        'raise': a bad record raises :class:`YT8MFormatError` naming the
        file, the record index and the problem. 'skip': bad records are
        dropped, counted in ``n_skipped``/``skipped`` and reported in one
        :class:`SkippedRecordsWarning`.
    max_record_bytes : int, default=64 MiB
        Largest record accepted from a GZIP/ZLIB-compressed or remote file
        of unknown size; a corrupt length header above it (or above what the
        rest of a compressed file can decompress to) is refused before the
        record is buffered. See :func:`~skqrnn.io.read_records`.

    Returns
    -------
    data : YT8MData
        Keys ``X``, ``y``, ``ids``, ``n_frames`` (frame level),
        ``feature_names``, ``level``, ``paths``, ``n_skipped``, ``skipped``,
        ``empty_files`` and, when present, ``segment_labels``,
        ``segment_start_times``, ``segment_scores`` (see :class:`YT8MData`).
    (X, y) : tuple
        With ``return_X_y=True``.

    Warns
    -----
    EmptyFileWarning
        When some files are empty (0 bytes, what TensorFlow's writer leaves
        when it writes no record): they are read as zero records, as
        ``tf.data`` reads them. When every file is empty the result is an
        empty dataset, ``X`` of shape ``(0, n_features)`` (or ``(0,
        max_frames, n_features)``) and ``y`` of shape ``(0, n_classes)``,
        as ``max_videos=0`` gives, not an error: zero records is a valid
        content for a shard, and the warning names the files. An estimator
        then refuses to fit on zero samples.

    Examples
    --------
    >>> from skqrnn.datasets import sample_paths
    >>> from skqrnn.io import load_yt8m
    >>> data = load_yt8m(sample_paths()[:1])
    >>> data.X.shape, data.y.shape, data.ids[0]
    ((284, 1152), (284, 3862), np.str_('02aa'))
    """
    spec = _Spec(
        level,
        feature_names,
        feature_sizes,
        max_frames,
        n_classes,
        id_key,
        label_key,
        compression,
        verify_crc,
        on_error,
        max_record_bytes,
    )
    if max_videos is not None and (int(max_videos) != max_videos or max_videos < 0):
        raise ValueError(f"max_videos must be a non-negative integer or None, got {max_videos!r}")
    files = expand_paths(paths)
    import joblib

    jobs = min(joblib.effective_n_jobs(n_jobs), len(files))
    results = []
    total = 0
    fast = None
    if jobs <= 1 and spec.level == "video" and max_videos is None:
        # Uncompressed local shards: read in groups into one preallocated X.
        fast = load_video_files(files, spec, _read_shard)
    if fast is not None:
        results = [fast]
    elif jobs <= 1:
        for f in files:
            if max_videos is not None and total >= max_videos:
                break
            limit = None if max_videos is None else max_videos - total
            r = _read_shard(f, spec, limit)
            total += r["n"]
            results.append(r)
    else:
        with warnings.catch_warnings():
            # Stopping early at max_videos cancels shards still being read, on purpose.
            warnings.filterwarnings("ignore", message=".*tasks which were still being processed")
            # Video level is pure-Python decoding: processes. Frame level is
            # mostly C (CRC, copies) on large results: threads, which do not
            # pickle hundreds of MB back to the parent.
            prefer = "processes" if spec.level == "video" else "threads"
            gen = joblib.Parallel(n_jobs=jobs, return_as="generator", prefer=prefer)(
                joblib.delayed(_read_shard)(f, spec, max_videos) for f in files
            )
            for r in gen:
                results.append(r)
                total += r["n"]
                if max_videos is not None and total >= max_videos:
                    break
            del gen
    out = _assemble(results, spec, bool(dequantize), sparse_labels, files, max_videos)
    warn_empty(out["empty_files"], len(files))
    warn_skipped(out["skipped"])
    if return_X_y:
        return out["X"], out["y"]
    return out


# ---------------------------------------------------------------- streaming
class YT8MBatches:
    """Re-iterable stream of ``(X, y)`` batches over YouTube-8M shards.

    Made by :func:`iter_yt8m`, which documents the parameters. Memory is
    bounded by ``shuffle_buffer + batch_size`` decoded videos and
    ``interleave`` open files, whatever the number of shards.

    Each ``iter()`` makes one pass of ``epochs`` epochs (forever when
    ``epochs=None``); pass ``k`` (0, 1, ...) shuffles with the seed
    ``(random_state, k, epoch)``, so a run is reproducible and successive
    passes differ. ``len()`` is the number of batches in one epoch (it
    reads the record counts of all files once).
    """

    def __init__(self, paths, spec, *, batch_size, dequantize, sparse_labels, shuffle,
                 shuffle_buffer, interleave, epochs, drop_remainder, random_state,
                 return_meta):
        self.paths = expand_paths(paths)
        self.spec = spec
        self.batch_size = batch_size
        self.dequantize = dequantize
        self.sparse_labels = sparse_labels
        self.shuffle = shuffle
        self.shuffle_buffer = shuffle_buffer
        self.interleave = interleave
        self.epochs = epochs
        self.drop_remainder = drop_remainder
        self.random_state = random_state
        self.return_meta = return_meta
        self.skipped = []
        self.empty_files = []
        self._passes = 0
        self._n_records = None

    @property
    def n_skipped(self):
        return len(self.skipped)

    @property
    def n_records(self):
        """Records in all files (framing only; bad records are counted)."""
        if self._n_records is None:
            self._n_records = sum(
                count_records(p, self.spec.compression, self.spec.max_record_bytes)
                for p in self.paths
            )
        return self._n_records

    def __len__(self):
        n = self.n_records
        return n // self.batch_size if self.drop_remainder else math.ceil(n / self.batch_size)

    def __iter__(self):
        k = self._passes
        self._passes += 1
        return self._generate(k)

    # -- internals
    def _records(self, rng):
        """Interleave records of up to ``interleave`` files, round robin."""
        order = list(self.paths)
        if self.shuffle:
            order = [order[i] for i in rng.permutation(len(order))]
        pending = iter(order)
        active = []
        for p in islice(pending, self.interleave):
            active.append(_iter_decoded(p, self.spec, self.skipped, self.empty_files))
        i = 0
        while active:
            i %= len(active)
            item = next(active[i], None)
            if item is None:
                nxt = next(pending, None)
                if nxt is None:
                    active.pop(i)
                else:
                    active[i] = _iter_decoded(nxt, self.spec, self.skipped, self.empty_files)
                continue
            yield item
            i += 1

    def _shuffled(self, rng):
        records = self._records(rng)
        if not self.shuffle or self.shuffle_buffer <= 1:
            yield from records
            return
        buf = list(islice(records, self.shuffle_buffer))
        size = len(buf)
        # Slots drawn 4096 at a time: one Generator call per record costs
        # more than decoding a video-level record.
        slots = iter(())
        for item in records:
            j = next(slots, None)
            if j is None:
                slots = iter(rng.integers(0, size, 4096).tolist())
                j = next(slots)
            yield buf[j]
            buf[j] = item
        for j in rng.permutation(len(buf)):
            yield buf[j]

    def _batch(self, items):
        spec = self.spec
        b = len(items)
        if spec.level == "video":
            X = np.stack([it[3] for it in items])
            n_frames = None
        else:
            n_frames = np.array([it[3][0].shape[0] for it in items], np.int32)
            X = np.empty(
                (b, spec.max_frames, spec.width), np.float32 if self.dequantize else np.uint8
            )
            for i, it in enumerate(items):
                _put_frames(X[i], it[3], spec, self.dequantize)
        y = None
        if spec.label_key is not None:
            y = _labels_from_lists([it[1] for it in items], spec.n_classes, self.sparse_labels)
        if not self.return_meta:
            return X, y
        meta = {"ids": np.array([it[0] for it in items], dtype=str)}
        if n_frames is not None:
            meta["n_frames"] = n_frames
        if any(it[2] is not None for it in items):
            for j, key in enumerate(SEGMENT_KEYS):
                meta[key] = [None if it[2] is None else it[2][j] for it in items]
        return X, y, meta

    def _generate(self, k):
        self.skipped = []
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            rng = np.random.default_rng([self.random_state, k, epoch])
            self.empty_files = []  # filled as the files of this epoch are read
            items = []
            for item in self._shuffled(rng):
                items.append(item)
                if len(items) == self.batch_size:
                    yield self._batch(items)
                    items = []
            if items and not self.drop_remainder:
                yield self._batch(items)
            epoch += 1
            if epoch == 1:  # the same files every epoch: named once per pass
                warn_empty(self.empty_files, len(self.paths))
            warn_skipped(self.skipped)
            if self.skipped and self.epochs is None:
                self.skipped = []


def iter_yt8m(
    paths,
    *,
    level="video",
    batch_size=256,
    feature_names=None,
    feature_sizes=None,
    max_frames=300,
    n_classes=3862,
    dequantize=True,
    sparse_labels=False,
    shuffle=True,
    shuffle_buffer=1024,
    interleave=4,
    epochs=1,
    drop_remainder=False,
    random_state=0,
    return_meta=False,
    id_key=None,
    label_key="labels",
    compression=None,
    verify_crc=True,
    on_error="raise",
    max_record_bytes=MAX_RECORD_BYTES,
):
    """Stream YouTube-8M shards as ``(X, y)`` batches with bounded memory.

    For ``partial_fit`` loops and for Keras ``fit`` on more data than fits
    in memory. The data are those of :func:`load_yt8m` with the same
    parameters; only the order differs when ``shuffle=True``.

    Parameters
    ----------
    paths, level, feature_names, feature_sizes, max_frames, n_classes, dequantize, id_key, label_key, compression, verify_crc, on_error, max_record_bytes
        As :func:`load_yt8m`. Empty files (0 bytes) are read as zero
        records, with one :class:`EmptyFileWarning` per pass naming them.
    batch_size : int, default=256
    sparse_labels : bool, default=False
        Dense int8 (batch, n_classes) y by default (what Keras and
        ``partial_fit`` take); True gives CSR.
    shuffle : bool, default=True
        Shuffle the file order each epoch, interleave files and pass the
        records through a shuffle buffer (as ``tf.data`` does). False reads
        the files one after the other, in order (with ``interleave=1``:
        exactly :func:`load_yt8m`'s order).
    shuffle_buffer : int, default=1024
        Videos held for shuffling. Memory: about ``shuffle_buffer`` x 4.6 kB
        at video level, up to ``shuffle_buffer`` x 346 kB (uint8, 300
        frames) at frame level.
    interleave : int, default=4
        Files read at once, round robin (when shuffling).
    epochs : int or None, default=1
        Epochs per iteration; None repeats forever (Keras ``fit`` with
        ``steps_per_epoch=len(batches)``).
    drop_remainder : bool, default=False
        Drop the last, smaller batch of each epoch.
    random_state : int, default=0
        Seed of the shuffles.
    return_meta : bool, default=False
        Yield ``(X, y, meta)`` with ``meta`` a dict: ``ids``, ``n_frames``
        (frame level), segment lists when present.

    Returns
    -------
    batches : YT8MBatches
        Iterable of ``(X, y)``: X float32 (b, n_features) at video level,
        (b, max_frames, n_features) float32 (padding 0.0) or uint8 at frame
        level; y int8 (b, n_classes) dense or CSR, or None with
        ``label_key=None``. Every batch has ``batch_size`` rows except
        possibly the last of each epoch.

    Examples
    --------
    >>> from skqrnn.datasets import sample_paths
    >>> from skqrnn.io import iter_yt8m
    >>> batches = iter_yt8m(sample_paths()[:2], batch_size=100, random_state=0)
    >>> X, y = next(iter(batches))
    >>> X.shape, y.shape, y.dtype
    ((100, 1152), (100, 3862), dtype('int8'))
    """
    spec = _Spec(
        level,
        feature_names,
        feature_sizes,
        max_frames,
        n_classes,
        id_key,
        label_key,
        compression,
        verify_crc,
        on_error,
        max_record_bytes,
    )
    for name, v, lo in (("batch_size", batch_size, 1), ("shuffle_buffer", shuffle_buffer, 0),
                        ("interleave", interleave, 1)):
        if int(v) != v or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if epochs is not None and (int(epochs) != epochs or epochs < 1):
        raise ValueError(f"epochs must be a positive integer or None, got {epochs!r}")
    return YT8MBatches(
        paths,
        spec,
        batch_size=int(batch_size),
        dequantize=bool(dequantize),
        sparse_labels=bool(sparse_labels),
        shuffle=bool(shuffle),
        shuffle_buffer=int(shuffle_buffer),
        interleave=int(interleave) if shuffle else 1,
        epochs=epochs,
        drop_remainder=bool(drop_remainder),
        random_state=random_state,
        return_meta=bool(return_meta),
    )


# ---------------------------------------------------------------------- writing
def _label_lists(y, n):
    if y is None:
        return None
    if sp.issparse(y):
        y = sp.csr_matrix(y)
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows, X has {n}")
        y.eliminate_zeros()
        y.sort_indices()
        return [y.indices[y.indptr[i] : y.indptr[i + 1]].tolist() for i in range(n)]
    if isinstance(y, np.ndarray) and y.ndim == 2:
        if y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows, X has {n}")
        return [np.flatnonzero(row).tolist() for row in y]
    y = list(y)
    if len(y) != n:
        raise ValueError(f"y has {len(y)} label lists, X has {n} rows")
    out = []
    for i, labs in enumerate(y):
        labs = [int(v) for v in np.atleast_1d(np.asarray(labs, dtype=np.int64))]
        if any(v < 0 for v in labs):
            raise ValueError(f"y[{i}] holds a negative label: {labs}")
        out.append(labs)
    return out


def _encode_records(spec, X, labels, ids, n_frames=None, segs=None):
    """Yield one serialized record per row of X (validated by the caller)."""
    for i in range(X.shape[0]):
        feats = {spec.id_key or "id": ids[i]}
        if labels is not None:
            feats["labels"] = np.asarray(labels[i], dtype=np.int64)
        if segs is not None:
            feats["segment_labels"] = np.asarray(segs[0][i], dtype=np.int64)
            feats["segment_start_times"] = np.asarray(segs[1][i], dtype=np.int64)
            feats["segment_scores"] = np.asarray(segs[2][i], dtype=np.float32)
        if spec.level == "video":
            row = X[i].astype(np.float32, copy=False)
            for name, size, off in zip(spec.names, spec.sizes, spec.offsets):
                feats[name] = row[off : off + size]
            yield encode_example(feats)
        else:
            frames = X[i] if n_frames is None else X[i, : n_frames[i]]
            if frames.dtype != np.uint8:
                frames = quantize(frames)
            lists = {
                name: frames[:, off : off + size]
                for name, size, off in zip(spec.names, spec.sizes, spec.offsets)
            }
            yield encode_sequence_example(feats, lists)


def write_yt8m(
    path,
    X,
    y=None,
    ids=None,
    *,
    level="video",
    n_frames=None,
    feature_names=None,
    feature_sizes=None,
    segment_labels=None,
    segment_start_times=None,
    segment_scores=None,
    compression=None,
):
    """Write videos as a YouTube-8M TFRecord file that TensorFlow reads back identically.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.gz``: GZIP, ``.zz``/``.zlib``: ZLIB, see
        :func:`write_records`).
    X : ndarray
        Video level: (n, n_features) floats, written as float_list
        features. Frame level: (n, n_frames_max, n_features), uint8 (written
        as is) or float (quantized with :func:`quantize`, the exact inverse
        of the reader's dequantization).
    y : sparse matrix, 2-D indicator array or sequence of label lists, optional
        None writes no ``labels`` feature.
    ids : sequence of str, optional
        Default ``"0", "1", ...``.
    level : {'video', 'frame'}, default='video'
    n_frames : array-like of int, optional
        Frame level: frames of each video to write (default all of X's).
    feature_names, feature_sizes : optional
        How the columns of X are split; default ``mean_rgb`` 1024 +
        ``mean_audio`` 128 (video) or ``rgb`` 1024 + ``audio`` 128 (frame).
    segment_labels, segment_start_times, segment_scores : sequences, optional
        The 2019 segment keys, one sequence per video.
    compression : {None, '', 'gzip', 'zlib'}, default=None

    Returns
    -------
    int
        Records written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from skqrnn.io import load_yt8m, write_yt8m
    >>> path = os.path.join(tempfile.mkdtemp(), "v.tfrecord")
    >>> X = np.zeros((2, 1152), dtype=np.float32)
    >>> write_yt8m(path, X, [[1, 5], [7]], ["a", "b"])
    2
    >>> load_yt8m(path).y.toarray()[:, [1, 5, 7]]
    array([[1, 1, 0],
           [0, 0, 1]], dtype=int8)
    """
    spec = _Spec(level, feature_names, feature_sizes, 300, None, None, "labels", compression,
                 True, "raise")
    X = np.asarray(X)
    want_ndim = 2 if level == "video" else 3
    if X.ndim != want_ndim or X.shape[-1] != spec.width:
        raise ValueError(
            f"X must have shape (n, {'' if level == 'video' else 'n_frames, '}{spec.width}) for "
            f"{level}-level features {list(spec.names)} of sizes {list(spec.sizes)}, got {X.shape}"
        )
    n = X.shape[0]
    labels = _label_lists(y, n)
    if ids is None:
        ids = [str(i) for i in range(n)]
    ids = list(ids)
    if len(ids) != n:
        raise ValueError(f"ids has {len(ids)} items, X has {n} rows")
    segs = [segment_labels, segment_start_times, segment_scores]
    if any(s is not None for s in segs):
        if any(s is None for s in segs):
            raise ValueError("give all of segment_labels, segment_start_times, segment_scores")
        segs = [list(s) for s in segs]
        if any(len(s) != n for s in segs):
            raise ValueError("each segment_* sequence needs one item per video")
    else:
        segs = None
    if level == "frame":
        if n_frames is None:
            n_frames = np.full(n, X.shape[1])
        n_frames = np.asarray(n_frames)
        if n_frames.shape != (n,) or (n_frames < 0).any() or (n_frames > X.shape[1]).any():
            raise ValueError(f"n_frames must be {n} integers in [0, {X.shape[1]}]")

    records = _encode_records(spec, X, labels, ids, n_frames, segs)
    if "://" not in os.fspath(path):
        os.makedirs(os.path.dirname(os.path.abspath(os.fspath(path))), exist_ok=True)
    return write_records(path, records, compression=compression)


register_record_decoder(sys.modules[__name__])
