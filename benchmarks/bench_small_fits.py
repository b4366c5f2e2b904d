"""What decides a default AbsMean fit on a few dozen samples.

Run with ``python benchmarks/bench_small_fits.py`` (defaults: 8 columns, block
size 1, the sizes 32 to 96 of ``bench_reliability.py``'s sample-efficiency scan,
with the same tables, training and test sets). For each fit it prints the gap to
``bayes_accuracy`` of the default fit and of the start alone fitted on all the
samples (``max_epochs=0``, which sets nothing aside), the epoch kept by early
stopping (0: the start, estimated from all the samples as the start alone is),
the epochs run and
the ``|cosine|`` of ``coef_`` with the all-ones vector.
"""

import argparse

import numpy as np
from bench_reliability import TEST_SEED_OFFSET, abs_cosine_with_ones

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-columns", type=int, default=8)
    parser.add_argument("--block-size", type=int, default=1)
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 48, 64, 96])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=20_000)
    args = parser.parse_args()
    d, b = args.n_columns, args.block_size
    ceiling = bayes_accuracy(b)
    print(
        f"AbsMeanClassifier() on make_geneperm(n, n_columns={d}, block_size={b}); "
        f"test sets of {args.test_size}; Bayes {ceiling:.4f}"
    )
    print(
        f"  {'n':>4} {'seed':>4} {'gap':>8} {'start gap':>9} {'kept':>4} "
        f"{'epochs':>6} {'|cos|':>6}"
    )
    for n_samples in args.sizes:
        for seed in range(args.seeds):
            _, _, table = make_geneperm(
                1, n_columns=d, block_size=b, return_table=True, random_state=seed
            )
            X_test, y_test = make_geneperm(
                args.test_size,
                block_size=b,
                table=table,
                random_state=seed + TEST_SEED_OFFSET,
            )
            X, y = make_geneperm(
                n_samples, block_size=b, table=table, random_state=seed
            )
            if np.unique(y).size < 2:
                print(f"  {n_samples:>4} {seed:>4}  one class only")
                continue
            model = AbsMeanClassifier(n_columns=d, device="cpu", random_state=seed)
            model.fit(X, y)
            start = AbsMeanClassifier(
                n_columns=d, device="cpu", random_state=seed, max_epochs=0
            ).fit(X, y)
            early_stopping = dict(model.net_.callbacks_).get("early_stopping")
            kept = "-" if early_stopping is None else early_stopping.best_epoch_
            print(
                f"  {n_samples:>4} {seed:>4} "
                f"{ceiling - model.score(X_test, y_test):>+8.4f} "
                f"{ceiling - start.score(X_test, y_test):>+9.4f} {kept:>4} "
                f"{len(model.net_.history):>6} "
                f"{abs_cosine_with_ones(model.coef_):>6.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
