"""How many validation samples the early-stopping loss needs near the ceiling.

Run with ``python benchmarks/bench_validation_size.py``. For a few settings, a
default-settings AbsMean start (``max_epochs=0``) and a fit trained for 20 epochs
of 5,000 samples without early stopping are scored on 50,000 fresh blocks; the
script prints the mean per-sample log-loss, its coefficient of variation
(standard deviation over mean) and the number of validation samples that puts
the standard error of the mean loss at a third of the 10% margin by which an
epoch must beat the start (``(cv / 0.033) ** 2``). ``MAX_VALIDATION_SAMPLES``
in ``_block_net.py`` is derived from these figures.
"""

import torch
from torch.nn.functional import binary_cross_entropy_with_logits

from geneperm_sk import AbsMeanClassifier, make_geneperm

SETTINGS = [(1, 20), (4, 20), (8, 64), (16, 64)]  # (block_size, n_columns)
RELATIVE_ERROR = 0.1 / 3


def main():
    print(
        "per-sample log-loss on 50000 fresh blocks; fits on 20000 samples; "
        f"samples for a standard error of {RELATIVE_ERROR:.1%} of the mean"
    )
    print(f"  {'b':>3} {'d':>4} {'epochs':>6} {'mean':>8} {'cv':>6} {'samples':>9}")
    for block_size, n_columns in SETTINGS:
        X, y, table = make_geneperm(
            20_000,
            n_columns=n_columns,
            block_size=block_size,
            return_table=True,
            random_state=0,
        )
        X_valid, y_valid = make_geneperm(
            50_000, block_size=block_size, table=table, random_state=5
        )
        for epochs in (0, 20):
            model = AbsMeanClassifier(
                n_columns=n_columns,
                max_epochs=epochs,
                early_stopping=False,
                # 20 epochs of 5,000 samples, as when MAX_VALIDATION_SAMPLES
                # was derived (the default after the spectral start is 1,024).
                max_samples_per_epoch=5000,
                device="cpu",
                random_state=0,
            ).fit(X, y)
            losses = binary_cross_entropy_with_logits(
                torch.as_tensor(model.decision_function(X_valid)),
                torch.as_tensor(y_valid, dtype=torch.float64),
                reduction="none",
            ).numpy()
            cv = losses.std() / losses.mean()
            print(
                f"  {block_size:>3} {n_columns:>4} {epochs:>6} {losses.mean():>8.4f} "
                f"{cv:>6.2f} {(cv / RELATIVE_ERROR) ** 2:>9.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
