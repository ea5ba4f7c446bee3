"""Index-level backpropagation: scalar loops over every index of eqs 1.4, 2.1–2.37.

Arrays are storage only. Two forms of every sum (DESIGN §3):

- ``form="literal"``: each sum as the seed prints it, Kronecker deltas kept as factors
  (eq 2.1 with 2.2 and 2.4; eqs 2.18–2.19; eq 2.22 with 2.25, i.e. 2.26; eqs 2.9, 2.35).
  Slow by design: use it on small problems or for single entries.
- ``form="contracted"`` (default): the same loops after the deltas collapse (eqs 2.5, 2.10,
  2.20, 2.27, 2.36), still one scalar at a time.

Below the last hidden layer the seed says only "similarly"; both forms carry the step of
eq 2.32 layer by layer, numbered here as an extension of the seed:

    eq 2.38:  Δ^(l-1)_k'n' = Σ_k Σ_n H^(l)_kn W^(l)_kk' δ_nn'  (literal)
              Δ^(l-1)_in   = Σ_k W^(l)_ki H^(l)_kn              (contracted)
    with H^(l) = Δ^(l) ⊙ σ'_l(Z^(l)) (eq 2.34), for l = L, ..., 1; Δ^(0) = ∂J/∂X.

Extensions (DESIGN §4): weight decay λ adds (λ/2) Σ_l ‖W^(l)‖_F² to J and λ W^(l) to
∂J/∂W^(l); ReLU'(0) = 0 (ffnn's σ'). Written out: the squared-error loss (eq 2.16) and
the extensions cross-entropy, binary cross-entropy and softmax (docs/extensions.md).

Dtype: results are float64 whatever the input dtype. For float32 inputs ``gradients``,
``backprop`` (grads and every trace array) return float64 arrays and ``loss``,
``gradient_entry`` float64 Python floats — unlike ``vectorized`` and ``autodiff_oracle``,
which return float32 for float32 inputs. The float32 values are read exactly (float32 ⊂
float64) and every sum is carried in float64, so the reference gives the float32 problem's
exact-input answer without float32 rounding; cast (``.astype(np.float32)``) to compare
dtypes.
"""

from crosscheck.reference.backprop import backprop, gradients
from crosscheck.reference.entry import gradient_entry
from crosscheck.reference.forms import FORMS
from crosscheck.reference.objective import loss

__all__ = ["FORMS", "backprop", "gradient_entry", "gradients", "loss"]
