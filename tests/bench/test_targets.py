"""The ceilings' frame: built from the app's own comment.created frame, the same length for the same body."""

from __future__ import annotations

import json

import pytest

from bench.targets import ceiling_frame_template


def app_frame(body: str) -> str:
    comment = {"id": 7, "body": body, "html": f"<p>{body}</p>", "client_id": None}
    return json.dumps({"type": "comment.created", "comment": comment}, separators=(",", ":"))


def test_every_copy_of_the_body_becomes_a_slot_so_the_ceiling_grows_as_the_app_does():
    template = ceiling_frame_template(app_frame("bench 00000000 0"), "bench 00000000 0")
    for body in ("bench deadbeef 7", "bench deadbeef 1234"):
        assert template.format(body=body) == app_frame(body)


def test_a_frame_without_the_marker_is_refused():
    with pytest.raises(RuntimeError, match="marker body"):
        ceiling_frame_template(app_frame("something else"), "bench 00000000 0")
