"""Why fits on the CPU run on one thread: the same fits with the library's policy
(torch, OpenMP and BLAS on one thread) and with the machine's default thread count.

Run with ``python benchmarks/bench_threads.py``. Both variants fit
``AbsMeanClassifier(n_columns=64, early_stopping=False, max_epochs=3)`` on
``make_geneperm(20000, block_size=16, n_columns=64)``, interleaved, best of
``--repeats``; the second variant switches the one-thread policy off. The ratio is
what the policy saves on this machine at the time of the run: the busier the
machine, the larger it is (threads then wait on each other).
"""

import argparse
import contextlib
import os
import time

import torch

import geneperm_sk._block_net as block_net
from geneperm_sk import AbsMeanClassifier, make_geneperm


@contextlib.contextmanager
def default_threads(device, *, native_libraries=False):
    yield


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    X, y = make_geneperm(20_000, n_columns=64, block_size=16, random_state=0)
    policy = block_net.one_thread_on
    times = {"one thread (the policy)": [], "default threads": []}
    for _ in range(args.repeats):
        for label, context in (
            ("one thread (the policy)", policy),
            ("default threads", default_threads),
        ):
            block_net.one_thread_on = context
            model = AbsMeanClassifier(
                n_columns=64,
                device="cpu",
                early_stopping=False,
                max_epochs=3,
                max_samples_per_epoch=None,
                random_state=0,
            )
            start = time.perf_counter()
            model.fit(X, y)
            times[label].append(time.perf_counter() - start)
    block_net.one_thread_on = policy
    print(
        f"AbsMeanClassifier fit, 20000 blocks of 16 x 64, 3 full epochs; "
        f"{os.cpu_count()} CPUs, torch default {torch.get_num_threads()} threads, "
        f"load average {os.getloadavg()[0]:.1f}; best of {args.repeats}, interleaved"
    )
    for label, measured in times.items():
        print(f"  {label:<26} {min(measured):6.2f} s")
    ratio = min(times["default threads"]) / min(times["one thread (the policy)"])
    print(f"default threads / one thread: {ratio:.2f}x")


if __name__ == "__main__":
    main()
