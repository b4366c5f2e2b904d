"""Fit time of the set models over the ladder study of
``examples/plot_inductive_bias.py``.

Run with ``python benchmarks/bench_ladder.py`` (``--n-samples 3000 10000
--n-repeats 1`` for a subset). The neural set models take most of that study's
time (107 of its 117 s of fitting as recorded in ``inductive_bias.csv``); this
script runs them over the study's grid (block sizes 1 and 4, 20 columns, training
sizes 100 to 10,000, fresh 5,000-sample test sets) with
:func:`~geneperm_sk.geneperm_study`, in this process (one fit at a time, so
that the timing is not shared with another fit), and prints the fit time in all
and the mean accuracy per setting, and the process's CPU time for the whole
study, which other jobs on a busy machine do not inflate. To compare two
versions of the library, run the same command against each: the settings and
the data are the same.
"""

import argparse
import time

import pandas as pd

from geneperm_sk import AttentionMILClassifier, DeepSetsClassifier, geneperm_study


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--block-sizes", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--n-samples", type=int, nargs="+", default=[100, 300, 1000, 3000, 10_000]
    )
    parser.add_argument("--n-repeats", type=int, default=3)
    args = parser.parse_args()
    estimators = {
        "DeepSets": DeepSetsClassifier(random_state=0),
        "AttentionMIL": AttentionMILClassifier(random_state=0),
    }
    start, start_cpu = time.perf_counter(), time.process_time()
    records = geneperm_study(
        estimators,
        {"block_size": args.block_sizes, "n_samples": args.n_samples},
        n_repeats=args.n_repeats,
        test_size=5000,
        random_state=0,
        n_columns=20,
    )
    wall = time.perf_counter() - start
    cpu = time.process_time() - start_cpu
    results = pd.DataFrame(records)
    table = results.groupby(["estimator", "block_size", "n_samples"]).agg(
        fit_s=("mean_fit_time", "sum"),
        accuracy=("mean_test_score", "mean"),
        bayes=("bayes_accuracy", "first"),
    )
    print(
        f"set models of the ladder study: block sizes {args.block_sizes}, "
        f"training sizes {args.n_samples}, {args.n_repeats} repeats, 20 columns, "
        "5000 test samples; one fit at a time"
    )
    print(table.round(3).unstack("estimator").to_string())
    per_estimator = results.groupby("estimator").mean_fit_time.sum()
    parts = [f"{name} {seconds:.1f} s" for name, seconds in per_estimator.items()]
    print(
        f"fit time in all: {', '.join(parts)}; total {per_estimator.sum():.1f} s; "
        f"wall {wall:.1f} s"
    )
    # On a busy machine the CPU time of the whole study (fits, data, scoring; one
    # thread) is the steady figure to compare.
    print(f"study CPU time: {cpu:.1f} s")


if __name__ == "__main__":
    main()
