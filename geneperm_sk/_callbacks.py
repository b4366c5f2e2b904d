"""skorch callbacks used by AbsMeanClassifier."""

from copy import deepcopy

from skorch.callbacks import Callback, EarlyStopping

__all__ = ["EarlyStoppingFromInitialParameters", "RecordRowWeights"]


class RecordRowWeights(Callback):
    """Store a copy of the row weights ``w`` in the history at every epoch's end,
    as ``net.history[:, "row_weights"]``, to follow what the model learns."""

    def on_epoch_end(self, net, **kwargs):
        weights = net.module_.row_linear.weight.detach().cpu().numpy()
        net.history.record("row_weights", weights.reshape(-1).copy())


class EarlyStoppingFromInitialParameters(EarlyStopping):
    """skorch's ``EarlyStopping`` with the parameters before the first epoch as the
    first candidate.

    skorch's callback compares epochs with each other, so when training only ever
    makes a good initialisation worse it still restores the best *trained* epoch.
    Here the validation score of the initial parameters is the score to beat, and
    those parameters are restored when no epoch improves on it.

    Parameters
    ----------
    initial_score : float
        The monitored score of the parameters before training.

    initial_margin : float, default=0.0
        The relative improvement on ``initial_score`` that an epoch must reach to
        replace the initial parameters (later epochs are compared as by skorch).

    **kwargs
        Passed to :class:`skorch.callbacks.EarlyStopping`; ``load_best`` is True.
    """

    def __init__(self, initial_score, initial_margin=0.0, **kwargs):
        super().__init__(load_best=True, **kwargs)
        self.initial_score = initial_score
        self.initial_margin = initial_margin

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.dynamic_threshold_ = self.initial_score * (1 - self.initial_margin)
        self.best_model_weights_ = deepcopy(net.module_.state_dict())
        self.best_epoch_ = 0
