"""The fault suite's stack: one per session, restored to health before every test."""

from __future__ import annotations

import pytest

from .checks import REPORT, no_late_duplicates
from .client import Answers, User
from .stack import Stack


def pytest_collection_modifyitems(items):
    for item in items:
        if "/faults/" in str(item.fspath):
            item.add_marker(pytest.mark.faults)


@pytest.fixture(scope="session")
def stack():
    stack = Stack()
    # users verify their address from the verification email this sink receives
    User.mailbox = stack.smtp
    try:
        stack.start()
        yield stack
        no_late_duplicates(stack)  # e.g. a sweeper re-sending a row a live sender had
    finally:
        stack.stop()


@pytest.fixture
def healthy(stack):
    """Every part up before the test; the processes' logs printed if the test fails."""
    stack.smtp.recorder.delay = 0.0
    if stack.smtp.controller is None:
        stack.smtp.start()
    if stack.redis.process is None:
        stack.redis.start()
    for name in stack.PROCESSES:
        if not stack.alive(name):
            stack.start_process(name)
    stack.wait_ready()
    stack.restarted_on_purpose = set()
    pids = {name: process.pid for name, process in stack.processes.items()}
    yield stack
    # recovered by themselves: the same processes, alive (a killed pool process is replaced
    # by its worker, which is the same process)
    for name, pid in pids.items():
        if name not in stack.restarted_on_purpose:
            assert stack.processes[name].pid == pid and stack.alive(name), f"{name} died"


@pytest.fixture
def answers(request):
    answers = Answers()
    yield answers
    assert not answers.errors, f"5xx answers (503 excepted): {answers.errors[:10]}"


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    terminalreporter.section("what survives what")
    columns = list(REPORT[0])
    terminalreporter.write_line(" | ".join(columns))
    for row in REPORT:
        terminalreporter.write_line(" | ".join(str(row[c]) for c in columns))
