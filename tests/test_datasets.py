"""Tests of skqrnn.datasets: the shipped real sample and the synthetic generator."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from skqrnn.datasets import (
    load_yt8m_sample,
    make_yt8m,
    order_accuracy,
    sample_paths,
    temporal_class_pairs,
)
from skqrnn.io import dequantize, load_yt8m, read_records

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLE = SHARED / "data" / "yt8m-2018-video-sample"


# ------------------------------------------------------------------ real sample
def test_sample_ships_six_real_shards_with_attribution():
    paths = sample_paths()
    assert [Path(p).name for p in paths] == [f"validate000{i}.tfrecord" for i in range(6)]
    data_dir = Path(paths[0]).parent
    sums = dict(
        line.split()[::-1] for line in (data_dir / "SHA256SUMS").read_text().splitlines()
    )
    for p in paths:
        assert hashlib.sha256(Path(p).read_bytes()).hexdigest() == sums[Path(p).name]
    attribution = (data_dir / "ATTRIBUTION.md").read_text()
    assert "CC BY 4.0" in attribution and "YouTube-8M" in attribution and "Google" in attribution


def test_load_yt8m_sample():
    data = load_yt8m_sample()
    assert data.X.shape == (1787, 1152) and data.X.dtype == np.float32
    assert sp.issparse(data.y) and data.y.shape == (1787, 3862)
    assert data.ids[0] == "02aa" and np.flatnonzero(data.y[0].toarray()).tolist() == [3, 4, 9, 34]
    assert data.n_skipped == 0
    X, y = load_yt8m_sample(return_X_y=True, sparse_labels=False)
    np.testing.assert_array_equal(X, data.X)
    assert isinstance(y, np.ndarray) and y.sum() == data.y.nnz
    if (SAMPLE / "golden.json").is_file():
        golden = json.loads((SAMPLE / "golden.json").read_text())["files"]
        assert data.y.nnz == sum(golden[Path(p).name]["total_labels"] for p in sample_paths())


# ------------------------------------------------------------------- synthetic
def test_make_yt8m_video_level_statistics(tmp_path):
    paths = make_yt8m(3000, random_state=0, directory=tmp_path, n_shards=3)
    assert paths == [str(tmp_path / f"train000{i}.tfrecord") for i in range(3)]
    data = load_yt8m(paths)  # the real format: the real reader reads it
    X, y = data.X, data.y
    assert X.shape == (3000, 1152) and y.shape == (3000, 3862)
    labels_per_video = np.asarray(y.sum(1)).ravel()
    assert 2.6 < labels_per_video.mean() < 3.4 and labels_per_video.min() >= 1
    freq = np.asarray(y.sum(0)).ravel() / 3000
    assert 0.12 < freq[0] < 0.35  # the real top class is in ~20% of videos
    assert freq[0] > freq[10] > freq[1000]  # long tail, rank ordered
    assert (freq > 0).sum() > 1000
    assert X.min() >= dequantize(np.uint8([0]))[0] and X.max() <= dequantize(np.uint8([255]))[0]
    assert abs(X[:, :1024].std() - 0.44) < 0.08 and abs(X[:, 1024:].std() - 0.66) < 0.1
    assert len(set(data.ids)) == 3000


def test_make_yt8m_is_deterministic_and_configurable(tmp_path):
    a = make_yt8m(40, n_classes=30, random_state=1, directory=tmp_path / "a")
    b = make_yt8m(40, n_classes=30, random_state=1, directory=tmp_path / "b")
    c = make_yt8m(40, n_classes=30, random_state=2, directory=tmp_path / "c")
    assert Path(a[0]).read_bytes() == Path(b[0]).read_bytes() != Path(c[0]).read_bytes()
    gz = make_yt8m(40, n_classes=30, random_state=1, directory=tmp_path / "gz", n_shards=2,
                   compression="gzip", prefix="validate")
    assert [Path(p).name for p in gz] == ["validate0000.tfrecord.gz", "validate0001.tfrecord.gz"]
    np.testing.assert_array_equal(load_yt8m(gz, n_classes=30).X, load_yt8m(a, n_classes=30).X)
    tmp = make_yt8m(5, n_classes=30, random_state=0)  # into a new temporary directory
    assert Path(tmp[0]).is_file()
    with pytest.raises(ValueError, match="n_temporal_pairs"):
        make_yt8m(5, n_classes=4, n_temporal_pairs=2)
    with pytest.raises(ValueError, match="level"):
        make_yt8m(5, level="clip")


def test_make_yt8m_frame_level(tmp_path):
    data = make_yt8m(60, n_classes=20, level="frame", n_frames=(5, 30), random_state=0,
                     directory=tmp_path, return_data=True)
    assert data.X.dtype == np.uint8 and data.X.shape == (60, 30, 1152)
    assert 5 <= data.n_frames.min() and data.n_frames.max() <= 30
    assert data.temporal_classes.tolist() == [[16, 17], [18, 19]]
    assert data.paths == [str(tmp_path / "train0000.tfrecord")]
    rec = next(iter(read_records(data.paths)))
    assert rec.startswith(b"\x0a")  # a SequenceExample: context first
    fixed = make_yt8m(3, n_classes=20, level="frame", n_frames=7, random_state=0,
                      directory=tmp_path / "fixed", return_data=True)
    assert fixed.n_frames.tolist() == [7, 7, 7]


def test_order_labels_are_invisible_to_a_mean_over_frames(tmp_path):
    """The two classes of an order pair differ only in the order of two events."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_score

    data = make_yt8m(400, n_classes=10, level="frame", n_frames=(20, 40), temporal_rate=1.0,
                     random_state=0, directory=tmp_path, return_data=True)
    (first, second), = data.temporal_classes
    y = data.y.toarray()
    assert (y[:, first] + y[:, second] == 1).all()  # each video: exactly one order label
    X = dequantize(data.X[..., :256])  # the events span all features; 256 keep the fit fast
    nf = data.n_frames
    mean = np.stack([X[i, : nf[i]].mean(0) for i in range(len(nf))])
    half = np.stack(
        [X[i, : nf[i] // 2].mean(0) - X[i, nf[i] // 2 : nf[i]].mean(0) for i in range(len(nf))]
    )
    clf = LogisticRegression(C=0.1, max_iter=2000)
    acc_mean = cross_val_score(clf, mean, y[:, second], cv=4).mean()
    acc_order = cross_val_score(clf, half, y[:, second], cv=4).mean()
    assert acc_mean < 0.62, acc_mean  # chance: the mean hides the order
    assert acc_order > 0.65, acc_order  # a feature that sees time finds it


def test_order_accuracy_counts_each_order_label_against_its_partner(tmp_path):
    data = make_yt8m(40, n_classes=12, level="frame", n_frames=(5, 10), n_temporal_pairs=2,
                     temporal_rate=1.0, random_state=1, directory=tmp_path, return_data=True)
    pairs = temporal_class_pairs(12, 2)
    assert pairs.tolist() == data.temporal_classes.tolist() == [[8, 9], [10, 11]]
    y = data.y.toarray().astype(float)
    assert order_accuracy(data.y, y, pairs) == 1.0  # the truth ranks itself first
    swapped = y.copy()
    swapped[:, pairs.ravel()] = y[:, pairs[:, ::-1].ravel()]
    assert order_accuracy(data.y, swapped, pairs) == 0.0
    blind = np.zeros_like(y)  # ties are not wins: a model blind to order gets 0 here
    assert order_accuracy(y, blind, pairs) == 0.0
    # One right, one wrong.
    two = y[:2].copy()
    two[1, pairs.ravel()] = y[1, pairs[:, ::-1].ravel()]
    assert order_accuracy(y[:2], two, pairs) == 0.5
    assert np.isnan(order_accuracy(np.zeros((3, 12)), np.zeros((3, 12)), pairs))
