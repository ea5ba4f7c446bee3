"""`crosscheck check` and `crosscheck selftest`: crosscheck.cli.main.main in-process."""

import contextlib
import io
import json
import re
import uuid

import pytest

import crosscheck.oracle.selftest
from crosscheck.cli.main import main
from crosscheck.oracle.catalogue import MUTANTS, Backprop, Mutant

USER_CODE = """
from crosscheck.oracle.catalogue import MUTANTS, Backprop

good = Backprop(("tanh", "identity"), "squared_error", 0.0)
flipped = MUTANTS["sign_flipped"].function()
not_a_function = 3


def exits_0(Ws, bs, X, T):
    import sys

    sys.exit(0)


def exits_3(Ws, bs, X, T):
    import sys

    sys.exit(3)
"""


def run(argv):
    """main(argv) with stdout and stderr captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    """A uniquely named module in the current directory (tmp_path); returns its name."""
    name = f"user_backprop_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text(USER_CODE)
    (tmp_path / "broken.py").write_text("raise RuntimeError('cannot even import')\n")
    monkeypatch.chdir(tmp_path)
    return name


FAST = ["--activations", "tanh,identity", "--max-examples", "15", "--seed", "0"]


def test_check_agreeing_function_exits_0(user_module):
    status, out, _ = run(["check", f"{user_module}:good", *FAST])
    assert status == 0
    assert re.search(
        r"AGREE: the function agrees with the suite on all (1[6-9]|2\d|30) examples", out
    )


def test_check_faulty_function_exits_1_with_a_diagnosis(user_module):
    status, out, _ = run(["check", f"{user_module}:flipped", *FAST])
    assert status == 1
    assert "FAULT (gradient)" in out and "sign_flipped: sign error" in out


def test_check_accepts_a_path_to_a_py_file(user_module, tmp_path):
    status, _, _ = run(["check", f"{tmp_path / user_module}.py:good", *FAST])
    assert status == 0


def test_check_json_holds_the_finding_and_the_example(user_module, tmp_path):
    path = tmp_path / "report.json"
    run(["check", f"{user_module}:flipped", *FAST, "--json", str(path)])
    data = json.loads(path.read_text())
    assert data["function"] == f"{user_module}:flipped"
    assert data["agree"] is False and data["finding"]["kind"] == "gradient"
    assert data["example"]["N"] == len(data["example"]["X"][0])


def test_saved_failure_replays_the_same_example(user_module, tmp_path):
    saved = tmp_path / "failure"
    run(["check", f"{user_module}:flipped", *FAST, "--save-failure", str(saved)])
    path = tmp_path / "replayed.json"
    replay = ["--replay", str(saved / "failure.npz"), "--json", str(path)]
    status, _, _ = run(["check", f"{user_module}:flipped", *replay])
    metadata = json.loads((saved / "failure.json").read_text())
    replayed = json.loads(path.read_text())
    assert status == 1
    assert replayed["example"]["sizes"] == metadata["sizes"]
    assert replayed["finding"] == metadata["finding"]


def test_replay_of_a_fixed_function_exits_0(user_module, tmp_path):
    saved = tmp_path / "failure"
    run(["check", f"{user_module}:flipped", *FAST, "--save-failure", str(saved)])
    status, _, _ = run(["check", f"{user_module}:good", "--replay", str(saved / "failure.json")])
    assert status == 0


@pytest.mark.parametrize("code", [0, 3])
def test_function_calling_sys_exit_is_a_finding_exit_1(user_module, code):
    status, out, _ = run(["check", f"{user_module}:exits_{code}", *FAST])
    assert status == 1
    assert f"FAULT (raised): the function called sys.exit({code})" in out


def test_replay_of_a_directory_says_replayed_not_found(user_module, tmp_path):
    saved = tmp_path / "failure"
    run(["check", f"{user_module}:flipped", *FAST, "--save-failure", str(saved)])
    status, out, _ = run(["check", f"{user_module}:flipped", "--replay", str(saved)])
    assert status == 1
    assert "Example replayed from a saved failure:" in out and "found after" not in out


def test_replay_with_contradicting_activations_is_a_usage_error(user_module, tmp_path):
    saved = tmp_path / "failure"
    run(["check", f"{user_module}:flipped", *FAST, "--save-failure", str(saved)])
    argv = ["check", f"{user_module}:flipped", "--replay", str(saved), "--activations", "tanh"]
    status, _, err = run(argv)
    assert status == 2
    assert "--activations tanh contradicts the saved failure (tanh,identity)" in err


def test_replay_of_a_json_report_says_what_it_is(user_module, tmp_path):
    report = tmp_path / "report.json"
    run(["check", f"{user_module}:flipped", *FAST, "--json", str(report)])
    status, _, err = run(["check", f"{user_module}:flipped", "--replay", str(report)])
    assert status == 2
    assert "is a --json report, not a saved failure" in err


def test_unwritable_save_failure_is_refused_before_the_search(user_module, tmp_path):
    (tmp_path / "a_file").write_text("")
    directory = tmp_path / "a_file" / "sub"
    status, out, err = run(
        ["check", f"{user_module}:flipped", *FAST, "--save-failure", str(directory)]
    )
    assert (status, out) == (2, "")
    assert f"--save-failure {directory}: it cannot be written" in err and err.count("\n") == 1


def test_writable_save_failure_leaves_no_directory_when_the_function_agrees(user_module, tmp_path):
    directory = tmp_path / "new" / "failure"
    status, _, _ = run(["check", f"{user_module}:good", *FAST, "--save-failure", str(directory)])
    assert status == 0 and not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "no_colon", *FAST], "expected MODULE:FUNCTION"),
        (["check", "no_such_module_xyz:f", *FAST], "cannot import no_such_module_xyz"),
        (["check", "broken:f", *FAST], "cannot import broken: RuntimeError: cannot even import"),
        (["check", "missing.py:f", *FAST], "no such file: missing.py"),
        (["check", "{module}:nope", *FAST], "has no attribute 'nope'"),
        (["check", "{module}:not_a_function", *FAST], "is a int, not a function"),
        (["check", "{module}:good"], "--activations is required"),
        (["check", "{module}:good", "--activations", "tanh,foo"], "unknown activation 'foo'"),
        (["check", "{module}:good", "--activations", "tanh", "--sizes", "2,3,1"], "2 activations"),
        (["check", "{module}:good", *FAST, "--sizes", "2,x"], "argument --sizes"),
        (["check", "{module}:good", *FAST, "--json", "no/such/dir/r.json"], "does not exist"),
        (["check", "{module}:good", "--replay", "nothing.json"], "cannot read nothing.json"),
        (["selftest", "--max-examples", "0"], "must be >= 1"),
    ],
    ids=[
        "colon",
        "module",
        "import_error",
        "file",
        "attribute",
        "not_callable",
        "activations",
        "unknown_activation",
        "sizes_length",
        "sizes_syntax",
        "json",
        "replay",
        "selftest",
    ],
)
def test_usage_errors_exit_2_with_one_line(user_module, argv, message):
    status, _, err = run([arg.replace("{module}", user_module) for arg in argv])
    assert status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["check", "selftest"])
def test_help_exits_0(command):
    status, out, _ = run([command, "--help"])
    assert status == 0 and "Exit status" in out


def test_selftest_all_rejected_exits_0(monkeypatch, tmp_path):
    monkeypatch.setattr(crosscheck.oracle.selftest, "CATALOGUE", (MUTANTS["sign_flipped"],))
    path = tmp_path / "kills.json"
    status, out, _ = run(["selftest", "--max-examples", "10", "--json", str(path)])
    assert status == 0
    assert "1 of 1 catalogued bugs rejected" in out
    assert json.loads(path.read_text())["rows"][0]["self_diagnosed"] is True


def test_selftest_with_a_surviving_bug_exits_1(monkeypatch):
    harmless = Mutant("harmless", "no bug at all", Backprop, {"activations": ("tanh",)}, "always")
    monkeypatch.setattr(crosscheck.oracle.selftest, "CATALOGUE", (harmless,))
    status, out, _ = run(["selftest", "--max-examples", "5"])
    assert status == 1
    assert "0 of 1 catalogued bugs rejected" in out


def test_check_help_names_every_activation_and_loss():
    from crosscheck.cli.check_command import CHECK_EPILOG
    from crosscheck.ffnn import ACTIVATIONS, LOSSES

    listed = CHECK_EPILOG.split("Activations: ")[1].split(" --seed")[0]
    words = {word.strip(".,()") for word in listed.split()}
    assert set(ACTIVATIONS) | set(LOSSES) <= words
