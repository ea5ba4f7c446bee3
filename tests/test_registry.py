"""The equation registry: complete, resolvable, and every printed form checked.

Meta-tests: every seed equation (1.1–1.5, 2.1–2.37) and every number the code cites is
registered, with implementations that resolve and tests that pytest collects. Form checks:
every printed matrix form is shape-consistent or is an erratum whose printed form fails
and whose correction holds; every form (corrected where needed) equals the values of the
four implementations on one problem. Index forms (sums with Kronecker deltas) are evaluated
with einsum, the deltas as identity matrices, and the partial derivatives the seed derives
(eqs 2.2, 2.4, 2.9, 2.25, 2.35) are checked against JAX Jacobians of the forward pass.

Value tolerance: the problem's entries are O(1) and every sum has at most 6·5 terms, so two
summation orders differ by well under 1e-14; 1e-12 (relative to max(1, max|lhs|)) leaves
room, while a wrong form (a misplaced bracket, a missing σ', another layer's array) is off
by far more than 1e-3.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache, partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from crosscheck import autodiff_oracle, vectorized
from crosscheck.equations.registry import (
    CHECKED_IMPLEMENTATIONS,
    EQUATIONS,
    ERRATA,
    FORM_NETWORKS,
    FORMS,
    SEED_EQUATIONS,
    Bindings,
    ShapeError,
    equation_id,
    equations_markdown,
    form_cases,
    resolve,
)
from crosscheck.ffnn import Layer, Network, init_params, jax_namespace, validate
from crosscheck.implementations import IMPLEMENTATIONS

ROOT = Path(__file__).resolve().parent.parent

BACKPROPS = {implementation.key: implementation.backprop for implementation in IMPLEMENTATIONS}

# The seed's network (FORM_NETWORKS["seed"]) has L = 3, sizes (2, 3, 4, 5). N = 6 is
# generic; N = 3 = S_1 = S_{L-2} lets the misprinted eq 2.31 fit numerically; N = 1 lets
# H J_N^t fit.
SEED = FORM_NETWORKS["seed"]
GENERIC_N, COINCIDENT_N, SINGLE_N = 6, 3, 1
eq_id = equation_id


def targets(network: Network, rng: np.random.Generator, N: int) -> np.ndarray:
    """T in the loss's domain: any values, probability columns, or entries in [0, 1]."""
    S_L = network.sizes[-1]
    if network.loss == "cross_entropy":
        return rng.dirichlet(np.ones(S_L), size=N).T
    if network.loss == "binary_cross_entropy":
        return rng.uniform(0.0, 1.0, size=(S_L, N))
    return rng.uniform(-1.0, 1.0, size=(S_L, N))


@cache
def problem(key: str, N: int) -> tuple[Network, tuple[Layer, ...], np.ndarray, np.ndarray]:
    network = FORM_NETWORKS[key]
    rng = np.random.default_rng(N)
    params = init_params(network, seed=11, bias_scale=0.5)
    X = rng.uniform(-2.0, 2.0, size=(network.sizes[0], N))
    return network, params, X, targets(network, rng, N)


@cache
def bindings(name: str, N: int, l: int | None = None, key: str = "seed") -> Bindings:
    network, params, X, T = problem(key, N)
    grads, trace = BACKPROPS[name](network, params, X, T)
    dJ_dA = autodiff_oracle.backprop(network, params, X, T)[1].Delta
    return Bindings(network, params, grads, trace, T, tuple(dJ_dA), l=l)


def assert_side_equals(side: np.ndarray, lhs: np.ndarray) -> None:
    assert side.shape == lhs.shape
    scale = max(1.0, float(np.max(np.abs(lhs))))
    np.testing.assert_allclose(side, lhs, rtol=1e-12, atol=1e-12 * scale)


def test_the_checked_implementations_are_the_registrys():
    assert tuple(BACKPROPS) == CHECKED_IMPLEMENTATIONS


