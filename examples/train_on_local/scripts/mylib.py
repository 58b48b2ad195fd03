"""Helpers of the training script."""

import numpy as np


def get_alphas():
    """The regularisation strengths to sweep: 0.00, 0.05, ..., 0.95 (20 values)."""
    return np.arange(0.0, 1.0, 0.05)
