// Marking reports with one verdict, shared by the report list and the campaigns page.

import { VERDICT_LABELS, api } from "./common.js";

// The API marks at most this many reports per request.
const MAX_BULK_IDS = 500;

const FAILED_STATUSES = new Set(["ineligible", "not_found", "conflict"]);

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

// Return the status message for the per-report results of a mark.
export function summarize(results, verdict, notify, subjects = new Map()) {
  const marked = results.filter((r) => r.status === "marked").length;
  const unchanged = results.filter((r) => r.status === "unchanged").length;
  const failures = results
    .filter((r) => FAILED_STATUSES.has(r.status))
    .map((r) => `"${subjects.get(r.id) || r.id}": ${r.detail}`);
  let text = `Marked ${plural(marked, "report")} as ${VERDICT_LABELS[verdict]}.`;
  if (marked > 0) {
    text += notify ? " The reporters will be notified." : " No one is notified.";
  }
  if (unchanged > 0) {
    text += ` ${plural(unchanged, "report")} already had this verdict.`;
  }
  if (failures.length > 0) {
    text += ` ${plural(failures.length, "report")} failed: ${failures.join("; ")}`;
  }
  return { text, failed: failures.length };
}

export async function markReports(reports, verdict, notify) {
  const subjects = new Map(
    reports.map((r) => [r.id, r.original_subject || "(no subject)"]),
  );
  const results = [];
  for (let start = 0; start < reports.length; start += MAX_BULK_IDS) {
    const ids = reports.slice(start, start + MAX_BULK_IDS).map((r) => r.id);
    try {
      const { data } = await api("POST", "/api/verdicts", { ids, verdict, notify });
      results.push(...data.results);
    } catch (error) {
      const detail = error.detail || error.message;
      results.push(...ids.map((id) => ({ id, status: "conflict", detail })));
    }
  }
  return summarize(results, verdict, notify, subjects);
}
