"""Builds the compiled kernels: the lockstep lasso paths (Gram matrix and rows) and float32 rank counting.

Everything else is in pyproject.toml.

Without Cython or a C compiler the package still installs: the kernel is
optional and the lasso path then runs scikit-learn's own routine per output.
"""
from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: install without the kernel
    extensions = []
else:
    extensions = cythonize(
        [Extension("rosetta_stats.stats.kernels._gram_lasso", ["rosetta_stats/stats/kernels/_gram_lasso.pyx"],
                   include_dirs=["rosetta_stats/stats/kernels"], extra_compile_args=["-O3"], optional=True),
         Extension("rosetta_stats.stats.kernels._ranking", ["rosetta_stats/stats/kernels/_ranking.pyx"],
                   extra_compile_args=["-O3"], optional=True)],
        language_level=3, quiet=True)

setup(ext_modules=extensions)
