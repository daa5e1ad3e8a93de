"""``kframe cloud-controller-manager`` and ``kframe up --cloud-provider``: bad flags are one
line and exit 2; a manager process initialises a tainted node from the simulated cloud, whose
console (``kframe cloud-simulated``) adds the instance."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kframe.cli import main
from kframe.testing.cluster import running_apiserver

KFRAME = str(Path(sys.executable).with_name("kframe"))
NOWHERE = ("--server", "http://127.0.0.1:9")


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cloud-provider", "nope"), "--cloud-provider: unknown cloud-provider 'nope'"),
        (
            ("--cloud-provider", "simulated", "--cloud-config", "/nonexistent.yaml"),
            "--cloud-config: no such file: /nonexistent.yaml",
        ),
        (
            ("--cloud-provider", "simulated", "--controllers", "nope"),
            "'nope' is not in the list of known controllers",
        ),
        ((), "the following arguments are required: --cloud-provider"),
    ],
)
def test_bad_flags_are_one_line_and_exit_2(
    args: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err = cli(capsys, "cloud-controller-manager", *NOWHERE, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and message in err, err


def test_a_bad_cloud_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "cloud.yaml"
    conf.write_text("bogus: 1\n")
    code, err = cli(
        capsys,
        "cloud-controller-manager",
        *NOWHERE,
        "--cloud-provider",
        "simulated",
        "--cloud-config",
        str(conf),
    )
    assert code == 2 and err.count("\n") == 1 and "unknown keys bogus" in err, err


def test_up_refuses_an_unknown_provider_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    up = ("up", "--data-dir", str(tmp_path), "--port", "0", "--scheduler-port", "0")
    code, err = cli(capsys, *up, "--cloud-provider", "nope")
    assert code == 2 and err.count("\n") == 1 and "unknown cloud-provider 'nope'" in err, err
    assert not (tmp_path / "kubeconfig").exists()


def _kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout if result.returncode == 0 else ""


NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-0"},
    "spec": {
        "taints": [
            {
                "key": "node.cloudprovider.kubernetes.io/uninitialized",
                "value": "true",
                "effect": "NoSchedule",
            }
        ]
    },
}


def test_the_manager_process_initialises_a_node(tmp_path: Path) -> None:
    conf = tmp_path / "cloud.yaml"
    conf.write_text("db: cloud.db\nzone: zone-a\nregion: region-1\n")
    with running_apiserver(tmp_path) as kubeconfig:
        proc = subprocess.Popen(
            [
                KFRAME,
                "cloud-controller-manager",
                "--kubeconfig",
                str(kubeconfig),
                "--cloud-provider",
                "simulated",
                "--cloud-config",
                str(conf),
                "--leader-elect=false",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            assert "cloud simulated, controllers cloud-node-controller" in banner, banner
            # The console in this process: a second interpreter start costs seconds.
            assert (
                main(["cloud-simulated", "--cloud-config", str(conf), "instances", "add", "node-0"])
                == 0
            )
            assert _kubectl(kubeconfig, "create", "-f", "-", stdin=json.dumps(NODE))
            deadline = time.monotonic() + 30
            node: dict[str, object] = {}
            while time.monotonic() < deadline:
                node = json.loads(
                    _kubectl(kubeconfig, "get", "node", "node-0", "-o", "json") or "{}"
                )
                spec = node.get("spec") or {}
                assert isinstance(spec, dict)
                if spec.get("providerID") and not spec.get("taints"):
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"node-0 not initialised: {node}")
            meta = node["metadata"]
            assert isinstance(meta, dict)
            assert meta["labels"]["topology.kubernetes.io/zone"] == "zone-a"
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