# ---------------------------------------------------------------------------------------
# Meta-tests: the registry is complete and every name in it exists.
# ---------------------------------------------------------------------------------------
def test_registry_lists_every_seed_equation():
    assert [n for n in EQUATIONS if n in SEED_EQUATIONS] == list(SEED_EQUATIONS)


PRIME = r"(?:'{1,2}(?![A-Za-z])|_pp(?![a-z])|_prime(?![a-z]))"
CITATION = re.compile(
    rf"(?<![A-Za-z])eqs?[ ._]+(\d[._]\d{{1,2}}{PRIME}?"
    rf"(?:(?:\s*(?:,|/|–|-|and|to)\s*|_to_|_)\d[._]\d{{1,2}}{PRIME}?)*)"
)
NUMBER = re.compile(rf"(\d)[._](\d{{1,2}})({PRIME}?)")
PRIMES = {"": "", "'": "'", "''": "''", "_prime": "'", "_pp": "''"}


def numbers_cited_in(text: str) -> set[str]:
    """Equation numbers cited as "eq 2.38", "eqs 2.5, 2.10", "eq 2.8'", "eq_2_13_2_34",
    "eq_2_2_prime" (2.2'), "eq_2_16_pp" (2.16''); a possessive "eq 2.27's" is 2.27."""
    return {
        f"{major}.{minor}{PRIMES[prime]}"
        for citation in CITATION.findall(text)
        for major, minor, prime in NUMBER.findall(citation)
    }


def cited_numbers() -> set[str]:
    """Every equation number cited in the code and tests."""
    packages = ("ffnn", "reference", "vectorized", "autodiff_oracle", "crosscheck", "tests")
    return {
        number
        for package in packages
        for path in (ROOT / package).rglob("*.py")
        for number in numbers_cited_in(path.read_text(encoding="utf-8"))
    }


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("eqs 2.5, 2.10 and 2.13–2.15; eq 2.38", {"2.5", "2.10", "2.13", "2.15", "2.38"}),
        ("eqs 2.16–2.21, 2.16'–2.21''", {"2.16", "2.21", "2.16'", "2.21''"}),
        ("eq 2.8'/2.8''; eq 2.27's sum", {"2.8'", "2.8''", "2.27"}),
        ("test_eq_2_13_2_34_H; eqs_2_16_to_2_37_loss", {"2.13", "2.34", "2.16", "2.37"}),
        ("eq_2_2_prime_jacobian; eq_2_16_pp_targets", {"2.2'", "2.16''"}),
        ("eq_2_2_sigma_prime_matches; eq_2_37_db1_relu_prime_0", {"2.2", "2.37"}),
    ],
)
def test_citation_pattern_reads_prose_and_test_ids(text, numbers):
    assert numbers_cited_in(text) == numbers


def test_every_equation_number_cited_in_the_code_is_registered():
    assert cited_numbers() - set(EQUATIONS) == set()


@pytest.mark.parametrize("number", list(EQUATIONS), ids=eq_id)
def test_every_equation_has_an_implementation(number):
    assert EQUATIONS[number].implementations


@pytest.mark.parametrize("number", list(EQUATIONS), ids=eq_id)
def test_every_equation_has_a_test(number):
    assert EQUATIONS[number].tests


@pytest.mark.parametrize(
    "dotted",
    sorted({name for eq in EQUATIONS.values() for name in eq.implementations}),
)
def test_implementation_name_resolves_to_code(dotted):
    assert callable(resolve(dotted))


NODE_IDS = sorted({node for eq in EQUATIONS.values() for node in eq.tests})


@pytest.fixture(scope="module")
def collected() -> set[str]:
    """Node ids pytest collects from the test files the registry names."""
    files = sorted({node.split("::")[0] for node in NODE_IDS})
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {line for line in result.stdout.splitlines() if "::" in line}


@pytest.mark.parametrize("node", NODE_IDS)
def test_registered_test_is_collected(node, collected):
    assert node in collected or any(c.startswith(node + "[") for c in collected)


