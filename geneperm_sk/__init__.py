"""Gene-Perm: a multiple-instance problem where the right inductive bias wins.

``make_geneperm`` draws the data, ``bayes_accuracy`` gives the best accuracy any
classifier can reach on it, and ``AbsMeanClassifier`` is the scikit-learn
classifier with the inductive bias that reaches it.
"""

from ._absmean import AbsMeanClassifier
from ._curve import geneperm_curve
from ._datasets import load_mil_dataset, read_mil_csv
from ._display import GenePermCurveDisplay, GenePermHeatmapDisplay
from ._features import BagPooling, BagRowTransformer, RowSecondMoments
from ._generator import bayes_accuracy, make_geneperm
from ._mil_benchmark import (
    mil_benchmark,
    mil_benchmark_estimators,
    mil_benchmark_table,
)
from ._modules import AbsMeanModule, DeepSetsModule, GatedAttentionModule
from ._set_models import AttentionMILClassifier, DeepSetsClassifier
from ._show_versions import show_versions
from ._study import geneperm_study
from ._version import __version__

__all__ = [
    "AbsMeanClassifier",
    "AbsMeanModule",
    "AttentionMILClassifier",
    "BagPooling",
    "BagRowTransformer",
    "DeepSetsClassifier",
    "DeepSetsModule",
    "GatedAttentionModule",
    "GenePermCurveDisplay",
    "GenePermHeatmapDisplay",
    "RowSecondMoments",
    "__version__",
    "bayes_accuracy",
    "geneperm_curve",
    "geneperm_study",
    "load_mil_dataset",
    "make_geneperm",
    "mil_benchmark",
    "mil_benchmark_estimators",
    "mil_benchmark_table",
    "read_mil_csv",
    "show_versions",
]
