"""QRNNClassifier and DCQRNNClassifier: quasi-recurrent networks over frame sequences.

Both take frame-level ``X`` of shape ``(n_videos, n_frames, n_features)``
(padded; see "Sequences and padding" below) or video-level ``X`` of shape
``(n_videos, n_features)``, which is read as a short sequence of feature
chunks (``timesteps``). Everything an estimator needs beyond its network
(validation, training loop, prediction, persistence) comes from
:class:`~skqrnn.base.KerasClassifierBase`.
"""

import functools
import math

import keras
import numpy as np

from ._docs import fill_doc, signature_defaults
from ._params import Bool, Check, Int, IntSequence, Options, Real
from .base import AUTO_BATCH_MAX, BN_MOMENTUM, KerasClassifierBase
from .layers import QRNN, Dequantize
from .layers.readout import AttentionPooling, FrameMask, TemporalReadout
from .preprocessing import padding_value

__all__ = ["QRNNClassifier", "DCQRNNClassifier"]

_READOUTS = ("last", "mean", "max", "attention", "last+mean", "auto")
_POOLINGS = ("f", "fo", "ifo")
_SCANS = ("auto", "sequential", "associative")
_KINDS = {2: "video-level 2-D X (n_samples, n_features)",
          3: "frame-level 3-D X (n_samples, n_frames, n_features)"}

#: Rows of a 3-D X checked for padding at once (bounds the temporary bool array).
_MASK_CHUNK_BYTES = 64 * 2**20


def _sequence_shape(n_features, timesteps):
    """(n_steps, step_features) a vector of n_features becomes with ``timesteps``."""
    step = math.ceil(n_features / timesteps)
    return math.ceil(n_features / step), step


