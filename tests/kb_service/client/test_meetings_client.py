"""The client's meeting operations against the real app on loopback: files, JSON, live callbacks.

A transcript file goes up as multipart (`import_transcript`), a JSON transcript through
the table's `import_meeting`, and a live source's callbacks are signed by the client
with the source's secret (`meeting_event`); a wrong secret is a typed `Unauthorized`.
"""

from __future__ import annotations

import time

import pytest

from kb_service.client import Client, Unauthorized
from tests.kb_service.client.client_support import Served, sample


def test_transcripts_and_signed_live_callbacks(served: Served) -> None:
    with Client(served.url, api_key=served.acme["key"]) as kb:
        project = kb.create_project(name="Data team")
        retro = kb.import_transcript(
            sample("retro-2026-02-27.vtt")[0], title="Data retro", project_id=project.id
        )
        assert retro.title == "Data retro" and retro.project_id == project.id
        assert retro.status == "ended" and retro.segment_count > 3
        transcript = kb.get_transcript(retro.id)
        first = transcript.segments[0]
        assert transcript.text[first.char_start : first.char_end] == first.text

        standup = kb.import_meeting(
            title="Stand-up",
            project_id=project.id,
            segments=[{"speaker": "Ines", "text": "Any blockers?", "timestamp": "00:00:03.2"}],
        )
        assert standup.segment_count == 1 and kb.get_meeting(standup.id).title == "Stand-up"
        history = list(kb.list_project_meetings.iterate(project.id))
        assert [m.id for m in history] == [standup.id, retro.id]  # newest first

        source = kb.create_meeting_source(name="Sasha bot", project_id=project.id)
        assert source.signing_secret and source.callback_url.endswith(source.id)
        event = {
            "type": "segment_finalized",
            "meetingId": "live-1",
            "sequence": 1,
            "timestamp": int(time.time()),
            "payload": {"speaker": "Priya", "text": "I can resize it.", "timestamp": 4.0},
        }
        secret = source.signing_secret
        accepted = kb.meeting_event(source.id, body=event, signing_secret=secret)
        again = kb.meeting_event(source.id, body=event, signing_secret=secret)
        assert accepted.result == "accepted" and again.result == "duplicate"
        assert accepted.meeting_id == again.meeting_id
        with pytest.raises(Unauthorized):
            kb.meeting_event(source.id, body=event, signing_secret="ss_not_the_secret")
        assert kb.get_meeting(accepted.meeting_id or "").status == "live"
