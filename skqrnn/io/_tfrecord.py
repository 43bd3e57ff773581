"""TFRecord framing: paths, compression, masked CRC-32C, record reading and writing.

A TFRecord file is a sequence of ``uint64 length | uint32 masked_crc32c(length)
| data | uint32 masked_crc32c(data)`` (little endian), optionally GZIP- or
ZLIB-compressed as one stream. Nothing here knows about protobuf.
"""

import glob
import gzip
import os
import struct
import zlib

from ._errors import (
    YT8MFormatError,
    check_max_record_bytes,
    check_on_error,
    warn_empty,
    warn_skipped,
)

try:  # C-accelerated CRC-32C (a declared dependency); pure Python is ~100x slower.
    from google_crc32c import value as _crc32c
except ImportError:  # pragma: no cover - exercised only without the dependency
    _crc32c = None

__all__ = [
    "masked_crc32c",
    "expand_paths",
    "open_stream",
    "read_records",
    "write_records",
    "RecordReader",
    "MAX_RECORD_BYTES",
]

_LEN = struct.Struct("<Q")
_HEAD = struct.Struct("<QI")
_U32 = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8
_CHUNK = 1 << 20  # bytes read from the stream at a time
# A corrupt length header must not make us allocate it: data is read in
# pieces of at most this size until the record is complete or the file ends.
_MAX_PIECE = 64 << 20
#: Default cap on one record's length in a stream whose size is unknown before
#: it is read (GZIP/ZLIB files, remote files that report no size): a length
#: header above it is refused before any of the record is buffered. YouTube-8M
#: records are ~5 kB (video level) to ~0.5 MB (frame level, 360 frames), so
#: 64 MiB leaves a wide margin; a corrupt header inside a compressed stream
#: would otherwise make the reader hold everything that decompresses
#: (hundreds of MB from a file of well under a MB) before it could fail.
MAX_RECORD_BYTES = 64 << 20
# DEFLATE (GZIP and ZLIB) inflates at most 1032:1 (a 258-byte match coded in
# 2 bits). Remaining compressed bytes x this ratio bound the data still to come;
# the slack covers what the decompressor holds between calls (a match in progress).
_MAX_INFLATE_RATIO = 1032
_INFLATE_SLACK = 1 << 16

_COMPRESSIONS = {"": "", "none": "", "gzip": "gzip", "zlib": "zlib"}
_GZIP_EXT = (".gz", ".gzip")
_ZLIB_EXT = (".zz", ".zlib")


def _crc32c_py(data, crc=0):  # pragma: no cover - fallback, slow
    table = _crc32c_py.table
    if table is None:
        table = []
        for i in range(256):
            c = i
            for _ in range(8):
                c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
            table.append(c)
        _crc32c_py.table = table
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


_crc32c_py.table = None
if _crc32c is None:  # pragma: no cover
    _crc32c = _crc32c_py


def masked_crc32c(data):
    """TFRecord's masked CRC-32C (Castagnoli) of ``data`` (bytes).

    Examples
    --------
    >>> from skqrnn.io import masked_crc32c
    >>> hex(masked_crc32c(b"123456789"))
    '0xc78ab0e5'
    """
    crc = _crc32c(bytes(data))
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# --------------------------------------------------------------------------- paths
def _is_url(path):
    return "://" in path and not path.startswith("file://")


def _has_magic(path):
    return any(c in path for c in "*?[")


def _is_shard_name(name):
    return ".tfrec" in name.lower()


def _fsspec():
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            "Reading remote URLs (gs://, s3://, http://, ...) needs fsspec and the "
            "file system's package, e.g. `pip install fsspec gcsfs` for gs://."
        ) from None
    return fsspec


