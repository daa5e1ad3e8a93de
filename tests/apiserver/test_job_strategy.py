"""The Job strategy's selector generation (upstream pkg/registry/batch/job/strategy.go
generateSelector) and validateGeneratedSelector, over HTTP and as a property."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hypothesis import given
from hypothesis import strategies as st

from kframe.apiserver._strategy import generate_job_selector
from kframe.apiserver._validate_batch import validate_job
from kframe.apiserver._validate_formats import as_selector

if TYPE_CHECKING:  # the fixtures' types; pytest imports conftest itself
    from tests.apiserver.conftest import Api, Scenario

JOBS = "/apis/batch/v1/namespaces/default/jobs"
UID, NAME = "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-name"


def job(name: str, labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    pod = {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}
    template: dict[str, Any] = {"spec": pod}
    if labels is not None:
        template["metadata"] = {"labels": labels}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": template, **spec},
    }


def causes(status: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["field"], c["message"]) for c in status["details"]["causes"]]


def test_a_job_gets_a_generated_selector_and_labels(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        code, created = await api.call("POST", JOBS, job("pi", labels={"app": "pi"}))
        assert code == 201, created
        uid = created["metadata"]["uid"]
        spec = created["spec"]
        assert spec["manualSelector"] is False
        assert spec["selector"] == {"matchLabels": {UID: uid}}
        generated = {UID: uid, NAME: "pi", "controller-uid": uid, "job-name": "pi"}
        assert spec["template"]["metadata"]["labels"] == {"app": "pi", **generated}
        # SetDefaults_Job gives a Job without labels its template's, as defaulted on decoding
        # (before the strategy generated any); a Job whose template had none gets the generated
        assert created["metadata"]["labels"] == {"app": "pi"}
        code, bare = await api.call("POST", JOBS, job("bare"))
        assert code == 201, bare
        uid = bare["metadata"]["uid"]
        generated = {UID: uid, NAME: "bare", "controller-uid": uid, "job-name": "bare"}
        assert bare["metadata"]["labels"] == bare["spec"]["template"]["metadata"]["labels"]
        assert bare["metadata"]["labels"] == generated
        # an unchanged round-trip is a valid update
        code, updated = await api.call("PUT", f"{JOBS}/pi", created)
        assert code == 200, updated
        assert updated["spec"]["selector"] == spec["selector"]

    run_api(scenario)


def test_selector_rules(run_api: Callable[[Scenario], None]) -> None:
    async def scenario(api: Api) -> None:
        # manualSelector without a selector: nothing is generated, and a selector is required
        code, status = await api.call("POST", JOBS, job("manual", manualSelector=True))
        assert code == 422
        assert causes(status)[0] == ("spec.selector", "Required value")
        # a selector of the user's without manualSelector: not what the strategy generates
        body = job("mine", labels={"a": "b"}, selector={"matchLabels": {"a": "b"}})
        code, status = await api.call("POST", JOBS, body)
        assert code == 422
        (field, message), *_ = causes(status)
        assert field == "spec.selector"
        assert message.startswith(
            'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"a":"b", '
        )
        assert message.endswith(": `selector` not auto-generated")
        # a conflicting template label the user set is kept, and rejected
        body = job("clash", labels={"job-name": "other"})
        code, status = await api.call("POST", JOBS, body)
        assert code == 422
        assert causes(status)[0][0] == "spec.template.metadata.labels[job-name]"
        assert causes(status)[0][1].endswith(": must be 'clash'")
        # manualSelector with a matching selector: kept as given, no labels added
        body = job("adopt", labels={"a": "b"}, manualSelector=True)
        body["spec"]["selector"] = {"matchLabels": {"a": "b"}}
        code, created = await api.call("POST", JOBS, body)
        assert code == 201, created
        assert created["spec"]["selector"] == {"matchLabels": {"a": "b"}}
        assert created["spec"]["template"]["metadata"]["labels"] == {"a": "b"}

    run_api(scenario)


def test_an_update_of_a_job_without_prefixed_labels_passes() -> None:
    # validationOptionsForJob: RequirePrefixedLabels only if the old Job had both labels.
    obj = job("old", labels={"controller-uid": "u", "job-name": "old"})
    obj["metadata"]["uid"] = "u"
    obj["spec"]["selector"] = {"matchLabels": {"controller-uid": "u"}}
    assert validate_job(obj, copy.deepcopy(obj)) == []
    fields = [c.field for c in validate_job(obj, None)]
    assert fields == [
        f"spec.template.metadata.labels[{UID}]",
        f"spec.template.metadata.labels[{NAME}]",
    ]


_label_keys = st.from_regex(r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(
    name=_label_keys,
    uid=st.uuids().map(str),
    labels=st.dictionaries(
        _label_keys.filter(lambda k: k not in ("job-name", "controller-uid")),
        _label_keys,
        max_size=4,
    ),
)
def test_a_generated_selector_validates_and_selects_the_template(
    name: str, uid: str, labels: dict[str, str]
) -> None:
    obj = job(name, labels=dict(labels))
    obj["metadata"]["uid"] = uid
    generate_job_selector(obj)
    assert validate_job(obj, None) == []
    selector = as_selector(obj["spec"]["selector"])
    template_labels = obj["spec"]["template"]["metadata"]["labels"]
    assert selector is not None and selector.matches(template_labels)
    assert template_labels.items() >= labels.items()
    # generating again changes nothing
    again = copy.deepcopy(obj)
    generate_job_selector(again)
    assert again == obj
