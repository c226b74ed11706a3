"""The supervisor restarts a crashed child, says why, and stops children on request."""

import logging
import sys
import time

import pytest

from vigil.supervisor import ChildSpec, Supervisor, describe_exit


def _wait(predicate, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_crashed_child_is_restarted_and_the_reason_logged(caplog: pytest.LogCaptureFixture) -> None:
    crasher = ChildSpec("crasher", [sys.executable, "-c", "import sys, time; time.sleep(0.2); sys.exit(7)"])
    steady = ChildSpec("steady", [sys.executable, "-c", "import time; time.sleep(60)"], stop_grace_s=5)
    supervisor = Supervisor([crasher, steady], backoff_initial_s=0.1, backoff_max_s=0.2)
    caplog.set_level(logging.INFO, logger="vigil.supervisor")
    supervisor.start_all()
    try:
        first_pid = supervisor.children[0].process.pid
        _wait(lambda: (supervisor.poll_once() or True) and supervisor.children[0].restarts >= 2)
        assert "crasher exited with code 7" in caplog.text
        _wait(lambda: (supervisor.poll_once() or True) and supervisor.children[0].process is not None)
        assert supervisor.children[0].process.pid != first_pid
        assert supervisor.children[1].process.poll() is None  # the other child was never touched
    finally:
        steady_process = supervisor.children[1].process
        supervisor.stop_all()
    assert steady_process.returncode == -15  # stopped with SIGTERM


def test_exit_descriptions_name_signals() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(3) == "exited with code 3"