def _padding_frames(X):
    """Bool (n_videos, n_frames): the frame is padding (all features == the pad value)."""
    pad = padding_value(X.dtype)
    out = np.empty(X.shape[:2], dtype=bool)
    rows = max(1, _MASK_CHUNK_BYTES // max(1, X.shape[1] * X.shape[2]))
    for start in range(0, X.shape[0], rows):
        np.all(X[start:start + rows] == pad, axis=2, out=out[start:start + rows])
    return out


#: Samples (the first ones) of a 3-D X whose mean real length sets the QRNNs' length
#: rules (``forget_bias="auto"``, ``n_layers="auto"``).
_LENGTH_SAMPLE = 4096


def _typical_length(X, timesteps):
    """Steps a QRNN reads per sample: the mean real frames of (up to
    ``_LENGTH_SAMPLE``) 3-D samples, or the chunks of a 2-D vector."""
    if X.ndim == 2:
        return _sequence_shape(X.shape[1], timesteps)[0]
    return float((~_padding_frames(X[:_LENGTH_SAMPLE])).sum(axis=1).mean())


#: ``forget_bias="auto"`` where a sample is one step (a video vector with
#: ``timesteps=1``): nothing to remember, so the gate only scales the input
#: (``c = (1 - f) z``) and starts open, ``1 - f = 0.88``.
ONE_STEP_FORGET_BIAS = -2.0


def auto_forget_bias(n_steps):
    """``forget_bias="auto"`` for sequences of ``n_steps`` (mean) steps.

    The forget gate starts at ``f = 1 - 2.5 / n_steps``, a memory of about
    0.4 of the sequence (``1 / (1 - f)`` steps), so the bias is ``logit(f) =
    log(n_steps / 2.5 - 1)``, kept within [2, 3]: 2 (``f = 0.88``) up to
    about 20 steps, 3 (``f = 0.95``) from about 50. One step (video
    vectors): ``ONE_STEP_FORGET_BIAS``.
    """
    if n_steps <= 1:
        return ONE_STEP_FORGET_BIAS
    return float(np.clip(np.log(max(n_steps / 2.5 - 1.0, 1e-12)), 2.0, 3.0))


class _SequenceClassifier(KerasClassifierBase):
    """What QRNNClassifier and DCQRNNClassifier share: sequence input and readout.

    The input side builds ``(x, mask)`` for the body: for 3-D ``X`` the mask
    of real frames is computed from the raw input (before dequantization)
    by :class:`~skqrnn.layers.readout.FrameMask`; for 2-D ``X`` the vector
    is split into ``timesteps`` chunks and no frame is masked.
    """

    _input_ndim = (2, 3)

    _saved_private_attributes = ("_fit_ndim",)

    #: ``learning_rate="auto"`` on frame sequences with an automatic batch
    #: below 256 (fewer than 4,096 sequences) when the fit runs all its
    #: epochs. On order-of-events tasks of 1,500 sequences the dcQRNN scored
    #: 3-4 points above 2e-3 in four of five cells, the QRNN 1.2 above in the
    #: hardest and within 0.7 elsewhere; on digits read row by row 0.7 above
    #: (benchmarks/README.md). On 3,000 video vectors the dcQRNN was 1.3
    #: points below, so video level keeps 2e-3.
    FRAME_SMALL_DATA_LEARNING_RATE = 5e-3

    _FRAME_LEARNING_RATE_DOC = """
        On frame sequences, when the automatic batch is below 256 (fewer
        than 4,096 sequences) and the fit runs all its epochs: 5e-3
        (``FRAME_SMALL_DATA_LEARNING_RATE``; up to 4 points of accuracy
        above 2e-3 on order-of-events tasks of 1,500 sequences)."""

    def _auto_learning_rate(self, stop_early):
        if (not stop_early and self._fit_ndim == 3 and isinstance(self.batch_size, str)
                and self.batch_size_ < AUTO_BATCH_MAX):
            return self.FRAME_SMALL_DATA_LEARNING_RATE
        return super()._auto_learning_rate(stop_early)

    _parameter_constraints = {
        "window": Int(1),
        "timesteps": Int(1),
        "max_frames": Int(1),
        "zoneout": Real(0.0, 1.0, high_inclusive=False),
        "forget_bias": [Real(None, None), Options("auto")],
        "dropout": Real(0.0, 1.0, high_inclusive=False),
        "pooling": Options(*_POOLINGS),
        "readout": Options(*_READOUTS),
        "scan": Options(*_SCANS),
        "input_batchnorm": Bool(),
    }

    # ------------------------------------------------------------ validation
    def _validate_X(self, X, *, reset):
        name = type(self).__name__
        if not reset:
            # Before the base's feature count check: 2-D and 3-D X count
            # features on different axes, so the kind of input is the real
            # mismatch. (Array-likes without a shape are checked after
            # conversion.)
            shape = getattr(X, "shape", None)
            self._check_kind(None if shape is None else len(shape), shape)
        X = super()._validate_X(X, reset=reset)
        if reset:
            self._fit_ndim = X.ndim
        else:
            self._check_kind(X.ndim, X.shape)
        if X.ndim == 2:
            n_steps, _ = _sequence_shape(X.shape[1], self.timesteps)
            if n_steps > self.max_frames:
                raise ValueError(
                    f"timesteps={self.timesteps} splits each {X.shape[1]}-feature vector "
                    f"into {n_steps} steps, more than max_frames={self.max_frames}."
                )
            return X
        n_frames = X.shape[1]
        if n_frames == 0:
            raise ValueError(f"X has 0 frames per video (shape {X.shape}); {name} needs "
                             "at least one frame.")
        if n_frames > self.max_frames:
            raise ValueError(
                f"X has {n_frames} frames per video but {name} supports sequences of at "
                f"most max_frames={self.max_frames} frames; trim or subsample the frames "
                "(e.g. skqrnn.preprocessing.FrameSampler) or raise max_frames."
            )
        empty = np.flatnonzero(_padding_frames(X).all(axis=1))
        if empty.size:
            pad = padding_value(X.dtype)
            raise ValueError(
                f"{empty.size} video(s) of X have no frames: every frame is padding (all "
                f"features equal to {pad} for {X.dtype} X), e.g. rows "
                f"{empty[:5].tolist()}. A video without frames cannot be classified; "
                "remove these rows."
            )
        return X

    def _check_kind(self, ndim, shape):
        if ndim in _KINDS and ndim != self._fit_ndim:
            raise ValueError(
                f"{type(self).__name__} was fitted on {_KINDS[self._fit_ndim]} but got "
                f"{_KINDS[ndim]} of shape {tuple(shape)}; give it the same kind of input it "
                "was trained on."
            )

    # ---------------------------------------------------------------- network
    def _make_input_layer(self, X):
        """The input and ``(x, mask)`` for the body (mask None for 2-D X)."""
        n_features = X.shape[-1]
        if X.ndim == 2:
            inputs, x = super()._make_input_layer(X)
            n_steps, step = _sequence_shape(n_features, self.timesteps)
            L = keras.layers
            if n_steps * step != n_features:  # zero-fill the last chunk
                x = L.Reshape((n_features, 1), name="as_column")(x)
                x = L.ZeroPadding1D((0, n_steps * step - n_features), name="fill_last_step")(x)
            return inputs, (L.Reshape((n_steps, step), name="as_sequence")(x), None)
        dtype = "uint8" if X.dtype == np.uint8 else "float32"
        inputs = keras.Input(shape=(None, n_features), dtype=dtype, name="features")
        # The mask comes from the raw input: padding is judged in the units
        # it was written in (127 bytes for uint8, 0.0 for floats).
        mask = FrameMask(pad_values=(padding_value(X.dtype),), name="frame_mask")(inputs)
        x = Dequantize(name="dequantize")(inputs) if dtype == "uint8" else inputs
        return inputs, (x, mask)

    def _window(self, x):
        """Convolution width: never wider than a fixed-length (2-D input) sequence."""
        steps = x.shape[1]
        window = int(self.window)
        return window if steps is None else min(window, steps)

    def _qrnn(self, units, x, mask, name, *, window, return_sequences=True,
              bidirectional=False):
        layer = QRNN(
            int(units), window=window, pooling=self.pooling, zoneout=float(self.zoneout),
            forget_bias=self.forget_bias_,
            return_sequences=return_sequences, scan=self.scan, name=name,
            # Readouts and later layers take the mask, so masked frames need
            # no carried-over output (which would cost a second scan).
            zero_output_for_mask=True,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, name=f"{name}_bidirectional")
        return layer(x, mask=mask)

    def _build_keras_model(self, X):
        # The "auto" choices that follow the sequence length are made before
        # the layers are built. The length scan (up to _LENGTH_SAMPLE
        # sequences, ~1 s on full-size frames) runs once, and only if a rule
        # asks for it.
        self._resolve_length_rules(functools.cache(
            functools.partial(_typical_length, X, self.timesteps)))
        return super()._build_keras_model(X)

    def _resolve_length_rules(self, length):
        """Set the fitted values of the parameters whose "auto" follows the
        mean real steps of the training sequences, which ``length()`` returns."""
        if isinstance(self.forget_bias, str):
            self.forget_bias_ = auto_forget_bias(length())
        else:
            self.forget_bias_ = float(self.forget_bias)

    def _readout_kind(self, mask):
        """``readout``; "auto": "last+mean" on frame sequences, "last" on video
        vectors (no mask; with one step the two would read the same state)."""
        if self.readout == "auto":
            return "last" if mask is None else "last+mean"
        return self.readout

    def _readout(self, h, mask, bidirectional=False):
        readout = self._readout_kind(mask)
        if readout == "attention":
            return AttentionPooling(name="readout_attention")(h, mask=mask)
        if readout == "last+mean":
            # What happened last (order) next to what the video holds overall.
            if not bidirectional:
                last = TemporalReadout("last", name="readout_last")(h, mask=mask)
            else:
                # The backward half of a Bidirectional sequence holds its
                # final state at the first real frame, not the last (there
                # it has seen one frame): read each direction's final state,
                # as readout="last" does.
                half = h.shape[-1] // 2
                last = keras.layers.Concatenate(name="readout_last_both")([
                    TemporalReadout("last", name="readout_last")(h[..., :half], mask=mask),
                    TemporalReadout("first", name="readout_first")(h[..., half:], mask=mask),
                ])
            return keras.layers.Concatenate(name="readout_last_mean")([
                last, TemporalReadout("mean", name="readout_mean")(h, mask=mask),
            ])
        return TemporalReadout(readout, name=f"readout_{readout}")(h, mask=mask)

    def _input_norm(self, x, mask):
        if not self.input_batchnorm:
            return x
        return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="input_bn")(x, mask=mask)


