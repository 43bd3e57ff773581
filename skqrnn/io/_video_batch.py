"""Whole-file, vectorized reading of video-level shards: :func:`load_yt8m`'s fast path.

Decoding one ``tf.train.Example`` at a time cost ~20 us of Python per video
(framing, a bytes copy per record, a walk over the four map entries), about
twice what ``tf.data`` + ``parse_example`` spends on one core. Here
uncompressed local shards are read whole, several at a time (up to
:data:`GROUP_BYTES`) into one reused buffer, and all their records are framed,
checked and decoded together:

* framing: one Python loop over the length headers (no slicing); the CRC-32C
  of all length headers computed in numpy (table driven, 8 steps), the data
  CRCs by google-crc32c, compared in one operation;
* the ``Features`` map of every record is walked entry by entry for all
  records at once (numpy arrays of positions), the entries recognised by
  their key and the float features by their exact canonical header, lengths
  included (as ``_yt8m._video_fast`` does for one record);
* the float payloads are copied straight into the rows of one preallocated
  X, the packed label varints of all records decoded together, the ids
  converted at once.

Any record that is not in that layout (other keys, unpacked lists, another id
key, a label out of range, a repeated key, ...) is decoded by the per-record
decoder, which also words the errors; a file with a framing or CRC problem,
or a compressed one, is read by the streaming reader, which reports exactly
as before. The results are identical to the record-by-record path
(tests/test_io.py compares both on real and odd records).
"""

import os

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ._tfrecord import _GZIP_EXT, _LEN, _MASK_DELTA, _ZLIB_EXT, _crc32c, _is_url, _sniff

__all__ = ["read_video_file"]

# Zero bytes kept after the last record of a buffer: parse_canonical reads
# ahead of its checks (at most a 2-byte varint length, plus a key, past a
# record's start).
PAD = (1 << 14) + 1024
# Payloads at least this long are copied row by row (see decode_records).
_LOOP_BYTES = 2048
# A shard is read whole: above this size the streaming reader (bounded
# memory) is used instead. Real video-level shards are 1-5 MB.
MAX_FAST_FILE = 256 << 20
_U8 = np.dtype("u1")


def _masked(crcs):
    """TFRecord's mask of an array of CRC-32C values (uint64 arithmetic, no overflow)."""
    c = np.asarray(crcs, np.uint64)
    return (((c >> np.uint64(15)) | (c << np.uint64(17))) + np.uint64(_MASK_DELTA)) & np.uint64(
        0xFFFFFFFF
    )


def _u32_at(a, offsets):
    """Little-endian uint32 at each of ``offsets`` in the uint8 array ``a``."""
    b = a[offsets[:, None] + np.arange(4)].astype(np.uint64)
    return b[:, 0] | (b[:, 1] << np.uint64(8)) | (b[:, 2] << np.uint64(16)) | (
        b[:, 3] << np.uint64(24)
    )


def frame_file(buf, start, stop, verify_crc):
    """(data offsets, data lengths) of the records in ``buf[start:stop]`` (one file), or None.

    None when the framing is not intact (truncation, a bad CRC, trailing
    bytes): the streaming reader then reports the problem with its usual
    words, or skips what ``on_error="skip"`` allows. ``buf`` is a uint8
    array (or any buffer); offsets are absolute.
    """
    starts = []
    append = starts.append
    unpack = _LEN.unpack_from
    pos = start
    try:
        while pos < stop:
            append(pos)
            pos += unpack(buf, pos)[0] + 16
    except Exception:  # struct.error: fewer than 8 bytes left
        return None
    if pos != stop:
        return None
    heads = np.array(starts, np.int64)
    ends = np.empty_like(heads)
    ends[:-1] = heads[1:]
    ends[-1:] = stop
    if verify_crc:
        a = np.frombuffer(buf, _U8)
        if not np.array_equal(_masked(_crc32c_of_8(a, heads)), _u32_at(a, heads + 8)):
            return None
        crc = _crc32c
        mv = memoryview(buf)  # the C function takes bytes only: one copy per record
        got = np.fromiter(
            (crc(bytes(mv[s + 12 : e - 4])) for s, e in zip(starts, ends.tolist())),
            np.uint64,
            len(starts),
        )
        if not np.array_equal(_masked(got), _u32_at(a, ends - 4)):
            return None
    return heads + 12, ends - heads - 16


