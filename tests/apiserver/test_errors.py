"""APIError as a Kubernetes Status: metav1.StatusCause omits empty fields, as upstream's JSON."""

from __future__ import annotations

from kframe.apiserver._errors import APIError, Cause


def test_a_cause_without_a_field_has_no_field_key() -> None:
    error = APIError(
        422,
        "Invalid",
        "bad",
        causes=[Cause("", "no field here", "FieldValueInvalid"), Cause("spec.x", "m", "r")],
    )
    causes = error.to_status()["details"]["causes"]
    assert causes == [
        {"reason": "FieldValueInvalid", "message": "no field here"},
        {"reason": "r", "message": "m", "field": "spec.x"},
    ]