def expand_paths(paths):
    """Expand files, glob patterns and directories into a sorted list of files.

    Parameters
    ----------
    paths : str, os.PathLike or iterable of them
        Each item is a file, a glob pattern (``train*.tfrecord``) or a
        directory (its files whose name contains ``.tfrec``, e.g.
        ``train0000.tfrecord``, ``x.tfrecords.gz``). URLs with a scheme
        (``gs://bucket/train*.tfrecord``) go through fsspec.

    Returns
    -------
    list of str
        In the order given; each pattern or directory sorted by name.

    Raises
    ------
    FileNotFoundError
        When an item matches no file (the message names the item).
    """
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    out = []
    for item in paths:
        p = os.fsdecode(item)
        if p.startswith("file://"):
            p = p[len("file://") :]
        if _is_url(p):
            fs, _, found = _fsspec().get_fs_token_paths(p)
            protocol = fs.protocol[0] if isinstance(fs.protocol, (tuple, list)) else fs.protocol
            files = []
            for f in found:
                if fs.isdir(f):
                    files.extend(
                        x for x in sorted(fs.ls(f, detail=False)) if _is_shard_name(x.rsplit("/", 1)[-1])
                    )
                elif fs.isfile(f):
                    files.append(f)
            files = [f if "://" in f else f"{protocol}://{f}" for f in files]
        elif os.path.isdir(p):
            files = sorted(
                os.path.join(p, n)
                for n in os.listdir(p)
                if _is_shard_name(n) and os.path.isfile(os.path.join(p, n))
            )
            if not files:
                raise FileNotFoundError(
                    f"{p}: directory holds no TFRecord file (names containing '.tfrec')"
                )
        elif _has_magic(p):
            files = sorted(f for f in glob.glob(p) if os.path.isfile(f))
        elif os.path.isfile(p):
            files = [p]
        else:
            raise FileNotFoundError(f"{p}: no such file")
        if not files:
            raise FileNotFoundError(f"{p}: pattern matches no file")
        out.extend(files)
    if not out:
        raise FileNotFoundError("no path given")
    return out


# --------------------------------------------------------------------- compression
def _check_compression(compression):
    if compression is None:
        return None
    key = str(compression).lower()
    if key not in _COMPRESSIONS:
        raise ValueError(
            f"compression must be None (detect), '', 'gzip' or 'zlib', got {compression!r}"
        )
    return _COMPRESSIONS[key]


class _InflateReader:
    """File-like ``read(n)`` over a GZIP or ZLIB stream (TF's compression_type).

    Not ``gzip.GzipFile``: its ``read`` raises EOFError on a truncated file
    and drops what it had decompressed of that chunk (up to a MiB of intact
    records), and closing it leaves the file it was given open. Here every
    byte that decompresses is returned first; the error (truncation, corrupt
    data, a failed read) is raised by the next ``read``, so the reader sees
    each complete record and the error lands on the first incomplete one.
    ``close`` closes the underlying file.

    GZIP as gzip.GzipFile reads it: members one after another, zero bytes of
    padding between them ignored. ZLIB: one stream (bytes after it ignored).
    A stream that ends before its end marker raises EOFError, even when it
    ends on a record boundary (the framing alone cannot tell).
    """

    def __init__(self, raw, kind, raw_size=None):
        self._raw = raw
        self._raw_size = raw_size  # compressed bytes in the file, None if unknown
        self._kind = kind
        self._wbits = 16 + zlib.MAX_WBITS if kind == "gzip" else zlib.MAX_WBITS
        self._d = None  # decompressor of the current member; None between members
        self._input = b""  # compressed bytes for the next member
        self._pending = b""  # decompressed, not returned yet
        self._members = 0  # members finished
        self._error = None  # raised once _pending is drained
        self._eof = False

    def read(self, n):
        out = []
        have = 0
        while have < n:
            pending = self._pending
            if pending:
                if len(pending) <= n - have:
                    piece, self._pending = pending, b""
                else:
                    piece, self._pending = pending[: n - have], pending[n - have :]
                out.append(piece)
                have += len(piece)
                continue
            if self._eof or self._error is not None:
                break
            try:
                self._fill(max(n - have, _CHUNK))
            except (OSError, EOFError, zlib.error) as exc:
                self._error = exc
        if not out and self._error is not None:
            raise self._error
        return b"".join(out)

    def _fill(self, size):
        """Decompress some more into ``_pending`` (or set ``_eof``/``_error``)."""
        d = self._d
        if d is None:  # before the first member or between two
            data = self._input or self._raw.read(_CHUNK)
            self._input = b""
            if not data:
                self._eof = True
                return
            if self._members:
                data = data.lstrip(b"\0")  # padding after a member, as GzipFile allows
                if not data:
                    return
            if self._kind == "gzip" and not data.startswith(b"\x1f\x8b"[: len(data)]):
                # zlib would say "incorrect header check"; GzipFile's words are clearer.
                raise gzip.BadGzipFile(f"Not a gzipped file ({data[:2]!r})")
            d = self._d = zlib.decompressobj(self._wbits)
        else:
            data = d.unconsumed_tail or self._raw.read(_CHUNK)
            if not data:
                # The file ends inside a member: hand out what is left, then fail.
                self._pending = d.flush()
                self._error = EOFError(
                    f"truncated {self._kind.upper()} stream: the file ends before the "
                    "end-of-stream marker"
                )
                return
        self._pending = d.decompress(data, size)
        if d.eof:
            self._members += 1
            if self._kind == "gzip":
                self._d = None
                self._input = d.unused_data
            else:
                self._eof = True

    def max_remaining(self):
        """An upper bound of the bytes ``read`` can still return, or None if unknown.

        What is decompressed and not returned yet, plus DEFLATE's largest
        expansion (1032:1) of the compressed bytes not consumed yet.
        """
        if self._raw_size is None:
            return None
        try:
            left = max(self._raw_size - self._raw.tell(), 0)
        except (OSError, ValueError, AttributeError):
            return None
        left += len(self._input)
        if self._d is not None:
            left += len(self._d.unconsumed_tail)
        return len(self._pending) + _MAX_INFLATE_RATIO * left + _INFLATE_SLACK

    def close(self):
        self._d = None
        self._raw.close()


