"""Plain per-video YouTube-8M metrics, transcribed from Google's starter code.

A deliberately simple, loop-per-video rendering of ``eval_util.py``
(``top_k_triplets``, ``top_k_by_class``, ``calculate_gap``,
``calculate_hit_at_one``, ``calculate_precision_at_equal_recall_rate``) and
``average_precision_calculator.py`` (``ap_at_n`` with ``n=None``), written
for Python 3 and numpy. It is the oracle of ``tests/test_metrics.py`` and the
baseline of ``benchmarks/bench_metrics.py`` (one copy for both).

Differences from the original, all irrelevant on inputs without ties:
no seeded shuffle before sorting; MAP over an empty set of classes is 0.0
(the original's ``numpy.mean([])`` is NaN). ``labels`` must be dense here.
"""

import numpy as np


def top_k_triplets(predictions, labels, k):
    """(class, score, label) of one video's k best classes."""
    k = min(k, len(predictions))
    indices = np.argpartition(predictions, -k)[-k:]
    return [(int(i), float(predictions[i]), int(labels[i])) for i in indices]


def top_k_by_class(predictions, labels, k):
    """Per class: the scores and labels of videos that kept it, and its positives."""
    if k <= 0:
        raise ValueError("k must be a positive integer.")
    n_classes = predictions.shape[1]
    k = min(k, n_classes)
    out_predictions = [[] for _ in range(n_classes)]
    out_labels = [[] for _ in range(n_classes)]
    for video in range(predictions.shape[0]):
        for cls, score, label in top_k_triplets(predictions[video], labels[video], k):
            out_predictions[cls].append(score)
            out_labels[cls].append(label)
    true_positives = [int(np.sum(labels[:, c])) for c in range(n_classes)]
    return out_predictions, out_labels, true_positives


def ap_at_n(predictions, actuals, total_num_positives=None):
    """Non-interpolated average precision of a ranked list (n=None)."""
    order = sorted(range(len(predictions)), key=lambda i: predictions[i], reverse=True)
    numpos = (sum(1 for a in actuals if a > 0) if total_num_positives is None
              else total_num_positives)
    if numpos == 0:
        return 0.0
    delta_recall = 1.0 / numpos
    poscount = 0.0
    ap = 0.0
    for rank, i in enumerate(order):
        if actuals[i] > 0:
            poscount += 1
            ap += poscount / (rank + 1) * delta_recall
    return ap


def flatten(lists):
    return [item for sub in lists for item in sub]


def gap(predictions, labels, k=20):
    preds, labs, positives = top_k_by_class(predictions, labels, k)
    return ap_at_n(flatten(preds), flatten(labs), sum(positives))


def mean_ap(predictions, labels, k=20):
    preds, labs, positives = top_k_by_class(predictions, labels, k)
    aps = [ap_at_n(p, l, n) for p, l, n in zip(preds, labs, positives) if n > 0]
    return float(np.mean(aps)) if aps else 0.0


def hit_at_one(predictions, labels):
    top = np.argmax(predictions, 1)
    return float(np.average(labels[np.arange(labels.shape[0]), top]))


def hit_at_k(predictions, labels, k=1):
    hits = 0
    for video in range(predictions.shape[0]):
        best = sorted(range(predictions.shape[1]), key=lambda c: predictions[video, c],
                      reverse=True)[:k]
        hits += any(labels[video, c] > 0 for c in best)
    return hits / predictions.shape[0]


def perr(predictions, labels):
    total = 0.0
    n_videos = labels.shape[0]
    for row in range(n_videos):
        num_labels = int(np.sum(labels[row]))
        # As the original: with num_labels == 0 this takes every class, and
        # the video's precision is 0.
        top = np.argpartition(predictions[row], -num_labels)[-num_labels:]
        precision = 0.0
        for c in top:
            if predictions[row][c] > 0:
                precision += labels[row][c]
        total += precision / top.size
    return total / n_videos