def _crc32c_table():
    table = np.zeros(256, np.uint64)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table[i] = c
    return table


_CRC_TABLE = _crc32c_table()


def _crc32c_of_8(a, offsets):
    """CRC-32C of the 8 bytes at each of ``offsets`` (the length headers), all at once."""
    crc = np.full(offsets.shape[0], 0xFFFFFFFF, np.uint64)
    eight = np.uint64(8)
    for j in range(8):
        crc = _CRC_TABLE[(crc ^ a[offsets + j]) & np.uint64(0xFF)] ^ (crc >> eight)
    return crc ^ np.uint64(0xFFFFFFFF)


def _varint12(g, pos):
    """(value, width, ok) of a varint of 1 or 2 bytes at each of ``pos``."""
    b1 = g(pos)
    b2 = g(pos + 1)
    one = b1 < 128
    ok = one | (b2 < 128)
    # A longer varint is not read (value 0, not ok): no position runs past PAD.
    value = np.where(one, b1, np.where(ok, (b1 & 127) | (b2 << 7), 0))
    return value, np.where(one, 1, 2), ok


def _all_equal(a, pos, pattern):
    """Whether the bytes at ``pos`` (array of offsets) equal ``pattern``, per offset."""
    if pos.size == 0:
        return np.zeros(0, bool)
    pat = np.frombuffer(pattern, _U8)
    idx = pos[:, None] + np.arange(pat.size)
    # The rows holding a mismatch, from the flat positions of the mismatches
    # (all(axis=1) over rows of ~20 bytes is several times slower).
    out = np.ones(pos.shape[0], bool)
    out[np.flatnonzero(a[idx] != pat) // pat.size] = False
    return out


def parse_canonical(a, ds, dl, spec):
    """Walk the ``Features`` maps of all records at once.

    ``a`` (uint8) must hold at least :data:`PAD` bytes after the last record:
    positions are followed blindly (varints of at most 2 bytes, so at most
    16 kB past a record's start) and checked afterwards.

    Returns ``ok`` (records in the canonical layout, all read here), the
    payload offset of each float feature (``float_off[j]``), the packed
    label payload ``(lab_start, lab_end)`` and the id ``(id_start, id_end)``.
    Offsets of records that are not ok are meaningless.
    """

    def g(pos):  # the bytes at pos, as int64 (a has PAD bytes after the last record)
        return a[pos].astype(np.int64)

    n = ds.shape[0]
    ok = g(ds) == 0x0A
    length, width, good = _varint12(g, ds + 1)
    ok &= good
    p = ds + 1 + width
    fe = p + length
    de = ds + dl
    # The real records end with an empty field 2 ("12 00") after the Features.
    ok &= (fe == de) | ((fe == de - 2) & (g(fe) == 0x12) & (g(fe + 1) == 0))

    templates = spec.templates
    n_float = len(templates)
    keys = [b"id", b"labels"]
    float_off = [np.zeros(n, np.int64) for _ in templates]
    lab_start = np.zeros(n, np.int64)
    lab_end = np.zeros(n, np.int64)
    id_start = np.zeros(n, np.int64)
    id_end = np.zeros(n, np.int64)
    seen = np.zeros(n, np.int64)  # bit j: an entry of kind j was read
    for _ in range(n_float + 2):
        ok &= g(p) == 0x0A
        el, w, good = _varint12(g, p + 1)
        ok &= good
        c = p + 1 + w  # entry content: 0a kl key 12 ...
        ee = c + el
        ok &= (ee <= fe) & (g(c) == 0x0A)
        kl = g(c + 1)
        kind = np.full(n, -1, np.int64)
        for j, (head, _, _, nbytes) in enumerate(templates):
            rows = np.flatnonzero(ok & (kl == len(spec.keys[j])))
            match = rows[_all_equal(a, p[rows], head)]
            kind[match] = j
            float_off[j][match] = p[match] + len(head)
            # The header fixes the entry's length: payload end is the entry end.
            ok[match] &= p[match] + len(head) + nbytes == ee[match]
        for j, key in enumerate(keys, n_float):
            rows = np.flatnonzero(ok & (kind < 0) & (kl == len(key)))
            match = rows[_all_equal(a, c[rows] + 2, key)]
            kind[match] = j
        ok &= kind >= 0
        # id: 12 fl 0a bl 0a vl <bytes>; labels: 12 fl 1a ll [0a vl <varints>];
        # every length one byte (the lengths are checked against the entry's end).
        q = c + 2 + kl
        is_id = kind == n_float
        is_lab = kind == n_float + 1
        small = is_id | is_lab
        ll = g(q + 3)
        ok &= ~small | ((g(q) == 0x12) & (g(q + 1) == ee - q - 2) & (ll == ee - q - 4))
        ok &= ~is_id | ((g(q + 2) == 0x0A) & (g(q + 4) == 0x0A) & (g(q + 5) == ee - q - 6))
        ok &= ~is_lab | ((g(q + 2) == 0x1A)
                         & ((ll == 0) | ((g(q + 4) == 0x0A) & (g(q + 5) == ee - q - 6))))
        id_start = np.where(is_id, q + 6, id_start)
        id_end = np.where(is_id, ee, id_end)
        lab_start = np.where(is_lab, np.where(ll == 0, ee, q + 6), lab_start)
        lab_end = np.where(is_lab, ee, lab_end)
        bit = np.left_shift(1, np.maximum(kind, 0))
        ok &= (seen & bit) == 0  # a key repeated: protobuf keeps the last; decoded one by one
        seen |= bit
        p = np.where(ok, ee, fe)
    ok &= (p == fe) & (seen == (1 << (n_float + 2)) - 1)
    return ok, float_off, lab_start, lab_end, id_start, id_end


def decode_labels(a, starts, ends, n_classes):
    """Packed int64 varints of each record -> (flat values, counts, ok per record).

    Values of up to 3 bytes (< 2**21) are decoded here; a record with a
    longer varint, a varint cut by its end, or a label >= ``n_classes`` is
    not ok (the per-record decoder then reads it or words the error). The
    counts split the flat values by record for every record, ok or not.
    """
    n = starts.shape[0]
    lens = ends - starts
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(n, np.int64), np.ones(n, bool)
    first = np.zeros(n, np.int64)  # index of each record's first byte in the flat array
    np.cumsum(lens[:-1], out=first[1:])
    idx = np.arange(total, dtype=np.int64) + np.repeat(starts - first, lens)
    b = a[idx].astype(np.int64)
    term = b < 128
    ok = np.ones(n, bool)
    has = lens > 0
    ok[has] = term[first[has] + lens[has] - 1]  # no varint runs past its record
    # Byte position inside its varint: 0 after a terminator (or at a record start).
    vstart = np.empty(total, bool)
    vstart[0] = True
    vstart[1:] = term[:-1]
    vstart[first[has]] = True
    vid = np.cumsum(vstart) - 1
    starts_of_v = np.flatnonzero(vstart)
    shift = np.arange(total, dtype=np.int64) - starts_of_v[vid]
    long_v = shift >= 3
    values = np.add.reduceat((b & 127) << (7 * np.minimum(shift, 3)), starts_of_v)
    csum = np.zeros(total + 1, np.int64)
    np.cumsum(vstart, out=csum[1:])
    counts = csum[first + lens] - csum[first]
    # Per record: any varint of more than 3 bytes, or a value out of range.
    bad_byte = long_v.copy()
    if n_classes is not None:
        bad_byte[starts_of_v] |= values >= n_classes
    csum[1:] = np.cumsum(bad_byte)
    ok &= (csum[first + lens] - csum[first]) == 0
    return values, counts, ok


#: The module holding the record-by-record decoder (``_decode_video``, its
#: ``_Problem`` exception, ``_record_error``), for records outside the
#: canonical layout: ``skqrnn.io._yt8m``, which imports this module and
#: registers itself, so this module imports nothing of it (no import cycle).
#: Its names are looked up at each call, as an import would.
_RECORD_DECODER = None


def register_record_decoder(module):
    """Called once by ``skqrnn.io._yt8m`` when it is imported."""
    global _RECORD_DECODER
    _RECORD_DECODER = module


def decode_records(buf, ds, dl, spec, out, where):
    """Decode the records at data offsets ``ds`` (lengths ``dl``) of ``buf`` into ``out`` rows.

    ``out`` is a float32 (len(ds), width) array; ``where(i)`` gives the
    (path, record index) of record ``i`` for error messages. Returns
    ``(ids, label_values, label_counts, segments, skipped, keep)``: ``keep``
    is None, or a boolean mask of the rows to keep when ``on_error="skip"``
    dropped bad records (their rows in ``out`` are garbage).
    """
    from ._protobuf import DecodeError

    _decode_video = _RECORD_DECODER._decode_video
    _Problem, _record_error = _RECORD_DECODER._Problem, _RECORD_DECODER._record_error

    n = ds.shape[0]
    a = np.frombuffer(buf, _U8)
    mv = memoryview(buf)
    ok, float_off, lab_start, lab_end, id_start, id_end = parse_canonical(a, ds, dl, spec)
    values, counts, lab_ok = decode_labels(
        a, np.where(ok, lab_start, 0), np.where(ok, lab_end, 0), spec.n_classes
    )
    ok &= lab_ok
    bad = np.flatnonzero(~ok)
    ob = out.view(_U8)
    for (head, off, size, nbytes), offs in zip(spec.templates, float_off):
        if bad.size:
            offs[bad] = 0
        dest = ob[:, 4 * off : 4 * (off + size)]
        if nbytes >= _LOOP_BYTES:
            # One slice copy per row writes X in a single pass (a fancy
            # index builds the (n, nbytes) gather first, then copies it).
            for row, o in zip(dest, offs.tolist()):
                row[:] = a[o : o + nbytes]
        else:  # rows of nbytes bytes starting at any byte of buf: one gather
            win = as_strided(a, shape=(a.size - nbytes + 1, nbytes), strides=(1, 1),
                             writeable=False)
            dest[:] = win[offs]
    ids = _ids(buf, a, id_start, id_end) if not bad.size else None
    if ids is None:
        ids = [bytes(mv[s:e]).decode("utf-8", "replace")
               for s, e in zip(id_start.tolist(), id_end.tolist())]
    segments = None
    skipped = []
    keep = None
    if bad.size:
        per = np.split(values, np.cumsum(counts)[:-1])
        counts = counts.copy()
        sink = skipped if spec.on_error == "skip" else None
        for i in bad.tolist():
            rec = bytes(mv[ds[i] : ds[i] + dl[i]])
            try:
                vid, labs, segs = _decode_video(rec, spec, out[i])
            except (_Problem, DecodeError, IndexError) as exc:
                path, index = where(i)
                err = _record_error(path, index, exc, spec, rec)
                if sink is None:
                    raise err from None
                sink.append(err)
                if keep is None:
                    keep = np.ones(n, bool)
                keep[i] = False
                per[i] = per[i][:0]
                counts[i] = 0
                continue
            ids[i] = vid
            per[i] = np.asarray(labs, np.int64)
            counts[i] = len(labs)
            if segs is not None:
                if segments is None:
                    segments = [None] * n
                segments[i] = segs
        values = np.concatenate(per)
        if keep is not None:
            counts = counts[keep]
            ids = [v for v, k in zip(ids, keep.tolist()) if k]
            if segments is not None:
                segments = [v for v, k in zip(segments, keep.tolist()) if k]
    return ids, values, counts, segments, skipped, keep


def _padded(size):
    """An uninitialised uint8 buffer of ``size`` bytes followed by PAD zero bytes."""
    buf = np.empty(size + PAD, _U8)
    buf[size:] = 0
    return buf


def _ids(buf, a, starts, ends):
    """All ids as one str array when they are ASCII of one length (2018 ids: 4), else None."""
    n = starts.shape[0]
    if n == 0:
        return None
    k = int(ends[0] - starts[0])
    if k == 0 or not (ends - starts == k).all():
        return None
    b = a[starts[:, None] + np.arange(k)]
    if not ((b > 0) & (b < 128)).all():  # NUL or non-ASCII: decoded one by one
        return None
    return b.view(f"S{k}").ravel().astype(f"U{k}")


def _plain_local(path, spec):
    """Whether ``path`` may be an uncompressed local file (checked again on its bytes)."""
    if _is_url(path) or spec.compression in ("gzip", "zlib"):
        return False
    return spec.compression == "" or not path.lower().endswith(_GZIP_EXT + _ZLIB_EXT)


def read_video_file(path, spec, limit=None):
    """Read one whole uncompressed local shard at once (one shard per worker process).

    Returns ``None`` when this path does not apply (compressed or remote
    file, too large, a framing or CRC problem, records skipped under a
    ``limit``): the caller then reads the file record by record. Otherwise
    ``(X, ids, label_values, label_counts, segments, skipped)``.
    """
    if spec.templates is None or not _plain_local(path, spec):
        return None
    try:
        size = os.path.getsize(path)
    except OSError:
        return None
    if size == 0 or size > MAX_FAST_FILE:
        return None
    buf = _padded(size)
    with open(path, "rb") as f:
        got = f.readinto(memoryview(buf)[:size])
    if got != size or (spec.compression is None and _sniff(buf[:12].tobytes()) != ""):
        return None
    framed = frame_file(buf, 0, size, spec.verify_crc)
    if framed is None:
        return None
    ds, dl = framed
    if limit is not None and ds.shape[0] > limit:
        ds, dl = ds[:limit], dl[:limit]
    X = np.empty((ds.shape[0], spec.width), np.float32)
    ids, values, counts, segments, skipped, keep = decode_records(
        buf, ds, dl, spec, X, lambda i: (path, i)
    )
    if keep is not None:
        if limit is not None:
            return None  # fewer than limit kept: the record-by-record reader counts exactly
        X = X[keep]
    return X, ids, values, counts, segments, skipped


# Files read in one go by load_video_files: the numpy work per file is a few
# hundred small array operations, so small shards (real ones hold ~290
# videos) are decoded many at a time from one buffer.
GROUP_BYTES = 8 << 20


def load_video_files(files, spec, read_shard):
    """Single-process ``load_yt8m`` at video level: all files into one preallocated X.

    Shards are read in groups of up to :data:`GROUP_BYTES` into one buffer;
    the intact uncompressed ones are framed one by one and then decoded
    together; any other file (compressed, damaged, ...) is read by
    ``read_shard`` (the record-by-record reader) in its turn. X is allocated
    once, for the most rows the files can hold (a valid record carries at
    least 4 bytes per feature value), so the rows are written in place and
    no block is copied afterwards; unused rows are given back at the end
    (untouched pages of np.empty cost no memory meanwhile).

    Returns one result dict as ``read_shard`` does (the blocks: X), or None
    when some file is not a local uncompressed-looking file (the caller then
    reads shard by shard).
    """
    if spec.templates is None or not all(_plain_local(f, spec) for f in files):
        return None
    try:
        sizes = [os.path.getsize(f) for f in files]
    except OSError:
        return None
    row_bytes = 4 * spec.width + 16
    cap = sum(sizes) // row_bytes + 1
    X = np.empty((cap, spec.width), np.float32)
    n = 0
    id_parts, values, counts, skipped, empty = [], [], [], [], []
    segments = []  # (first row, list) pieces, only from records that have them

    def room(k):
        nonlocal X, cap
        if n + k > cap:  # a compressed file read by read_shard: grow (rare)
            cap = max(2 * cap, n + k)
            bigger = np.empty((cap, spec.width), np.float32)
            bigger[:n] = X[:n]
            X = bigger

    def add_shard(r):
        nonlocal n
        for b in r["blocks"]:
            room(b.shape[0])
            X[n : n + b.shape[0]] = b
            n += b.shape[0]
        id_parts.append(r["ids"])
        values.append(r["label_indices"])
        counts.append(r["label_counts"])
        skipped.extend(r["skipped"])
        empty.extend(r["empty_paths"])
        if r["segments"] is not None:
            segments.append((n - r["n"], r["segments"]))

    gbuf = None
    i = 0
    while i < len(files):
        group = [i]
        total = sizes[i]
        while group[-1] + 1 < len(files) and total + sizes[group[-1] + 1] <= GROUP_BYTES:
            group.append(group[-1] + 1)
            total += sizes[group[-1]]
        i = group[-1] + 1
        if gbuf is None or gbuf.size < total + PAD:
            gbuf = _padded(max(total, GROUP_BYTES))  # reused by the next groups
        gbuf[total : total + PAD] = 0
        buf = gbuf[: total + PAD]
        mv = memoryview(buf)
        starts, offs = [], []
        pos = 0
        for j in group:
            with open(files[j], "rb") as f:
                got = f.readinto(mv[pos : pos + sizes[j]])
            offs.append(pos)
            starts.append(got)
            pos += sizes[j]
        # Consecutive intact files are decoded together; the others in turn.
        batch = []  # (file index, ds, dl)

        def flush():
            nonlocal n
            if not batch:
                return
            ds = np.concatenate([b[1] for b in batch])
            dl = np.concatenate([b[2] for b in batch])
            first = np.cumsum([0] + [b[1].shape[0] for b in batch])
            k = ds.shape[0]
            room(k)
            out = X[n : n + k]

            def where(r):
                b = int(np.searchsorted(first, r, side="right")) - 1
                return files[batch[b][0]], r - int(first[b])

            got_ids, v, c, segs, sk, keep = decode_records(buf, ds, dl, spec, out, where)
            if keep is not None:
                out[: int(keep.sum())] = out[keep]
                k = int(keep.sum())
            if segs is not None:
                segments.append((n, segs))
            id_parts.append(got_ids)
            values.append(v)
            counts.append(c)
            skipped.extend(sk)
            n += k
            batch.clear()

        for j, off, got in zip(group, offs, starts):
            size = sizes[j]
            framed = None
            if size == 0:
                flush()
                empty.append(files[j])
                continue
            if got == size and size <= MAX_FAST_FILE and (
                spec.compression is not None or _sniff(bytes(mv[off : off + 12])) == ""
            ):
                framed = frame_file(buf, off, off + size, spec.verify_crc)
            if framed is None:
                flush()
                add_shard(read_shard(files[j], spec))
            else:
                batch.append((j, framed[0], framed[1]))
        flush()
    # Give back the rows not used (pages never written were never committed).
    X = X[:n].copy() if n < cap // 2 else _shrink(X, n)
    has_segments = bool(segments)
    seg_list = None
    if has_segments:
        seg_list = [None] * n
        for first, piece in segments:
            seg_list[first : first + len(piece)] = piece
    return {
        "path": None,
        "blocks": [X],
        "n": n,
        "ids": _join_ids(id_parts),
        "label_indices": np.concatenate(values) if values else np.zeros(0, np.int64),
        "label_counts": np.concatenate(counts) if counts else np.zeros(0, np.int64),
        "n_frames": [],
        "segments": seg_list,
        "skipped": skipped,
        "empty_paths": empty,
    }


def _join_ids(parts):
    """One str array from arrays and lists of ids (as np.array(all ids, dtype=str) gives)."""
    parts = [np.asarray(p, dtype=str) for p in parts if len(p)]
    if not parts:
        return np.empty(0, dtype="<U1")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _shrink(X, n):
    """``X[:n]`` as an array that owns its memory, without copying when numpy can resize."""
    try:
        X.resize((n, X.shape[1]), refcheck=False)
        return X
    except (ValueError, SystemError):
        return X[:n].copy()