def _sniff(head):
    """Guess the compression from the first bytes of a stream."""
    if len(head) >= 12:
        length = head[:8]
        (stored,) = _U32.unpack_from(head, 8)
        if masked_crc32c(length) == stored:
            return ""  # a valid uncompressed record header
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if len(head) >= 2 and head[0] & 0x0F == 8 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    return ""


def _open_raw(path):
    if _is_url(path):
        return _fsspec().open(path, "rb").open()
    return open(path, "rb")


def _raw_size(raw, path):
    """Byte size of an open file, or None when it cannot be known without reading it."""
    if not _is_url(path):
        return os.fstat(raw.fileno()).st_size
    size = getattr(raw, "size", None)  # fsspec's buffered files know it
    return size if isinstance(size, int) and size >= 0 else None


def open_stream(path, compression=None):
    """Open ``path`` for reading its decompressed TFRecord stream.

    ``compression=None`` detects it: ``.gz``/``.gzip`` → GZIP, ``.zz``/``.zlib``
    → ZLIB, otherwise the first bytes decide (a valid record header means
    uncompressed; else the GZIP or ZLIB magic). Returns ``(fileobj, size)``
    where ``size`` is the byte size of an uncompressed file when it is known
    (local files; remote ones whose file system reports it), else None.
    """
    compression = _check_compression(compression)
    path = os.fspath(path)
    raw = _open_raw(path)
    try:
        if compression is None:
            lower = path.lower()
            if lower.endswith(_GZIP_EXT):
                compression = "gzip"
            elif lower.endswith(_ZLIB_EXT):
                compression = "zlib"
            else:
                head = raw.read(12)
                compression = _sniff(head)
                raw.seek(0)
        if compression in ("gzip", "zlib"):
            return _InflateReader(raw, compression, _raw_size(raw, path)), None
        return raw, _raw_size(raw, path)
    except BaseException:
        raw.close()
        raise


# ------------------------------------------------------------------------- reading
def _read_failure(exc, truncated):
    """The reason for a read that raised; ``truncated`` says what an EOFError cut short."""
    if isinstance(exc, EOFError):  # _InflateReader: compressed stream cut short
        return f"{truncated} ({exc})"
    return f"cannot decompress/read the stream: {exc}"


