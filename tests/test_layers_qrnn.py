"""Tests of skqrnn.layers.QRNN and skqrnn.layers.recurrence.

The reference is a plain float64 numpy loop over time (causal convolution,
gates, pooling, Keras masking conventions) using the layer's own weights;
reference gradients are central finite differences of that loop in float64.
Runs on whichever Keras backend is selected (JAX by default; also checked
with KERAS_BACKEND=tensorflow / torch).
"""

import numpy as np
import pytest

import skqrnn  # noqa: F401  (chooses the default Keras backend)
import keras
from keras import ops

from skqrnn.layers import QRNN, linear_recurrence
from skqrnn.layers import recurrence
from skqrnn.layers.qrnn import POOLING_MODES

BACKEND = keras.backend.backend()
N_GATES = {"f": 2, "fo": 3, "ifo": 4}
# Sample 0 is post-padded, sample 1 has leading and inner masked frames.
MASK = np.array([[1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1]], dtype=bool)


@pytest.fixture(autouse=True, scope="module")
def full_float32_matmuls():
    """Compare with the float64 reference at float32 precision on GPUs too.

    JAX and TensorFlow round float32 matmul operands to TF32 (10-bit
    mantissa) by default on NVIDIA GPUs since Ampere: on an H100 the forward
    tests then missed by up to 3e-4 (relative 1.7e-2) and passed with full
    float32 matmuls. CPUs compute float32 either way, so this changes
    nothing there.
    """
    if BACKEND == "jax":
        import jax

        old = jax.config.jax_default_matmul_precision
        jax.config.update("jax_default_matmul_precision", "highest")
        yield
        jax.config.update("jax_default_matmul_precision", old)
    elif BACKEND == "tensorflow":
        import tensorflow as tf

        old = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        yield
        tf.config.experimental.enable_tensor_float_32_execution(old)
    else:  # torch computes float32 matmuls in float32 unless told otherwise
        yield


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def qrnn_reference(x, kernel, bias, pooling, mask=None, h0=None, go_backwards=False,
                   zoneout=0.0, zero_output_for_mask=False):
    """Float64 loop. Returns (outputs per processed frame, last output, final state)."""
    x = np.asarray(x, np.float64)
    kernel = np.asarray(kernel, np.float64)
    bias = np.zeros(kernel.shape[-1]) if bias is None else np.asarray(bias, np.float64)
    batch, length, _ = x.shape
    k = kernel.shape[0]
    u = kernel.shape[-1] // N_GATES[pooling]
    m = np.ones((batch, length)) if mask is None else np.asarray(mask, np.float64)
    if go_backwards:
        x, m = x[:, ::-1], m[:, ::-1]
    x = x * m[..., None]  # a padded frame contributes nothing to any window
    c = np.zeros((batch, u)) if h0 is None else np.asarray(h0, np.float64)
    prev = np.zeros((batch, u))
    outputs = []
    for t in range(length):
        g = np.tile(bias, (batch, 1))
        for i in range(k):  # tap i multiplies frame t - (k - 1) + i (Conv1D layout)
            s = t - (k - 1) + i
            if s >= 0:
                g = g + x[:, s] @ kernel[i]
        z = np.tanh(g[:, :u])
        f = zoneout + (1 - zoneout) * _sigmoid(g[:, u:2 * u])
        inp = _sigmoid(g[:, 3 * u:]) * z if pooling == "ifo" else (1 - f) * z
        c_new = f * c + inp
        h = c_new if pooling == "f" else _sigmoid(g[:, 2 * u:3 * u]) * c_new
        valid = m[:, t][:, None] > 0
        c = np.where(valid, c_new, c)
        outputs.append(np.where(valid, h, 0.0 if zero_output_for_mask else prev))
        prev = np.where(valid, h, prev)
    return np.stack(outputs, axis=1), prev, c


