"""Backpropagation in matrix form (DESIGN §3): one loop over layers, none over units or samples.

Forward eq 1.4 as one product per layer; backward eqs 2.13/2.34 (H), 2.7/2.14/2.33 (∂J/∂W),
2.11/2.15/2.37 (∂J/∂b as row sums of H, i.e. H J_N), 2.32 (Δ^(l-1) = W^t H), starting from
Δ^(L) of eq 2.21. Extensions (docs/extensions.md): softmax by the closed form of eq 2.13'',
cross-entropy and binary cross-entropy from the logits (eqs 2.17', 2.17'') with the fused
output H^(L) of eqs 2.8', 2.8''. Computes in the input dtype (float64 default, float32 allowed).
Imports only ``ffnn``, NumPy, SciPy and the standard library; never JAX.
"""

from crosscheck.vectorized.api import backprop, gradients, loss

__all__ = ["backprop", "gradients", "loss"]
