"""Quasi-recurrent neural network layer (Bradbury et al., 2016) for Keras 3."""

import math
import numbers

import keras
import numpy as np
from keras import ops

from .recurrence import SCAN_METHODS, _on_gpu, linear_recurrence

POOLING_MODES = ("f", "fo", "ifo")

# Gates computed by the convolution, in the order of the kernel's columns.
_GATES = {"f": ("z", "f"), "fo": ("z", "f", "o"), "ifo": ("z", "f", "o", "i")}


@keras.saving.register_keras_serializable(package="skqrnn")
class QRNN(keras.layers.Layer):
    """Quasi-recurrent layer: causal convolution gates + linear recurrence.

    A causal convolution of width ``window`` over time computes, for every
    frame at once, the candidate ``Z = tanh(W_z * X)``, the forget gate
    ``F = sigmoid(W_f * X)`` and, depending on ``pooling``, the output gate
    ``O`` and input gate ``I`` (sigmoids). Only the pooling is sequential::

        "f":   h_t = f_t * h_{t-1} + (1 - f_t) * z_t
        "fo":  c_t = f_t * c_{t-1} + (1 - f_t) * z_t,   h_t = o_t * c_t
        "ifo": c_t = f_t * c_{t-1} + i_t * z_t,         h_t = o_t * c_t

    and that recurrence is linear in ``c``, so it runs as a scan (sequential
    or parallel associative, see :mod:`skqrnn.layers.recurrence`) instead of
    a Python-level RNN cell. Gates and recurrence are computed in float32
    even under a mixed-precision policy; only the convolution runs in the
    compute dtype. A window of 2 (the default) is computed with Winograd's
    minimal filtering F(3, 2): four matrix products per three frames instead
    of six, a third fewer multiply-adds for the same result. Without
    ``return_sequences`` the output gate is computed at the output frame
    only.

    Parameters
    ----------
    units : int
        Width of the state and of the output.
    window : int, default=2
        Width of the causal convolution (frames ``t - window + 1 .. t``).
    pooling : {"f", "fo", "ifo"}, default="fo"
        Which gates to compute (see above).
    zoneout : float in [0, 1), default=0.0
        Probability, per unit and frame, of keeping the previous state
        (``f_t = 1``) during training; at inference the expected forget gate
        ``zoneout + (1 - zoneout) * f_t`` is used.
    dropout : float in [0, 1), default=0.0
        Dropout rate of the inputs during training. As in Keras's LSTM/GRU,
        one mask per sequence is shared by all its frames.
    return_sequences : bool, default=False
        Return ``h`` for every frame (batch, time, units) instead of the last
        one (batch, units).
    return_state : bool, default=False
        Also return the final state ``c_T`` (batch, units): the call returns
        ``(output, state)``. With ``pooling="f"`` the state is ``h_T``.
    go_backwards : bool, default=False
        Process the sequence from its last frame to its first. As in Keras
        RNNs, ``return_sequences`` outputs are then in reversed time order.
    zero_output_for_mask : bool, default=False
        With a mask and ``return_sequences``: output zeros at masked frames
        instead of carrying the previous output over (Keras RNN convention).
        ``keras.layers.Bidirectional`` sets it to ``return_sequences``.
    scan : {"auto", "sequential", "associative"}, default="auto"
        Algorithm of the recurrence; ``"auto"`` picks by backend and device
        from measurements (see ``benchmarks/bench_scan.py``). All give the
        same result up to float32 rounding.
    use_bias : bool, default=True
        Whether the convolution has a bias.
    forget_bias : float, default=0.0
        Added to the forget gate's bias at initialization (as Keras's LSTM
        ``unit_forget_bias`` adds 1): the state starts out keeping
        ``sigmoid(forget_bias)`` of itself per frame (0.5 at 0, 0.95 at 3),
        so that what an early frame wrote survives long sequences of frames
        that carry nothing; with 0 a QRNN trained on a few thousand sequences
        may never learn to keep it.
    kernel_initializer, bias_initializer : initializer, default="glorot_uniform", "zeros"
    kernel_regularizer, bias_regularizer : regularizer, default=None
    kernel_constraint, bias_constraint : constraint, default=None
    seed : int, default=None
        Seed of the dropout and zoneout masks.
    **kwargs
        Base layer arguments (``name``, ``dtype``, ...).

    Notes
    -----
    Masking: a masked frame leaves the state unchanged (``f = 1``, no
    input) and its input is zeroed before the convolution, so a padded
    sequence gives the same outputs at its valid frames, and the same final
    output and state, as the unpadded one, for pre- or post-padding, in
    either direction. The output at a masked frame is the previous output
    (zeros before the first valid frame), or zeros with
    ``zero_output_for_mask=True``; the output without ``return_sequences``
    is always that of the last valid frame.

    Examples
    --------
    >>> import numpy as np
    >>> from skqrnn.layers import QRNN
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    >>> QRNN(4, return_sequences=True)(x).shape
    (2, 5, 4)
    >>> out, state = QRNN(4, pooling="ifo", return_state=True)(x)
    >>> tuple(out.shape), tuple(state.shape)
    ((2, 4), (2, 4))
    """

    def __init__(
        self,
        units,
        window=2,
        pooling="fo",
        zoneout=0.0,
        dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        zero_output_for_mask=False,
        scan="auto",
        use_bias=True,
        forget_bias=0.0,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # numbers.Integral / numbers.Real: numpy scalars too (hyperparameter
        # grids built with np.arange); stored as Python numbers for the config.
        if isinstance(units, bool) or not isinstance(units, numbers.Integral) or units < 1:
            raise ValueError(f"QRNN units must be a positive integer; got units={units!r}.")
        if isinstance(window, bool) or not isinstance(window, numbers.Integral) or window < 1:
            raise ValueError(f"QRNN window must be an integer >= 1; got window={window!r}.")
        if pooling not in POOLING_MODES:
            raise ValueError(
                f"QRNN pooling must be one of {POOLING_MODES}; got pooling={pooling!r}."
            )
        for name, rate in (("zoneout", zoneout), ("dropout", dropout)):
            if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
                raise ValueError(f"QRNN {name} must be a float in [0, 1); got {name}={rate!r}.")
        if scan not in SCAN_METHODS:
            raise ValueError(f"QRNN scan must be one of {SCAN_METHODS}; got scan={scan!r}.")
        if (isinstance(forget_bias, bool) or not isinstance(forget_bias, numbers.Real)
                or not math.isfinite(forget_bias)):
            raise ValueError(f"QRNN forget_bias must be a finite number; got "
                             f"forget_bias={forget_bias!r}.")
        self.units = int(units)
        self.window = int(window)
        self.pooling = pooling
        self.zoneout = float(zoneout)
        self.dropout = float(dropout)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.scan = scan
        self.use_bias = bool(use_bias)
        self.forget_bias = float(forget_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.seed = seed
        if self.dropout > 0 or self.zoneout > 0:
            self.seed_generator = keras.random.SeedGenerator(seed)
        # What keras.layers.Bidirectional requires of a non-RNN layer.
        self.stateful = False
        self.states = None
        self.supports_masking = True
        self.input_spec = keras.InputSpec(ndim=3)

    @property
    def gates(self):
        """Names of the gates, in the order of the kernel's column blocks."""
        return _GATES[self.pooling]

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                "QRNN needs a known feature dimension (last axis); "
                f"got input shape {tuple(input_shape)}."
            )
        n_out = len(self.gates) * self.units
        # One kernel for all gates and taps, Conv1D layout (window, in, out):
        # the whole convolution is a single matmul.
        self.kernel = self.add_weight(
            name="kernel",
            shape=(self.window, input_dim, n_out),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(n_out,),
                initializer=self._initial_bias,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = keras.InputSpec(ndim=3, axes={-1: input_dim})

    def _initial_bias(self, shape, dtype=None):
        """``bias_initializer``, plus ``forget_bias`` on the forget gate's block."""
        bias = self.bias_initializer(shape, dtype=dtype)
        if self.forget_bias:
            u = self.units
            f = self.gates.index("f")
            offset = np.zeros(shape, dtype="float32")
            offset[f * u:(f + 1) * u] = self.forget_bias
            bias = bias + keras.ops.convert_to_tensor(offset, dtype=bias.dtype)
        return bias

    def _causal_conv(self, x, kernel, bias):
        # Window 2 (the default): Winograd's minimal filtering, F(3, 2) or
        # F(2, 2), a third or a quarter fewer multiply-adds. Otherwise stack
        # frames t-window+1 .. t along the features (left-padded with zeros)
        # and multiply once by the (window * in, out) kernel: all gates and
        # taps in one matmul, or one ops.conv where that measured faster
        # (_conv_is_faster).
        k = self.window
        kernel = ops.cast(kernel, x.dtype)
        length = x.shape[1]
        if k == 2 and length is not None and length > 1:
            # Products: 4 per 3 frames (F(3, 2)) or 3 per 2 (F(2, 2)),
            # counting the zero frames that complete the last block.
            if 4 * -(-length // 3) <= 3 * -(-length // 2):
                y = _winograd_causal_conv3(x, kernel)
            else:
                y = _winograd_causal_conv2(x, kernel)
        else:
            xp = ops.pad(x, ((0, 0), (k - 1, 0), (0, 0))) if k > 1 else x
            if _conv_is_faster():
                y = ops.conv(xp, kernel, padding="valid")
            else:
                if k > 1:
                    taps = [xp[:, i : i - (k - 1)] for i in range(k - 1)] + [xp[:, k - 1 :]]
                    xp = ops.concatenate(taps, axis=-1)
                y = ops.matmul(xp, ops.reshape(kernel, (-1, kernel.shape[-1])))
        if bias is not None:
            y = y + bias
        return y

    def _conv_at_frame(self, x, kernel, bias, index=None):
        """The convolution at one frame per sequence: the last, or ``index``.

        x: (batch, time, in); index: (batch,) int frame numbers (>= 0), or
        None for the last frame. Returns (batch, out): frames
        ``index - window + 1 .. index`` (zeros before the first) times the
        (window * in, out) kernel.
        """
        k = self.window
        if index is None:
            # The last k frames, zero-padded on the left when time < k.
            frames = ops.pad(x[:, -k:], ((0, 0), (k - 1, 0), (0, 0)))[:, -k:]
            taps = [frames[:, i] for i in range(k)]
        else:
            taps = []
            for i in range(k):
                s = index - (k - 1 - i)
                frame = ops.take_along_axis(
                    x, ops.maximum(s, 0)[:, None, None], axis=1
                )[:, 0]
                taps.append(frame * ops.cast(s >= 0, x.dtype)[:, None])
        stacked = ops.concatenate(taps, axis=-1) if k > 1 else taps[0]
        y = ops.matmul(stacked, ops.reshape(ops.cast(kernel, x.dtype), (-1, kernel.shape[-1])))
        if bias is not None:
            y = y + bias
        return y

    def call(self, inputs, mask=None, training=None, initial_state=None):
        x = inputs
        if len(x.shape) != 3:
            raise ValueError(
                "QRNN expects inputs of shape (batch, time, features); "
                f"got shape {tuple(x.shape)}."
            )
        h0 = self._initial_state(initial_state)
        if self.go_backwards:
            x = ops.flip(x, axis=1)
            if mask is not None:
                mask = ops.flip(mask, axis=1)
        m = None
        if mask is not None:
            m = ops.cast(mask, "float32")[:, :, None]
            # Zero padded frames so that they do not leak into the next
            # frames' convolution windows (pre-padding == causal zero padding).
            x = x * ops.cast(m, x.dtype)
        if training and self.dropout > 0:
            x = keras.random.dropout(
                x, self.dropout, noise_shape=(None, 1, x.shape[-1]), seed=self.seed_generator
            )

        u = self.units
        # Column blocks of the kernel: z, f, o, i. Without return_sequences
        # the output gate is needed at one frame per sequence only (the
        # output is o_t * c_t at the last valid frame): the convolution over
        # all frames then computes z, f (and i) and the output gate is
        # computed at that frame alone, a third (fo) or a quarter (ifo)
        # fewer multiply-adds.
        out_gate_at_end = not self.return_sequences and self.pooling != "f"
        kernel, bias = self.kernel, self.bias
        if out_gate_at_end:
            keep = [slice(0, 2 * u)] + ([slice(3 * u, 4 * u)] if self.pooling == "ifo" else [])
            o_kernel = kernel[..., 2 * u : 3 * u]
            o_bias = None if bias is None else bias[2 * u : 3 * u]
            kernel = ops.concatenate([kernel[..., s] for s in keep], axis=-1)
            if bias is not None:
                bias = ops.concatenate([bias[s] for s in keep], axis=-1)
        gates = ops.cast(self._causal_conv(x, kernel, bias), "float32")
        z = ops.tanh(gates[..., :u])
        f = ops.sigmoid(gates[..., u : 2 * u])
        if self.zoneout > 0:
            if training:
                # Zoneout keeps the previous state (f_t = 1) with probability
                # p and leaves f_t alone otherwise: F = 1 - mask * (1 - F)
                # with mask ~ Bernoulli(1 - p), no rescaling. Keras dropout
                # would divide the kept (1 - F) by (1 - p), pushing F below
                # its true value (even below 0), so that the expectation
                # matched the gate of an un-zoned-out layer instead of the
                # zoneout gate the network is actually trained with.
                keep = keras.random.uniform(ops.shape(f), seed=self.seed_generator) >= self.zoneout
                f = ops.where(keep, f, 1.0)
            else:
                # Expected value of the training-time gate.
                f = self.zoneout + (1.0 - self.zoneout) * f
        if self.pooling == "ifo":
            i_gate = gates[..., 2 * u :] if out_gate_at_end else gates[..., 3 * u :]
            b = ops.sigmoid(i_gate) * z
        else:
            b = (1.0 - f) * z
        a = f
        if m is not None:
            # Padded frames: c_t = 1 * c_{t-1} + 0.
            a = m * a + (1.0 - m)
            b = m * b
        # Without return_sequences only the last state is read.
        c = linear_recurrence(a, b, h0, method=self.scan,
                              return_sequences=self.return_sequences)
        c_last = c[:, -1] if self.return_sequences else c

        if not self.return_sequences:
            # The output of the last valid frame. A padded frame leaves the
            # state exactly as it was (1 * c + 0), so c there is c_T; a
            # sequence without any valid frame outputs zeros.
            output = c_last
            index = None
            if m is not None:
                valid = m[:, :, 0] > 0
                steps = ops.arange(ops.shape(m)[1], dtype="int32")[None, :]
                index = ops.max(ops.where(valid, steps, -1), axis=1)
                output = output * ops.cast(index >= 0, output.dtype)[:, None]
                index = ops.maximum(index, 0)
            if out_gate_at_end:
                o = self._conv_at_frame(x, o_kernel, o_bias, index)
                output = ops.sigmoid(ops.cast(o, "float32")) * output
        else:
            h = ops.sigmoid(gates[..., 2 * u : 3 * u]) * c if self.pooling != "f" else c
            if m is not None:
                if self.zero_output_for_mask:
                    h = h * m
                else:
                    # Carry the last valid output over masked frames (zeros
                    # before the first valid one): h'_t = (1-m) h'_{t-1} + m h.
                    h = linear_recurrence(1.0 - m, m * h, method=self.scan)
            output = h
        output = ops.cast(output, self.compute_dtype)
        if self.return_state:
            return output, ops.cast(c_last, self.compute_dtype)
        return output

    def _initial_state(self, initial_state):
        if initial_state is None:
            return None
        if isinstance(initial_state, (list, tuple)):
            if len(initial_state) != 1:
                raise ValueError(
                    "QRNN has a single state; initial_state must be one tensor of "
                    f"shape (batch, {self.units}); got a list of {len(initial_state)}."
                )
            initial_state = initial_state[0]
        shape = tuple(initial_state.shape)
        if len(shape) != 2 or (shape[-1] is not None and shape[-1] != self.units):
            raise ValueError(
                f"QRNN initial_state must have shape (batch, {self.units}); got shape {shape}."
            )
        return ops.cast(initial_state, "float32")

    def compute_output_shape(self, input_shape):
        batch, length = input_shape[0], input_shape[1]
        if self.return_sequences:
            output_shape = (batch, length, self.units)
        else:
            output_shape = (batch, self.units)
        if self.return_state:
            return output_shape, (batch, self.units)
        return output_shape

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None]
        return output_mask

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            window=self.window,
            pooling=self.pooling,
            zoneout=self.zoneout,
            dropout=self.dropout,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask,
            scan=self.scan,
            use_bias=self.use_bias,
            forget_bias=self.forget_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=keras.regularizers.serialize(self.bias_regularizer),
            kernel_constraint=keras.constraints.serialize(self.kernel_constraint),
            bias_constraint=keras.constraints.serialize(self.bias_constraint),
            seed=self.seed,
        )
        return config


def _winograd_causal_conv2(x, kernel):
    """Causal convolution of window 2 with 3 matrix products per 2 frames, not 4.

    Winograd's minimal filtering F(2, 2) (Lavin & Gray 2016) over time, with
    the taps W0 (frame t - 1) and W1 (frame t) as matrices: for the frames
    p = x_{2j-1}, q = x_{2j}, r = x_{2j+1},

        y_{2j}   = p W0 + q W1 = (p - q) W0 + q (W0 + W1)
        y_{2j+1} = q W0 + r W1 = q (W0 + W1) + (r - q) W1

    so the product q (W0 + W1) is shared and the convolution (and its
    gradients) does 3/4 of the multiply-adds of the stacked matmul: 0.75x
    its time for 1152 -> 1536 gates on CPU (bench_qrnn_layer.py --conv).
    The layer uses it where it needs fewer products than F(3, 2)
    (_winograd_causal_conv3) with their zero frames: 2 or 4 frames.
    x: (batch, time, in) with a static time >= 2; kernel: (2, in, out).
    """
    length = x.shape[1]
    if length % 2:  # one zero frame at the end; its output is dropped
        x = ops.pad(x, ((0, 0), (0, 1), (0, 0)))
    half, features, n_out = x.shape[1] // 2, x.shape[-1], kernel.shape[-1]
    # Frames 2j and 2j + 1 side by side (a free reshape), then every product
    # as one 2-D matmul over all (batch, pair) rows: XLA's CPU backend runs
    # its weight gradient as a transposed-operand matmul, where a width-1
    # convolution's weight gradient transposed the whole input first.
    pairs = ops.reshape(x, (-1, half, 2, features))
    even = pairs[:, :, 0]  # q: frames 2j
    odd = pairs[:, :, 1]  # r: frames 2j + 1
    before = ops.pad(odd[:, :-1], ((0, 0), (1, 0), (0, 0)))  # p: frames 2j - 1
    w0, w1 = kernel[0], kernel[1]

    def product(a, w):
        return ops.matmul(ops.reshape(a, (-1, features)), w)

    shared = product(even, w0 + w1)
    y_even = product(before - even, w0) + shared
    y_odd = product(odd - even, w1) + shared
    y = ops.reshape(ops.stack([y_even, y_odd], axis=1), (-1, 2 * half, n_out))
    return y[:, :length]


def _winograd_causal_conv3(x, kernel):
    """Causal convolution of window 2 with 4 matrix products per 3 frames, not 6.

    Winograd's minimal filtering F(3, 2) (interpolation points 0, 1, -1 and
    infinity) over time, with the taps W0 (frame t - 1) and W1 (frame t) as
    matrices: for the frames d0 .. d3 = x_{3j-1} .. x_{3j+2} and the products

        m0 = (d0 - d2) W0              m1 = (d1 + d2) (W0 + W1) / 2
        m3 = (d3 - d1) W1              m2 = (d2 - d1) (W0 - W1) / 2

    the outputs are y_{3j} = m0 + m1 + m2 (= d0 W0 + d1 W1),
    y_{3j+1} = m1 - m2 (= d1 W0 + d2 W1) and y_{3j+2} = m1 + m2 + m3
    (= d2 W0 + d3 W1). Two thirds of the stacked matmul's multiply-adds
    (F(2, 2): three quarters), forward and in the weight gradient; the
    transforms only add and subtract, and the halving is exact, so the
    result matches the direct convolution to float32 rounding.
    x: (batch, time, in) with a static time >= 2; kernel: (2, in, out).
    """
    length, n_out = x.shape[1], kernel.shape[-1]
    w0, w1 = kernel[0], kernel[1]
    # Every product is one 2-D matmul over all (batch, block) rows (see
    # _winograd_causal_conv2).
    a0, a1, a2, a3 = _winograd3_inputs(x)
    m0 = ops.matmul(a0, w0)
    m1 = ops.matmul(a1, 0.5 * (w0 + w1))
    m2 = ops.matmul(a2, 0.5 * (w0 - w1))
    m3 = ops.matmul(a3, w1)
    m12 = m1 + m2
    y = ops.stack([m0 + m12, m1 - m2, m12 + m3], axis=1)
    return ops.reshape(y, (-1, 3 * (-(-length // 3)), n_out))[:, :length]


def _winograd3_inputs(x):
    """F(3, 2)'s transformed inputs ``d0 - d2, d1 + d2, d2 - d1, d3 - d1``.

    x: (batch, time, in); returns four (batch * ceil(time / 3), in) matrices,
    row ``(b, j)`` from the frames ``3j - 1 .. 3j + 2`` of sequence b.
    """
    length = x.shape[1]
    if length % 3:  # zero frames at the end; their outputs are dropped
        x = ops.pad(x, ((0, 0), (0, -length % 3), (0, 0)))
    third, features = x.shape[1] // 3, x.shape[-1]
    # Frames 3j .. 3j + 2 side by side: a free reshape.
    blocks = ops.reshape(x, (-1, third, 3, features))
    d1, d2, d3 = blocks[:, :, 0], blocks[:, :, 1], blocks[:, :, 2]
    d0 = ops.pad(d3[:, :-1], ((0, 0), (1, 0), (0, 0)))  # frames 3j - 1
    return [ops.reshape(a, (-1, features)) for a in (d0 - d2, d1 + d2, d2 - d1, d3 - d1)]


def _conv_is_faster():
    """Whether ``ops.conv`` beats matmuls on the same multiply-adds here.

    On JAX's CPU backend a convolution computed the QRNN's gates 10-20 %
    faster than the equivalent matmuls, forward and backward, for windows 1
    and 3 (bench_qrnn_layer.py --conv). Not for the Winograd products of
    window 2: as width-1 convolutions their weight gradients transposed
    every transformed input first, and 2-D matmuls trained the layer 1.14-1.3x
    faster. Elsewhere, unmeasured, the matmuls stay.
    """
    return keras.backend.backend() == "jax" and not _on_gpu()


