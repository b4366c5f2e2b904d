"""Why block size 8 needs more training samples than 4 or 16 to reach the ceiling.

Run with ``python benchmarks/bench_block_size_8.py``.

For the settings of ``bench_reliability.py``'s sample-efficiency scan at block size
8 (the same tables, training sets and test sets), every default AbsMean fit is
broken down by ``K``, the number of changed rows of a positive block (rows whose
sum is not 0): ``K`` is Binomial(block_size, 1/2), a positive block with ``K = 0``
is indistinguishable from a negative one, and with ``coef_`` parallel to the
all-ones vector a block's pooled score is proportional to ``K``. The table shows,
per fit, the smallest ``K`` among the training set's positive blocks, the
fraction of the test set's positive blocks with ``K = 1`` that are misclassified,
and the gap to ``bayes_accuracy``.
"""

import argparse

import numpy as np
from bench_reliability import TEST_SEED_OFFSET, TOLERANCE

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm


def changed_rows(X, block_size, n_columns):
    """K: the number of rows of each block whose sum is not 0."""
    return (X.reshape(len(X), block_size, n_columns).sum(axis=2) != 0).sum(axis=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block-size", type=int, default=8)
    parser.add_argument("--n-columns", type=int, nargs="+", default=[8, 20, 64])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 96, 128])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=20_000)
    args = parser.parse_args()
    b = args.block_size
    ceiling = bayes_accuracy(b)
    k1_share = b * 2.0**-b / 2
    print(
        f"AbsMeanClassifier() default fits at block_size={b}; test sets of "
        f"{args.test_size}; Bayes {ceiling:.4f}; test blocks with K = 1: "
        f"{k1_share:.2%} of all"
    )
    print(
        f"  {'d':>3} {'n':>4} {'seed':>4} {'min K (train +)':>15} "
        f"{'K=1 in train':>12} {'K=1 test errors':>15} {'gap':>8} {'fails':>5}"
    )
    summary = {"with K=1": [], "without K=1": []}
    for n_columns in args.n_columns:
        for n_samples in args.sizes:
            for seed in range(args.seeds):
                # The same draws as bench_reliability.py's sample-efficiency scan.
                _, _, table = make_geneperm(
                    1,
                    n_columns=n_columns,
                    block_size=b,
                    return_table=True,
                    random_state=seed,
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
                    continue
                model = AbsMeanClassifier(
                    n_columns=n_columns, device="cpu", random_state=seed
                ).fit(X, y)
                k_train = changed_rows(X[y == 1], b, n_columns)
                k_test = changed_rows(X_test, b, n_columns)
                predicted = model.predict(X_test)
                k1_test = (y_test == 1) & (k_test == 1)
                k1_errors = float(np.mean(predicted[k1_test] != 1))
                gap = ceiling - model.score(X_test, y_test)
                fails = gap > TOLERANCE
                has_k1 = bool((k_train == 1).any())
                summary["with K=1" if has_k1 else "without K=1"].append(fails)
                print(
                    f"  {n_columns:>3} {n_samples:>4} {seed:>4} {k_train.min():>15} "
                    f"{'yes' if has_k1 else 'no':>12} {k1_errors:>15.2f} "
                    f"{gap:>+8.4f} {'yes' if fails else '':>5}",
                    flush=True,
                )
    for label, fails in summary.items():
        print(
            f"training sets {label:<12}: {len(fails):>3} fits, {sum(fails):>3} more "
            f"than {TOLERANCE} under the ceiling"
        )


if __name__ == "__main__":
    main()
