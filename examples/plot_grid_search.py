"""
=====================================================
Grid search over AbsMean's hyperparameters
=====================================================

:class:`~geneperm_sk.AbsMeanClassifier` is an ordinary scikit-learn classifier, so
:class:`~sklearn.model_selection.GridSearchCV` tunes it like any other. Here the grid
covers the learning rate, the number of epochs and how the flat features are cut
into rows (``block_size``), and compares the default spectral initialisation with
PyTorch's random one. The data have blocks of 4 rows of 12 columns.
"""

# %%
# Data
# ----
import pandas as pd
from sklearn.model_selection import GridSearchCV

from geneperm_sk import AbsMeanClassifier, make_geneperm

X, y = make_geneperm(1200, n_columns=12, block_size=4, random_state=0)
print(X.shape)

# %%
# The search
# ----------
# With ``n_columns`` left unset, ``block_size`` decides the row width:
# ``block_size=3`` reads rows of 16 features and ``block_size=6`` rows of 8, which
# cut across the table's rows; only ``block_size=4`` lines up with them.
param_grid = {
    "block_size": [3, 4, 6],
    "init": ["spectral", "random"],
    "lr": [0.01, 0.05],
    "max_epochs": [10],
}
search = GridSearchCV(AbsMeanClassifier(random_state=0), param_grid, cv=3)
search.fit(X, y)
print("best parameters:", search.best_params_)

# %%
# The results, one row per candidate
# ----------------------------------
# The spectral start reaches the ceiling (0.969) whatever the learning rate; the
# random start depends on its luck with the seed.
columns = ["param_block_size", "param_init", "param_lr", "mean_test_score"]
results = pd.DataFrame(search.cv_results_)[columns]
print(results.sort_values("mean_test_score", ascending=False).to_string(index=False))
