"""``kframe controller-manager``: bad flags are one line and exit 2; two managers against one
``kframe apiserver`` elect one leader, and the other takes over when it stops."""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kframe.cli import CommandError, main
from kframe.cli._controller_manager import _run, go_duration, parse_pairs
from kframe.controller import ControllerManager, LeaderElection, LeadershipLost
from kframe.testing.cluster import running_apiserver
from tests.cli.test_cli import kframe

KFRAME = str(Path(sys.executable).with_name("kframe"))
NOWHERE = ("--server", "http://127.0.0.1:9")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``kframe ARGS`` in this process (fast): the exit code and stderr."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse's errors
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


FAST = (
    "--leader-elect-lease-duration",
    "2s",
    "--leader-elect-renew-deadline",
    "1500ms",
    "--leader-elect-retry-period",
    "0.5",
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--controllers", "nope"), "'nope' is not in the list of known controllers"),
        (("--controllers", "*,-*"), "'*' is not in the list of known controllers"),
        (("--option", "novalue"), "--option: 'novalue' is not NAME=VALUE"),
        (  # a value the controller cannot parse, found as it is built
            ("--option", "job-pod-failure-backoff=abc"),
            "--option job-pod-failure-backoff=abc: invalid duration 'abc'",
        ),
        (("--concurrent-syncs", "job=zero"), "--concurrent-syncs: job='zero'"),
        (("--concurrent-syncs", "nope=2"), "'nope' is not in the list of known controllers"),
        (("--leader-elect", "maybe"), "expected true or false, got 'maybe'"),
        (("--leader-elect-lease-duration", "soon"), "expected a duration"),
        (("--leader-elect-retry-period", "0s"), "must be greater than zero"),
        (
            ("--leader-elect-lease-duration", "5s", "--leader-elect-renew-deadline", "10s"),
            "--leader-elect-lease-duration (5s) must be greater than --leader-elect-renew-deadline",
        ),
        (("--leader-elect-resource-lock", "endpoints"), "invalid choice: 'endpoints'"),
        (
            ("--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "2s"),
            "--leader-elect-renew-deadline (2s) must be greater than 1.2 x",
        ),
        (("--leader-elect-resource-name", ""), "--leader-elect-resource-name must not be empty"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(capsys, "controller-manager", *NOWHERE, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("kframe")
    assert message in err


def test_a_missing_kubeconfig_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(capsys, "controller-manager", "--kubeconfig", str(tmp_path / "none"))
    assert code == 1
    assert err.count("\n") == 1 and f"--kubeconfig {tmp_path / 'none'}: No such file" in err


def test_up_refuses_bad_controller_flags_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    up = ("up", "--data-dir", str(tmp_path), "--port", "0", "--scheduler-port", "0")
    code, err = cli(capsys, *up, "--controllers", "nope")
    assert code == 2, err
    assert err.count("\n") == 1 and "'nope' is not in the list of known controllers" in err
    code, err = cli(capsys, *up, "--concurrent-syncs", "x")
    assert code == 2 and err.count("\n") == 1 and "'x' is not NAME=VALUE" in err
    code, err = cli(capsys, *up, "--option", "job-pod-failure-backoff=abc")
    assert code == 2, err
    assert err == "kframe: error: --option job-pod-failure-backoff=abc: invalid duration 'abc'\n"
    assert not (tmp_path / "kubeconfig").exists()


def test_the_process_prints_one_line_too(tmp_path: Path) -> None:
    result = kframe("controller-manager", *NOWHERE, "--controllers", "nope")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    up = ("up", "--data-dir", str(tmp_path), "--port", "0", "--scheduler-port", "0")
    result = kframe(*up, "--option", "job-pod-failure-backoff=abc")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "kubeconfig").exists()  # nothing started


def start_manager(kubeconfig: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    """A ``kframe controller-manager``, and the identity its banner names."""
    proc = subprocess.Popen(
        [KFRAME, "controller-manager", "--kubeconfig", str(kubeconfig), *FAST, *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if " as " not in line:
        proc.kill()
        raise AssertionError(f"no banner: {line!r} {proc.communicate()[1]}")
    return proc, line.rsplit(" as ", 1)[1].rstrip(")\n")


def holder(kubeconfig: Path) -> str:
    result = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "get",
            "lease",
            "-n",
            "kube-system",
            "kube-controller-manager",
            "-o",
            "jsonpath={.spec.holderIdentity}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else ""


def wait_for_holder(kubeconfig: Path, identity: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (current := holder(kubeconfig)) != identity:
        if time.monotonic() > deadline:
            raise AssertionError(f"lease held by {current!r}, not {identity!r}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_a_standby_manager_takes_over_when_the_leader_stops(tmp_path: Path) -> None:
    with running_apiserver(tmp_path) as kubeconfig:
        first, first_id = start_manager(kubeconfig)
        second: subprocess.Popen[str] | None = None
        try:
            wait_for_holder(kubeconfig, first_id)
            second, second_id = start_manager(kubeconfig)
            assert first_id != second_id and first_id.rpartition("_")[0]
            assert holder(kubeconfig) == first_id
            stop(first)  # a clean stop releases the lease
            wait_for_holder(kubeconfig, second_id)
            assert second.stdout is not None
            assert "acquired lease kube-system/kube-controller-manager" in second.stdout.readline()
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    stop(proc)


@given(
    hours=st.integers(0, 3),
    minutes=st.integers(0, 59),
    seconds=st.integers(0, 59),
    millis=st.integers(0, 999),
)
def test_go_durations_parse_to_their_seconds(
    hours: int, minutes: int, seconds: int, millis: int
) -> None:
    parts = [(hours, "h"), (minutes, "m"), (seconds, "s"), (millis, "ms")]
    text = "".join(f"{n}{unit}" for n, unit in parts if n)
    total = hours * 3600 + minutes * 60 + seconds + millis / 1000
    if not total:
        with pytest.raises(argparse.ArgumentTypeError):
            go_duration(text or "0s")
        return
    assert go_duration(text) == pytest.approx(total)
    assert go_duration(str(total)) == pytest.approx(total)


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), st.text("ab=:1")))
def test_pairs_round_trip(pairs: dict[str, str]) -> None:
    items = [f"{k}={v}" for k, v in pairs.items()]
    assert parse_pairs("--option", items) == {k: v.strip() for k, v in pairs.items()}


class _Losing:
    names = ("job",)

    def __init__(self) -> None:
        self.synced = asyncio.Event()

    async def run(self) -> None:
        raise LeadershipLost("leader election lost: lease kube-system/kube-controller-manager")


def test_losing_the_lease_ends_the_command_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    election = LeaderElection(identity="me_1")
    with pytest.raises(CommandError, match="leader election lost") as info:
        asyncio.run(_run(cast(ControllerManager, _Losing()), "http://x", election))
    assert info.value.exit_code == 1
    assert "as me_1" in capsys.readouterr().out
