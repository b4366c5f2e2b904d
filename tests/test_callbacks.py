import torch
from skorch.history import History

from geneperm_sk._callbacks import EarlyStoppingFromInitialParameters


class FakeNet:
    """The parts of a skorch net that the callback reads."""

    def __init__(self):
        self.module_ = torch.nn.Linear(1, 1)
        self.history = History()
        self.verbose = 0


def run_epochs(callback, net, validation_losses):
    callback.on_train_begin(net)
    for epoch, loss in enumerate(validation_losses, start=1):
        with torch.no_grad():
            net.module_.weight.fill_(float(epoch))
        net.history.new_epoch()
        net.history.record("epoch", epoch)
        net.history.record("valid_loss", loss)
        callback.on_epoch_end(net)
    callback.on_train_end(net)


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
