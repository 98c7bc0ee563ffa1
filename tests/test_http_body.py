"""Request bodies that a JSON parser would take in more than one way are rejected."""

from __future__ import annotations

import pytest

from tests.conftest import http_request
from verdicts.http import HttpProblem, read_json_object


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (
            b'{"verdict": "phishing", "verdict": "spam"}',
            "request body is not valid JSON: member 'verdict' appears more than once",
        ),
        (b"[" * 5000 + b"]" * 5000, "request body nests arrays or objects too deeply"),
        (b"[1, 2]", "request body must be a JSON object"),
    ],
)
def test_ambiguous_json_body_is_rejected(body, detail):
    with pytest.raises(HttpProblem) as error:
        read_json_object(http_request("POST", "api/verdicts", body=body))
    assert error.value.status == 400
    assert error.value.detail == detail


def test_plain_json_object_is_read():
    request = http_request("POST", "api/verdicts", body={"verdict": "spam", "ids": []})
    assert read_json_object(request) == {"verdict": "spam", "ids": []}
