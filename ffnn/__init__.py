"""The formalism shared by every implementation: networks, σ and σ', J and Δ^(L), validation.

Extensions of the seed (softmax, cross-entropy, binary cross-entropy) are derived in
`docs/extensions.md`, numbered with primes (eqs 2.2', 2.13', 2.16'...).

Notation follows the seed (`general-ffnn-backprop.md`) and DESIGN §2. Imports nothing of ours.
"""

from crosscheck.ffnn.activations import ACTIVATIONS, Activation, get_activation
from crosscheck.ffnn.init import init_params
from crosscheck.ffnn.layer import Layer, Trace
from crosscheck.ffnn.losses import LOSSES, Loss, get_loss, log_softmax, weight_decay_term
from crosscheck.ffnn.namespace import NUMPY, jax_namespace
from crosscheck.ffnn.network import Network
from crosscheck.ffnn.overflow import check_finite, overflow_guard
from crosscheck.ffnn.validation import FLOAT_DTYPES, validate

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
    "check_finite",
    "get_activation",
    "get_loss",
    "init_params",
    "jax_namespace",
    "log_softmax",
    "overflow_guard",
    "validate",
    "weight_decay_term",
]
