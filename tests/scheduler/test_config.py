"""KubeSchedulerConfiguration decoding, v1 defaulting (mergePlugins) and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from kframe.scheduler import (
    DEFAULT_PLUGINS,
    ConfigError,
    PluginRef,
    load_config,
    parse_config,
)

V1 = {"apiVersion": "kubescheduler.config.k8s.io/v1", "kind": "KubeSchedulerConfiguration"}
DEFAULT_NAMES = [p.name for p in DEFAULT_PLUGINS.multi_point.enabled]


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert [p.scheduler_name for p in config.profiles] == ["default-scheduler"]
    assert config.pod_initial_backoff_seconds == 1
    assert config.pod_max_backoff_seconds == 10
    assert config.parallelism == 16
    multi = config.profiles[0].plugins.multi_point.enabled
    assert [p.name for p in multi] == DEFAULT_NAMES
    assert {p.name: p.weight for p in multi}["TaintToleration"] == 3


def test_a_custom_enable_of_a_default_plugin_replaces_it_in_place() -> None:
    config = parse_config(
        {
            **V1,
            "profiles": [
                {
                    "plugins": {
                        "multiPoint": {
                            "enabled": [
                                {"name": "ImageLocality", "weight": 5},
                                {"name": "MyPlugin"},
                            ],
                            "disabled": [{"name": "NodePorts"}],
                        }
                    }
                }
            ],
        }
    )
    multi = config.profiles[0].plugins.multi_point
    names = [p.name for p in multi.enabled]
    assert "NodePorts" not in names
    assert names[-1] == "MyPlugin"
    assert names.index("ImageLocality") == DEFAULT_NAMES.index("ImageLocality") - 1
    assert PluginRef(name="ImageLocality", weight=5) in multi.enabled
    assert PluginRef(name="NodePorts") in multi.disabled


def test_disabling_star_drops_every_default() -> None:
    config = parse_config(
        {
            **V1,
            "profiles": [
                {
                    "schedulerName": "only-mine",
                    "plugins": {
                        "multiPoint": {"enabled": [{"name": "X"}], "disabled": [{"name": "*"}]}
                    },
                }
            ],
        }
    )
    assert [p.name for p in config.profiles[0].plugins.multi_point.enabled] == ["X"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"apiVersion": "v1", "kind": "Pod"}, "no kind 'Pod' is registered"),
        ({**V1, "parallelism": 0}, "parallelism: Invalid value: 0: should be > 0"),
        ({**V1, "percentageOfNodesToScore": 101}, "not in valid range [0-100]"),
        ({**V1, "podInitialBackoffSeconds": 0}, "podInitialBackoffSeconds: Invalid value"),
        (
            {**V1, "podInitialBackoffSeconds": 5, "podMaxBackoffSeconds": 2},
            "must be greater than or equal to PodInitialBackoffSeconds",
        ),
        (
            {**V1, "profiles": [{"schedulerName": "a"}, {"schedulerName": "a"}]},
            "profiles[1].schedulerName: Duplicate value: 'a'",
        ),
        ({**V1, "profiles": [{"schedulerName": ""}]}, "profiles[0].schedulerName: Required"),
        (
            {**V1, "profiles": [{"pluginConfig": [{"name": "A"}, {"name": "A"}]}]},
            "pluginConfig[1].name: Duplicate value",
        ),
        ({**V1, "profiles": [{"plugins": {"filtre": {}}}]}, "unknown field"),
        ({**V1, "parallelism": "many"}, "parallelism"),
        ({**V1, "extenders": [{"urlPrefix": "http://x"}]}, "extenders are not supported"),
    ],
)
def test_invalid_configurations_say_what_is_wrong(body: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=None) as info:
        parse_config(body)
    assert message in str(info.value)


def test_load_config_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="reading"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles: [\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load_config(bad)
    assert "\n" not in str(info.value)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n")
    with pytest.raises(ConfigError, match="expected a KubeSchedulerConfiguration"):
        load_config(listy)


def test_real_files_with_client_and_leader_sections_load(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        """
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /etc/kubernetes/scheduler.conf
leaderElection:
  leaderElect: true
profiles:
- schedulerName: default-scheduler
- schedulerName: no-scoring-scheduler
  plugins:
    preScore:
      disabled: [{name: '*'}]
    score:
      disabled: [{name: '*'}]
"""
    )
    config = load_config(path)
    assert [p.scheduler_name for p in config.profiles] == [
        "default-scheduler",
        "no-scoring-scheduler",
    ]
    assert [p.name for p in config.profiles[1].plugins.score.disabled] == ["*"]
