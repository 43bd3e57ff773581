"""Build the optional compiled top-k of skqrnn.metrics (all else is in pyproject.toml).

The extension is optional: without a C++ compiler the install goes on and
the metrics use their numpy path (same results, about half the speed; see
benchmarks/bench_metrics.py).
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
            # -O3 vectorizes the kernel's loops on every gcc/clang (-O2 does
            # not on gcc < 12); not -ffast-math, which the kernel refuses.
            extra_compile_args=[] if os.name == "nt" else ["-O3"],
            optional=True,
        )],
        language_level=3,
    )

setup(ext_modules=ext_modules)