# ---------------------------------------------------------------------------------------
# Printed matrix forms: shapes, then values on the four implementations.
# ---------------------------------------------------------------------------------------
CONSISTENT = [number for number in FORMS if number not in ERRATA]


@pytest.mark.parametrize("number", CONSISTENT, ids=eq_id)
def test_printed_form_is_shape_consistent(number):
    for relation in FORMS[number]:
        assert relation.check_shapes() == relation.lhs.shape()


FORM_CASES = [
    pytest.param(case, name, id=f"{case.id}-{name}")
    for case in form_cases()
    for name in CHECKED_IMPLEMENTATIONS
]


@pytest.mark.parametrize(("case", "name"), FORM_CASES)
def test_form_holds_on_implementation(case, name):
    lhs, sides = case.relation.evaluate(bindings(name, GENERIC_N, case.l, case.network))
    for side in sides:
        assert_side_equals(side, lhs)


# ---------------------------------------------------------------------------------------
# Errata: the printed form fails the shape check; the correction passes (its values are
# checked above, in test_form_holds_on_implementation); what the printed form gives.
# ---------------------------------------------------------------------------------------
def errata_of(kind: str | None = None) -> list[str]:
    return [number for number, e in ERRATA.items() if kind is None or e.kind == kind]


@pytest.mark.parametrize("number", errata_of(), ids=eq_id)
def test_erratum_printed_form_fails_shape_check(number):
    (printed,) = ERRATA[number].printed
    with pytest.raises(ShapeError, match=r"needs|is a scalar entry"):
        printed.check_shapes()


@pytest.mark.parametrize("number", errata_of(), ids=eq_id)
def test_erratum_corrected_form_is_shape_consistent(number):
    (corrected,) = ERRATA[number].corrected
    assert corrected.check_shapes() == corrected.lhs.shape()


@pytest.mark.parametrize("number", errata_of("J_N^t"), ids=eq_id)
def test_erratum_printed_form_fails_numerically_for_several_samples(number):
    (printed,) = ERRATA[number].printed
    with pytest.raises(
        ShapeError, match=r"cannot multiply arrays of shapes \(\d+, 6\) and \(1, 6\)"
    ):
        printed.evaluate(bindings("vectorized", GENERIC_N))


@pytest.mark.parametrize("number", errata_of("J_N^t"), ids=eq_id)
def test_erratum_printed_form_equals_correction_for_one_sample(number):
    (printed,) = ERRATA[number].printed
    lhs, sides = printed.evaluate(bindings("vectorized", SINGLE_N))
    for side in sides:
        assert_side_equals(side, lhs)


@pytest.mark.parametrize("number", errata_of("bracket"), ids=eq_id)
def test_erratum_printed_form_has_wrong_value_where_sizes_coincide(number):
    (printed,) = ERRATA[number].printed
    (corrected,) = ERRATA[number].corrected
    values = bindings("vectorized", COINCIDENT_N)
    lhs, (printed_value,) = printed.evaluate(values)
    _, (corrected_value,) = corrected.evaluate(values)
    assert printed_value.shape == lhs.shape
    assert_side_equals(corrected_value, lhs)
    assert np.max(np.abs(printed_value - lhs)) > 1e-3 * np.max(np.abs(lhs))


@pytest.mark.parametrize("number", errata_of("notation"), ids=eq_id)
def test_erratum_printed_form_read_entrywise_has_right_value(number):
    (printed,) = ERRATA[number].printed
    lhs, sides = printed.evaluate(bindings("vectorized", GENERIC_N))
    for side in sides:
        assert_side_equals(side, lhs)


