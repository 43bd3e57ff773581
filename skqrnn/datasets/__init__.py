"""Datasets: the real YouTube-8M sample shipped with skqrnn, and a synthetic generator.

load_yt8m_sample, sample_paths
    Six real video-level YouTube-8M 2018 shards (1,787 videos; © Google,
    CC BY 4.0, attribution in ``skqrnn/datasets/data/ATTRIBUTION.md``).
make_yt8m
    Synthetic data in the real TFRecord format and with the real statistics,
    with order-dependent labels at frame level.
temporal_class_pairs, order_accuracy
    make_yt8m's order classes, and how well scores tell their order apart.
"""

from ._sample import load_yt8m_sample, sample_paths
from ._synthetic import make_yt8m, order_accuracy, temporal_class_pairs

__all__ = ["load_yt8m_sample", "sample_paths", "make_yt8m", "temporal_class_pairs",
           "order_accuracy"]
