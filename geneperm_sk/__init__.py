"""Gene-Perm: a multiple-instance problem where the right inductive bias wins.

``make_geneperm`` draws the data, ``bayes_accuracy`` gives the best accuracy any
classifier can reach on it.
"""

from ._generator import bayes_accuracy, make_geneperm

__version__ = "0.1.0"

__all__ = ["__version__", "bayes_accuracy", "make_geneperm"]
