"""The study engine's own cost: time per task next to the work, and caller memory.

Run with ``python benchmarks/bench_study.py``. All timings are taken in the same run,
best of several repeats, so the printed ratios hold on a shared, noisy machine.

- Overhead per task: a study of many tiny tasks (a DummyClassifier on a few hundred
  samples) run sequentially by ``geneperm_study``, without and with a results file,
  against a bare loop doing the same work by hand (draw the training and test data,
  clone, fit, score). The difference, per task, is what the engine adds: planning,
  seeding, joblib, the scorer, records and appending a row. Target: under 1 ms a
  task, next to fits that take 10 ms to seconds.
- Caller memory: a study whose data sets total several GB (DummyClassifier, so the
  work is drawing data), with the peak memory traced in the calling process: run
  sequentially the caller holds one task's data at a time, never all of them; in
  joblib worker processes it holds none, since tasks carry seeds, not arrays.
  Targets: sequential peak at most 1.5x one task's data; process workers at most
  1% of the total.
"""

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from sklearn.base import clone
from sklearn.dummy import DummyClassifier

from geneperm_sk import geneperm_study, make_geneperm


def bare_loop(grid, n_repeats, settings, test_size):
    """The study's work written by hand, with fixed seeds."""
    estimator = DummyClassifier()
    seed = 0
    for block_size in grid["block_size"]:
        for n_samples in grid["n_samples"]:
            for _ in range(n_repeats):
                seed += 1
                X, y, table = make_geneperm(
                    n_samples,
                    block_size=block_size,
                    return_table=True,
                    random_state=seed,
                    **settings,
                )
                X_test, y_test = make_geneperm(
                    test_size, block_size=block_size, table=table, random_state=seed
                )
                clone(estimator).fit(X, y).score(X_test, y_test)


def overhead(args):
    grid = {"block_size": [1, 2, 3, 4, 5], "n_samples": [100, 150, 200, 250]}
    settings = {"n_columns": 8, "n_table_rows": 100}
    n_tasks = len(grid["block_size"]) * len(grid["n_samples"]) * args.task_repeats
    study = dict(
        estimators={"dummy": DummyClassifier()},
        param_grid=grid,
        n_repeats=args.task_repeats,
        test_size=args.small_test_size,
        random_state=0,
        **settings,
    )
    with tempfile.TemporaryDirectory() as folder:
        runs = {
            "bare": lambda repeat: bare_loop(
                grid, args.task_repeats, settings, args.small_test_size
            ),
            "engine": lambda repeat: geneperm_study(**study),
            "file": lambda repeat: geneperm_study(
                **study, results_file=Path(folder) / f"study{repeat}.csv"
            ),
        }
        timings = {name: [] for name in runs}
        # Interleaved, so that a busy spell of the machine hits all three alike.
        for repeat in range(args.repeats):
            for name, run in runs.items():
                start = time.perf_counter()
                run(repeat)
                timings[name].append(time.perf_counter() - start)
    bare, engine, with_file = (min(timings[name]) for name in timings)
    print(
        f"sequential overhead: {n_tasks} tasks of DummyClassifier on 100-250 samples "
        f"(test_size={args.small_test_size}), best of {args.repeats}, interleaved"
    )
    for name, seconds in [
        ("bare loop (draw, clone, fit, score)", bare),
        ("geneperm_study", engine),
        ("geneperm_study + results_file", with_file),
    ]:
        print(f"  {name:<38} {seconds:7.3f} s  {seconds / n_tasks * 1e3:7.3f} ms/task")
    print(
        f"engine overhead per task:                 "
        f"{(engine - bare) / n_tasks * 1e3:7.3f} ms  (target < 1 ms)"
    )
    print(
        f"engine + results file overhead per task:  "
        f"{(with_file - bare) / n_tasks * 1e3:7.3f} ms"
    )


def traced_peak(function):
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def caller_memory(args):
    settings = dict(
        block_size=args.block_size,
        n_columns=args.n_columns,
        test_size=args.test_size,
    )
    bytes_per_sample = args.block_size * args.n_columns * 4  # float32
    task_bytes = (args.n_samples + args.test_size) * bytes_per_sample
    total_bytes = task_bytes * args.memory_repeats
    study = dict(
        estimators={"dummy": DummyClassifier()},
        param_grid={"n_samples": [args.n_samples]},
        n_repeats=args.memory_repeats,
        random_state=0,
        **settings,
    )
    sequential = traced_peak(lambda: geneperm_study(**study))
    processes = traced_peak(lambda: geneperm_study(**study, n_jobs=args.n_jobs))
    print(
        f"\ncaller memory: {args.memory_repeats} tasks of {args.n_samples} + "
        f"{args.test_size} samples of {args.block_size} x {args.n_columns} float32: "
        f"{task_bytes / 2**20:.0f} MiB per task, {total_bytes / 2**30:.2f} GiB in all"
    )
    print(
        f"  sequential (in the caller)          peak {sequential / 2**20:8.1f} MiB"
        f"  = {sequential / task_bytes:5.2f}x one task's data  (target <= 1.5)"
    )
    print(
        f"  {args.n_jobs} joblib worker processes          peak "
        f"{processes / 2**20:8.1f} MiB  = {processes / total_bytes:7.4%} of all data"
        "  (target <= 1%)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-repeats", type=int, default=25)
    parser.add_argument("--small-test-size", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--test-size", type=int, default=10_000)
    parser.add_argument("--block-size", type=int, default=16)
    parser.add_argument("--n-columns", type=int, default=32)
    parser.add_argument("--memory-repeats", type=int, default=16)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    overhead(args)
    caller_memory(args)


if __name__ == "__main__":
    main()
