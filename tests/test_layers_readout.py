"""skqrnn.layers.readout: padding masks and masked summaries over time."""

import numpy as np
import pytest

import skqrnn  # noqa: F401  (chooses the default Keras backend)
import keras

from skqrnn.layers.readout import AttentionPooling, FrameMask, TemporalReadout


def _sequences():
    rng = np.random.RandomState(0)
    x = rng.randn(3, 5, 4).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0],      # post-padded
                     [0, 0, 1, 1, 1],      # pre-padded
                     [1, 0, 1, 1, 0]],     # a gap in the middle
                    dtype=bool)
    return x, mask


def test_frame_mask_float_and_uint8():
    x = np.array([[[1, 2], [0, 0], [0, 3], [0, 0]]], dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(FrameMask()(x)), [[True, False, True, False]])
    q = np.array([[[127, 127], [0, 0], [127, 5]]], dtype=np.uint8)
    np.testing.assert_array_equal(np.asarray(FrameMask(pad_values=(127,))(q)),
                                  [[False, True, True]])
    both = FrameMask(pad_values=(0, 127))(q)
    np.testing.assert_array_equal(np.asarray(both), [[False, False, True]])
    symbolic = FrameMask((127,))(keras.Input((None, 2), dtype="uint8"))
    assert symbolic.dtype == "bool" and tuple(symbolic.shape) == (None, None)
    with pytest.raises(ValueError, match="at least one padding value"):
        FrameMask(pad_values=())


@pytest.mark.parametrize("mode", ["last", "first", "mean", "max"])
def test_temporal_readout_matches_numpy_over_real_frames(mode):
    x, mask = _sequences()
    out = np.asarray(TemporalReadout(mode)(x, mask=mask))
    for i in range(3):
        real = x[i][mask[i]]
        expected = {"last": real[-1], "first": real[0], "mean": real.mean(0),
                    "max": real.max(0)}[mode]
        np.testing.assert_allclose(out[i], expected, rtol=1e-6, atol=1e-6)
    no_mask = np.asarray(TemporalReadout(mode)(x))
    expected = {"last": x[:, -1], "first": x[:, 0], "mean": x.mean(1), "max": x.max(1)}[mode]
    np.testing.assert_allclose(no_mask, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layer", [TemporalReadout("last"), TemporalReadout("first"),
                                   TemporalReadout("mean"), TemporalReadout("max"),
                                   AttentionPooling(units=3)],
                         ids=["last", "first", "mean", "max", "attention"])
def test_rows_without_real_frames_give_zeros_not_nan(layer):
    x, _ = _sequences()
    mask = np.zeros((3, 5), dtype=bool)
    mask[0, 1] = True
    out = np.asarray(layer(x, mask=mask))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[1:], 0.0)


def test_attention_starts_as_mean_and_ignores_masked_frames():
    x, mask = _sequences()
    layer = AttentionPooling()
    np.testing.assert_allclose(np.asarray(layer(x, mask=mask)),
                               np.asarray(TemporalReadout("mean")(x, mask=mask)), atol=1e-6)
    layer.score.assign(np.ones((4, 1), np.float32))
    out = np.asarray(layer(x, mask=mask))
    changed = x.copy()
    changed[~mask] = 100.0  # huge values in masked frames get no weight
    np.testing.assert_allclose(np.asarray(layer(changed, mask=mask)), out, atol=1e-6)
    s = x[0, :3].sum(1)
    w = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    np.testing.assert_allclose(out[0], (w[:, None] * x[0, :3]).sum(0), rtol=1e-5)
    with pytest.raises(ValueError, match="units"):
        AttentionPooling(units=0)


def test_readouts_serialize_in_a_model(tmp_path):
    inputs = keras.Input((None, 4), dtype="float32")
    mask = FrameMask(name="m")(inputs)
    a = TemporalReadout("max", name="r")(inputs, mask=mask)
    b = AttentionPooling(units=2, name="att")(inputs, mask=mask)
    model = keras.Model(inputs, keras.layers.Concatenate()([a, b]))
    x, _ = _sequences()
    x[0, 3:] = 0.0
    path = tmp_path / "readout.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    with pytest.raises(ValueError, match="mode must be one of"):
        TemporalReadout("sum")
