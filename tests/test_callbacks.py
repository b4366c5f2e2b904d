import math

import numpy as np
import pytest
import torch
from skorch.history import History

from geneperm_sk._callbacks import (
    EarlyStoppingFromInitialParameters,
    StopOnDivergence,
    StopTraining,
    TrainingDiverged,
    paired_gain,
)


class FakeNet:
    """The parts of a skorch net that the callback reads."""

    def __init__(self):
        self.module_ = torch.nn.Linear(1, 1)
        self.history = History()
        self.verbose = 0


def run_epochs(callback, net, validation_losses):
    """Feed the losses to the callback as a fit would; the number of epochs run."""
    callback.on_train_begin(net)
    for epoch, loss in enumerate(validation_losses, start=1):
        with torch.no_grad():
            net.module_.weight.fill_(float(epoch))
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        try:
            callback.on_epoch_end(net)
        except StopTraining:
            break
    callback.on_train_end(net)
    return len(net.history)


def test_initial_parameters_are_restored_when_no_epoch_beats_the_margin():
    net = FakeNet()
    with torch.no_grad():
        net.module_.weight.fill_(0.0)
    callback = EarlyStoppingFromInitialParameters(1.0, initial_margin=0.1, patience=5)
    run_epochs(callback, net, [0.95, 0.93, 0.97])
    assert callback.best_epoch_ == 0
    assert net.module_.weight.item() == 0.0


def test_an_epoch_beating_the_margin_replaces_the_initial_parameters():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(1.0, initial_margin=0.1, patience=5)
    run_epochs(callback, net, [0.95, 0.85, 0.86])
    assert callback.best_epoch_ == 2
    assert net.module_.weight.item() == 2.0


def test_without_margin_any_improvement_counts():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(1.0, patience=5)
    run_epochs(callback, net, [0.95, 0.97])
    assert callback.best_epoch_ == 1
    assert net.module_.weight.item() == 1.0


def test_margin_does_not_stop_training_that_improves_slowly():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(1.0, initial_margin=0.1, patience=2)
    run_epochs(callback, net, [0.99, 0.98, 0.97, 0.96, 0.95, 0.80])
    assert callback.best_epoch_ == 6
    assert net.module_.weight.item() == 6.0


def test_without_patience_before_gain_patience_counts_from_the_start():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(1.0, initial_margin=0.1, patience=3)
    # A plateau above the initial loss: three epochs without improvement stop it.
    assert run_epochs(callback, net, [1.1, 1.2, 1.1, 0.5, 0.4]) == 3
    assert callback.best_epoch_ == 0


def test_patience_before_gain_outwaits_a_plateau_then_patience_applies():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0, initial_margin=0.1, patience=2, patience_before_gain=10
    )
    losses = [1.1, 1.2, 1.1, 1.3, 1.2, 0.5, 0.4, 0.45, 0.42, 0.3, 0.2]
    # The gain comes in epoch 6; after epoch 7 (the best), two misses stop it.
    assert run_epochs(callback, net, losses) == 9
    assert callback.best_epoch_ == 7
    assert net.module_.weight.item() == 7.0


def test_patience_after_the_gain_counts_from_the_gain():
    # Epochs just short of the 10% gain keep improving the best loss, then the
    # gain comes in epoch 4 without a 1% improvement on that best: the epochs
    # missed while waiting must not stop training at the gain.
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0, initial_margin=0.1, patience=2, patience_before_gain=10, threshold=0.01
    )
    losses = [0.905, 0.905, 0.905, 0.899, 0.95, 0.7, 0.96, 0.97]
    # The gain in epoch 4; epoch 5 misses, epoch 6 improves, 7 and 8 miss.
    assert run_epochs(callback, net, losses) == 8
    assert callback.best_epoch_ == 6


def test_without_a_gain_training_stops_after_patience_before_gain_epochs():
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0, initial_margin=0.1, patience=2, patience_before_gain=6
    )
    initial_weight = net.module_.weight.item()
    # Improvements smaller than the margin do not end the wait for a gain.
    losses = [0.99, 0.98, 0.97, 0.96, 0.95, 0.94, 0.5]
    assert run_epochs(callback, net, losses) == 6
    assert callback.best_epoch_ == 0
    assert net.module_.weight.item() == initial_weight


def gain_test_callback(initial_losses, epoch_losses, **kwargs):
    """A callback whose epochs all have the per-sample losses ``epoch_losses``."""
    initial_losses = np.asarray(initial_losses, dtype=np.float64)
    return EarlyStoppingFromInitialParameters(
        float(initial_losses.mean()),
        initial_margin=0.1,
        initial_losses=initial_losses,
        sample_losses=lambda module: np.asarray(epoch_losses, dtype=np.float64),
        **kwargs,
    )


