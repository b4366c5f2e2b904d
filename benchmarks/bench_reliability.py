"""Check that AbsMeanClassifier with its default settings fits Gene-Perm reliably.

Run with ``python benchmarks/bench_reliability.py`` (``--quick`` for a smoke run).

1. Success rate. For every ``n_columns`` in {8, 20, 64, 256}, ``block_size`` in
   {1, 2, 3, 4, 8, 16} and seed, fit on 5,000 samples and score on a fresh test set
   drawn from the same table. A fit succeeds when its test accuracy is within 1
   point (0.01) of ``bayes_accuracy(block_size)`` (target: at least 99% of fits).
   The default (spectral) initialisation is compared with ``init="random"``
   (PyTorch's default initialisation, all else default), which stalls at chance on
   many seeds; the median ``|cosine|`` of ``coef_`` with the all-ones vector shows
   whether a fit found the direction that solves the problem.
2. Sample efficiency (default settings only). For each ``(n_columns, block_size)``
   the smallest training size on a geometric ladder at which every seed ends
   within 1 point of the ceiling, against the identifiability scale
   ``2 * n_columns / block_size``: the spectral start needs the rows of negative
   blocks (about ``n * block_size / 2`` of them) to span the ``n_columns - 1``
   balanced directions (target: a small multiple of that scale).

The test set is large so that the 1-point threshold is not decided by test noise:
the standard error of a test accuracy near the ceiling is at most
``sqrt(0.75 * 0.25 / n_test)`` (the worst case, ``block_size=1``), which is 0.003
for 20,000 test samples, so a 1-point gap is more than 3 standard errors.
"""

import argparse
import time

import numpy as np
import torch
from _shared import training_and_test_sets

from geneperm_sk import AbsMeanClassifier, bayes_accuracy, make_geneperm

