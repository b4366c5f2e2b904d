"""Fit time and accuracy of every estimator of the command line at one setting.

Run with ``python benchmarks/bench_estimators.py``. Each estimator is fitted on
``make_geneperm(10000, block_size=4, n_columns=20)`` and scored on 5,000 fresh
samples from the same table, for seeds 0, 1 and 2 (the data and the estimator's
own seed); the table gives the median fit time and the mean accuracy. Fits run
one after another in this process, interleaved by seed, on the machine's default
threads (the block classifiers use one thread on the CPU by design).
"""

import argparse
import statistics
import time

from _shared import training_and_test_sets

from geneperm_sk import bayes_accuracy
from geneperm_sk.__main__ import ESTIMATORS
from geneperm_sk._geneperm_recipe import _with_row_layout

N_SAMPLES, BLOCK_SIZE, N_COLUMNS, TEST_SIZE = 10_000, 4, 20, 5000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--estimators", nargs="+", default=list(ESTIMATORS))
    args = parser.parse_args()
    times = {name: [] for name in args.estimators}
    scores = {name: [] for name in args.estimators}
    for seed in range(args.seeds):
        X, y, X_test, y_test = training_and_test_sets(
            N_SAMPLES,
            TEST_SIZE,
            n_columns=N_COLUMNS,
            block_size=BLOCK_SIZE,
            seed=seed,
            test_seed=seed + 1000,
        )
        for name in args.estimators:
            # A clone that reads rows of N_COLUMNS, as studies configure it.
            estimator = _with_row_layout(ESTIMATORS[name][1](seed), N_COLUMNS)
            start = time.perf_counter()
            estimator.fit(X, y)
            times[name].append(time.perf_counter() - start)
            scores[name].append(estimator.score(X_test, y_test))
    print(
        f"fit on make_geneperm({N_SAMPLES}, block_size={BLOCK_SIZE}, "
        f"n_columns={N_COLUMNS}), scored on {TEST_SIZE} fresh samples; "
        f"seeds 0-{args.seeds - 1}; Bayes-optimal accuracy "
        f"{bayes_accuracy(BLOCK_SIZE):.4f}"
    )
    print(f"  {'estimator':<12} {'display name':<31} {'fit s':>7} {'accuracy':>9}")
    for name in args.estimators:
        print(
            f"  {name:<12} {ESTIMATORS[name][0]:<31} "
            f"{statistics.median(times[name]):7.2f} "
            f"{statistics.mean(scores[name]):9.4f}"
        )


if __name__ == "__main__":
    main()
