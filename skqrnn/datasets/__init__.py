"""Datasets: the real YouTube-8M sample shipped with skqrnn, and a synthetic generator.

load_yt8m_sample, sample_paths
    Six real video-level YouTube-8M 2018 shards (1,787 videos; © Google,
    CC BY 4.0, attribution in ``skqrnn/datasets/data/ATTRIBUTION.md``).
make_yt8m
    Synthetic data in the real TFRecord format and with the real statistics,
    with order-dependent labels at frame level.
"""

from ._sample import load_yt8m_sample, sample_paths
from ._synthetic import make_yt8m

__all__ = ["load_yt8m_sample", "sample_paths", "make_yt8m"]
