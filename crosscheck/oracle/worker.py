"""The function under check in a worker process: what it does to its process is a finding,
never the checker's end (DESIGN §5 "Verdict rules").

``Isolated(target, timeout=...)`` is a ``crosscheck.oracle.calling.Callee`` whose calls run
in one worker process, started once and reused for every call of a check. The worker
imports the function itself (``Target``: ``MODULE:FUNCTION`` as typed at the command line,
or a pickled importable function), so the checker never imports the user's code nor puts
the user's directories on its own import path. Each call is one request over a pipe; the
checker waits for the reply, the worker's end, or the time limit, whichever comes first:

- a reply: the ``Outcome`` of ``calling.call_once`` (run there with
  ``interruptible=False``: the worker ignores SIGINT, so a KeyboardInterrupt comes from the
  function and is a finding);
- the worker's end during the call: ``exited`` (an exit status: ``os._exit(0)``, ``exit``
  in C code) or ``crashed`` (a signal: SIGSEGV from a C extension, SIGABRT, SIGKILL);
- no reply within `timeout` seconds: ``timeout``; the worker is killed.

The message of each gives the worker's last output. A worker that ended is replaced on the
next call (the function imported again). The worker's standard output and error go to a
pipe that a thread of the checker drains, keeping only the last ``TAIL_BYTES``: a function
that prints megabytes or closes its streams (they are restored before every call) touches
neither the checker's streams nor its report. The worker's standard input is /dev/null.

Nothing the function starts holds the checker's streams: the worker's fds 0, 1 and 2 are
/dev/null and its own output pipe, and it closes the pipes that keep the checker's forkserver
and resource tracker alive (both hold the checker's stdout and stderr; a forked child left
sleeping kept ``crosscheck check ... | tail`` waiting after the checker had exited). The
worker leads a session and process group of its own, which the checker kills (SIGKILL) when
it replaces the worker and when the check ends: children the function leaves behind end with
it, unless they left the group themselves (``setsid``).

The process machinery is the standard library's ``multiprocessing`` (forkserver start, so a
replaced worker is a fork of a server that has NumPy and the oracle imported: about 20 ms,
not an interpreter start). pebble and loky were tried first (``docs/development.md``):
pebble's pool takes a worker that exits with status 0 for a normal exit, so ``os._exit(0)``
read as a hang after the full time limit; loky's executor gives the exit status only inside
an error message and kills nothing past a time limit.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import importlib
import importlib.machinery
import importlib.util
import multiprocessing
import multiprocessing.connection
import numbers
import os
import pickle
import re
import signal
import sys
import threading
import types
import uuid
import weakref
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from crosscheck.ffnn import Layer
from crosscheck.oracle.calling import Callee, FunctionFailedError, Outcome, call_once, plain
from crosscheck.oracle.layouts import Adapter

DEFAULT_TIMEOUT = 60.0
"""Seconds one call may take before it is a ``timeout`` finding. At the widths ``check`` draws
by default (S_l <= 6, N <= 64) a pure-Python loop over every index (the suite's literal
reference, Kronecker deltas included) takes 1.2 s even 100 layers deep (the depth cap); the
contracted form runs 2.5–9e6 forward products a second, so 7–26 s at the largest fixed sizes
accepted (``crosscheck.oracle.search.MAX_PARAMETERS``) with N = 64 (measured on 2 cores, load
1.3). Beyond that (a larger --max-samples at such sizes) raise the limit with --timeout."""

MAX_TIMEOUT = 1e6
"""The longest time limit per call accepted, in seconds (about 11.6 days; ``check_timeout``).
The checker waits for a reply with ``multiprocessing.connection.wait``, which on Linux and
macOS is poll(2) with the limit in whole milliseconds in a C int: 2**31 ms, about 2.1e6 s, is
the most it takes (3e6 s raised "OverflowError: timeout is too large", 1e10 s "timestamp too
large to convert to C _PyTime_t"); on Windows WaitForMultipleObjects takes a 32-bit count of
milliseconds (4.3e6 s). 1e6 s keeps a factor of 2 below the smaller."""

MAX_TIMEOUT_TEXT = f"{MAX_TIMEOUT:.0e}".replace("e+0", "e")
"""MAX_TIMEOUT as messages write it: 1e6."""

TIMEOUT_RESOLUTION = 1e-3
"""The shortest time limit the wait keeps: poll(2) counts whole milliseconds and
``selectors`` rounds a limit up to the next one, so a limit under 1 ms is taken as 1 ms (and
said so: "no result within 0.001 s")."""

IMPORT_TIMEOUT = 120.0
"""Seconds the worker may take to import the function (a module that imports JAX or PyTorch
takes several) when the time limit per call is shorter."""

TAIL_BYTES = 16384
"""How much of the worker's latest output is kept (enough for a crash's faulthandler report
with its list of extension modules), for the message of a finding."""

TAIL_LINES = 12
"""At most this many of the last output's lines are quoted in a message."""

