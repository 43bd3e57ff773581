"""Build the optional compiled top-k of skqrnn.metrics (all else is in pyproject.toml).

The extension is optional: without a C++ compiler the install goes on and
the metrics use their numpy path (same results; GAP@20 on 100,000 x 3862
scores 0.40 s instead of 0.24 s, benchmarks/bench_metrics.py).
"""

import os

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # a build without pyproject.toml's build requirements
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension(
            "skqrnn._top_k",
            ["skqrnn/_top_k.pyx"],
            include_dirs=["skqrnn"],
            depends=["skqrnn/_top_k_kernel.h"],
            # -O3 vectorizes the kernel's loops (gcc's -O2 does not before
            # version 12); never -ffast-math, which the kernel refuses.
            extra_compile_args=[] if os.name == "nt" else ["-O3"],
            optional=True,
        )],
        language_level=3,
    )

setup(ext_modules=ext_modules)
