"""The one exception raised for malformed YouTube-8M / TFRecord input."""

import warnings

__all__ = ["YT8MFormatError", "SkippedRecordsWarning", "EmptyFileWarning"]


class YT8MFormatError(ValueError):
    """A TFRecord file or a record in it is not what YouTube-8M readers expect.

    The message always names the file, the record index (0-based, counted
    from the start of the file) and what is wrong, e.g.::

        train0007.tfrecord: record 12 (byte offset 53810): data CRC mismatch
        (stored 0x1a2b3c4d, computed 0x5e6f7a8b)

    Attributes
    ----------
    path : str
        The file.
    record_index : int or None
        Index of the bad record in that file (None when the problem is not
        tied to a record).
    reason : str
        What is wrong, without the location.
    offset : int or None
        Byte offset of the record's header in the (decompressed) stream.
    """

    def __init__(self, path, record_index, reason, offset=None):
        self.path = str(path)
        self.record_index = record_index
        self.reason = reason
        self.offset = offset
        where = self.path
        if record_index is not None:
            where += f": record {record_index}"
        if offset is not None:
            where += f" (byte offset {offset})"
        super().__init__(f"{where}: {reason}")

    def __reduce__(self):
        # Keep the attributes when the error crosses a process boundary (n_jobs > 1).
        return (type(self), (self.path, self.record_index, self.reason, self.offset))


class SkippedRecordsWarning(UserWarning):
    """Issued once per read when ``on_error="skip"`` dropped bad records."""


class EmptyFileWarning(UserWarning):
    """Issued once per read when some files hold no record (0 bytes of data).

    TensorFlow's ``TFRecordWriter`` leaves such a file when nothing is
    written, and ``tf.data`` reads it as zero records; so do skqrnn's
    readers. The warning names the files, as an empty file can also be a
    failed copy.
    """


def check_on_error(on_error):
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    return on_error


def check_max_record_bytes(max_record_bytes):
    if isinstance(max_record_bytes, bool) or int(max_record_bytes) != max_record_bytes or (
        max_record_bytes < 1
    ):
        raise ValueError(
            f"max_record_bytes must be a positive integer, got {max_record_bytes!r}"
        )
    return int(max_record_bytes)


def warn_empty(paths, n_files, stacklevel=3):
    """Name the files that held no record (read as zero records)."""
    if not paths:
        return
    names = ", ".join(str(p) for p in paths[:5])
    more = f" (and {len(paths) - 5} more)" if len(paths) > 5 else ""
    warnings.warn(
        f"{len(paths)} of {n_files} file(s) hold no data (0 bytes, or a compressed stream of "
        f"0 bytes) and were read as zero records, as tf.data reads them: {names}{more}",
        EmptyFileWarning,
        stacklevel=stacklevel,
    )


def warn_skipped(skipped, stacklevel=3):
    """Say how many records were skipped and why (the first few reasons)."""
    if not skipped:
        return
    head = "; ".join(str(e) for e in skipped[:3])
    more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
    warnings.warn(
        f"on_error='skip': skipped {len(skipped)} bad record(s) or file tail(s): {head}{more}",
        SkippedRecordsWarning,
        stacklevel=stacklevel,
    )