N_COLUMNS = (8, 20, 64, 256)
BLOCK_SIZES = (1, 2, 3, 4, 8, 16)
N_TRAIN = 5000
TOLERANCE = 0.01
# Training sizes for the sample-efficiency scan: roughly x1.5 steps up to N_TRAIN.
SIZE_LADDER = (8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
SIZE_LADDER += (1536, 2048, 3072, 4096, N_TRAIN)
# Offset between the seed of a training set and that of its test set, so that the
# two are drawn independently from the same table.
TEST_SEED_OFFSET = 100_000


def abs_cosine_with_ones(coef):
    norm = np.linalg.norm(coef)
    if norm == 0:
        return 0.0
    return float(abs(coef.sum()) / (norm * np.sqrt(coef.size)))


def fit_and_score(X, y, X_test, y_test, n_columns, seed, init):
    """Return (accuracy, fit seconds, |cosine|), or None when y has one class."""
    if np.unique(y).size < 2:
        # AbsMeanClassifier needs both classes; tiny training sets may lack one.
        return None
    model = AbsMeanClassifier(
        n_columns=n_columns, init=init, device="cpu", random_state=seed
    )
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds, abs_cosine_with_ones(model.coef_)


def success_rate(init, seeds, test_size):
    """One record per fit: (n_columns, block_size, seed, accuracy, gap, s, |cos|)."""
    records = []
    for n_columns in N_COLUMNS:
        for block_size in BLOCK_SIZES:
            for seed in range(seeds):
                X, y, X_test, y_test = training_and_test_sets(
                    N_TRAIN,
                    test_size,
                    n_columns=n_columns,
                    block_size=block_size,
                    seed=seed,
                    test_seed=seed + TEST_SEED_OFFSET,
                )
                accuracy, seconds, cosine = fit_and_score(
                    X, y, X_test, y_test, n_columns, seed, init
                )
                gap = bayes_accuracy(block_size) - accuracy
                records.append(
                    (n_columns, block_size, seed, accuracy, gap, seconds, cosine)
                )
    return records


def report_success_rate(init, records, seeds):
    succeeded = [record for record in records if record[4] <= TOLERANCE]
    failed = [record for record in records if record[4] > TOLERANCE]
    n_fits = len(records)
    print(
        f"\ninit={init!r}: {len(succeeded)}/{n_fits} "
        f"({100 * len(succeeded) / n_fits:.1f}%) fits within {TOLERANCE} of Bayes "
        f"(target >= 99%); median fit {np.median([r[5] for r in records]):.2f} s"
    )
    header = "  n_columns \\ block_size" + "".join(f"{b:>6}" for b in BLOCK_SIZES)
    print(header)
    for n_columns in N_COLUMNS:
        cells = []
        for block_size in BLOCK_SIZES:
            count = sum(
                1 for r in succeeded if r[0] == n_columns and r[1] == block_size
            )
            cells.append(f"{count}/{seeds}")
        print(f"  {n_columns:>23}" + "".join(f"{cell:>6}" for cell in cells))
    for label, group in (("successes", succeeded), ("failures", failed)):
        if group:
            median_cosine = np.median([r[6] for r in group])
            print(f"  median |cos(coef_, ones)| over {label}: {median_cosine:.3f}")
    if failed:
        print(f"  failing fits ({len(failed)}):")
        for n_columns, block_size, seed, accuracy, gap, _, cosine in failed:
            print(
                f"    d={n_columns:<4} b={block_size:<3} seed={seed:<3} "
                f"accuracy={accuracy:.4f} gap={gap:.4f} |cos|={cosine:.3f}"
            )


def smallest_sufficient_size(n_columns, block_size, seeds, test_size):
    """The first ladder size at which every seed is within TOLERANCE of Bayes,
    or None if none is."""
    tables, test_sets = [], []
    for seed in range(seeds):
        # One table and one test set per seed, reused for every training size.
        _, _, table = make_geneperm(
            1,
            n_columns=n_columns,
            block_size=block_size,
            return_table=True,
            random_state=seed,
        )
        tables.append(table)
        test_sets.append(
            make_geneperm(
                test_size,
                block_size=block_size,
                table=table,
                random_state=seed + TEST_SEED_OFFSET,
            )
        )
    ceiling = bayes_accuracy(block_size)
    for n_samples in SIZE_LADDER:
        for seed in range(seeds):
            X, y = make_geneperm(
                n_samples, block_size=block_size, table=tables[seed], random_state=seed
            )
            result = fit_and_score(X, y, *test_sets[seed], n_columns, seed, "spectral")
            if result is None or ceiling - result[0] > TOLERANCE:
                break
        else:
            return n_samples
    return None


def report_sample_efficiency(seeds, test_size):
    print(
        f"\nSample efficiency (default init): smallest training size at which all "
        f"{seeds} seeds are within {TOLERANCE} of Bayes"
    )
    print(
        f"  {'d':>4} {'b':>3} {'2d/b':>7} {'smallest n':>11} {'ratio':>7} {'target':>7}"
    )
    within_target = 0
    for n_columns in N_COLUMNS:
        for block_size in BLOCK_SIZES:
            scale = 2 * n_columns / block_size
            target = 4 * max(scale, 8)
            n_samples = smallest_sufficient_size(
                n_columns, block_size, seeds, test_size
            )
            if n_samples is None:
                smallest, ratio = f"> {N_TRAIN}", "-"
            else:
                smallest, ratio = str(n_samples), f"{n_samples / scale:.1f}"
                within_target += n_samples <= target
            mark = "" if n_samples is not None and n_samples <= target else " over"
            print(
                f"  {n_columns:>4} {block_size:>3} {scale:>7.1f} {smallest:>11} "
                f"{ratio:>7} {target:>7.0f}{mark}"
            )
    n_cells = len(N_COLUMNS) * len(BLOCK_SIZES)
    print(f"  cells within the target 4 * max(2d/b, 8): {within_target}/{n_cells}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--efficiency-seeds", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=20_000)
    parser.add_argument(
        "--skip-random", action="store_true", help='skip the init="random" fits'
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds and 1 efficiency seed"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's own choice); 1 steadies timings "
        "on a busy machine",
    )
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.efficiency_seeds = 2, 1
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    start = time.perf_counter()
    print(
        f"AbsMeanClassifier(device='cpu') on make_geneperm({N_TRAIN}, n_columns=d, "
        f"block_size=b), n_table_rows=1000; {args.seeds} seeds; test sets of "
        f"{args.test_size} samples from the same table; torch {torch.__version__}, "
        "one CPU thread per fit"
    )
    inits = ("spectral",) if args.skip_random else ("spectral", "random")
    for init in inits:
        section_start = time.perf_counter()
        records = success_rate(init, args.seeds, args.test_size)
        report_success_rate(init, records, args.seeds)
        print(f"  section time: {time.perf_counter() - section_start:.0f} s")
    section_start = time.perf_counter()
    report_sample_efficiency(args.efficiency_seeds, args.test_size)
    print(f"  section time: {time.perf_counter() - section_start:.0f} s")
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