# Five validation samples: one sample's loss drops, the other four rise a bit. The
# mean falls by 32%, far beyond the 10% margin, but the paired differences
# (-0.1 four times, 2.0 once) have a mean of 0.32 and a standard error of 0.42.
NOISY_START = [0.5, 0.5, 0.5, 0.5, 3.0]
NOISY_EPOCH = [0.6, 0.6, 0.6, 0.6, 1.0]


def test_a_gain_within_noise_on_a_tiny_validation_set_keeps_the_start():
    net = FakeNet()
    initial_weight = net.module_.weight.item()
    callback = gain_test_callback(NOISY_START, NOISY_EPOCH, patience=5)
    epoch_mean = float(np.mean(NOISY_EPOCH))
    run_epochs(callback, net, [epoch_mean, epoch_mean * 0.99])
    assert callback.best_epoch_ == 0
    assert net.module_.weight.item() == initial_weight
    mean, standard_error = callback.last_gain_test_
    assert mean == pytest.approx(0.32)
    assert standard_error == pytest.approx(np.std([-0.1] * 4 + [2.0], ddof=1) / 5**0.5)


def test_the_same_gain_on_forty_times_the_samples_replaces_the_start():
    # The tolerance shrinks with the validation size: the same paired
    # differences repeated over 200 samples have a standard error of 0.067.
    net = FakeNet()
    callback = gain_test_callback(NOISY_START * 40, NOISY_EPOCH * 40, patience=5)
    epoch_mean = float(np.mean(NOISY_EPOCH))
    run_epochs(callback, net, [epoch_mean, epoch_mean * 0.99])
    assert callback.best_epoch_ == 2
    assert net.module_.weight.item() == 2.0


def test_a_large_consistent_gain_replaces_the_start():
    net = FakeNet()
    start = [0.5, 0.7, 0.4, 0.9, 0.6]
    callback = gain_test_callback(start, [0.8 * loss for loss in start], patience=5)
    run_epochs(callback, net, [0.8 * float(np.mean(start))])
    assert callback.best_epoch_ == 1
    assert net.module_.weight.item() == 1.0


def test_the_wait_for_a_gain_ignores_gains_within_noise():
    net = FakeNet()
    callback = gain_test_callback(
        NOISY_START, NOISY_EPOCH, patience=1, patience_before_gain=3
    )
    epoch_mean = float(np.mean(NOISY_EPOCH))
    # Had the first epoch counted as a gain, patience 1 would stop after epoch 2.
    assert run_epochs(callback, net, [epoch_mean, epoch_mean, epoch_mean, 0.1]) == 3
    assert not callback.gained_
    assert callback.best_epoch_ == 0


def test_the_per_sample_losses_are_read_only_when_an_epoch_beats_the_margin():
    net = FakeNet()
    calls = []

    def sample_losses(module):
        calls.append(len(net.history))
        return np.full(4, 0.5)

    callback = EarlyStoppingFromInitialParameters(
        1.0,
        initial_margin=0.1,
        initial_losses=np.ones(4),
        sample_losses=sample_losses,
        patience=5,
    )
    run_epochs(callback, net, [0.95, 0.5, 0.45])
    # Epoch 1 misses the margin; epoch 2 is the first gain; epoch 3 is the new
    # best and is tested to be kept. The callback drops the function and the
    # initial losses (as many floats as validation samples) at the end.
    assert calls == [2, 3]
    assert callback.sample_losses is None
    assert callback.initial_losses is None
    assert callback.best_epoch_ == 3


def test_a_single_validation_sample_has_no_standard_error():
    assert paired_gain([0.3]) == (0.3, 0.0)
    mean, standard_error = paired_gain([1.0, 3.0])
    assert mean == 2.0
    assert standard_error == pytest.approx(1.0)


def test_dips_smaller_than_the_threshold_do_not_reset_patience():
    losses = [0.5, 0.499, 0.498, 0.497, 0.3]
    net = FakeNet()
    strict = EarlyStoppingFromInitialParameters(1.0, patience=3, threshold=0.01)
    assert run_epochs(strict, net, losses) == 4
    assert strict.best_epoch_ == 1
    net = FakeNet()
    lenient = EarlyStoppingFromInitialParameters(1.0, patience=3, threshold=1e-4)
    assert run_epochs(lenient, net, losses) == 5
    assert lenient.best_epoch_ == 5


def test_restore_lowest_keeps_the_lowest_dip_but_not_its_patience():
    # Epoch 2 improves by 0.3; epochs 3 and 4 dip below it by less than the
    # absolute threshold of 0.01: they do not start the patience again, so the
    # third epoch without an improvement of 0.01 (epoch 5) stops training, but
    # the lowest of them, epoch 4, is the model kept.
    losses = [0.9, 0.6, 0.596, 0.592, 0.595, 0.3]
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0, patience=3, threshold=0.01, threshold_mode="abs", restore_lowest=True
    )
    assert run_epochs(callback, net, losses) == 5
    assert callback.best_epoch_ == 4
    assert net.module_.weight.item() == 4.0
    # Without it the last improvement is kept, as skorch does.
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0, patience=3, threshold=0.01, threshold_mode="abs"
    )
    assert run_epochs(callback, net, losses) == 5
    assert callback.best_epoch_ == 2
    assert net.module_.weight.item() == 2.0


