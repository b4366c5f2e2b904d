"""
==================================================
AbsMean in a pipeline, tested on fresh data
==================================================

A :class:`~sklearn.pipeline.Pipeline` chains preprocessing with AbsMean, and
:func:`~sklearn.model_selection.cross_val_score` evaluates it. Because
:func:`~geneperm_sk.make_geneperm` can return its table, a fresh test set can be
drawn from exactly the same distribution as the training data.
"""

# %%
# Training data, and a fresh test set from the same table
# -------------------------------------------------------
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm

X, y, table = make_geneperm(
    2000, n_columns=20, block_size=2, return_table=True, random_state=0
)
X_test, y_test = make_geneperm(10_000, block_size=2, table=table, random_state=1)

# %%
# Cross-validate the pipeline
# ---------------------------
# Standardising every feature rescales the columns; AbsMean's row weights follow
# the rescaling, so the rows stay balanced in the weighted sense the model uses.
pipeline = make_pipeline(
    StandardScaler(), AbsMeanClassifier(n_columns=20, random_state=0)
)
scores = cross_val_score(pipeline, X, y, cv=5)
print(f"cross-validated accuracy: {scores.mean():.3f} ± {scores.std():.3f}")

# %%
# Fit on all the training data and score the fresh test set
# ---------------------------------------------------------
pipeline.fit(X, y)
print(f"fresh test set accuracy:  {pipeline.score(X_test, y_test):.3f}")
print(f"Bayes-optimal accuracy:   {bayes_accuracy(2):.3f}")
