// The details panel of one report. Every value is set as text: URLs are listed,
// never linked, because reported messages carry live malicious links.

import {
  DELIVERY_LABELS,
  ELIGIBILITY_LABELS,
  REPORTED_AS_LABELS,
  SYSTEM_VERDICT_LABELS,
  VERDICT_LABELS,
  announce,
  api,
  deliveryOf,
  el,
  formatDate,
  label,
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
    el(
      "thead",
      {},
      el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c }))),
    ),
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
    return el("p", { class: "muted", text: "No further details recorded." });
  }
  return pairs(entries.map(([name, value]) => [name, stringify(value)]));
}

function auditDescription(entry) {
  const data = entry.data || {};
  if (entry.action === "verdict") {
    const from = data.old ? label(VERDICT_LABELS, data.old) : "not reviewed";
    let text = `${from} → ${label(VERDICT_LABELS, data.new)}`;
    if (data.notify === false) {
      text += ", reporter not notified";
    }
    return data.comment ? `${text}. Comment: ${data.comment}` : text;
  }
  return Object.entries(data)
    .map(([name, value]) => `${name}: ${stringify(value)}`)
    .join(", ");
}

async function auditSection(id) {
  let items;
  try {
    const path = `/api/reports/${encodeURIComponent(id)}/audit`;
    ({ data: { items } } = await api("GET", path));
  } catch (error) {
    const text = `Could not load the audit trail: ${error.detail}`;
    return el("p", { class: "error", text });
  }
  if (items.length === 0) {
    return el("p", { class: "muted", text: "No changes recorded." });
  }
  return el(
    "ol",
    { class: "plain" },
    items.map((entry) =>
      el("li", {
        text:
          `${formatDate(entry.at)}, ${entry.actor}, ${entry.action}: ` +
          auditDescription(entry),
      }),
    ),
  );
}

function deliverySection(report, options) {
  if (!report.verdict) {
    return el("p", { class: "muted", text: "No verdict yet, so no notification." });
  }
  const delivery = deliveryOf(options.deliveries, report);
  if (!delivery) {
    return el("p", {
      class: "muted",
      text: `No notification for verdict version ${report.verdict_version}.`,
    });
  }
  const status = el("p", { role: "status" });
  const list = pairs([
    ["State", label(DELIVERY_LABELS, delivery.status)],
    ["Attempts", String(delivery.attempts)],
    ["Reason", delivery.reason || delivery.last_error],
    ["Sender", delivery.sender],
    ["Message-ID", delivery.message_id],
    ["Updated", formatDate(delivery.updated_at)],
  ]);
  if (delivery.status !== "failed" || !options.canRetry) {
    return el("div", {}, list);
  }
  const retry = el("button", {
    type: "button",
    text: "Retry the notification",
    onclick: async () => {
      retry.disabled = true;
      try {
        const id = encodeURIComponent(report.id);
        await api("POST", `/api/reports/${id}/notification/retry`);
        announce(status, "The notification is queued again.");
        await options.onChange();
      } catch (error) {
        announce(status, `The retry failed: ${error.detail}`, { error: true });
        retry.disabled = false;
      }
    },
  });
  return el("div", {}, list, retry, status);
}

function rawMessageLink(report) {
  return el("a", {
    href: `/api/reports/${encodeURIComponent(report.id)}/mime`,
    download: "",
    text: "Download the report as received",
  });
}

// Fill the panel with report ``id``. options: deliveries (from loadDeliveries),
// canRetry (the caller may retry a failed notification) and onChange (after a retry).
export async function renderDetails(container, id, options) {
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
        ? pairs(
            Object.entries(report.authentication).map(([k, v]) => [k, stringify(v)]),
          )
        : el("p", { class: "muted", text: "No authentication results recorded." }),
    ),
    section("Headers and other details", headersSection(report.details)),
    section(
      "URLs",
      el("p", { class: "note", text: "Shown as text only; do not open them." }),
      listOrNone(report.urls, "No URLs found."),
    ),
    section("Attachments", attachmentsTable(report.attachments)),
    section(
      "Raw message",
      el("p", {
        class: "note",
        text: "It may contain live malicious links and attachments.",
      }),
      rawMessageLink(report),
    ),
    section("Notification delivery", deliverySection(report, options)),
    section("Audit trail", await auditSection(id)),
  ];
  container.replaceChildren(...sections.filter(Boolean));
}