def test_restore_lowest_still_needs_a_gain_on_the_initial_parameters():
    # Every epoch is a dip under the initial loss by less than the threshold of
    # 0.06; the lowest is 5% under it, short of the 10% margin.
    net = FakeNet()
    with torch.no_grad():
        net.module_.weight.fill_(0.0)
    callback = EarlyStoppingFromInitialParameters(
        1.0,
        initial_margin=0.1,
        patience=3,
        threshold=0.06,
        threshold_mode="abs",
        restore_lowest=True,
    )
    assert run_epochs(callback, net, [0.97, 0.95, 0.96, 0.99]) == 3
    assert callback.best_score_ == 0.95
    assert callback.best_epoch_ == 0
    assert net.module_.weight.item() == 0.0


def test_a_lower_dip_without_a_gain_does_not_replace_a_kept_gain():
    # Epoch 1 gains on the start on every sample; epoch 2 has a lower mean, by
    # less than the threshold, but only through one sample: no gain on the start
    # (paired differences 0.5, 0.7, 0.4, 0.9 and -1.8). Epoch 1 stays the model.
    start = np.array([0.5, 0.7, 0.4, 0.9, 0.6])
    per_epoch = {1: 0.8 * start, 2: np.array([0.0, 0.0, 0.0, 0.0, 2.4])}
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        float(start.mean()),
        initial_margin=0.1,
        initial_losses=start,
        sample_losses=lambda module: per_epoch[len(net.history)],
        patience=2,
        threshold=0.05,
        threshold_mode="abs",
        restore_lowest=True,
    )
    run_epochs(callback, net, [float(per_epoch[1].mean()), 0.48, 0.6])
    assert callback.best_epoch_ == 1
    assert net.module_.weight.item() == 1.0


@pytest.mark.parametrize(
    "gain_epoch, expected_epochs",
    [
        # A gain in epoch 2: ceil(0.5 * 2) = 1 is less than the patience of 3.
        (2, 2 + 3),
        # A gain in epoch 10: ceil(0.5 * 10) = 5 epochs are waited instead.
        (10, 10 + 5),
        # A gain in epoch 11: ceil(5.5) = 6.
        (11, 11 + 6),
    ],
)
def test_patience_growth_waits_longer_after_a_late_gain(gain_epoch, expected_epochs):
    losses = [1.0] * (gain_epoch - 1) + [0.5] + [0.6] * 20
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0,
        initial_margin=0.1,
        patience=3,
        patience_before_gain=50,
        patience_growth=0.5,
    )
    assert run_epochs(callback, net, losses) == expected_epochs
    assert callback.best_epoch_ == gain_epoch


@pytest.mark.parametrize(
    "patience_growth, expected_epochs, expected_best",
    [
        # Gain in epoch 3, improvements in epochs 5 and 8: from epoch 5 the
        # patience is ceil(0.5 * 5) = 3 epochs, from epoch 8 it is 4, not 2, and
        # epoch 11's dip below epoch 8 by less than the threshold does not
        # count: epoch 12 stops it.
        (0.5, 12, 8),
        # Without the growth, two epochs without an improvement after epoch 5.
        (None, 7, 5),
    ],
)
def test_patience_growth_counts_up_to_the_last_improvement(
    patience_growth, expected_epochs, expected_best
):
    losses = [1.0, 1.0, 0.8, 0.85, 0.7, 0.75, 0.72, 0.6, 0.65, 0.65, 0.595, 0.7, 0.1]
    net = FakeNet()
    callback = EarlyStoppingFromInitialParameters(
        1.0,
        initial_margin=0.1,
        patience=2,
        patience_before_gain=50,
        patience_growth=patience_growth,
        threshold=0.01,
        threshold_mode="abs",
    )
    assert run_epochs(callback, net, losses) == expected_epochs
    assert callback.best_epoch_ == expected_best


@pytest.mark.parametrize("loss", [math.nan, math.inf])
def test_a_non_finite_training_loss_stops_with_the_epoch(loss):
    net = FakeNet()
    net.history.new_epoch()
    net.history.new_epoch()
    with pytest.raises(TrainingDiverged, match="epoch 2: the training loss became"):
        StopOnDivergence().on_batch_end(net, training=True, loss=torch.tensor(loss))
    # Validation batches are not checked.
    StopOnDivergence().on_batch_end(net, training=False, loss=torch.tensor(loss))
