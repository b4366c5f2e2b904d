"""What several benchmark scripts share: their timing, and their data.

The scripts run from this folder (``python benchmarks/bench_*.py``), which puts
it first on ``sys.path``, so they import this module by its name.
"""

import time

import numpy as np

from geneperm_sk import make_geneperm


def best_time(function, repeats, clock=time.perf_counter, warm_up_calls=2):
    """The least time of ``repeats`` calls of ``function`` read on ``clock``,
    after ``warm_up_calls`` untimed ones (the first calls over fresh memory
    are slow)."""
    for _ in range(warm_up_calls):
        function()
    times = []
    for _ in range(repeats):
        start = clock()
        function()
        times.append(clock() - start)
    return min(times)


def training_and_test_sets(
    n_samples, test_size, *, n_columns, block_size, seed, test_seed, dtype=np.float32
):
    """``X, y, X_test, y_test``: a training set drawn with ``seed`` and a test
    set drawn with ``test_seed`` from the same table, both of ``dtype``."""
    X, y, table = make_geneperm(
        n_samples,
        n_columns=n_columns,
        block_size=block_size,
        dtype=dtype,
        return_table=True,
        random_state=seed,
    )
    X_test, y_test = make_geneperm(
        test_size,
        block_size=block_size,
        table=table,
        dtype=dtype,
        random_state=test_seed,
    )
    return X, y, X_test, y_test
