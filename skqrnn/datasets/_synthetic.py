"""Synthetic YouTube-8M-like data written as real TFRecord shards (make_yt8m)."""

import math
import os
import tempfile
from itertools import islice

import numpy as np

from ..io._tfrecord import write_records
from ..io._yt8m import _LUT, KNOWN_SIZES, _encode_records, _Spec, load_yt8m, quantize

__all__ = ["make_yt8m", "temporal_class_pairs", "order_accuracy"]

_ZIPF_EXPONENT = 0.95  # label frequency ~ rank^-0.95: top classes in ~19%, 12%, 8% of videos
_EXTRA_LABELS = 1.7  # labels per video = 1 + Poisson(1.7), plus the order label of some videos
_MAX_LABELS = 23  # the most labels a real 2018 video has
_RGB_STD, _AUDIO_STD = 0.44, 0.66  # per-dimension std of the real video-level features
_SIGNAL = 0.5  # share of the feature variance explained by the labels
_CHUNK = {"video": 1024, "frame": 32}  # videos generated at once (bounds memory)
_LO, _HI = float(_LUT[0]), float(_LUT[255])  # the dequantized range


def _check_int(name, v, lo):
    if isinstance(v, bool) or int(v) != v or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def make_yt8m(
    n_videos=1000,
    *,
    n_classes=3862,
    level="video",
    n_frames=(120, 300),
    n_temporal_pairs=None,
    temporal_rate=0.3,
    n_shards=None,
    directory=None,
    prefix="train",
    compression=None,
    random_state=None,
    return_data=False,
):
    """Write synthetic YouTube-8M data, in the real format, as TFRecord shards.

    The shards are byte-for-byte in the format of the real dataset (read
    them with :func:`skqrnn.io.load_yt8m` or TensorFlow) and follow its
    statistics: long-tailed label frequencies, about 3 labels per video,
    features in the dequantized range with the real per-dimension spread.
    At frame level, some classes depend only on the *order* of two events in
    time, which a mean over frames cannot see.

    Generative process (one RNG, ``random_state``):

    1. **Order classes.** The last ``2 * n_temporal_pairs`` classes form
       pairs ``(c_j, c_j + 1)``; pair ``j`` has two random event directions
       ``A_j``, ``B_j`` (unit-variance vectors of the 1152 features).
    2. **Labels.** Each video gets ``1 + Poisson(1.7)`` (at most 23) distinct
       ordinary classes drawn without replacement with probability
       proportional to ``(rank + 1) ** -0.95`` (class 0 is the most frequent,
       in about 19% of videos, as in the real vocabulary). With probability
       ``temporal_rate`` it also gets one order class: a pair ``j`` uniformly
       and ``c_j`` ("A before B") or ``c_j + 1`` ("B before A") with equal
       odds. Mean: ~3 labels per video.
    3. **Frames** (frame level). ``T`` frames, ``T`` uniform in ``n_frames``
       (an int: fixed). Every class has a random prototype ``mu_c``. Frame
       ``t`` = ``sqrt(signal) * sum over the video's ordinary labels of
       mu_c / sqrt(K)``, each label active only during a random span of at
       least half the video, + a per-video offset + per-frame Gaussian
       noise, scaled per dimension (rgb 0.44, audio 0.66, like the real
       data). For an order class, ``A_j`` is added (amplitude 1.5) during a
       window of ``max(2, T // 8)`` frames and ``B_j`` during another
       window, the earlier window holding ``A_j`` for ``c_j`` and ``B_j`` for
       ``c_j + 1``: both orders have the same frames up to their order, so
       the same mean over frames. Values are clipped to the dequantized
       range and quantized to uint8 exactly as the reader dequantizes.
    4. **Video level.** float32 ``sqrt(signal) * sum mu_c / sqrt(K)`` +
       Gaussian noise, scaled per dimension like the real features and
       clipped to the dequantized range; an order class adds
       ``1.5 / 8 * (A_j + B_j)`` whatever its order, so at video level the
       two classes of a pair cannot be told apart (their order is lost in
       the mean, as it is in real video-level features).

    Parameters
    ----------
    n_videos : int, default=1000
    n_classes : int, default=3862
        At least ``2 * n_temporal_pairs + 1``.
    level : {'video', 'frame'}, default='video'
    n_frames : int or (int, int), default=(120, 300)
        Frame level: frames per video, fixed or uniform in [low, high].
    n_temporal_pairs : int, optional
        Pairs of order classes; default ``min(8, max(1, n_classes // 10))``
        (0 when ``n_classes < 3``).
    temporal_rate : float, default=0.3
        Share of videos with an order label.
    n_shards : int, optional
        Default ``ceil(n_videos / 1000)``.
    directory : str or os.PathLike, optional
        Where to write ``{prefix}0000.tfrecord`` …; default a new
        temporary directory (``tempfile.mkdtemp``) that the caller owns.
    prefix : str, default='train'
    compression : {None, '', 'gzip', 'zlib'}, default=None
        None (and '') write uncompressed ``.tfrecord``; 'gzip' writes
        ``.tfrecord.gz``, 'zlib' ``.tfrecord.zz``.
    random_state : int, optional
    return_data : bool, default=False
        Also read the shards back and return what
        :func:`skqrnn.io.load_yt8m` gives for them (uint8 frames at frame
        level), with the extra key ``temporal_classes`` ((P, 2) array of
        the order class pairs).

    Returns
    -------
    paths : list of str
        The shards written, or with ``return_data=True`` a
        :class:`skqrnn.io.YT8MData` (its ``paths`` key holds them).

    Examples
    --------
    >>> from skqrnn.datasets import make_yt8m
    >>> from skqrnn.io import load_yt8m
    >>> paths = make_yt8m(50, n_classes=20, level="frame", n_frames=10, random_state=0)
    >>> data = load_yt8m(paths, level="frame", n_classes=20, max_frames=10)
    >>> data.X.shape, data.y.shape
    ((50, 10, 1152), (50, 20))
    """
    n_videos = _check_int("n_videos", n_videos, 1)
    n_classes = _check_int("n_classes", n_classes, 1)
    if level not in ("video", "frame"):
        raise ValueError(f"level must be 'video' or 'frame', got {level!r}")
    if np.ndim(n_frames) == 0:
        lo = hi = _check_int("n_frames", n_frames, 1)
    else:
        lo, hi = (int(v) for v in n_frames)
        if not 1 <= lo <= hi:
            raise ValueError(f"n_frames must be an int >= 1 or (low, high), got {n_frames!r}")
    if n_temporal_pairs is None:
        n_temporal_pairs = 0 if n_classes < 3 else min(8, max(1, n_classes // 10))
    pairs = _check_int("n_temporal_pairs", n_temporal_pairs, 0)
    if 2 * pairs >= n_classes:
        raise ValueError(
            f"n_temporal_pairs={pairs} needs n_classes > {2 * pairs}, got {n_classes}"
        )
    if not 0.0 <= temporal_rate <= 1.0:
        raise ValueError(f"temporal_rate must be in [0, 1], got {temporal_rate!r}")
    if n_shards is None:
        n_shards = math.ceil(n_videos / 1000)
    n_shards = min(_check_int("n_shards", n_shards, 1), n_videos)
    comp = "" if compression is None else str(compression).lower()
    ext = {"": ".tfrecord", "none": ".tfrecord", "gzip": ".tfrecord.gz", "zlib": ".tfrecord.zz"}
    if comp not in ext:
        raise ValueError(f"compression must be None, '', 'gzip' or 'zlib', got {compression!r}")
    if directory is None:
        directory = tempfile.mkdtemp(prefix="skqrnn-yt8m-")
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)

    rng = np.random.default_rng(random_state)
    n_plain = n_classes - 2 * pairs
    width = KNOWN_SIZES["rgb"] + KNOWN_SIZES["audio"]
    scale = np.empty(width, np.float32)
    scale[: KNOWN_SIZES["rgb"]] = _RGB_STD
    scale[KNOWN_SIZES["rgb"] :] = _AUDIO_STD
    protos = rng.standard_normal((n_plain, width), dtype=np.float32)
    events = rng.standard_normal((max(pairs, 1), 2, width), dtype=np.float32)
    log_w = (-_ZIPF_EXPONENT * np.log(np.arange(1, n_plain + 1))).astype(np.float32)
    spec = _Spec(level, None, None, 300, None, None, "labels", None, True, "raise")
    temporal = temporal_class_pairs(n_classes, pairs)

    def all_records():
        # One stream for all videos, cut into shards afterwards: the data do
        # not depend on n_shards or compression.
        step = _CHUNK[level]
        for start in range(0, n_videos, step):
            m = min(step, n_videos - start)
            labels, plain, order = _draw_labels(rng, m, n_plain, log_w, pairs, temporal_rate)
            ids = [f"s{i:06d}" for i in range(start, start + m)]
            if level == "video":
                X = _video_features(rng, plain, order, protos, events, scale)
                yield from _encode_records(spec, X, labels, ids)
            else:
                T = rng.integers(lo, hi + 1, m)
                X = _frame_features(rng, plain, order, protos, events, scale, T)
                yield from _encode_records(spec, X, labels, ids, T)

    stream = all_records()
    bounds = np.linspace(0, n_videos, n_shards + 1).astype(int)
    paths = []
    for s in range(n_shards):
        path = os.path.join(directory, f"{prefix}{s:04d}{ext[comp]}")
        write_records(path, islice(stream, bounds[s + 1] - bounds[s]), compression=comp)
        paths.append(path)
    if not return_data:
        return paths
    data = load_yt8m(
        paths,
        level=level,
        n_classes=n_classes,
        max_frames=hi,
        dequantize=False,
    )
    data["temporal_classes"] = temporal
    return data


def _draw_labels(rng, m, n_plain, log_w, pairs, temporal_rate):
    """Per video: sorted label list, its ordinary labels, and (pair, order) or None."""
    k = np.minimum(1 + rng.poisson(_EXTRA_LABELS, m), min(_MAX_LABELS, n_plain))
    # Gumbel top-k = sampling without replacement proportionally to the weights.
    keys = log_w + rng.gumbel(size=(m, n_plain)).astype(np.float32)
    kmax = int(k.max())
    top = np.argpartition(-keys, kmax - 1, axis=1)[:, :kmax] if kmax < n_plain else (
        np.broadcast_to(np.arange(n_plain), (m, n_plain))
    )
    top_keys = np.take_along_axis(keys, top, axis=1)
    top = np.take_along_axis(top, np.argsort(-top_keys, axis=1), axis=1)
    has_order = rng.random(m) < temporal_rate if pairs else np.zeros(m, bool)
    pair = rng.integers(0, max(pairs, 1), m)
    which = rng.integers(0, 2, m)
    labels, plain, order = [], [], []
    for i in range(m):
        ls = top[i, : k[i]]
        plain.append(ls)
        if has_order[i]:
            order.append((int(pair[i]), int(which[i])))
            labs = [*ls.tolist(), n_plain + 2 * int(pair[i]) + int(which[i])]
        else:
            order.append(None)
            labs = ls.tolist()
        labels.append(sorted(labs))
    return labels, plain, order


def _label_signal(plain, protos):
    m = len(plain)
    sig = np.zeros((m, protos.shape[1]), np.float32)
    for i, ls in enumerate(plain):
        sig[i] = protos[ls].sum(0) / np.float32(math.sqrt(len(ls)))
    return sig


def _video_features(rng, plain, order, protos, events, scale):
    m = len(plain)
    sig = _label_signal(plain, protos)
    x = np.sqrt(_SIGNAL) * sig + np.sqrt(1 - _SIGNAL) * rng.standard_normal(sig.shape, np.float32)
    for i, o in enumerate(order):
        if o is not None:
            # Both orders add the same mean: the two events, each in 1/8 of the frames.
            x[i] += 1.5 / 8 * (events[o[0], 0] + events[o[0], 1])
    x *= scale
    return np.clip(x, _LO, _HI).astype(np.float32)


def _frame_features(rng, plain, order, protos, events, scale, T):
    m = len(plain)
    tmax = int(T.max())
    width = protos.shape[1]
    X = rng.standard_normal((m, tmax, width), np.float32)
    X *= np.float32(math.sqrt(1 - _SIGNAL))
    offset = np.float32(0.5) * rng.standard_normal((m, 1, width), np.float32)
    X += offset
    amp = np.float32(math.sqrt(_SIGNAL))
    for i in range(m):
        t = int(T[i])
        ls = plain[i]
        w = amp / np.float32(math.sqrt(len(ls)))
        for c in ls:
            # Each label is visible in a random span of at least half the video.
            span = int(rng.integers((t + 1) // 2, t + 1))
            a = int(rng.integers(0, t - span + 1))
            X[i, a : a + span] += w * protos[c]
        o = order[i]
        if o is not None:
            win = max(2, t // 8)
            if 2 * win <= t:
                # Two disjoint windows, the first strictly earlier.
                p = int(rng.integers(0, t - 2 * win + 1))
                q = int(rng.integers(p + win, t - win + 1))
            else:  # too short for two windows: as early and as late as possible
                win = max(1, t // 2)
                p, q = 0, t - win
            first, second = (0, 1) if o[1] == 0 else (1, 0)
            X[i, p : p + win] += np.float32(1.5) * events[o[0], first]
            X[i, q : q + win] += np.float32(1.5) * events[o[0], second]
    X *= scale
    return quantize(np.clip(X, _LO, _HI))


def temporal_class_pairs(n_classes, n_temporal_pairs):
    """The order classes of :func:`make_yt8m`, as a ``(P, 2)`` array.

    Row ``j`` holds the two classes of pair ``j``: "event A before event B"
    and "B before A". They are the last ``2 * n_temporal_pairs`` classes.
    """
    first = n_classes - 2 * n_temporal_pairs
    return np.arange(first, n_classes).reshape(n_temporal_pairs, 2)


def order_accuracy(y_true, y_score, temporal_classes):
    """How often a video's order class scores above its reversed partner.

    Over every (video, order class) positive of ``y_true``: the share where
    ``y_score`` ranks the true class of the pair above the other one. The
    two classes of a pair have the same mean frame, so a model that cannot
    see the order of frames scores about 0.5.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_videos, n_classes)
    y_score : array-like of shape (n_videos, n_classes)
    temporal_classes : array-like of shape (P, 2)
        The pairs, as ``make_yt8m(..., return_data=True).temporal_classes``
        or :func:`temporal_class_pairs` give them.

    Returns
    -------
    float
        NaN when no video has an order label.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[1, 0, 1, 0], [1, 0, 0, 1]])
    >>> s = np.array([[.9, .1, .8, .2], [.9, .1, .7, .3]])
    >>> order_accuracy(y, s, temporal_class_pairs(4, 1))
    0.5
    """
    pairs = np.asarray(temporal_classes).reshape(-1, 2)
    score = np.asarray(y_score)
    order = pairs.ravel()
    partner = pairs[:, ::-1].ravel()
    Y = y_true[:, order]
    Y = Y.toarray() if hasattr(Y, "toarray") else np.asarray(Y)
    videos, cols = np.nonzero(Y)
    if videos.size == 0:
        return float("nan")
    return float(np.mean(score[videos, order[cols]] > score[videos, partner[cols]]))
