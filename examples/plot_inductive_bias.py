"""
===============================================================
Which part of AbsMean's bias matters: a sample-complexity study
===============================================================

AbsMean knows two things about Gene-Perm: that a block is a *set* of rows (its
score does not depend on their order), and that a row matters through a squared
linear score, ``|w . x|`` (whose square is quadratic in the row). The baselines
below each carry part of that knowledge:

============================================  ==========================================
model                                         what it knows
============================================  ==========================================
LogisticRegression on the flat vector         neither
PolynomialFeatures(2) + LogisticRegression    quadratic, no symmetry: ``(b d)^2`` terms
RowSecondMoments + LogisticRegression         quadratic and symmetric: ``d (d - 1) / 2``
DeepSetsClassifier                            symmetric; a generic function of a row
AttentionMILClassifier                        symmetric, with attention pooling
AbsMeanClassifier                             all of it: ``d + 3`` parameters
============================================  ==========================================

A study over the training size shows what each part buys: with the right bias
the ceiling is reached from a few hundred samples; the symmetric quadratic
features can represent the Bayes rule too, but need on the order of ``d^2``
samples; the flat quadratic features need on the order of ``(b d)^2``.

The study (block sizes 1 and 4, 20 columns, training sizes 100 to 10,000, three
repeats on new tables, 5,000 fresh test samples per draw: 180 fits) spends the
fit time printed below, most of it on the neural set models and the flat
quadratic features at 10,000 samples; with ``n_jobs=2`` on two CPU cores it took
about a minute of wall time when the records were made. Its records are kept
beside this script in
``inductive_bias.csv``; :func:`~geneperm_sk.geneperm_study` resumes from that
file, so running the example again only redraws the figure. Delete the file (and
``inductive_bias.csv.json``) to recompute everything.
"""

# %%
# The study
# ---------
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    DeepSetsClassifier,
    GenePermCurveDisplay,
    RowSecondMoments,
    geneperm_study,
)

estimators = {
    "LogisticRegression": LogisticRegression(max_iter=1000),
    "Poly2+LogisticRegression": make_pipeline(
        PolynomialFeatures(2, include_bias=False),
        StandardScaler(),
        LogisticRegression(max_iter=1000),
    ),
    "RowMoments+LogisticRegression": make_pipeline(
        RowSecondMoments(), StandardScaler(), LogisticRegression(C=100, max_iter=1000)
    ),
    "DeepSets": DeepSetsClassifier(random_state=0),
    "AttentionMIL": AttentionMILClassifier(random_state=0),
    "AbsMean": AbsMeanClassifier(random_state=0),
}
try:
    results_file = Path(__file__).with_name("inductive_bias.csv")
except NameError:  # run interactively: keep the records in the working folder
    results_file = Path("inductive_bias.csv")
records = geneperm_study(
    estimators,
    {"block_size": [1, 4], "n_samples": [100, 300, 1000, 3000, 10_000]},
    n_repeats=3,
    test_size=5000,
    n_jobs=2,
    random_state=0,
    results_file=results_file,
    n_columns=20,
)
results = pd.DataFrame(records)
print(f"{len(results)} records; fit time in all: {results.mean_fit_time.sum():.0f} s")

# %%
# Accuracy against training size
# ------------------------------
# One panel per block size: the mean over the repeats with a band of one standard
# deviation, the Bayes ceiling and chance.
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
for ax, (block_size, group) in zip(axes, results.groupby("block_size"), strict=True):
    display = GenePermCurveDisplay.from_results(
        group.drop(columns="block_size"), param_name="n_samples", ax=ax
    )
    ax.set_title(f"block size {block_size}")
    ax.get_legend().remove()
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False)
fig.subplots_adjust(bottom=0.3)

# %%
# The smallest training size within one point of the ceiling
# ----------------------------------------------------------
# For each model and block size: the smallest training size whose mean accuracy
# over the repeats is within 0.01 of ``bayes_accuracy``, or "-" when none in the
# study is.
mean = results.groupby(["estimator", "block_size", "n_samples"]).agg(
    accuracy=("mean_test_score", "mean"), bayes=("bayes_accuracy", "first")
)
reached = mean[mean.accuracy >= mean.bayes - 0.01].reset_index()
smallest = reached.groupby(["estimator", "block_size"]).n_samples.min().unstack()
smallest = smallest.reindex(index=list(estimators), columns=[1, 4])
smallest.columns = [f"block size {b}" for b in smallest.columns]
print(smallest.map(lambda n: "-" if pd.isna(n) else f"{int(n):,}").to_string())

plt.show()
