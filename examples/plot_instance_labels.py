"""
=====================================================
Which rows matter: per-row scores against the truth
=====================================================

Gene-Perm is a multiple-instance problem: a sample is a bag of rows, and a bag
is positive when some of its rows are unbalanced (their entries do not sum to
0). Unlike the real multiple-instance data sets, it knows which rows those are:
:func:`~geneperm_sk.make_geneperm` returns the exact instance labels with
``return_instance_labels=True``.

Models that score every row expose the scores with one method,
``row_scores``: the row's ``|w . x + b|`` for
:class:`~geneperm_sk.AbsMeanClassifier`, its attention weight for
:class:`~geneperm_sk.AttentionMILClassifier`.
:class:`~geneperm_sk.DeepSetsClassifier` pools fixed statistics of its row
embeddings and gives no score to a row, so it has no ``row_scores``. Here the
scores are compared with the instance labels by their ROC AUC, and then bags of
different sizes go through pipelines and cross-validation.
"""

# %%
# Bags with instance labels
# -------------------------
# Blocks of 8 rows of 20 columns. Each block becomes one bag, a 2-D array of
# shape ``(8, 20)``: a list of bags is what every block estimator takes as
# ``X``. A fresh test set is drawn from the same table.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import RocCurveDisplay, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from geneperm_sk import (
    AbsMeanClassifier,
    AttentionMILClassifier,
    BagPooling,
    BagRowTransformer,
    DeepSetsClassifier,
    make_geneperm,
)

blocks, y, _, table = make_geneperm(
    1000,
    n_columns=20,
    block_size=8,
    flatten=False,
    return_instance_labels=True,
    return_table=True,
    random_state=0,
)
test_blocks, y_test, test_instance_labels = make_geneperm(
    2000,
    block_size=8,
    flatten=False,
    table=table,
    return_instance_labels=True,
    random_state=1,
)
bags, test_bags = list(blocks), list(test_blocks)
print(f"{len(bags)} training bags of shape {bags[0].shape}")
print(
    f"unbalanced rows in positive test bags: "
    f"{test_instance_labels[y_test == 1].mean():.2f} (1/2 expected)"
)

# %%
# Fit the models on the bags
# --------------------------
models = {
    "AbsMean": AbsMeanClassifier(random_state=0),
    "Attention MIL": AttentionMILClassifier(max_epochs=40, random_state=0),
}
for name, model in models.items():
    model.fit(bags, y)
    print(f"{name:<14} test accuracy {model.score(test_bags, y_test):.3f}")
print("DeepSets has row scores:", hasattr(DeepSetsClassifier(), "row_scores"))

# %%
# Score the rows against the instance labels
# ------------------------------------------
# ``row_scores`` returns one 1-D array of scores per bag. Over the rows of the
# positive bags, the AUC says whether a model ranks the unbalanced rows first
# within the bags where they occur; over all rows, it also asks the scores of
# the rows of negative bags to be low.
truth = test_instance_labels.ravel()
in_positive_bag = np.repeat(y_test == 1, 8)
scores = {}
for name, model in models.items():
    scores[name] = np.concatenate(model.row_scores(test_bags))
    auc_positive = roc_auc_score(truth[in_positive_bag], scores[name][in_positive_bag])
    auc_all = roc_auc_score(truth, scores[name])
    print(
        f"{name:<14} row AUC: {auc_positive:.3f} over rows of positive bags, "
        f"{auc_all:.3f} over all rows"
    )

# %%
# AbsMean's row score is the quantity that decides the label: ``|w . x + b|``
# with ``w`` parallel to the all-ones vector is 0 on a balanced row and large on
# an unbalanced one, so it ranks the rows almost perfectly. The attention
# weights are a softmax within each bag: they can only say which rows of a bag
# count more than its other rows, not whether a row is unbalanced in absolute
# terms.
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
for ax, rows, title in zip(
    axes,
    (in_positive_bag, np.ones_like(truth, dtype=bool)),
    ("rows of positive bags", "all rows"),
    strict=True,
):
    for name in models:
        RocCurveDisplay.from_predictions(
            truth[rows], scores[name][rows], name=name, ax=ax
        )
    ax.plot([0, 1], [0, 1], color="0.7", linestyle=":")
    ax.set_title(f"Unbalanced rows found by row_scores:\n{title}")
axes[1].set_ylabel("")
fig.tight_layout()

# %%
# Bags of different sizes
# -----------------------
# Real multiple-instance data has bags of any size. Here each Gene-Perm block of
# 16 rows is cut to a random number of rows, 1 to 16, and a bag is positive when
# it keeps an unbalanced row (the multiple-instance rule).
blocks, _, instance_labels = make_geneperm(
    600,
    n_columns=20,
    block_size=16,
    flatten=False,
    return_instance_labels=True,
    random_state=2,
)
sizes = np.random.default_rng(0).integers(1, 17, size=len(blocks))
bags = [block[:size] for block, size in zip(blocks, sizes, strict=True)]
y = np.array(
    [labels[:size].any() for labels, size in zip(instance_labels, sizes, strict=True)],
    dtype=int,
)
print(f"bag sizes {sizes.min()} to {sizes.max()}, positive fraction {y.mean():.2f}")

# %%
# The rows are scaled inside the pipeline, on the training bags' rows only, by
# :class:`~geneperm_sk.BagRowTransformer`; :class:`~geneperm_sk.BagPooling`
# pools each bag's rows into per-column statistics (mean, max and min by
# default) for any classifier. Cross-validation splits the list of bags as it
# splits an array.
pipelines = {
    "scaled rows + Attention MIL": make_pipeline(
        BagRowTransformer(StandardScaler()),
        AttentionMILClassifier(max_epochs=40, random_state=0),
    ),
    "scaled rows + AbsMean": make_pipeline(
        BagRowTransformer(StandardScaler()), AbsMeanClassifier(random_state=0)
    ),
    "pooled statistics + LR": make_pipeline(BagPooling(), LogisticRegression()),
}
cv = StratifiedKFold(3, shuffle=True, random_state=0)
for name, pipeline in pipelines.items():
    accuracy = cross_val_score(pipeline, bags, y, cv=cv)
    print(f"{name:<28} accuracy {accuracy.mean():.3f} ± {accuracy.std():.3f}")

# %%
# AbsMean, whose row score is the one that decides Gene-Perm's label, reaches
# the ceiling on bags of every size. Per-column statistics of a bag carry no
# information about the label (each feature has the same distribution in both
# classes), so the pooling baseline stays at chance; so does the generic
# attention model with 400 training bags per fold, which has to learn from the
# data that the signal is the sum of a row. The same pipelines take the bags of
# the real data sets of :func:`~geneperm_sk.load_mil_dataset` unchanged (see the
# :ref:`User Guide <multiple_instance>`).