_FORGET_BIAS_DOC = """\
    forget_bias : float or "auto", default={forget_bias}
        Initial bias of the forget gates: each layer's state starts out
        keeping ``sigmoid(forget_bias)`` of itself per step (0.95 at 3,
        0.88 at 2), so that an event seen early survives the frames after
        it. At 0 the QRNN did not learn which of two events came first over
        100 frames (0.53 accuracy on 1,500 sequences, an LSTM 0.98); at 3 it
        did (0.97-0.98; ``benchmarks/bench_order_tasks.py``). ``"auto"``:
        ``log(T / 2.5 - 1)`` within [2, 3], ``T`` the mean number of real
        frames of the training sequences (the first 4,096), or of steps of
        a video vector (``timesteps``): 2 up to about 20 frames, 3 from
        about 50; -2 where a sample is one step (video vectors with
        ``timesteps=1``: there is nothing to remember, the gate only scales
        the input, ``c = (1 - f) z``, and starts open; ``ONE_STEP_FORGET_BIAS``).
        The value used is ``forget_bias_``. One QRNN layer at 2 against 3:
        20 frames, 0.735-0.783 against 0.682-0.757 on order tasks; 100
        frames of 128 features, 0.655 against 0.953. On one-step real video
        vectors 2 had scored 0.2-0.4 GAP@20 points above 3, and -2 scored
        1.25 above 2 at 15,000 videos (0.6691 against 0.6566), 0.4 at 5,000.
"""

