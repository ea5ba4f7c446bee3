"""Backpropagation by JAX autodiff of the forward definitions in ``ffnn`` (DESIGN §3).

``jax.grad`` of J(params, X) written with ``network.sigma(l).sigma``, ``network.J.J`` and
``crosscheck.ffnn.weight_decay_term`` on the JAX namespace — never σ' nor a Δ formula — so it is an
oracle independent of the hand-derived backward pass. Δ^(l) and H^(l) are the gradients
with respect to zero probes added to A^(l) and Z^(l). Each problem is zero-padded into a
shape envelope (widths and N to multiples of 8, depth up to 4) with σ_l, J, λ and N
as run-time values, so that one jit compilation per (envelope, dtype) serves every network
that fits it, for loss, gradients and backprop alike (``crosscheck.autodiff_oracle.padded``,
``crosscheck.autodiff_oracle.compiled``); padding changes no real entry's value. Problems wider or
longer than 32, or deeper than 4, keep their exact shapes, σ_l and J compiled in. Results
are NumPy arrays of the real shapes.

Subnormals: XLA on CPU flushes subnormal numbers to zero, in inputs and results. Where
A^(L)_kn underflows to a subnormal in NumPy (e.g. σ(−711)), the oracle has A^(L)_kn = 0 and
Δ^(L)_kn = ±inf (never NaN) where NumPy implementations give a large finite value; a
subnormal T_kn counts as a zero target factor (its Δ^(L) term is 0). H^(L) and the
gradients then differ from NumPy's by at most a few smallest normals (~1e-308 in float64).

64-bit scoping: every JAX call runs inside ``with jax.enable_x64(True):``, a context manager
that sets the flag for the current thread only for the duration of the call. Importing or
using this package never changes the host program's global ``jax_enable_x64``: a host
without x64 still gets float32 from its own ``jnp`` calls, while this oracle computes in
float64 (the default) — or in float32 when the inputs are float32.

Matrix-product precision: every product is given ``precision=HIGHEST``
(``crosscheck.autodiff_oracle.objective.PRECISION``), so results do not depend on the
backend's default (TF32 for float32 on NVIDIA GPUs); no global setting is touched.
``device()`` names the backend and device, for reports.
"""

from crosscheck.autodiff_oracle.api import Device, backprop, device, gradients, loss

__all__ = ["Device", "backprop", "device", "gradients", "loss"]