# ---------------------------------------------------------------------------------------
# Index forms as printed, with einsum; Kronecker deltas are identity matrices.
# ∂J/∂A^(L) is autodiff's (the seed's ∂J/∂A), Δ and H the implementation's own.
# ---------------------------------------------------------------------------------------
def index_operands(b: Bindings) -> dict[str, Any]:
    L = b.network.L
    S, N = b.network.sizes, b.N
    A_1, A_2 = b.array("A", "L-1"), b.array("A", "L-2")
    sp, sp_1 = b.array("sigma_prime", "L"), b.array("sigma_prime", "L-1")
    I_L, I_1, I_N = np.eye(S[L]), np.eye(S[L - 1]), np.eye(N)
    return {
        "dJ_dA": b.array("dJ_dA", "L"),
        "Delta": b.array("Delta", "L"),
        "H": b.array("H", "L"),
        "W": b.array("W", "L"),
        "A": b.array("A", "L"),
        "T": b.array("T", "L"),
        "N": N,
        "A_1": A_1,
        "A_2": A_2,
        "sp": sp,
        "sp_1": sp_1,
        "I_L": I_L,
        "I_1": I_1,
        "I_N": I_N,
        # eqs 2.2 + 2.4: ∂A_kn/∂W_ij = σ'_L(Z_kn) δ_ik A^(L-1)_jn
        "dA_dW": np.einsum("kn,ik,jn->knij", sp, I_L, A_1),
        # eqs 2.2 + 2.9: ∂A_kn/∂b_i = σ'_L(Z_kn) δ_ik
        "dA_db": np.einsum("kn,ik->kni", sp, I_L),
        # eq 2.25: ∂Z^(L)_kn/∂A^(L-1)_k'n' = W_kk' δ_nn'
        "dZ_dA": np.einsum("kq,nm->knqm", b.array("W", "L"), I_N),
        # eq 2.4 at L-1: ∂Z^(L-1)_k'n'/∂W^(L-1)_ij = δ_ik' A^(L-2)_jn'
        "dZ1_dW1": np.einsum("iq,jm->qmij", I_1, A_2),
    }


INDEX_FORMS = {
    # eq 2.1: Σ_k Σ_n ∂J/∂A_kn ∂A_kn/∂W_ij (and b_i)
    "eq_2_1_W": ("W", "L", lambda o: np.einsum("kn,knij->ij", o["dJ_dA"], o["dA_dW"])),
    "eq_2_1_b": ("b", "L", lambda o: np.einsum("kn,kni->i", o["dJ_dA"], o["dA_db"])),
    # eq 2.5: Σ_k Σ_n ∂J/∂A_kn ∂σ_L/∂Z_kn δ_ik A_jn = Σ_n ∂J/∂A_in ∂σ_L/∂Z_in A_jn
    "eq_2_5_first": (
        "W",
        "L",
        lambda o: np.einsum("kn,kn,ik,jn->ij", o["dJ_dA"], o["sp"], o["I_L"], o["A_1"]),
    ),
    "eq_2_5_second": (
        "W",
        "L",
        lambda o: np.einsum("in,in,jn->ij", o["dJ_dA"], o["sp"], o["A_1"]),
    ),
    # eq 2.6: Σ_n [∂J/∂A ⊙ ∂σ_L/∂Z]_in (A^(L-1))^t_nj
    "eq_2_6": ("W", "L", lambda o: np.einsum("in,nj->ij", o["dJ_dA"] * o["sp"], o["A_1"].T)),
    # eq 2.10: Σ_k Σ_n ∂J/∂A_kn ∂σ_L/∂Z_kn δ_ik
    "eq_2_10": ("b", "L", lambda o: np.einsum("kn,kn,ik->i", o["dJ_dA"], o["sp"], o["I_L"])),
    # eq 2.19: 1/(2N) Σ_m Σ_j 2(A_jm − T_jm) δ_ij δ_nm
    "eq_2_19": (
        "Delta",
        "L",
        lambda o: (
            np.einsum("jm,ij,nm->in", 2 * (o["A"] - o["T"]), o["I_L"], o["I_N"]) / (2 * o["N"])
        ),
    ),
    # eq 2.22: the four-fold chain rule
    "eq_2_22": (
        "W",
        "L-1",
        lambda o: np.einsum(
            "kn,kn,knqm,qm,qmij->ij", o["dJ_dA"], o["sp"], o["dZ_dA"], o["sp_1"], o["dZ1_dW1"]
        ),
    ),
    # eq 2.26: Σ_k Σ_n Σ_k' Σ_n' Δ_kn σ'_L W_kk' δ_nn' σ'_{L-1} δ_ik' A^(L-2)_jn'
    "eq_2_26": (
        "W",
        "L-1",
        lambda o: np.einsum(
            "kn,kn,kq,nm,qm,iq,jm->ij",
            o["Delta"],
            o["sp"],
            o["W"],
            o["I_N"],
            o["sp_1"],
            o["I_1"],
            o["A_2"],
        ),
    ),
    # eq 2.27: Σ_k Σ_n H_kn W_ki σ'_{L-1}(Z_in) A^(L-2)_jn
    "eq_2_27": (
        "W",
        "L-1",
        lambda o: np.einsum("kn,ki,in,jn->ij", o["H"], o["W"], o["sp_1"], o["A_2"]),
    ),
    # eq 2.28: Σ_k Σ_n (W^t)_ik H_kn σ'_{L-1}(Z_in) (A^(L-2))^t_nj
    "eq_2_28": (
        "W",
        "L-1",
        lambda o: np.einsum("ik,kn,in,nj->ij", o["W"].T, o["H"], o["sp_1"], o["A_2"].T),
    ),
    # eq 2.29: Σ_n [W^t H]_in σ'_{L-1}(Z_in) (A^(L-2))^t_nj
    "eq_2_29": (
        "W",
        "L-1",
        lambda o: np.einsum("in,in,nj->ij", o["W"].T @ o["H"], o["sp_1"], o["A_2"].T),
    ),
}
"""id → (quantity of the implementation it must equal, its layer, the printed sum)."""


