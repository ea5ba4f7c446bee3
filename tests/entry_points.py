"""Every public entry point of the contract (DESIGN §3), each form of the reference, by id."""

from functools import partial

from crosscheck import autodiff_oracle, reference, vectorized

CALLS = {
    "reference-loss": reference.loss,
    "reference-literal-gradients": partial(reference.gradients, form="literal"),
    "reference-contracted-gradients": partial(reference.gradients, form="contracted"),
    "reference-literal-backprop": partial(reference.backprop, form="literal"),
    "reference-contracted-backprop": partial(reference.backprop, form="contracted"),
    "vectorized-loss": vectorized.loss,
    "vectorized-gradients": vectorized.gradients,
    "vectorized-backprop": vectorized.backprop,
    "autodiff-loss": autodiff_oracle.loss,
    "autodiff-gradients": autodiff_oracle.gradients,
    "autodiff-backprop": autodiff_oracle.backprop,
}
