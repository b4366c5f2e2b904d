"""Time make_geneperm against a bare numpy gather and against make_classification.

Run with ``python benchmarks/bench_generator.py``. All timings are taken in the same
run, best of several repeats, so the printed ratios hold on a shared, noisy machine.

- gather: ``table[idx]`` with ``idx`` precomputed, the floor for any generator of
  this data (target: make_geneperm at most 2x);
- make_classification producing the same number of values;
- peak traced memory of make_geneperm relative to the size of ``X``
  (target: at most 1.5x).
"""

import argparse
import time
import tracemalloc

import numpy as np
from sklearn.datasets import make_classification

from geneperm_sk import make_geneperm


def best_time(function, repeats):
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--block-size", type=int, default=8)
    parser.add_argument("--n-columns", type=int, default=32)
    parser.add_argument("--n-table-rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    settings = dict(
        n_columns=args.n_columns,
        block_size=args.block_size,
        n_table_rows=args.n_table_rows,
        dtype=np.float32,
    )
    X, _, table = make_geneperm(
        args.n_samples, return_table=True, random_state=0, **settings
    )
    rng = np.random.default_rng(0)
    idx = rng.integers(0, args.n_table_rows, size=(args.n_samples, args.block_size))

    generator_seconds = best_time(
        lambda: make_geneperm(args.n_samples, random_state=0, **settings), args.repeats
    )
    table_reuse_seconds = best_time(
        lambda: make_geneperm(
            args.n_samples, block_size=args.block_size, table=table, random_state=0
        ),
        args.repeats,
    )
    gather_seconds = best_time(lambda: table[idx], args.repeats)
    make_classification_seconds = best_time(
        lambda: make_classification(
            args.n_samples,
            n_features=args.block_size * args.n_columns,
            random_state=0,
        ),
        max(1, args.repeats // 3),
    )

    tracemalloc.start()
    make_geneperm(args.n_samples, random_state=0, **settings)
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(
        f"make_geneperm(n_samples={args.n_samples}, block_size={args.block_size}, "
        f"n_columns={args.n_columns}, n_table_rows={args.n_table_rows}, float32); "
        f"X is {X.nbytes / 2**20:.1f} MiB; best of {args.repeats}"
    )
    rows = [
        ("numpy gather table[idx] (floor)", gather_seconds),
        ("make_geneperm (new table)", generator_seconds),
        ("make_geneperm (table=...)", table_reuse_seconds),
        ("sklearn make_classification", make_classification_seconds),
    ]
    for name, seconds in rows:
        print(f"  {name:<34} {seconds * 1e3:9.1f} ms")
    ratio = generator_seconds / gather_seconds
    print(f"make_geneperm / gather:             {ratio:6.2f}x  (target <= 2)")
    print(
        f"make_classification / make_geneperm: "
        f"{make_classification_seconds / generator_seconds:6.1f}x"
    )
    print(
        f"peak memory / X size:               {peak_bytes / X.nbytes:6.2f}x"
        "  (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
