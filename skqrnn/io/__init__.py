"""YouTube-8M TFRecord input/output without TensorFlow.

Reads and writes the files of Google's YouTube-8M dataset exactly as the
starter code (google/youtube-8m) reads them: TFRecord framing with CRC
checks, GZIP/ZLIB streams, ``tf.train.Example`` (video level) and
``tf.train.SequenceExample`` (frame level) records, dequantization.
Imports numpy, scipy and google-crc32c only (never TensorFlow or Keras).

Public API
----------
load_yt8m, iter_yt8m, write_yt8m
    Whole datasets in memory, bounded-memory batch streams, writer.
read_records, write_records, expand_paths, masked_crc32c
    Raw TFRecord files.
decode_example, decode_sequence_example, encode_example, encode_sequence_example
    The protobuf messages.
dequantize, quantize
    The starter code's uint8 <-> float mapping.
YT8MFormatError, SkippedRecordsWarning
    Bad input.
EmptyFileWarning, MAX_RECORD_BYTES
    Files of 0 bytes (read as zero records); the cap on one record's length
    in a compressed or remote stream.
"""

from ._errors import EmptyFileWarning, SkippedRecordsWarning, YT8MFormatError
from ._protobuf import (
    decode_example,
    decode_sequence_example,
    encode_example,
    encode_sequence_example,
)
from ._tfrecord import (
    MAX_RECORD_BYTES,
    RecordReader,
    expand_paths,
    masked_crc32c,
    read_records,
    write_records,
)
from ._yt8m import (
    UINT8_PAD_VALUE,
    YT8MBatches,
    YT8MData,
    dequantize,
    iter_yt8m,
    load_yt8m,
    quantize,
    write_yt8m,
)

__all__ = [
    "load_yt8m",
    "iter_yt8m",
    "write_yt8m",
    "read_records",
    "write_records",
    "expand_paths",
    "masked_crc32c",
    "decode_example",
    "decode_sequence_example",
    "encode_example",
    "encode_sequence_example",
    "dequantize",
    "quantize",
    "UINT8_PAD_VALUE",
    "YT8MData",
    "YT8MBatches",
    "RecordReader",
    "YT8MFormatError",
    "SkippedRecordsWarning",
    "EmptyFileWarning",
    "MAX_RECORD_BYTES",
]