def implementation_value(b: Bindings, quantity: str, layer: str) -> np.ndarray:
    k = {"L": b.network.L, "L-1": b.network.L - 1}[layer]
    if quantity == "Delta":
        return np.asarray(b.trace.Delta[k])
    return np.asarray(getattr(b.grads[k - 1], quantity))


@pytest.mark.parametrize("name", CHECKED_IMPLEMENTATIONS)
@pytest.mark.parametrize("form", list(INDEX_FORMS))
def test_index_form_holds(form, name):
    b = bindings(name, GENERIC_N)
    quantity, layer, printed = INDEX_FORMS[form]
    assert_side_equals(printed(index_operands(b)), implementation_value(b, quantity, layer))


# ---------------------------------------------------------------------------------------
# The partial derivatives the seed derives, against JAX Jacobians of the forward pass.
# ---------------------------------------------------------------------------------------
def layer_inputs(l: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(W^(l), b^(l), A^(l-1)) of the generic problem, as float64 JAX arrays."""
    network, params, X, T = problem("seed", GENERIC_N)
    A = vectorized.backprop(network, params, X, T)[1].A
    W, b = params[l - 1]
    return jnp.asarray(W), jnp.asarray(b), jnp.asarray(A[l - 1])


def pre_activation(W, b, A_prev):
    return W @ A_prev + b[:, None]  # eq 1.4


def test_eq_2_3_2_4_dZ_dW_is_delta_ik_A_jn():
    with jax.enable_x64(True):
        W, b, A_prev = layer_inputs(SEED.L)
        jacobian = jax.jacfwd(pre_activation, argnums=0)(W, b, A_prev)  # [k, n, i, j]
    expected = np.einsum("ik,jn->knij", np.eye(W.shape[0]), np.asarray(A_prev))
    np.testing.assert_array_equal(np.asarray(jacobian), expected)


@pytest.mark.parametrize("l", [SEED.L, SEED.L - 1], ids=["eq_2_9", "eq_2_35"])
def test_eq_2_9_2_35_dZ_db_is_delta_ik(l):
    with jax.enable_x64(True):
        W, b, A_prev = layer_inputs(l)
        jacobian = jax.jacfwd(pre_activation, argnums=1)(W, b, A_prev)  # [k, n, i]
    expected = np.einsum("ik,n->kni", np.eye(W.shape[0]), np.ones(A_prev.shape[1]))
    np.testing.assert_array_equal(np.asarray(jacobian), expected)


def test_eq_2_23_to_2_25_dZ_dA_is_W_kk_delta_nn():
    with jax.enable_x64(True):
        W, b, A_prev = layer_inputs(SEED.L)
        jacobian = jax.jacfwd(pre_activation, argnums=2)(W, b, A_prev)  # [k, n, k', n']
    expected = np.einsum("kq,nm->knqm", np.asarray(W), np.eye(A_prev.shape[1]))
    np.testing.assert_array_equal(np.asarray(jacobian), expected)


def test_eq_2_2_dA_dW_is_sigma_prime_times_dZ_dW():
    L = SEED.L
    sigma = SEED.sigma(L)
    with jax.enable_x64(True):
        W, b, A_prev = layer_inputs(L)
        xp = jax_namespace()
        jacobian = jax.jacfwd(lambda W: sigma.sigma(pre_activation(W, b, A_prev), xp))(W)
        Z = np.asarray(pre_activation(W, b, A_prev))
    dZ_dW = np.einsum("ik,jn->knij", np.eye(W.shape[0]), np.asarray(A_prev))
    expected = sigma.sigma_prime(Z)[:, :, None, None] * dZ_dW
    np.testing.assert_allclose(np.asarray(jacobian), expected, rtol=1e-14, atol=1e-16)


def test_eq_2_18_delta_L_is_the_derivative_of_eq_2_17():
    b = bindings("literal", GENERIC_N)
    A_L, T = b.array("A", "L"), b.T
    N = T.shape[1]

    def J(A):  # eq 2.17 as printed
        return jnp.sum((A - T) ** 2) / (2 * N)

    with jax.enable_x64(True):
        dJ_dA = np.asarray(jax.grad(J)(jnp.asarray(A_L)))
    assert_side_equals(np.asarray(b.trace.Delta[SEED.L]), dJ_dA)


# ---------------------------------------------------------------------------------------
# Extensions (docs/extensions.md) as printed, with einsum and explicit deltas.
# ---------------------------------------------------------------------------------------
def softmax_jacobian(A: np.ndarray) -> np.ndarray:
    """Eq 2.2' as printed: J[k, k', n] = A_kn (δ_kk' − A_k'n)."""
    eye = np.eye(A.shape[0])
    return np.einsum("kn,kq->kqn", A, eye) - np.einsum("kn,qn->kqn", A, A)


def eq_2_13_prime(b: Bindings) -> np.ndarray:
    # H^(1)_k'n' = Σ_k Σ_n Δ^(1)_kn J_kk'(n) δ_nn' at the hidden softmax layer
    A, Delta = b.array("A", "1"), b.array("Delta", "1")
    return np.einsum("kn,kqn,nm->qm", Delta, softmax_jacobian(A), np.eye(b.N))


def eq_2_18_prime_2_19_prime(b: Bindings) -> np.ndarray:
    # Δ^(L)_in = −(1/N) Σ_m Σ_j T_jm (1/A_jm) δ_ij δ_nm
    A, T = b.array("A", "L"), b.T
    return -np.einsum("jm,ij,nm->in", T / A, np.eye(T.shape[0]), np.eye(b.N)) / b.N


def eq_2_18_pp_2_19_pp(b: Bindings) -> np.ndarray:
    # Δ^(L)_in = (1/N) Σ_m Σ_j [(1 − T_jm)/(1 − A_jm) − T_jm/A_jm] δ_ij δ_nm
    A, T = b.array("A", "L"), b.T
    ratio = (1 - T) / (1 - A) - T / A
    return np.einsum("jm,ij,nm->in", ratio, np.eye(T.shape[0]), np.eye(b.N)) / b.N


EXTENSION_INDEX_FORMS = {
    "eq_2_13_prime": ("cross_entropy", "H", 1, eq_2_13_prime),
    "eq_2_18_prime_2_19_prime": ("cross_entropy", "Delta", 2, eq_2_18_prime_2_19_prime),
    "eq_2_18_pp_2_19_pp": ("binary_cross_entropy", "Delta", 2, eq_2_18_pp_2_19_pp),
}
"""id → (network, trace field it must equal, its layer, the printed sum)."""


@pytest.mark.parametrize("name", CHECKED_IMPLEMENTATIONS)
@pytest.mark.parametrize("form", list(EXTENSION_INDEX_FORMS))
def test_extension_index_form_holds(form, name):
    key, field, l, printed = EXTENSION_INDEX_FORMS[form]
    b = bindings(name, GENERIC_N, key=key)
    assert_side_equals(printed(b), np.asarray(getattr(b.trace, field)[l]))


def test_eq_2_16_pp_2_17_pp_loss_from_A_equals_loss_from_logits():
    network, params, X, T = problem("binary_cross_entropy", GENERIC_N)
    trace = vectorized.backprop(network, params, X, T)[1]
    Z, A = trace.Z[network.L], trace.A[network.L]
    from_A = -np.sum(T * np.log(A) + (1 - T) * np.log(1 - A)) / GENERIC_N  # eq 2.16''
    s = partial(np.logaddexp, 0.0)  # s(z) = log(1 + e^z)
    from_Z = np.sum(T * s(-Z) + (1 - T) * s(Z)) / GENERIC_N  # eq 2.17''
    assert from_Z == pytest.approx(from_A, rel=1e-14)
    assert vectorized.loss(network, params, X, T) == pytest.approx(from_Z, rel=1e-14)


# ---------------------------------------------------------------------------------------
# Eqs 1.1, 1.2, 1.5: one column per sample.
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["contracted", "vectorized"])
@pytest.mark.parametrize("n", range(GENERIC_N))
def test_eq_1_1_each_column_is_the_single_sample_forward_pass(n, name):
    network, params, X, T = problem("seed", GENERIC_N)
    batch = BACKPROPS[name](network, params, X, T)[1]
    single = BACKPROPS[name](network, params, X[:, [n]], T[:, [n]])[1]
    for l in range(1, network.L + 1):
        assert_side_equals(single.Z[l][:, 0], batch.Z[l][:, n])


def test_eq_1_2_X_is_S_0_by_N():
    network, params, X, T = problem("seed", GENERIC_N)
    with pytest.raises(ValueError, match=r"need \(S_0, N\) = \(2, N\): one column per sample"):
        validate(network, params, X.T, T)


def test_eq_1_5_T_is_S_L_by_N():
    network, params, X, T = problem("seed", GENERIC_N)
    with pytest.raises(ValueError, match=r"T has shape \(6, 5\); sizes .* need \(S_L, N\)"):
        validate(network, params, X, T.T)


# ---------------------------------------------------------------------------------------
# The docs follow the registry.
# ---------------------------------------------------------------------------------------
def test_docs_equations_md_is_generated_from_the_registry():
    assert (ROOT / "docs" / "equations.md").read_text(encoding="utf-8") == equations_markdown()


@pytest.mark.parametrize("number", errata_of(), ids=eq_id)
def test_docs_errata_md_cites_each_erratum_and_its_tests(number):
    errata = (ROOT / "docs" / "errata.md").read_text(encoding="utf-8")
    assert f"## Eq {number}" in errata
    cited = [node for node in EQUATIONS[number].tests if "erratum" in node]
    assert cited
    assert all(node in errata for node in cited)
