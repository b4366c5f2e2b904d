"""The AbsMean torch module."""

import torch
from torch import nn

__all__ = ["AbsMeanModule"]


class AbsMeanModule(nn.Module):
    """Row-wise linear score, absolute value, mean over rows, affine output.

    For a block ``x`` of shape ``(block_size, n_columns)`` the module computes
    ``z_r = w . x_r + b1`` for each row, pools ``q = mean_r |z_r|`` and returns the
    logit ``s = a * q + c``. The sigmoid that turns ``s`` into a probability belongs
    to the loss (``BCEWithLogitsLoss``) and to ``predict_proba``.

    Parameters
    ----------
    n_columns : int
        The number of columns of each row.

    Attributes
    ----------
    row_linear : torch.nn.Linear
        ``Linear(n_columns, 1)``: the row weights ``w`` and bias ``b1``.

    output_linear : torch.nn.Linear
        ``Linear(1, 1)``: the output weight ``a`` and bias ``c``.

    Examples
    --------
    >>> import torch
    >>> from geneperm_sk import AbsMeanModule
    >>> module = AbsMeanModule(n_columns=4)
    >>> module(torch.ones(3, 2, 4)).shape
    torch.Size([3])
    """

    def __init__(self, n_columns):
        super().__init__()
        self.row_linear = nn.Linear(n_columns, 1)
        self.output_linear = nn.Linear(1, 1)

    def pooled_row_scores(self, X):
        """The mean over rows of ``|w . x_r + b1|``, of shape ``(n_blocks, 1)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns)
            The blocks.
        """
        return self.row_linear(X).abs().mean(dim=1)

    def forward(self, X):
        """The logit of each block, of shape ``(n_blocks,)``.

        Parameters
        ----------
        X : torch.Tensor of shape (n_blocks, block_size, n_columns)
            The blocks.
        """
        return self.output_linear(self.pooled_row_scores(X)).squeeze(-1)


def set_parameters(module, row_weights, row_bias, output_weight, output_bias):
    """Overwrite the module's four parameters in place (keeping optimiser links)."""
    with torch.no_grad():
        module.row_linear.weight.copy_(torch.as_tensor(row_weights).reshape(1, -1))
        module.row_linear.bias.fill_(float(row_bias))
        module.output_linear.weight.fill_(float(output_weight))
        module.output_linear.bias.fill_(float(output_bias))
