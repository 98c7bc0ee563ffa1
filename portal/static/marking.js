// Marking reports with one verdict, shared by the report list and the campaigns page.

import { VERDICT_LABELS, api } from "./common.js";

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

// Mark each report in turn and return {text, failed} for a status message.
async function markEach(reports, verdict, notify) {
  const failures = [];
  let marked = 0;
  for (const report of reports) {
    try {
      await api("POST", `/api/reports/${encodeURIComponent(report.id)}/verdict`, {
        verdict,
        notify,
      });
      marked += 1;
    } catch (error) {
      const subject = report.original_subject || "(no subject)";
      failures.push(`"${subject}": ${error.detail || error.message}`);
    }
  }
  return { marked, failures };
}

export async function markReports(reports, verdict, notify) {
  const { marked, failures } = await markEach(reports, verdict, notify);
  const name = VERDICT_LABELS[verdict];
  let text = `Marked ${plural(marked, "report")} as ${name}.`;
  if (marked > 0) {
    text += notify ? " The reporters will be notified." : " No one is notified.";
  }
  if (failures.length > 0) {
    text += ` ${plural(failures.length, "report")} failed: ${failures.join("; ")}`;
  }
  return { text, failed: failures.length };
}
