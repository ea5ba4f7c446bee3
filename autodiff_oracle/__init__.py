"""Backpropagation by JAX autodiff of the forward definitions in ``ffnn`` (DESIGN §3).

``jax.grad`` of J(params, X) written with ``network.sigma(l).sigma``, ``network.J.J`` and
``ffnn.weight_decay_term`` on the JAX namespace — never σ' nor a Δ formula — so it is an
oracle independent of the hand-derived backward pass. Δ^(l) and H^(l) are the gradients
with respect to zero probes added to A^(l) and Z^(l). Functions are jit-compiled and cached
per (network, dtype) (see ``autodiff_oracle.compiled``). Results are NumPy arrays.

64-bit scoping: every JAX call runs inside ``with jax.enable_x64(True):``, a context manager
that sets the flag for the current thread only for the duration of the call. Importing or
using this package never changes the host program's global ``jax_enable_x64``: a host
without x64 still gets float32 from its own ``jnp`` calls, while this oracle computes in
float64 (the default) — or in float32 when the inputs are float32.
"""

from autodiff_oracle.api import backprop, gradients, loss

__all__ = ["backprop", "gradients", "loss"]
