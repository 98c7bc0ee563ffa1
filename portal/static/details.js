// The details panel of one report. Every value is set as text: URLs are listed,
// never linked, because reported messages carry live malicious links.

import {
  ELIGIBILITY_LABELS,
  REPORTED_AS_LABELS,
  SYSTEM_VERDICT_LABELS,
  VERDICT_LABELS,
  api,
  el,
  formatDate,
  label,
  unavailable,
} from "./common.js";

function pairs(entries) {
  const list = el("dl", { class: "pairs" });
  for (const [name, value] of entries) {
    list.append(el("dt", { text: name }), el("dd", { text: value || "—" }));
  }
  return list;
}

function section(title, ...content) {
  return el("section", { class: "detail-section" }, el("h3", { text: title }), content);
}

function summary(report) {
  const sender = report.original_sender_name
    ? `${report.original_sender_name} <${report.original_sender}>`
    : report.original_sender;
  const reporter = report.reporter_name
    ? `${report.reporter_name} <${report.reporter_address}>`
    : report.reporter_address;
  const verdict = report.verdict
    ? `${label(VERDICT_LABELS, report.verdict)} (version ${report.verdict_version}, ` +
      `by ${report.verdict_by}, ${formatDate(report.verdict_at)})`
    : "Not reviewed";
  return pairs([
    ["Subject", report.original_subject],
    ["Sender", sender],
    ["Sent", report.original_date],
    ["Message-ID", report.original_message_id],
    ["Reporter", reporter],
    ["Reported", formatDate(report.received_at)],
    ["Source", report.kind === "teams" ? "Teams" : "Email"],
    ["Reported as", label(REPORTED_AS_LABELS, report.reported_as)],
    ["System verdict", label(SYSTEM_VERDICT_LABELS, report.system_verdict)],
    ["Eligibility", label(ELIGIBILITY_LABELS, report.eligibility)],
    ["Admin verdict", verdict],
    ["Campaign", report.campaign_key],
    ["Report id", report.id],
  ]);
}

function listOrNone(items, none) {
  if (!items || items.length === 0) {
    return el("p", { class: "muted", text: none });
  }
  return el("ul", { class: "plain" }, items.map((item) => el("li", { text: item })));
}

function attachmentsTable(attachments) {
  if (!attachments || attachments.length === 0) {
    return el("p", { class: "muted", text: "No attachments." });
  }
  const columns = [...new Set(attachments.flatMap((a) => Object.keys(a)))];
  return el(
    "table",
    { class: "compact" },
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c })))),
    el(
      "tbody",
      {},
      attachments.map((a) =>
        el("tr", {}, columns.map((c) => el("td", { text: stringify(a[c]) }))),
      ),
    ),
  );
}

function stringify(value) {
  if (value === null || value === undefined) {
    return "";
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function headersSection(details) {
  const entries = Object.entries(details || {});
  if (entries.length === 0) {
    return el("p", { class: "muted", text: "No further headers recorded." });
  }
  return pairs(entries.map(([name, value]) => [name, stringify(value)]));
}

export async function renderDetails(container, id) {
  container.replaceChildren(el("p", { text: "Loading…" }));
  let report;
  try {
    ({ data: report } = await api("GET", `/api/reports/${encodeURIComponent(id)}`));
  } catch (error) {
    container.replaceChildren(
      el("p", { class: "error", text: `Could not load the report: ${error.detail}` }),
    );
    return;
  }
  const problems =
    report.parse_status === "needs_attention"
      ? section("Needs attention", listOrNone(report.problems, "No problems listed."))
      : null;
  const sections = [
    section("Summary", summary(report)),
    problems,
    section(
      "Authentication results",
      Object.keys(report.authentication || {}).length
        ? pairs(Object.entries(report.authentication))
        : el("p", { class: "muted", text: "No authentication results recorded." }),
    ),
    section("Headers", headersSection(report.details)),
    section(
      "URLs",
      el("p", { class: "note", text: "Shown as text only; do not open them." }),
      listOrNone(report.urls, "No URLs found."),
    ),
    section("Attachments", attachmentsTable(report.attachments)),
    section(
      "Raw message",
      unavailable("Downloading the raw message", "/api/reports/{id}/mime"),
    ),
    section("Audit trail", unavailable("The audit trail", "/api/reports/{id}/audit")),
    section(
      "Notification delivery",
      unavailable("Delivery state and retry", "/api/deliveries"),
    ),
  ];
  container.replaceChildren(...sections.filter(Boolean));
}
