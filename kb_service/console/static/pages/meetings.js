import { all, get } from "../api.js";
import { badge, clear, clock, empty, h, link, plural, table, when } from "../dom.js";
import { renderRegions, revealSpan, spanOf } from "../text.js";

const LIVE_POLL_MS = 1000;

export function meetingRows(meetings) {
  return meetings.map((m) =>
    h(
      "tr",
      {},
      h("td", {}, link(`/console/meetings/${m.id}`, m.title)),
      h("td", {}, badge(m.status)),
      h("td", {}, m.platform || "—"),
      h("td", {}, m.segment_count),
      h("td", {}, m.participants.join(", ") || "—"),
      h("td", {}, when(m.started_at || m.created_at)),
    ),
  );
}

export const MEETING_COLUMNS = ["Title", "Status", "Platform", "Segments", "Participants", "Started"];

/** The organization's meetings, newest first. */
export async function meetingsPage(main) {
  main.append(h("h1", {}, "Meetings"));
  const meetings = await all("/meetings", 5);
  if (!meetings.length) {
    main.append(empty("No meetings yet.", h("p", {}, "Import a transcript (POST /api/v1/meetings/import) or connect a live meeting source.")));
    return;
  }
  main.append(table("Meetings", MEETING_COLUMNS, meetingRows(meetings)));
}

/** Speaker turns: consecutive segments of one speaker, as laid out in the transcript text. */
function turns(transcript) {
  const out = [];
  for (const s of transcript.segments) {
    const last = out[out.length - 1];
    if (last && last.speaker === s.speaker) {
      last.end = s.char_end;
      last.segments.push(s);
    } else {
      // a turn's text is "Speaker: text"; turns are separated by a blank line ("\n\n")
      out.push({ speaker: s.speaker, start: last ? last.end + 2 : 0, end: s.char_end, timestamp: s.timestamp, segments: [s] });
    }
  }
  return out;
}

/** A meeting's transcript by speaker turn; while it is live, new segments appear as they arrive. */
export async function meetingPage(main, [meetingId], ctx) {
  let stopped = false;
  ctx.onLeave(() => (stopped = true));
  const span = spanOf(ctx.hash);
  const head = h("div");
  const body = h("section", { "aria-label": "Transcript", "aria-live": "polite", "data-testid": "transcript" });
  main.append(h("p", { class: "crumbs" }, link("/console/meetings", "Meetings"), " / "), head, body);
  let shown = null;
  let revealed = false;

  async function load() {
    const [meeting, transcript] = await Promise.all([get(`/meetings/${meetingId}`), get(`/meetings/${meetingId}/transcript`)]);
    const version = `${meeting.status}:${transcript.segments.length}:${transcript.text.length}`;
    if (version === shown) return meeting;
    shown = version;
    clear(
      head,
      h("h1", {}, meeting.title),
      h("p", { class: "muted", "data-testid": "meeting-status" }, badge(meeting.status), ` ${meeting.platform || ""} · ${plural(transcript.segments.length, "segment")} · ${when(meeting.started_at || meeting.created_at)}`),
      meeting.status === "live" ? h("p", { class: "live", role: "status" }, "Live: the transcript is polled every second and new segments appear as they arrive.") : null,
    );
    if (span) {
      const cited = transcript.segments.find((s) => s.char_end > span.start);
      if (cited) head.append(h("p", { class: "cited-note", role: "status" }, `Cited passage: ${cited.speaker} at ${clock(cited.timestamp)}, highlighted below.`));
    }
    if (!transcript.segments.length) {
      clear(body, empty("No segments yet."));
      return meeting;
    }
    const regions = turns(transcript).map((t) => ({
      start: t.start,
      end: t.end,
      attrs: { "data-speaker": t.speaker },
      head: h("div", { class: "region-head" }, h("strong", {}, t.speaker), h("time", { class: "muted" }, clock(t.timestamp))),
    }));
    clear(body, renderRegions(transcript.text, regions, span, "transcript"));
    if (span && !revealed) revealed = revealSpan(body);
    return meeting;
  }

  let meeting = await load();
  (async () => {
    while (!stopped && ["live", "ended"].includes(meeting.status)) {
      await new Promise((ok) => setTimeout(ok, LIVE_POLL_MS));
      if (stopped) break;
      try {
        meeting = await load();
      } catch {
        /* a passing failure: try again on the next tick */
      }
    }
  })();
}
