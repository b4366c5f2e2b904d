"""
======================================================
What AbsMean learns: row weights parallel to (1, …, 1)
======================================================

On Gene-Perm the rows of a negative block are balanced: with row weights
proportional to the all-ones vector they score exactly 0, while a row with an
overwritten entry scores ±2. AbsMean records its row weights after every epoch in
``net_.history``, so we can watch them turn. From PyTorch's random initialisation
some seeds get there and others stall at chance; the default spectral
initialisation starts parallel to it.
"""

# %%
# Train from two random starts and from the spectral start
# --------------------------------------------------------
import matplotlib.pyplot as plt
import numpy as np

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm

n_columns, block_size = 16, 4
X, y, table = make_geneperm(
    3000, n_columns=n_columns, block_size=block_size, return_table=True, random_state=0
)
X_test, y_test = make_geneperm(5000, block_size=block_size, table=table, random_state=1)


def cosine_with_ones(weights):
    return abs(weights.sum()) / (np.linalg.norm(weights) * np.sqrt(len(weights)))


runs = {
    "random start, seed 6": dict(init="random", random_state=6),
    "random start, seed 0": dict(init="random", random_state=0),
    "spectral start": dict(init="spectral", random_state=0),
}
fitted = {
    # Every epoch a full pass over the 3,000 samples, for all three runs (the
    # default epochs after the spectral start are shorter).
    name: AbsMeanClassifier(
        n_columns=n_columns,
        lr=0.05,
        max_epochs=30,
        max_samples_per_epoch=None,
        early_stopping=False,
        **settings,
    ).fit(X, y)
    for name, settings in runs.items()
}
for name, clf in fitted.items():
    print(
        f"{name:<22} cosine {cosine_with_ones(clf.coef_):.3f}  "
        f"test accuracy {clf.score(X_test, y_test):.3f}"
    )
print(f"Bayes-optimal accuracy {bayes_accuracy(block_size):.3f}")
print("row weights of the spectral start:", np.round(fitted["spectral start"].coef_, 2))

# %%
# Training loss and the cosine of the row weights with the all-ones vector
# ------------------------------------------------------------------------
fig, (loss_ax, cosine_ax) = plt.subplots(1, 2, figsize=(10, 4))
for name, clf in fitted.items():
    history = clf.net_.history
    epochs = history[:, "epoch"]
    loss_ax.plot(epochs, history[:, "train_loss"], label=name)
    cosines = [cosine_with_ones(w) for w in history[:, "row_weights"]]
    cosine_ax.plot(epochs, cosines, label=name)
loss_ax.set_xlabel("epoch")
loss_ax.set_ylabel("training loss")
loss_ax.legend()
cosine_ax.set_xlabel("epoch")
cosine_ax.set_ylabel("|cos(w, all-ones)|")
cosine_ax.set_ylim(0, 1.05)
fig.tight_layout()
plt.show()