def _iter_file(fobj, path, size, verify_crc, skipped, max_record_bytes=MAX_RECORD_BYTES,
               empty=None):
    """Yield ``(index, data)`` for each record of one open stream.

    Framing errors (bad header, truncation) end the file: the position of the
    next record is unknown. A data CRC mismatch does not: with ``skipped``
    a list, the error is appended to it and reading goes on.

    A stream with no byte at all (a 0-byte file, or a compressed one that
    decompresses to nothing: what TensorFlow's writer leaves when no record
    is written) holds zero records, as tf.data reads it; ``path`` is then
    appended to ``empty`` when it is a list.

    A length header is checked before the record is buffered: against the
    bytes left in the file when ``size`` is known, else against
    ``max_record_bytes`` and against the most the rest of a compressed
    stream can decompress to (``fobj.max_remaining()``).
    """
    buf = b""
    pos = 0
    base = 0  # stream offset of buf[0]
    index = 0
    try:
        first = fobj.read(_CHUNK)
    except (OSError, EOFError, zlib.error) as exc:
        raise YT8MFormatError(
            path, 0, _read_failure(exc, "truncated file: not one byte decompresses"), 0
        ) from exc
    if not first:
        if empty is not None:
            empty.append(path)
        return
    bound = None if size is not None else getattr(fobj, "max_remaining", None)
    buf = first
    while True:
        avail = len(buf) - pos
        if avail < 12:
            try:
                more = fobj.read(_CHUNK)
            except (OSError, EOFError, zlib.error) as exc:
                raise YT8MFormatError(
                    path,
                    index,
                    _read_failure(
                        exc,
                        f"truncated record: {avail} byte(s) at the end of the stream, "
                        "a record header needs 12"
                        if avail
                        else "truncated file: the stream ends after the last complete record",
                    ),
                    base + pos,
                ) from exc
            if not more:
                if avail == 0:
                    return
                raise YT8MFormatError(
                    path,
                    index,
                    f"truncated record: {avail} byte(s) at the end of the file, "
                    "a record header needs 12",
                    base + pos,
                )
            buf = buf[pos:] + more
            base += pos
            pos = 0
            continue
        length, stored = _HEAD.unpack_from(buf, pos)
        if verify_crc:
            got = _crc32c(buf[pos : pos + 8])
            got = (((got >> 15) | (got << 17)) + _MASK_DELTA) & 0xFFFFFFFF
            if got != stored:
                raise YT8MFormatError(
                    path,
                    index,
                    f"length header CRC mismatch (stored 0x{stored:08x}, computed "
                    f"0x{got:08x}): corrupt header, or not an uncompressed TFRecord file",
                    base + pos,
                )
        need = 16 + length
        if size is None and length > max_record_bytes:
            raise YT8MFormatError(
                path,
                index,
                f"record length header says {length} bytes, above max_record_bytes="
                f"{max_record_bytes} (the cap on one record of a compressed or remote "
                "stream, checked before the record is buffered): corrupt header, or pass "
                "a larger max_record_bytes if the record is real",
                base + pos,
            )
        if len(buf) - pos < need:
            most = None if bound is None else bound()
            if most is not None and need > len(buf) - pos + most:
                raise YT8MFormatError(
                    path,
                    index,
                    f"record length header says {length} bytes but the rest of the "
                    f"compressed file decompresses to at most {len(buf) - pos + most - 16} "
                    "bytes (+4 CRC) (DEFLATE expands at most 1032:1): truncated or corrupt "
                    "stream",
                    base + pos,
                )
            if size is not None and base + pos + need > size:
                raise YT8MFormatError(
                    path,
                    index,
                    f"record length header says {length} bytes but only "
                    f"{max(size - base - pos - 16, 0)} bytes of data (+4 CRC) remain in the "
                    "file (truncated or corrupt file)",
                    base + pos,
                )
            parts = [buf[pos:]]
            have = len(buf) - pos
            while have < need:
                try:
                    more = fobj.read(min(max(_CHUNK, need - have), _MAX_PIECE))
                except (OSError, EOFError, zlib.error) as exc:
                    raise YT8MFormatError(
                        path,
                        index,
                        _read_failure(
                            exc,
                            f"truncated record: length header says {length} bytes of data "
                            f"(+4 CRC) but the stream ends after {have - 12}",
                        ),
                        base + pos,
                    ) from exc
                if not more:
                    raise YT8MFormatError(
                        path,
                        index,
                        f"truncated record: length header says {length} bytes of data "
                        f"(+4 CRC) but the file ends after {have - 12}",
                        base + pos,
                    )
                parts.append(more)
                have += len(more)
            buf = b"".join(parts)
            base += pos
            pos = 0
        end = pos + need
        data = buf[pos + 12 : end - 4]
        if verify_crc:
            (stored,) = _U32.unpack_from(buf, end - 4)
            got = _crc32c(data)
            got = (((got >> 15) | (got << 17)) + _MASK_DELTA) & 0xFFFFFFFF
            if got != stored:
                err = YT8MFormatError(
                    path,
                    index,
                    f"data CRC mismatch (stored 0x{stored:08x}, computed 0x{got:08x})",
                    base + pos,
                )
                if skipped is None:
                    raise err
                skipped.append(err)
                pos = end
                index += 1
                continue
        yield index, data
        index += 1
        pos = end