PROTOCOL = 5
"""Pickle protocol of the requests and replies: arrays travel as raw buffers."""


def check_timeout(timeout: object) -> float | None:
    """`timeout` as a float of seconds (None: no limit), checked before any work; one under
    TIMEOUT_RESOLUTION (1 ms) is taken as 1 ms.

    Raises:
        TypeError: not a real number (a bool, a str) nor None ("timeout must be ...").
        ValueError: not in (0, MAX_TIMEOUT] (0, negative, NaN, inf, 1e10).
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if not (0 < timeout <= MAX_TIMEOUT and float(timeout) > 0):
        raise ValueError(
            f"timeout must be a number of seconds > 0 and at most {MAX_TIMEOUT_TEXT}"
            f" (or None: no limit), got {timeout!r}"
        )
    return max(float(timeout), TIMEOUT_RESOLUTION)


class LoadError(Exception):
    """The worker could not import the function (one line, for a usage error)."""


class Ended(NamedTuple):
    """The worker ended, or passed the time limit, instead of replying.

    kind: ``exited``, ``crashed`` or ``timeout``. message: what happened and when, with
    the worker's last output.
    """

    kind: str
    message: str


@dataclass(frozen=True)
class Target:
    """Where the worker finds the function under check.

    Attributes:
        spec: ``MODULE:FUNCTION`` as typed (MODULE a dotted name or a path to a .py file,
            FUNCTION a dotted attribute), or "" for a pickled function.
        directory: put first on the worker's import path: the checker's current directory
            for a module name, the file's own directory for a path.
        pickled: a pickle of an importable function (``from_function``), or None.
    """

    spec: str = ""
    directory: str = ""
    pickled: bytes | None = None

    @classmethod
    def from_spec(cls, spec: str) -> Target:
        """A ``MODULE:FUNCTION`` target, checked for its form and, for a path, the file.

        Raises:
            ValueError: no colon or an empty part ("expected MODULE:FUNCTION ..."), or a
                path that is not a file ("no such file: ...").
        """
        module, colon, attribute = spec.rpartition(":")
        if not colon or not module or not attribute:
            raise ValueError(f"expected MODULE:FUNCTION (e.g. mynet:backprop), got {spec!r}")
        if not _is_path(module):
            return cls(spec, os.getcwd())
        path = Path(module)
        if not path.is_file():
            raise ValueError(f"no such file: {module}")
        return cls(f"{path.resolve()}:{attribute}", str(path.resolve().parent))

    @classmethod
    def from_function(cls, fn: Any) -> Target | str:
        """A target that unpickles to `fn` in the worker, or why there is none (a str):
        `fn` is defined in ``__main__`` or is not picklable by reference (a closure, a
        lambda, a local class's instance)."""
        if getattr(fn, "__module__", None) == "__main__":
            return "defined in __main__, which the worker does not import"
        try:
            return cls(pickled=pickle.dumps(fn, protocol=PROTOCOL))
        except Exception as error:  # pickle raises several types for what it cannot pickle
            return f"not importable by the worker ({type(error).__name__}: {error})"


class Isolated(Callee):
    """The function under check, called in a worker process (module docstring).

    Use as a context manager (or call ``close``); ``load`` starts the worker and imports the
    function, raising ``LoadError`` with one line if it cannot.

    Args:
        target: where the worker finds the function.
        timeout: seconds per call (> 0, at most MAX_TIMEOUT), or None for no limit.

    Raises:
        TypeError, ValueError: a bad `timeout` (``check_timeout``).
    """

    def __init__(self, target: Target, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self.target = target
        self.timeout = check_timeout(timeout)
        limit = "no time limit" if self.timeout is None else f"{self.timeout:g} s per call"
        self.isolation = f"in a worker process, {limit}"
        self._worker: _Worker | None = None
        _LIVE.add(self)

    def __enter__(self) -> Isolated:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def load(self) -> None:
        """Start the worker and import the function in it.

        Raises:
            LoadError: the import failed ("cannot import mynet: SyntaxError: ..."), the
                attribute is missing or not callable, or the worker ended or passed the time
                limit while importing (its last output quoted).
        """
        problem = self._start()
        if problem is not None:
            raise LoadError(problem)

    def attempt(
        self,
        adapter: Adapter,
        params: Sequence[Layer],
        X: np.ndarray,
        T: np.ndarray,
        read_only: Collection[str] | None = None,
    ) -> Outcome:
        reply = self._request(("attempt", adapter, tuple(params), X, T, read_only))
        return Outcome(None, *reply) if isinstance(reply, Ended) else reply

    def __call__(self, Ws: Any, bs: Any, X: Any, T: Any) -> Any:
        reply = self._request(("call", Ws, bs, X, T))
        if isinstance(reply, Ended):
            raise FunctionFailedError(reply.message)
        if reply[0] == "raised":
            raise FunctionFailedError(reply[1])
        return reply[1]

    def close(self) -> None:
        """Stop the worker (killed if busy); a later call starts a new one."""
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    def _start(self) -> str | None:
        """Start a worker and import the function in it; None, or why it could not."""
        try:
            self._worker = _Worker()
        except OSError as error:  # no process, pipe or forkserver socket to be had
            return f"the worker process could not start: {error}"
        limit = None if self.timeout is None else max(self.timeout, IMPORT_TIMEOUT)
        reply = self._worker.request(("load", self.target), limit)
        if reply == ("loaded", None):
            return None
        self.close()
        if isinstance(reply, Ended):
            return f"{_describe(self.target)}: while importing it, {reply.message}"
        return reply[1]

    def _request(self, message: tuple) -> Any:
        """Send one request to the worker (started, or replaced, first); its reply, or Ended
        for the worker's end or a timeout (the worker is then stopped)."""
        if self._worker is not None and not self._worker.alive():
            ended = self._worker.ended("after the previous call had returned")
            self.close()
            return ended
        if self._worker is None:
            problem = self._start()
            if problem is not None:
                return Ended("exited", f"a new worker could not import the function: {problem}")
        reply = self._worker.request(message, self.timeout)
        if isinstance(reply, Ended):
            self.close()
        return reply


class _Worker:
    """One worker process, its request pipe and the thread that drains its output."""

    def __init__(self) -> None:
        context = _context()
        self.connection, child = context.Pipe()
        output, output_child = context.Pipe(duplex=False)
        self.process = context.Process(
            target=serve, args=(child, output_child), name="crosscheck-worker"
        )
        try:
            with _main_hidden():
                self.process.start()
        except BaseException:
            self.connection.close()
            output.close()
            raise
        finally:
            child.close()
            output_child.close()
        self.tail = _Tail(output)

    def alive(self) -> bool:
        return self.process.is_alive()

    def request(self, message: tuple, timeout: float | None) -> Any:
        """Send `message`; the reply, or Ended if the worker ends or `timeout` seconds pass
        first (the worker is then killed)."""
        self.tail.clear()
        try:
            self.connection.send_bytes(pickle.dumps(message, protocol=PROTOCOL))
        except OSError:  # the worker is gone or closed its end of the pipe
            return self.ended("before the call")
        ready = multiprocessing.connection.wait([self.connection, self.process.sentinel], timeout)
        if self.connection in ready:
            with contextlib.suppress(EOFError, OSError):  # it ended instead of replying
                return pickle.loads(self.connection.recv_bytes())
        if ready:
            return self.ended("during the call")
        self.kill()
        message = f"no result within {timeout:g} s (the time limit per call): the call was"
        message += " stopped and the worker process replaced"
        return Ended("timeout", message + self.tail.quoted())

    def ended(self, when: str) -> Ended:
        """What ended the worker (or closed its pipe) `when`, with its last output."""
        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:  # alive, but its pipe is closed: end it
            self.kill()
            return Ended(
                "exited", f"the worker closed its pipe to the checker {when}" + self.tail.quoted()
            )
        if code < 0:
            name = signal.Signals(-code).name
            meaning = signal.strsignal(-code) or name
            message = f"the worker process was killed by signal {name} ({meaning}) {when}"
            return Ended("crashed", message + self.tail.quoted())
        message = f"the worker process exited with status {code} {when} (os._exit, or exit in C)"
        return Ended("exited", message + self.tail.quoted())

    def kill(self) -> None:
        """SIGKILL the worker's process group (``_own_session``): the worker, if alive, and
        every process the function started that is still in it; then reap the worker.

        The group's id is the worker's pid, which is not reused while the worker or a member
        of its group is left (the forkserver reaps the worker, so after its end alone the id
        is free again; a new group taking it before this kill would need the system's pids
        to wrap around in between)."""
        with contextlib.suppress(OSError):  # no such group: nothing of it is left
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.is_alive():  # before its setsid: not yet in a group of its own
            self.process.kill()
        self.process.join()

    def stop(self) -> None:
        """End the worker and what it started (``kill``); close the pipes."""
        self.kill()
        self.connection.close()
        self.tail.close()
        self.process.close()


class _Tail:
    """A thread that drains the worker's output pipe, keeping its last TAIL_BYTES."""

    def __init__(self, output: multiprocessing.connection.Connection) -> None:
        self._output = output
        self._kept = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, name="crosscheck-output", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while chunk := _read(self._output.fileno()):
            with self._lock:
                self._kept += chunk
                del self._kept[:-TAIL_BYTES]

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def quoted(self) -> str:
        """``"; its last output:\\n  ..."`` (after the pipe is drained), or ""."""
        self._thread.join(1.0)
        with self._lock:
            text = self._kept.decode("utf-8", errors="replace")
        lines = _tidy(text)[-TAIL_LINES:]
        if not lines:
            return "; no output"
        return "; its last output:\n  " + "\n  ".join(lines)

    def close(self) -> None:
        self._thread.join(1.0)
        self._output.close()


CHECKER_FRAMES = re.compile(r'\s*File "(<string>|.*/multiprocessing/.*|.*/crosscheck/oracle/.*)"')
"""faulthandler's lines for frames of the worker's own machinery, left out of a quote."""


def _tidy(text: str) -> list[str]:
    """The output's lines, without faulthandler's list of extension modules and its frames of
    the worker's machinery: what is left is the function's output and its own frames."""
    text = text.partition("\nExtension modules:")[0]
    return [
        line.rstrip()
        for line in text.strip().splitlines()
        if line.strip() and not CHECKER_FRAMES.match(line)
    ]


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


_LIVE: weakref.WeakSet[Isolated] = weakref.WeakSet()
"""Every Isolated not yet garbage-collected, closed at exit (after multiprocessing's own
exit handler would have waited for their workers otherwise)."""


@atexit.register
def close_all() -> None:
    """Close every live Isolated (stop its worker process and its process group)."""
    for isolated in list(_LIVE):
        isolated.close()


def _context() -> Any:
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload([__name__])
    return context


_STARTING = threading.Lock()
"""One worker starts at a time (``_main_hidden`` swaps a process-wide module)."""


@contextlib.contextmanager
def _main_hidden() -> Iterator[None]:
    """A blank ``__main__`` while a worker starts: multiprocessing would otherwise run the
    caller's script again in the worker (a script without ``if __name__ == "__main__":``
    would then start its whole work there)."""
    with _STARTING:
        main = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if main is not None:
                sys.modules["__main__"] = main


def _describe(target: Target) -> str:
    return target.spec.rpartition(":")[0] if target.spec else "the function"


# The worker process's side.


def serve(
    connection: multiprocessing.connection.Connection,
    output: multiprocessing.connection.Connection,
) -> None:
    """The worker's loop: load the function, then answer calls until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _own_session()
    streams = _Streams(output.fileno())
    output.close()
    _release_the_checkers_helpers()
    _exit_with_parent()
    fn: Any = None
    while True:
        try:
            request = pickle.loads(connection.recv_bytes())
        except EOFError:
            return
        streams.restore()
        kind, *arguments = request
        if kind == "load":
            try:
                fn = _load(arguments[0])
                reply: Any = ("loaded", None)
            except LoadError as error:
                reply = ("load-failed", str(error))
        elif kind == "attempt":
            adapter, params, X, T, read_only = arguments
            reply = call_once(fn, adapter, params, X, T, read_only=read_only, interruptible=False)
        else:
            reply = _plain_call(fn, arguments)
        streams.flush()
        connection.send_bytes(pickle.dumps(reply, protocol=PROTOCOL))


def _plain_call(fn: Any, arguments: list) -> tuple[str, Any]:
    try:
        return ("value", plain(fn(*arguments)))
    except BaseException as error:  # in the worker, whatever the function raises is reported
        return ("raised", f"{type(error).__name__}: {error}")


class _Streams:
    """The worker's standard output and error, both on the output pipe, line-buffered, and
    put back before every call (a function may close or redirect them); faulthandler writes
    a crash's traceback there too."""

    def __init__(self, fd: int) -> None:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # fd 0 too: none of the worker's standard fds is the checker's
        os.close(null)
        self.sink = os.dup(fd)
        self.own: dict[str, Any] = {}
        faulthandler.enable(file=self.sink, all_threads=False)
        self.restore()

    def restore(self) -> None:
        for fd, name in ((1, "stdout"), (2, "stderr")):
            os.dup2(self.sink, fd)
            stream = getattr(sys, name)
            if stream is not self.own.get(name) or stream.closed:
                self.own[name] = open(
                    fd,
                    "w",
                    buffering=1,
                    encoding="utf-8",
                    errors="backslashreplace",
                    closefd=False,
                )
                setattr(sys, name, self.own[name])

    def flush(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a stream the function replaced or broke
                stream.flush()


def _own_session() -> None:
    """Make the worker the leader of a session and process group of its own (its id the
    worker's pid), so the checker can end it with all it started (``_Worker.kill``),
    and without a controlling terminal: a function that opens /dev/tty (``getpass``) gets an
    error, not the user's terminal."""
    with contextlib.suppress(OSError):  # already a group leader (not under multiprocessing)
        os.setsid()


def _release_the_checkers_helpers() -> None:
    """Close the worker's copies of the pipes that keep the checker's forkserver and
    resource tracker alive.

    Both processes were started by the checker and hold its standard streams as their fds 1
    and 2; each ends when every write end of its pipe is closed. A worker inherits a write
    end of each (multiprocessing passes them to every client), and so does every process the
    function forks: a child left sleeping 40 s kept the forkserver, and with it the
    checker's stdout, open 40 s after the checker had exited (``crosscheck check ... | tail``
    waited for it). The worker uses neither: should the function itself use multiprocessing,
    forgetting them makes it start a forkserver and a tracker of its own."""
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver
    tracker = resource_tracker._resource_tracker
    for owner, attribute in ((server, "_forkserver_alive_fd"), (tracker, "_fd")):
        fd = getattr(owner, attribute, None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)
            setattr(owner, attribute, None)
    if hasattr(server, "_forkserver_address"):
        server._forkserver_address = None
    if hasattr(tracker, "_pid"):
        tracker._pid = None


def _exit_with_parent() -> None:
    """End the worker when the checker ends, even while the function runs."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="crosscheck-parent-watch", daemon=True).start()


def _load(target: Target) -> Any:
    """The function `target` names (in the worker).

    Raises:
        LoadError: one line: the import failed, the attribute is missing or not callable.
    """
    if target.pickled is not None:
        try:
            return pickle.loads(target.pickled)
        except BaseException as error:  # whatever importing its module raises
            raise LoadError(f"cannot import the function: {_one_line(error)}") from None
    module_name, _, attribute = target.spec.rpartition(":")
    sys.path.insert(0, target.directory)
    try:
        found: Any = _import(module_name, target.directory)
        for part in attribute.split("."):
            if not hasattr(found, part):
                raise LoadError(f"{module_name} has no attribute {attribute!r}")
            found = getattr(found, part)
        if not callable(found):
            kind = type(found).__name__
            raise LoadError(f"{module_name}:{attribute} is a {kind}, not a function")
    except LoadError:
        raise
    except BaseException as error:  # whatever the module raises, SystemExit included
        raise LoadError(f"cannot import {module_name}: {_one_line(error)}") from None
    return found


def _import(module_name: str, directory: str) -> types.ModuleType:
    """Import a .py path, or a module name as Python would with `directory` first on the path;
    a name the worker has already imported (``crosscheck``, ``numpy``) but that `directory`
    holds a file of is that file, imported under a private name."""
    if _is_path(module_name):
        return _import_file(Path(module_name))
    top = module_name.partition(".")[0]
    loaded = sys.modules.get(top)
    spec = importlib.machinery.PathFinder.find_spec(top, [directory])
    if loaded is None or spec is None or spec.origin is None or _inside(loaded, directory):
        return importlib.import_module(module_name)
    if top != module_name:
        raise LoadError(
            f"{top} in {directory} has the name of a module the checker uses; pass the path"
            f" of the file instead (e.g. {top}/{module_name.partition('.')[2]}.py)"
        )
    return _import_file(Path(spec.origin))


def _import_file(path: Path) -> types.ModuleType:
    """Import the file at `path` as module ``path.stem``, or under a private unique name
    when that name is taken (``crosscheck.py``, ``numpy.py``)."""
    name = path.stem
    if name == "__init__" or not name.isidentifier() or name in sys.modules:
        name = f"_crosscheck_user_{path.stem if path.stem.isidentifier() else 'module'}"
        name += f"_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise LoadError(f"cannot import {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _inside(module: types.ModuleType, directory: str) -> bool:
    origin = getattr(module, "__file__", None)
    return origin is not None and Path(origin).resolve().is_relative_to(Path(directory).resolve())


def _is_path(module_name: str) -> bool:
    return module_name.endswith(".py") or "/" in module_name or os.sep in module_name


def _one_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