_SEQUENCE_NOTES_DOC = """
    **Sequences and padding.** 3-D ``X`` is ``(n_videos, n_frames,
    n_features)``, shorter videos padded to ``n_frames``. There is no
    ``lengths`` argument: lengths are carried by the padding itself, as
    :func:`skqrnn.io.load_yt8m` writes it. A frame is padding when *all* its
    features equal the padding value, 0.0 for float ``X`` and
    :data:`skqrnn.io.UINT8_PAD_VALUE` (127) for ``uint8`` ``X`` (see
    :func:`skqrnn.preprocessing.padding_value`); the mask is computed from
    the raw input, before ``uint8`` features are dequantized. Padding frames
    are skipped by the recurrence and by the readout, wherever they are, so
    a padded video gets the same prediction as the same video trimmed
    (``n_frames`` may differ between ``fit`` and ``predict``). A video whose
    frames are all padding raises a ``ValueError``, as does a video longer
    than ``max_frames``.

    **Video-level input.** 2-D ``X`` ``(n_samples, n_features)`` is cut into
    ``timesteps`` consecutive chunks of ``ceil(n_features / timesteps)``
    features (the last one zero-filled if needed), read as a sequence of
    that many steps without masking: with 1152 YouTube-8M features,
    ``timesteps=9`` gives nine 128-feature steps (eight ``mean_rgb`` chunks,
    then ``mean_audio``), ``timesteps=1`` one step. On a fixed-length
    sequence the convolution window is capped at the number of steps (a
    wider window would only see the causal zero padding). A model fitted on
    2-D ``X`` predicts on 2-D ``X``, one fitted on 3-D ``X`` on 3-D ``X``.
"""