def iter_file_records(path, compression=None, verify_crc=True, skipped=None,
                      max_record_bytes=MAX_RECORD_BYTES, empty=None):
    """Yield ``(index, data)`` for one file; ``skipped`` (a list) enables skip mode.

    In skip mode every error is appended to ``skipped`` and reading goes on
    where it can (the next record after a data CRC mismatch, else the next file).
    ``empty`` (a list) gets ``path`` appended when the file holds no byte.
    """
    try:
        fobj, size = open_stream(path, compression)
    except OSError as exc:
        err = YT8MFormatError(path, None, f"cannot open: {exc}")
        if skipped is None:
            raise err from exc
        skipped.append(err)
        return
    try:
        yield from _iter_file(fobj, path, size, verify_crc, skipped, max_record_bytes, empty)
    except YT8MFormatError as err:
        if skipped is None:
            raise
        if err.record_index is not None:
            err = YT8MFormatError(
                err.path, err.record_index, err.reason + " (rest of the file skipped)", err.offset
            )
        skipped.append(err)
    finally:
        fobj.close()


class RecordReader:
    """Iterable of the raw records (``bytes``) of one or many TFRecord files.

    Returned by :func:`read_records`. Iterating it again reads the files
    again. After a pass, :attr:`skipped` lists the errors that were skipped
    (``on_error="skip"``), :attr:`n_skipped` counts them and
    :attr:`empty_files` lists the files that held no record.
    """

    def __init__(self, paths, *, compression=None, verify_crc=True, on_error="raise",
                 max_record_bytes=MAX_RECORD_BYTES):
        self.paths = expand_paths(paths)
        self.compression = _check_compression(compression)
        self.verify_crc = bool(verify_crc)
        self.on_error = check_on_error(on_error)
        self.max_record_bytes = check_max_record_bytes(max_record_bytes)
        self.skipped = []
        self.empty_files = []

    @property
    def n_skipped(self):
        return len(self.skipped)

    def __iter__(self):
        self.skipped = []
        self.empty_files = []
        sink = self.skipped if self.on_error == "skip" else None
        for path in self.paths:
            for _, data in iter_file_records(path, self.compression, self.verify_crc, sink,
                                             self.max_record_bytes, self.empty_files):
                yield data
        warn_empty(self.empty_files, len(self.paths))
        warn_skipped(self.skipped)

    def __repr__(self):
        return f"RecordReader({len(self.paths)} file(s), compression={self.compression!r})"