def _weights(layer):
    bias = np.asarray(layer.bias) if layer.use_bias else None
    return np.asarray(layer.kernel), bias


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _built(units=3, window=2, pooling="fo", features=3, **kwargs):
    layer = QRNN(units, window=window, pooling=pooling, bias_initializer="glorot_uniform",
                 **kwargs)
    layer.build((None, None, features))
    return layer


def _np(t):
    if BACKEND == "torch":
        return t.detach().cpu().numpy()
    return np.asarray(t)


# ----------------------------------------------------------------- recurrence


def _compiled(fn):
    # One XLA compilation instead of hundreds of eagerly dispatched ops.
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    return fn


def _loop(a, b, h0):
    h, out = h0.astype(np.float64), []
    for t in range(a.shape[1]):
        h = a[:, t] * h + b[:, t]
        out.append(h)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("method", ["sequential", "associative"])
@pytest.mark.parametrize("length", [1, 2, 7, 300])
def test_linear_recurrence_matches_float64_loop(method, length):
    rng = np.random.default_rng(length)
    # Forget gates in (0.5, 1): the closed form via cumprod would underflow.
    a = rng.uniform(0.5, 1.0, (3, length, 4)).astype("float32")
    b = rng.normal(size=(3, length, 4)).astype("float32")
    h0 = rng.normal(size=(3, 4)).astype("float32")
    fn = _compiled(lambda a, b, h0: linear_recurrence(a, b, h0, method=method))
    h = fn(a, b, h0)
    assert ops.dtype(h) == "float32"
    h = _np(h)
    assert np.all(np.isfinite(h))
    np.testing.assert_allclose(h, _loop(a, b, h0), rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("method", ["sequential", "associative"])
@pytest.mark.parametrize("length", [1, 2, 7, 300])
def test_last_state_and_its_gradients_equal_the_full_scans(method, length):
    # return_sequences=False: h_T alone (on JAX by a scan with a written-out
    # gradient); values and gradients must be those of h[:, -1].
    rng = np.random.default_rng(length + 1)
    a = rng.uniform(0.5, 1.0, (3, length, 4)).astype("float32")
    b = rng.normal(size=(3, length, 4)).astype("float32")
    h0 = rng.normal(size=(3, 4)).astype("float32")
    w = rng.normal(size=(3, 4)).astype("float32")
    last = _compiled(lambda a, b, h0: linear_recurrence(a, b, h0, method=method,
                                                        return_sequences=False))(a, b, h0)
    assert tuple(last.shape) == (3, 4)
    np.testing.assert_allclose(_np(last), _loop(a, b, h0)[:, -1], rtol=1e-5, atol=2e-5)
    if BACKEND != "jax":
        return
    import jax

    def loss(fn):
        return jax.jit(jax.grad(lambda a, b, h0: (fn(a, b, h0) * w).sum(), argnums=(0, 1, 2)))

    got = loss(lambda a, b, h0: linear_recurrence(a, b, h0, method=method,
                                                  return_sequences=False))(a, b, h0)
    want = loss(lambda a, b, h0: linear_recurrence(a, b, h0, method=method)[:, -1])(a, b, h0)
    for name, g, e in zip("abh", got, want):
        np.testing.assert_allclose(_np(g), _np(e), rtol=1e-5, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("length", [1, 2, 3, 5, 8, 13])
def test_doubling_scan_matches_loop(length):
    # The Hillis-Steele scan used for "associative" on TensorFlow and torch.
    rng = np.random.default_rng(1)
    a = rng.uniform(0.0, 1.0, (2, length, 3)).astype("float32")
    b = rng.normal(size=(2, length, 3)).astype("float32")
    h = _np(recurrence._doubling(ops.convert_to_tensor(a), ops.convert_to_tensor(b), length))
    np.testing.assert_allclose(h, _loop(a, b, np.zeros((2, 3))), rtol=1e-5, atol=1e-6)


def test_linear_recurrence_keeps_float32_under_half_precision():
    a = np.full((1, 300, 2), 0.999, "float16")
    b = np.full((1, 300, 2), 0.001, "float16")
    h = linear_recurrence(ops.convert_to_tensor(a), ops.convert_to_tensor(b))
    assert ops.dtype(h) == "float32"
    expected = _loop(a.astype(np.float64), b.astype(np.float64), np.zeros((1, 2)))
    np.testing.assert_allclose(_np(h), expected, rtol=1e-5)


def test_resolve_scan_method():
    assert recurrence.resolve_scan_method("sequential") == "sequential"
    assert recurrence.resolve_scan_method("associative") == "associative"
    assert recurrence.resolve_scan_method("auto") in ("sequential", "associative")
    with pytest.raises(ValueError, match="scan must be one of"):
        recurrence.resolve_scan_method("parallel")
    with pytest.raises(ValueError, match=r"\(batch, time, units\)"):
        linear_recurrence(np.ones((2, 3), "float32"), np.ones((2, 3), "float32"))


# -------------------------------------------------------------- forward pass


@pytest.mark.parametrize("pooling", POOLING_MODES)
@pytest.mark.parametrize("window", [1, 2, 3])
def test_forward_matches_float64_reference(pooling, window):
    x = _data((2, 6, 3))
    h0 = _data((2, 3), seed=1)
    for go_backwards in (False, True):
        layer = _built(3, window, pooling, return_sequences=True, return_state=True,
                       go_backwards=go_backwards, zoneout=0.25 if window == 2 else 0.0)
        for mask in (None, MASK):
            ref_seq, ref_last, ref_state = qrnn_reference(
                x, *_weights(layer), pooling, mask, h0, go_backwards, zoneout=layer.zoneout)
            case = f"go_backwards={go_backwards} masked={mask is not None}"
            for scan in ("sequential", "associative"):
                layer.scan, layer.return_sequences = scan, True
                seq, state = layer(x, mask=mask, initial_state=h0)
                np.testing.assert_allclose(_np(seq), ref_seq, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{case} {scan}")
                np.testing.assert_allclose(_np(state), ref_state, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{case} {scan}")
                layer.return_sequences = False
                last = layer(x, mask=mask, initial_state=[h0])[0]
                np.testing.assert_allclose(_np(last), ref_last, rtol=1e-5, atol=1e-5,
                                           err_msg=f"{case} {scan}")


@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 6, 7])
def test_window_two_convolution_any_length(length):
    # Window 2 groups frames by three (Winograd's F(3, 2)) or, at lengths 2
    # and 4, pairs them (F(2, 2)): lengths that are no multiple of the block
    # get zero frames appended and dropped again, a single frame takes the
    # plain matmul.
    x = _data((2, length, 3), seed=length)
    weights_out = _data((2, length, 3), seed=7)
    layer = _built(3, 2, "fo", return_sequences=True)
    kernel, bias = _weights(layer)
    ref_seq = qrnn_reference(x, kernel, bias, "fo")[0]
    np.testing.assert_allclose(_np(layer(x)), ref_seq, rtol=1e-5, atol=1e-6)

    def loss(xx, kk, bb):
        return np.sum(qrnn_reference(xx, kk, bb, "fo")[0] * weights_out)

    expected = _finite_differences(loss, [x, kernel, bias])
    got = _layer_grads(layer, x, weights_out)
    for name, g, e in zip(("inputs", "kernel", "bias"), got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=2e-5, err_msg=name)


def test_zero_output_for_mask():
    layer = _built(3, 2, "fo", return_sequences=True, zero_output_for_mask=True)
    x = _data((2, 6, 3))
    ref_seq, _, _ = qrnn_reference(x, *_weights(layer), "fo", MASK, zero_output_for_mask=True)
    np.testing.assert_allclose(_np(layer(x, mask=MASK)), ref_seq, rtol=1e-5, atol=1e-6)
    assert np.all(ref_seq[~MASK] == 0)


def test_kernel_has_conv1d_causal_layout():
    layer = _built(2, 3, "f", return_sequences=True)
    conv = keras.layers.Conv1D(4, 3, padding="causal")
    conv.build((None, None, 3))
    conv.set_weights(layer.get_weights())
    x = _data((2, 7, 3))
    gates = _np(conv(x))
    h = _np(layer(x))
    ref = qrnn_reference(x, *_weights(layer), "f")[0]
    np.testing.assert_allclose(h, ref, rtol=1e-5, atol=1e-6)
    # First step from zero state: h_1 = (1 - f_1) z_1 with gates from Conv1D.
    z, f = np.tanh(gates[:, 0, :2]), _sigmoid(gates[:, 0, 2:])
    np.testing.assert_allclose(h[:, 0], (1 - f) * z, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("padding", ["post", "pre"])
def test_padded_sequence_gives_same_result_as_unpadded(go_backwards, padding):
    layer = _built(3, 3, "ifo", return_sequences=True, return_state=True,
                   go_backwards=go_backwards)
    x = _data((1, 5, 3))
    junk = 10 * _data((1, 3, 3), seed=7)  # padding need not be zeros
    pieces = [x, junk] if padding == "post" else [junk, x]
    padded = np.concatenate(pieces, axis=1)
    valid = np.arange(8) < 5 if padding == "post" else np.arange(8) >= 3
    seq, state = layer(x)
    seq_p, state_p = layer(padded, mask=valid[None])
    np.testing.assert_allclose(_np(state_p), _np(state), rtol=1e-5, atol=1e-6)
    seq, seq_p = _np(seq), _np(seq_p)
    if go_backwards:  # outputs are in processing order: back to time order
        seq, seq_p = seq[:, ::-1], seq_p[:, ::-1]
    np.testing.assert_allclose(seq_p[:, valid], seq, rtol=1e-5, atol=1e-6)
    layer.return_sequences = False
    np.testing.assert_allclose(_np(layer(padded, mask=valid[None])[0]), _np(layer(x)[0]),
                               rtol=1e-5, atol=1e-6)


def test_keras_masking_layer_propagates_mask():
    x = _data((2, 6, 3))
    x[~MASK] = 0.0
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.Masking(0.0),
                              QRNN(3, return_sequences=True, bias_initializer="ones")])
    layer = model.layers[-1]
    ref_seq = qrnn_reference(x, *_weights(layer), "fo", MASK)[0]
    np.testing.assert_allclose(_np(model(x)), ref_seq, rtol=1e-5, atol=1e-6)
    assert np.array_equal(_np(layer.compute_mask(x, ops.convert_to_tensor(MASK))), MASK)


# ----------------------------------------------------------------- gradients


def _layer_grads(layer, x, weights_out, **call_kwargs):
    """d sum(layer(x) * weights_out) / d(x, kernel, bias), float32."""
    if BACKEND == "jax":
        import jax
        import jax.numpy as jnp

        def loss(trainable, xx):
            out, _ = layer.stateless_call(trainable, layer.non_trainable_variables, xx,
                                          **call_kwargs)
            return jnp.sum(out * weights_out)

        trainable = [v.value for v in layer.trainable_variables]
        g_vars, g_x = jax.grad(loss, argnums=(0, 1))(trainable, jnp.asarray(x))
        return [np.asarray(g_x)] + [np.asarray(g) for g in g_vars]
    if BACKEND == "tensorflow":
        import tensorflow as tf

        xx = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xx)
            loss = tf.reduce_sum(layer(xx, **call_kwargs) * weights_out)
        grads = tape.gradient(loss, [xx] + list(layer.trainable_variables))
        return [np.asarray(g) for g in grads]
    if BACKEND == "torch":
        import torch

        xx = torch.tensor(x, requires_grad=True)
        out = layer(xx, **call_kwargs)
        loss = torch.sum(out * torch.as_tensor(weights_out, device=out.device))
        params = [v.value for v in layer.trainable_variables]
        return [g.detach().cpu().numpy() for g in torch.autograd.grad(loss, [xx] + params)]
    pytest.skip(f"no gradient helper for backend {BACKEND}")