class QRNNClassifier(_SequenceClassifier):
    """Stacked quasi-recurrent network (QRNN) over frame sequences.

    ``n_layers`` QRNN layers (Bradbury et al., 2017) of ``units`` units,
    each a causal convolution of width ``window`` over time followed by
    ``pooling`` (f-, fo- or ifo-pooling, a gated element-wise recurrence),
    optionally bidirectional; dropout between layers; a readout over time
    (``readout``) of every layer's output sequence side by side (of the
    last layer's alone for a bidirectional ``"last"`` readout, which needs
    that layer's final states); batch normalization
    (``readout_batchnorm``); dropout; and one sigmoid (multi-label) or
    softmax output layer.

    The defaults were measured on real YouTube-8M video vectors (5,000 to
    30,000 videos) and on order-of-events frame tasks against Keras's LSTM
    (``benchmarks/README.md``).

    Parameters
    ----------
    units : int, default={units}
        Units of each QRNN layer (per direction).
    n_layers : int or "auto", default="{n_layers}"
        Number of stacked QRNN layers. ``"auto"``: 2 on frame sequences
        (3-D ``X``) of at least 16 real frames on average
        (``TWO_LAYER_MIN_FRAMES``), whose second layer's gates read the
        first layer's state (an event seen earlier can open or close the
        gate for a later one); otherwise 1: on video-level vectors (2-D
        ``X``) a second layer lost 1.9 GAP@20 points on 15,000 real videos,
        on digits read as 8 rows about 2 points. The number used is
        ``n_layers_``. On order-of-events tasks of 1,500 sequences of 20 to
        300 frames two layers scored up to 9 points above one, and at
        3,000 sequences kept the QRNN above a Keras LSTM where one layer
        fell under it (``benchmarks/README.md``, "Order tasks"), at 2.5
        times one layer's fit time on 1152 features per frame, up to 6
        times on 16.
    window : int, default=2
        Width of the causal convolution over time (``k``).
    pooling : {{"f", "fo", "ifo"}}, default="fo"
        The recurrence: ``"f"`` ``h = f h + (1 - f) z``; ``"fo"`` adds an
        output gate ``h = o c``; ``"ifo"`` an independent input gate. On
        video-level vectors (one step: a gated dense layer) ``"f"`` scored
        higher on the real YouTube-8M sample's validation shards before the
        one-step forget bias and dropout (0.601 vs 0.596 with
        ``units=1024``); with them the two scored alike on 5,000 real
        videos (``"f"`` 0.6125, ``"fo"`` 0.6126), ``"f"`` with 16 % fewer
        parameters.
    zoneout : float, default={zoneout}
        Zoneout rate on the forget gate during training.
{forget_bias_doc}    dropout : float or "auto", default="{dropout}"
        Dropout rate between QRNN layers and before the output layer.
        ``"auto"``: 0.75 where a sample is one step (video-level vectors
        with ``timesteps=1``; ``VECTOR_DROPOUT``), 0.5 on sequences (frames,
        or vectors read in chunks; ``FRAME_DROPOUT``); the rate used is
        ``dropout_``. On real YouTube-8M video vectors 0.75 added 0.8
        GAP@20 points at 5,000 training videos (0.6060 against 0.5984), at
        most 0.1 at 15,000 and 30,000; with the one-step forget bias, 0.9 to 1.5
        points over the earlier defaults at every size
        (``benchmarks/README.md``, "Learning curves").
    bidirectional : bool, default=False
        Run each layer forwards and backwards in time
        (``keras.layers.Bidirectional``) and concatenate the two.
    readout : {{"last", "mean", "max", "attention", "last+mean", "auto"}}, default="{readout}"
        How the last layer's output sequence becomes one vector: the state
        at the last real frame (for a bidirectional layer, the final states
        of both directions), the mean or maximum over real frames, a
        learned attention-weighted mean
        (:class:`~skqrnn.layers.readout.AttentionPooling`), or the last
        state (both directions' final states, when bidirectional) and the
        mean side by side. ``"auto"``: "last+mean" on frame sequences,
        "last" on video-level vectors (with ``timesteps=1`` one step, whose
        last state is its mean). On order-of-events tasks of 1,500
        sequences "last+mean" scored above "last" in every cell measured
        (by 0.1 to 7 points; 0.84-0.85 against 0.77-0.78 at 50 frames of
        16 noisy features, where an LSTM reached 0.80-0.81), and 0.954
        against 0.940 on digits read row by row (``benchmarks/README.md``).
    timesteps : int, default={timesteps}
        2-D ``X`` only: number of steps a feature vector is split into.
    max_frames : int, default=300
        Longest sequence accepted (YouTube-8M videos have at most 300
        frames); longer 3-D ``X`` raises a ``ValueError``.
    input_batchnorm : bool, default=True
        Batch-normalize the input features (over real frames).
    readout_batchnorm : bool or "auto", default="auto"
        Batch-normalize the readout before the output layer (as the MLP
        baseline and DenseNet do). "auto": for 2-D ``X`` (video-level
        vectors), where it added 0.7 GAP@20 points on the real YouTube-8M
        sample (0.5995 vs 0.5925, three seeds), not for frame sequences,
        where on the synthetic frame-level benchmark it cost 9 points with
        ``readout="last"`` (0.67 vs 0.77) though it gained 5 with
        ``readout="last+mean"`` (0.96 vs 0.91; both before the forget-bias
        rule, with which "last+mean" scored 0.975 there without the
        normalization, not measured with it); see
        ``benchmarks/bench_sequence_models.py``.
    scan : {{"auto", "sequential", "associative"}}, default="auto"
        How the recurrence is computed (see :class:`skqrnn.layers.QRNN`);
        "auto" picks by backend and device.
{shared}
    See Also
    --------
    DCQRNNClassifier : Densely connected QRNN blocks.
    DenseNetClassifier : Video-level densely connected network.

    Notes
    -----
{notes}
    References
    ----------
    J. Bradbury, S. Merity, C. Xiong and R. Socher, "Quasi-Recurrent Neural
    Networks", ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn import QRNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 12, 5).astype("float32")    # 64 videos, 12 frames
    >>> X[:32, 8:] = 0.0                               # half of them: 8 frames + padding
    >>> y = (X[:, 0, :3] > 0).astype(int)              # 3 labels
    >>> clf = QRNNClassifier(units=16, epochs=5, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        *,
        units=512,
        n_layers="auto",
        window=2,
        pooling="fo",
        zoneout=0.0,
        forget_bias="auto",
        dropout="auto",
        bidirectional=False,
        readout="auto",
        timesteps=1,
        max_frames=300,
        input_batchnorm=True,
        readout_batchnorm="auto",
        scan="auto",
        epochs=20,
        batch_size="auto",
        learning_rate="auto",
        lr_schedule="auto",
        optimizer="adam",
        validation_split=0.0,
        early_stopping="auto",
        patience=3,
        monitor="auto",
        restore_best_weights=True,
        callbacks=None,
        class_weight=None,
        threshold=0.5,
        top_k=None,
        verbose=0,
        random_state=None,
        checkpoint=None,
        checkpoint_every=1,
        warm_start=False,
        distribution=None,
        soft_targets=False,
    ):
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            validation_split=validation_split,
            early_stopping=early_stopping,
            patience=patience,
            monitor=monitor,
            restore_best_weights=restore_best_weights,
            callbacks=callbacks,
            class_weight=class_weight,
            threshold=threshold,
            top_k=top_k,
            verbose=verbose,
            random_state=random_state,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            warm_start=warm_start,
            distribution=distribution,
            soft_targets=soft_targets,
        )
        self.units = units
        self.n_layers = n_layers
        self.window = window
        self.pooling = pooling
        self.zoneout = zoneout
        self.forget_bias = forget_bias
        self.dropout = dropout
        self.bidirectional = bidirectional
        self.readout = readout
        self.timesteps = timesteps
        self.max_frames = max_frames
        self.input_batchnorm = input_batchnorm
        self.readout_batchnorm = readout_batchnorm
        self.scan = scan

    _parameter_constraints = {
        "units": Int(1),
        "n_layers": [Int(1), Options("auto")],
        "dropout": [Real(0.0, 1.0, high_inclusive=False), Options("auto")],
        "bidirectional": Bool(),
        "readout_batchnorm": Check(
            lambda v: isinstance(v, (bool, np.bool_)) or (isinstance(v, str) and v == "auto"),
            'True, False or "auto"'),
    }

    #: ``n_layers="auto"`` stacks two layers on frame sequences of at least
    #: this many real frames on average: order tasks of 20 frames and more
    #: gained up to 9 points with two, digits read as 8 rows lost about 2.
    TWO_LAYER_MIN_FRAMES = 16

    #: ``dropout="auto"``: where a sample is one step (a video vector with
    #: ``timesteps=1``), and on sequences (frames, or vectors in chunks).
    VECTOR_DROPOUT, FRAME_DROPOUT = 0.75, 0.5

    def _resolve_length_rules(self, length):
        super()._resolve_length_rules(length)
        if isinstance(self.n_layers, str):
            frames = self._fit_ndim == 3 and length() >= self.TWO_LAYER_MIN_FRAMES
            self.n_layers_ = 2 if frames else 1
        else:
            self.n_layers_ = int(self.n_layers)
        if isinstance(self.dropout, str):
            one_step = self._fit_ndim == 2 and length() <= 1  # (no length scan on frames)
            self.dropout_ = self.VECTOR_DROPOUT if one_step else self.FRAME_DROPOUT
        else:
            self.dropout_ = float(self.dropout)

    def _all_layers(self, outputs):
        """Every layer's output sequence side by side, for the readout.

        The readout sees what the first layer keeps of each frame next to
        what the later ones make of the order. Read from the last layer
        alone, two layers lost 2 points of GAP@20 and 5 of order accuracy
        to one layer on the synthetic multi-label frame benchmark; read
        from both they were level on GAP@20 (0.974 against 0.976, two
        seeds), 1.2 points above on order accuracy, and within -0.3 to
        +4.6 points of the last layer alone on order-of-events tasks
        (``benchmarks/README.md``). Bidirectional layers are regrouped (all
        forward halves, then all backward ones), so that the readout's
        first half stays the forward direction.
        """
        if self.bidirectional:
            half = int(self.units)
            outputs = ([h[..., :half] for h in outputs] + [h[..., half:] for h in outputs])
        return keras.layers.Concatenate(name="all_layers")(outputs)

    def _build_body(self, x):
        x, mask = x
        h = self._input_norm(x, mask)
        window = self._window(h)
        L = keras.layers
        n_layers = self.n_layers_
        outputs = []
        for i in range(1, n_layers + 1):
            last = i == n_layers
            # The final states of both directions need the layer's own
            # last-state output; one direction reads it off the sequence.
            final_state = last and self._readout_kind(mask) == "last" and self.bidirectional
            h = self._qrnn(self.units, h, mask, f"qrnn{i}", window=window,
                           return_sequences=not final_state, bidirectional=self.bidirectional)
            outputs.append(h)
            if not last:
                h = L.Dropout(self.dropout_, name=f"qrnn{i}_dropout")(h)
        if h.ndim == 3:
            if n_layers > 1:
                h = self._all_layers(outputs)
            h = self._readout(h, mask, bidirectional=self.bidirectional)
        # "auto": video-level vectors carry no frame mask; the measurements
        # behind the choice are in the readout_batchnorm parameter's doc.
        use_bn = self.readout_batchnorm
        if isinstance(use_bn, str):
            use_bn = mask is None
        if use_bn:
            h = L.BatchNormalization(momentum=BN_MOMENTUM, name="readout_bn")(h)
        return L.Dropout(self.dropout_, name="readout_dropout")(h)


class DCQRNNClassifier(_SequenceClassifier):
    """Densely connected QRNN (dcQRNN) over frame sequences.

    Blocks of QRNN layers with DenseNet-style connections: in a block,
    layer ``n`` reads the concatenation of the block input and the output
    sequences of all earlier layers of the block, and adds ``growth_rate``
    channels, so a block of ``L`` layers on ``C`` input channels outputs
    ``C + L * growth_rate``. Between blocks, a transition BN -> ReLU ->
    Dropout (the source paper's), preceded by a per-frame
    ``Dense(floor(compression * width))`` when ``compression < 1``. After
    the last block: a readout over time (``readout``), BN -> ReLU ->
    Dropout, and one sigmoid (multi-label) or softmax output layer.

    The defaults are tuned on the real YouTube-8M video-level sample (see
    ``benchmarks/bench_sequence_models.py``): with video-level vectors the
    output layer reads the input features next to the two layers' 256
    channels each (1664 units; 8.4M parameters for 1152 -> 3862), which
    scored above the 2048-unit MLP baseline on validation shards (0.6055 vs
    0.6032, seeds 0 and 1), where ``growth_rate=128`` (6.4M) did not
    (0.6013).

    Parameters
    ----------
    growth_rate : int, default={growth_rate}
        Units of each QRNN layer: channels each layer adds to its block.
    block_layers : tuple of int, default={block_layers}
        Number of QRNN layers in each block.
    window : int, default=2
        Width of the causal convolution over time (``k``).
    pooling : {{"f", "fo", "ifo"}}, default="fo"
        The recurrence (see :class:`QRNNClassifier`).
    zoneout : float, default={zoneout}
        Zoneout rate on the forget gate during training.
{forget_bias_doc}    dropout : float, default={dropout}
        Dropout rate of the transitions and before the output layer.
    compression : float, default={compression}
        A transition between blocks shrinks the width to
        ``floor(compression * width)`` with a per-frame dense layer
        (``0 < compression <= 1``; 1 keeps the paper's transition, BN ->
        ReLU -> Dropout, without a projection).
    readout : {{"last", "mean", "max", "attention", "last+mean", "auto"}}, default="{readout}"
        How the last block's output sequence becomes one vector: the last
        real frame, the mean or maximum over real frames, a learned
        attention-weighted mean, or the last frame and the mean side by
        side; ``"auto"``, as for :class:`QRNNClassifier`: "last+mean" on
        frame sequences, "last" on video-level vectors (one step, whose
        last state is its mean). On frames "last+mean" scored above "last"
        in every order-of-events cell measured (by 0.1 to 11 points on
        1,500 sequences) and lifted GAP@20 from 0.60-0.63 to 0.87-0.91 on
        the demo's synthetic frames (``benchmarks/README.md``).
    timesteps : int, default={timesteps}
        2-D ``X`` only: number of steps a feature vector is split into.
    max_frames : int, default=300
        Longest sequence accepted; longer 3-D ``X`` raises a ``ValueError``.
    input_batchnorm : bool, default=True
        Batch-normalize the input features (over real frames).
    scan : {{"auto", "sequential", "associative"}}, default="auto"
        How the recurrence is computed (see :class:`skqrnn.layers.QRNN`).
{shared}
    See Also
    --------
    QRNNClassifier : A plain stack of QRNN layers.
    DenseNetClassifier : Video-level densely connected network.

    Notes
    -----
{notes}
    References
    ----------
    J. Bradbury, S. Merity, C. Xiong and R. Socher, "Quasi-Recurrent Neural
    Networks", ICLR 2017 (densely connected QRNN).
    G. Huang, Z. Liu, L. van der Maaten and K. Q. Weinberger, "Densely
    Connected Convolutional Networks", CVPR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn import DCQRNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(64, 12, 5).astype("float32")
    >>> y = (X[:, 0, :3] > 0).astype(int)
    >>> clf = DCQRNNClassifier(growth_rate=8, block_layers=(2, 2), epochs=5,
    ...                        random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2, 3)
    """

    def __init__(
        self,
        *,
        growth_rate=256,
        block_layers=(2,),
        window=2,
        pooling="fo",
        zoneout=0.0,
        forget_bias=3.0,
        dropout=0.5,
        compression=1.0,
        readout="auto",
        timesteps=1,
        max_frames=300,
        input_batchnorm=True,
        scan="auto",
        epochs=20,
        batch_size="auto",
        learning_rate="auto",
        lr_schedule="auto",
        optimizer="adam",
        validation_split=0.0,
        early_stopping="auto",
        patience=3,
        monitor="auto",
        restore_best_weights=True,
        callbacks=None,
        class_weight=None,
        threshold=0.5,
        top_k=None,
        verbose=0,
        random_state=None,
        checkpoint=None,
        checkpoint_every=1,
        warm_start=False,
        distribution=None,
        soft_targets=False,
    ):
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            optimizer=optimizer,
            validation_split=validation_split,
            early_stopping=early_stopping,
            patience=patience,
            monitor=monitor,
            restore_best_weights=restore_best_weights,
            callbacks=callbacks,
            class_weight=class_weight,
            threshold=threshold,
            top_k=top_k,
            verbose=verbose,
            random_state=random_state,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            warm_start=warm_start,
            distribution=distribution,
            soft_targets=soft_targets,
        )
        self.growth_rate = growth_rate
        self.block_layers = block_layers
        self.window = window
        self.pooling = pooling
        self.zoneout = zoneout
        self.forget_bias = forget_bias
        self.dropout = dropout
        self.compression = compression
        self.readout = readout
        self.timesteps = timesteps
        self.max_frames = max_frames
        self.input_batchnorm = input_batchnorm
        self.scan = scan

    _parameter_constraints = {
        "growth_rate": Int(1),
        "block_layers": IntSequence("QRNN layers per block", "(2, 2)"),
        "compression": Real(0.0, 1.0, low_inclusive=False),
    }

    def _build_body(self, x):
        x, mask = x
        L = keras.layers
        h = self._input_norm(x, mask)
        window = self._window(h)
        width = h.shape[-1]
        for b, n_layers in enumerate(self.block_layers, 1):
            features = [h]
            for i in range(1, int(n_layers) + 1):
                prefix = f"block{b}_layer{i}"
                inp = features[0] if len(features) == 1 else L.Concatenate(
                    name=f"{prefix}_concat")(features)
                features.append(self._qrnn(self.growth_rate, inp, mask, f"{prefix}_qrnn",
                                           window=window))
            h = L.Concatenate(name=f"block{b}_output")(features)
            width += int(n_layers) * int(self.growth_rate)
            if b < len(self.block_layers):
                h = L.BatchNormalization(momentum=BN_MOMENTUM, name=f"transition{b}_bn")(h, mask=mask)
                h = L.ReLU(name=f"transition{b}_relu")(h)
                if self.compression < 1.0:
                    width = max(1, int(self.compression * width))
                    h = L.Dense(width, name=f"transition{b}_dense")(h)
                h = L.Dropout(float(self.dropout), name=f"transition{b}_dropout")(h)
        h = self._readout(h, mask)
        h = L.BatchNormalization(momentum=BN_MOMENTUM, name="final_bn")(h)
        h = L.ReLU(name="final_relu")(h)
        return L.Dropout(float(self.dropout), name="final_dropout")(h)


# The docstrings state the defaults of the signatures, so they cannot drift.
for _cls in (QRNNClassifier, DCQRNNClassifier):
    fill_doc(_cls, n_features_in="Features per frame (3-D ``X``) or per sample (2-D ``X``).",
             frame_learning_rate=getattr(_cls, "_FRAME_LEARNING_RATE_DOC", ""),
             notes=_SEQUENCE_NOTES_DOC.strip("\n") + "\n",
             forget_bias_doc=_FORGET_BIAS_DOC.format(
                 forget_bias=repr(signature_defaults(_cls)["forget_bias"]).replace("'", '"')))
del _cls
