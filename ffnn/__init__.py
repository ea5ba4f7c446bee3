"""The formalism shared by every implementation: networks, σ and σ', J and Δ^(L), validation.

Notation follows the seed (`general-ffnn-backprop.md`) and DESIGN §2. Imports nothing of ours.
"""

from ffnn.activations import ACTIVATIONS, Activation, get_activation
from ffnn.init import init_params
from ffnn.layer import Layer, Trace
from ffnn.losses import LOSSES, Loss, get_loss, weight_decay_term
from ffnn.namespace import NUMPY, jax_namespace
from ffnn.network import Network
from ffnn.validation import FLOAT_DTYPES, validate

__all__ = [
    "ACTIVATIONS",
    "FLOAT_DTYPES",
    "LOSSES",
    "NUMPY",
    "Activation",
    "Layer",
    "Loss",
    "Network",
    "Trace",
    "get_activation",
    "get_loss",
    "init_params",
    "jax_namespace",
    "validate",
    "weight_decay_term",
]