def _finite_differences(fn, arrays, eps=1e-6):
    """Central differences of scalar fn(*arrays) w.r.t. every array, float64."""
    arrays = [np.array(a, np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            up = fn(*arrays)
            a[idx] = old - eps
            down = fn(*arrays)
            a[idx] = old
            g[idx] = (up - down) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("pooling", POOLING_MODES)
@pytest.mark.parametrize("window", [1, 2, 3])
def test_gradients_match_float64_finite_differences(pooling, window):
    x = _data((2, 6, 3))
    weights_out = _data((2, 6, 3), seed=3)
    for mask, go_backwards in ((None, False), (MASK, True)):
        layer = _built(3, window, pooling, return_sequences=True, go_backwards=go_backwards)
        kernel, bias = _weights(layer)

        def loss(xx, kk, bb):
            seq = qrnn_reference(xx, kk, bb, pooling, mask, go_backwards=go_backwards)[0]
            return np.sum(seq * weights_out)

        expected = _finite_differences(loss, [x, kernel, bias])
        for scan in ("sequential", "associative"):
            layer.scan = scan
            got = _layer_grads(layer, x, weights_out, mask=mask)
            for name, g, e in zip(("inputs", "kernel", "bias"), got, expected):
                np.testing.assert_allclose(
                    g, e, rtol=1e-4, atol=2e-5,
                    err_msg=f"{scan} {name} masked={mask is not None} backwards={go_backwards}")


@pytest.mark.parametrize("pooling", POOLING_MODES)
@pytest.mark.parametrize("window", [1, 2, 3])
def test_last_output_gradients_match_float64_finite_differences(pooling, window):
    # Without return_sequences the output gate is computed at the output
    # frame only (the last valid one), outside the all-frames convolution.
    x = _data((2, 6, 3))
    weights_out = _data((2, 3), seed=3)
    for mask, go_backwards in ((None, False), (MASK, False), (MASK, True)):
        layer = _built(3, window, pooling, go_backwards=go_backwards, zoneout=0.2)
        kernel, bias = _weights(layer)

        def loss(xx, kk, bb):
            last = qrnn_reference(xx, kk, bb, pooling, mask, go_backwards=go_backwards,
                                  zoneout=0.2)[1]
            return np.sum(last * weights_out)

        expected = _finite_differences(loss, [x, kernel, bias])
        for scan in ("sequential", "associative"):
            layer.scan = scan
            got = _layer_grads(layer, x, weights_out, mask=mask)
            for name, g, e in zip(("inputs", "kernel", "bias"), got, expected):
                np.testing.assert_allclose(
                    g, e, rtol=1e-4, atol=2e-5,
                    err_msg=f"{scan} {name} masked={mask is not None} backwards={go_backwards}")


@pytest.mark.parametrize("pooling", POOLING_MODES)
def test_last_output_of_fully_masked_sequence_is_zero(pooling):
    mask = MASK.copy()
    mask[1] = False
    layer = _built(3, 2, pooling, return_state=True)
    h0 = _data((2, 3), seed=1)
    x = _data((2, 6, 3))
    last, state = layer(x, mask=mask, initial_state=h0)
    _, ref_last, ref_state = qrnn_reference(x, *_weights(layer), pooling, mask, h0)
    np.testing.assert_allclose(_np(last), ref_last, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(_np(last)[1], 0.0)
    np.testing.assert_allclose(_np(state), ref_state, rtol=1e-5, atol=1e-6)  # h0 kept


@pytest.mark.parametrize("pooling", ["fo", "ifo"])
def test_last_output_equals_last_frame_of_sequences_under_training_noise(pooling):
    # Same seed, same weights: the last-output path (output gate at one
    # frame) draws the same dropout and zoneout masks as the sequence path
    # and gives its output at the last valid frame.
    x = _data((4, 7, 3))
    mask = np.ones((4, 7), bool)
    mask[1, 5:] = False
    mask[2, :2] = False
    kwargs = dict(window=2, pooling=pooling, zoneout=0.3, dropout=0.2, seed=5,
                  zero_output_for_mask=False)
    last_layer = _built(4, **kwargs)
    seq_layer = _built(4, return_sequences=True, **kwargs)
    seq_layer.set_weights(last_layer.get_weights())
    last = _np(last_layer(x, mask=mask, training=True))
    seq = _np(seq_layer(x, mask=mask, training=True))
    np.testing.assert_allclose(last, seq[:, -1], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------ training-time noise


def test_zoneout_sets_forget_gate_to_one_without_rescaling():
    p = 0.3
    layer = _built(50, 1, "f", features=4, zoneout=p, seed=0)
    x = _data((200, 1, 4))
    h0 = _data((200, 50), seed=2)
    kernel, bias = _weights(layer)
    # The un-zoned-out step, from the same gates: f h0 + (1 - f) z.
    no_zoneout = qrnn_reference(x, kernel, bias, "f", h0=h0)[1]
    h = _np(layer(x, initial_state=h0, training=True))
    kept = np.isclose(h, h0, rtol=0, atol=1e-6)
    plain = np.isclose(h, no_zoneout, rtol=0, atol=1e-6)
    # Every unit either kept its state (f = 1) or took the plain update:
    # rescaled (Keras-dropout) gates would produce neither.
    assert np.all(kept | plain)
    assert abs(kept.mean() - p) < 0.03
    # Inference uses the expected gate p + (1 - p) f.
    expected = qrnn_reference(x, kernel, bias, "f", h0=h0, zoneout=p)[1]
    np.testing.assert_allclose(_np(layer(x, initial_state=h0)), expected, rtol=1e-5, atol=1e-6)


def test_input_dropout_mask_is_shared_over_time():
    layer = _built(3, 2, "fo", features=2, dropout=0.5, seed=0, return_sequences=True)
    x = np.zeros((64, 5, 2), "float32")
    x[:, :, 0] = _data((64, 5))  # one feature: each sequence keeps it or loses it
    kernel, bias = _weights(layer)
    dropped = qrnn_reference(0 * x, kernel, bias, "fo")[0]
    kept = qrnn_reference(2 * x, kernel, bias, "fo")[0]  # 1 / (1 - rate)
    h = _np(layer(x, training=True))
    is_dropped = np.all(np.isclose(h, dropped, atol=1e-5), axis=(1, 2))
    is_kept = np.all(np.isclose(h, kept, atol=1e-5), axis=(1, 2))
    assert np.all(is_dropped | is_kept)
    assert 0.25 < is_dropped.mean() < 0.75
    inference = qrnn_reference(x, kernel, bias, "fo")[0]
    np.testing.assert_allclose(_np(layer(x)), inference, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ Keras plumbing


def test_bidirectional_with_mask_and_states():
    x = _data((2, 6, 3))
    bi = keras.layers.Bidirectional(
        QRNN(3, window=2, pooling="ifo", return_sequences=True, return_state=True))
    h0 = [_data((2, 3), seed=5), _data((2, 3), seed=6)]
    out, state_f, state_b = bi(x, mask=MASK, initial_state=h0)
    fwd, bwd = bi.forward_layer, bi.backward_layer
    assert bwd.go_backwards and not fwd.go_backwards
    # Bidirectional forces zero outputs at masked frames for sequences.
    seq_f, _, ref_state_f = qrnn_reference(x, *_weights(fwd), "ifo", MASK, h0[0],
                                           zero_output_for_mask=True)
    seq_b, _, ref_state_b = qrnn_reference(x, *_weights(bwd), "ifo", MASK, h0[1],
                                           go_backwards=True, zero_output_for_mask=True)
    expected = np.concatenate([seq_f, seq_b[:, ::-1]], axis=-1)
    np.testing.assert_allclose(_np(out), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(state_f), ref_state_f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(state_b), ref_state_b, rtol=1e-5, atol=1e-6)


def test_fit_with_zoneout_and_dropout_learns():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 3)).astype("float32")
    y = (x[:, :, 0].sum(axis=1, keepdims=True) > 0).astype("float32")
    model = keras.Sequential([keras.Input((6, 3)),
                              QRNN(8, zoneout=0.1, dropout=0.1, seed=1),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_save_load_roundtrip(tmp_path):
    inputs = keras.Input((None, 3))
    h = keras.layers.Masking(0.0)(inputs)
    h = keras.layers.Bidirectional(QRNN(3, zoneout=0.1, dropout=0.1, seed=1,
                                        bias_initializer="ones", return_sequences=True))(h)
    h = QRNN(3, window=3, pooling="ifo", scan="associative")(h)
    model = keras.Model(inputs, h)
    x = _data((2, 6, 3))
    x[~MASK] = 0.0
    path = tmp_path / "qrnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(_np(loaded(x)), _np(model(x)), rtol=1e-6, atol=1e-6)
    config = model.layers[-1].get_config()
    assert config["window"] == 3 and config["pooling"] == "ifo"
    assert config["scan"] == "associative"
    clone = QRNN.from_config(config)
    assert clone.get_config() == config


def test_symbolic_shapes_and_mask():
    inputs = keras.Input((None, 5))
    out, state = QRNN(6, return_sequences=True, return_state=True)(inputs)
    assert tuple(out.shape) == (None, None, 6) and tuple(state.shape) == (None, 6)
    assert tuple(QRNN(6)(inputs).shape) == (None, 6)
    layer = QRNN(2, return_sequences=True, return_state=True)
    assert layer.compute_mask(None, "m") == ["m", None]


def test_mixed_precision_output_dtype_and_accuracy():
    x = _data((2, 50, 3))
    ref_layer = _built(4, 2, "fo", return_sequences=True)
    layer = QRNN(4, window=2, return_sequences=True, dtype="mixed_bfloat16")
    layer.build((None, None, 3))
    layer.set_weights(ref_layer.get_weights())
    out = layer(x)
    assert ops.dtype(out) == "bfloat16"
    assert layer.kernel.dtype == "float32"
    expected = qrnn_reference(x, *_weights(ref_layer), "fo")[0]
    np.testing.assert_allclose(_np(ops.cast(out, "float32")), expected, atol=3e-2)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"units": 0}, "units must be a positive integer"),
        ({"units": 4, "window": 0}, "window must be an integer >= 1"),
        ({"units": 4, "pooling": "io"}, "pooling must be one of"),
        ({"units": 4, "zoneout": 1.0}, r"zoneout must be a float in \[0, 1\)"),
        ({"units": 4, "dropout": -0.1}, r"dropout must be a float in \[0, 1\)"),
        ({"units": 4, "scan": "parallel"}, "scan must be one of"),
    ],
)
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        QRNN(**kwargs)


def test_invalid_inputs():
    layer = _built(4, 2, "fo")
    with pytest.raises(ValueError, match=r"initial_state must have shape \(batch, 4\)"):
        layer(_data((2, 6, 3)), initial_state=_data((2, 3)))
    with pytest.raises(ValueError, match="single state"):
        layer(_data((2, 6, 3)), initial_state=[_data((2, 4)), _data((2, 4))])
    with pytest.raises(ValueError, match="ndim=3|expected ndim"):
        layer(_data((2, 3)))