def read_records(paths, *, compression=None, verify_crc=True, on_error="raise",
                 max_record_bytes=MAX_RECORD_BYTES):
    """Iterate the raw records of one or many TFRecord files.

    Parameters
    ----------
    paths : str, os.PathLike or iterable of them
        Files, glob patterns, directories or URLs (``gs://...`` through
        fsspec when it is installed); see :func:`expand_paths`.
    compression : {None, '', 'gzip', 'zlib'}, default=None
        None detects it per file (extension, then the first bytes).
    verify_crc : bool, default=True
        Check both masked CRC-32C checksums of every record.
    on_error : {'raise', 'skip'}, default='raise'
        'raise' raises :class:`YT8MFormatError` (naming the file, the record
        index and the problem). 'skip' drops bad records (after a framing
        error, the rest of that file), warns once with the count, and keeps
        the errors in ``reader.skipped``.
    max_record_bytes : int, default=64 MiB
        Largest record accepted from a stream whose size is unknown before
        it is read: GZIP/ZLIB files and remote files that report no size. A
        length header above it is refused (:class:`YT8MFormatError`) before
        any of the record is buffered, and so is one above what the rest of
        a compressed file can decompress to (DEFLATE expands at most
        1032:1). Uncompressed files of known size check every length header
        against the bytes left in the file instead, whatever its value.

    Returns
    -------
    RecordReader
        Iterable of ``bytes``, one per record, file by file in path order.

    Raises
    ------
    FileNotFoundError
        A path matching no file (raised at once, not on iteration).

    Warns
    -----
    EmptyFileWarning
        Once per pass, naming the files of 0 bytes (what TensorFlow's writer
        leaves when no record is written). They hold zero records, as
        ``tf.data`` reads them.

    Examples
    --------
    >>> import os, tempfile
    >>> from skqrnn.io import read_records, write_records
    >>> path = os.path.join(tempfile.mkdtemp(), "x.tfrecord")
    >>> write_records(path, [b"abc", b""])
    2
    >>> list(read_records(path))
    [b'abc', b'']
    """
    return RecordReader(paths, compression=compression, verify_crc=verify_crc, on_error=on_error,
                        max_record_bytes=max_record_bytes)


# ------------------------------------------------------------------------- writing
def frame_record(data):
    """One record's bytes with its TFRecord framing."""
    data = bytes(data)
    length = _LEN.pack(len(data))
    return b"".join(
        (length, _U32.pack(masked_crc32c(length)), data, _U32.pack(masked_crc32c(data)))
    )


def write_records(path, records, *, compression=None):
    """Write ``records`` (an iterable of bytes) as one TFRecord file.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (a URL goes through fsspec).
    records : iterable of bytes
    compression : {None, '', 'gzip', 'zlib'}, default=None
        None picks GZIP for ``.gz``/``.gzip`` names, ZLIB for ``.zz``/``.zlib``,
        otherwise none.

    Returns
    -------
    int
        The number of records written.
    """
    compression = _check_compression(compression)
    path = os.fspath(path)
    if compression is None:
        lower = path.lower()
        compression = (
            "gzip" if lower.endswith(_GZIP_EXT) else "zlib" if lower.endswith(_ZLIB_EXT) else ""
        )
    raw = _fsspec().open(path, "wb").open() if _is_url(path) else open(path, "wb")
    n = 0
    with raw:
        if compression == "gzip":
            out = gzip.GzipFile(fileobj=raw, mode="wb")
            write = out.write
        elif compression == "zlib":
            out = zlib.compressobj()

            def write(b):
                raw.write(out.compress(b))

        else:
            out = None
            write = raw.write
        for rec in records:
            write(frame_record(rec))
            n += 1
        if compression == "gzip":
            out.close()
        elif compression == "zlib":
            raw.write(out.flush())
    return n


def count_records(path, compression=None, max_record_bytes=MAX_RECORD_BYTES):
    """Number of records in one file, reading only the length headers where it can."""
    fobj, size = open_stream(path, compression)
    n = 0
    try:
        if size is not None:
            pos = 0
            while pos < size:
                fobj.seek(pos)
                head = fobj.read(8)
                if len(head) < 8:
                    break
                pos += 16 + _LEN.unpack(head)[0]
                n += 1
            return n
        for _ in _iter_file(fobj, path, size, False, [], max_record_bytes):
            n += 1
        return n
    finally:
        fobj.close()
