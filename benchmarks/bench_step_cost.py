"""What one training step of AbsMeanClassifier costs, part by part.

Run with ``python benchmarks/bench_step_cost.py`` (``--clock cpu`` on a busy
machine).

A default fit at 10,000 blocks of 16 x 64 spends most of its time in one epoch
of 20 Adam steps on batches of 256 blocks (``bench_fit_scale.py``'s stage
lines). This script times, on one such batch and one torch thread, best of
``--repeats`` after warm-up calls:

- the forward pass of the module alone (no gradient);
- forward and backward (the loss, ``BCEWithLogitsLoss``);
- a whole hand-written step: zeroing the gradients, forward, backward and
  fused Adam's step;
- skorch's ``train_step`` of the classifier's net on the same batch, which adds
  the callbacks' notifications and skorch's bookkeeping to the hand step;
- gathering the batch from 10,000 blocks by shuffled positions, into reused
  memory and into fresh memory;
- one forward pass over all 10,000 blocks (the floor of ``bench_fit_scale.py``).
"""

import argparse
import time

import numpy as np
import torch
from _shared import best_time

from geneperm_sk import AbsMeanClassifier, make_geneperm
from geneperm_sk._block_net import ADAM_OPTIONS

N_SAMPLES, BLOCK_SIZE, N_COLUMNS, BATCH_SIZE = 10_000, 16, 64, 256
clock = time.perf_counter


def main():
    global clock
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    args = parser.parse_args()
    if args.clock == "cpu":
        clock = time.process_time
    torch.set_num_threads(1)

    X, y = make_geneperm(
        N_SAMPLES, block_size=BLOCK_SIZE, n_columns=N_COLUMNS, random_state=0
    )
    blocks = torch.from_numpy(X.reshape(N_SAMPLES, BLOCK_SIZE, N_COLUMNS))
    labels = torch.as_tensor(y, dtype=torch.float32)
    model = AbsMeanClassifier(n_columns=N_COLUMNS, device="cpu", random_state=0)
    model.fit(X, y)
    net = model.net_
    module = net.module_
    positions = torch.from_numpy(np.random.default_rng(0).permutation(N_SAMPLES))
    batch_positions = positions[:BATCH_SIZE]
    batch = blocks.index_select(0, batch_positions)
    batch_labels = labels.index_select(0, batch_positions)
    loss_function = torch.nn.BCEWithLogitsLoss()
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-6, **ADAM_OPTIONS)
    buffer = torch.empty_like(batch)
    weights = torch.ones(N_COLUMNS)

    def forward():
        with torch.no_grad():
            module(batch)

    def forward_backward():
        loss_function(module(batch), batch_labels).backward()

    def hand_step():
        optimizer.zero_grad()
        loss_function(module(batch), batch_labels).backward()
        optimizer.step()

    def skorch_step():
        net.train_step((batch, batch_labels))

    rows = [
        ("forward (no gradient)", forward),
        ("forward + backward", forward_backward),
        ("hand step: zero_grad, forward, backward, Adam", hand_step),
        ("skorch train_step (the classifier's net)", skorch_step),
        (
            "gather a shuffled batch into reused memory",
            lambda: torch.index_select(blocks, 0, batch_positions, out=buffer),
        ),
        (
            "gather a shuffled batch into fresh memory",
            lambda: blocks.index_select(0, batch_positions),
        ),
        (
            f"floor: forward pass over all {N_SAMPLES:,} blocks",
            lambda: (blocks @ weights).abs().mean(1),
        ),
    ]
    print(
        f"AbsMeanClassifier training step on a batch of {BATCH_SIZE} blocks of "
        f"{BLOCK_SIZE} x {N_COLUMNS}; torch {torch.__version__}, one thread; "
        f"best of {args.repeats}; {args.clock} clock"
    )
    floor = None
    results = [
        (label, best_time(function, args.repeats, clock, warm_up_calls=20))
        for label, function in rows
    ]
    floor = results[-1][1]
    for label, seconds in results:
        print(f"  {label:<48} {seconds * 1e3:7.3f} ms  {seconds / floor:5.2f} passes")
    step = dict(results)["skorch train_step (the classifier's net)"]
    print(
        f"an epoch of 5,000 samples: {-(-5000 // BATCH_SIZE)} steps, about "
        f"{-(-5000 // BATCH_SIZE) * step / floor:.1f} forward passes over "
        f"{N_SAMPLES:,} blocks in steps alone"
    )


if __name__ == "__main__":
    main()
