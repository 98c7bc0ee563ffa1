// The "User reported" page: the report list, filters, marking and the details panel.

import {
  DELIVERY_LABELS,
  ELIGIBILITY_LABELS,
  REPORTED_AS_LABELS,
  SYSTEM_VERDICT_LABELS,
  VERDICT_LABELS,
  allowedVerdicts,
  announce,
  api,
  deliveryOf,
  el,
  formatDate,
  hasRole,
  label,
  loadCaller,
  loadDeliveries,
  whyNotMarkable,
} from "./common.js";
import { renderDetails } from "./details.js";
import { markReports } from "./marking.js";

const state = {
  caller: null,
  reports: [],
  continuation: null,
  deliveries: new Map(),
  selected: new Set(),
  openId: null,
};

const $ = (id) => document.getElementById(id);

function canMark() {
  return hasRole(state.caller, "reviewer");
}

// The search box filters the loaded reports here; the selects filter on the server.
function matchesSearch(report) {
  const text = $("search").value.trim().toLowerCase();
  if (!text) {
    return true;
  }
  const haystack = [
    report.original_subject,
    report.original_sender,
    report.reporter_address,
    report.reporter_name,
  ]
    .join("\n")
    .toLowerCase();
  return haystack.includes(text);
}

function listQuery() {
  const params = new URLSearchParams();
  for (const select of document.querySelectorAll("#filters select[data-param]")) {
    if (select.value) {
      params.set(select.dataset.param, select.value);
    }
  }
  if (state.continuation) {
    params.set("continuation", state.continuation);
  }
  const query = params.toString();
  return query ? `/api/reports?${query}` : "/api/reports";
}

function visibleReports() {
  return state.reports.filter(matchesSearch);
}

function notificationText(report) {
  if (!report.verdict) {
    return "None";
  }
  const delivery = deliveryOf(state.deliveries, report);
  return delivery ? label(DELIVERY_LABELS, delivery.status) : "Not notified";
}

function reporterCell(report) {
  const cell = el("td", {});
  if (report.reporter_name) {
    cell.append(el("span", { class: "name", text: report.reporter_name }));
  }
  cell.append(el("span", { class: "address", text: report.reporter_address }));
  return cell;
}

function eligibilityCell(report, reason) {
  const cell = el("td", { text: label(ELIGIBILITY_LABELS, report.eligibility) });
  if (reason) {
    cell.append(el("span", { class: "why", text: reason }));
  }
  return cell;
}

function verdictCell(report) {
  if (!report.verdict) {
    return el("td", { class: "muted", text: "Not reviewed" });
  }
  return el(
    "td",
    {},
    el("span", { text: label(VERDICT_LABELS, report.verdict) }),
    el("span", { class: "by", text: `by ${report.verdict_by}` }),
  );
}

function rowFor(report) {
  const subject = report.original_subject || "(no subject)";
  const reason = whyNotMarkable(report);
  const box = el("input", {
    type: "checkbox",
    "aria-label": `Select report "${subject}" from ${report.reporter_address}`,
    "aria-describedby": reason ? `why-${report.id}` : null,
    disabled: !canMark() || Boolean(reason),
    onchange: (event) => toggle(report.id, event.target.checked),
  });
  box.checked = state.selected.has(report.id);
  const open = el("button", {
    type: "button",
    class: "link",
    "aria-controls": "details",
    text: subject,
    onclick: () => openDetails(report.id),
  });
  const row = el(
    "tr",
    { "data-id": report.id, class: reason ? "ineligible" : null },
    el("td", {}, box),
    el("td", { text: formatDate(report.received_at) }),
    reporterCell(report),
    el("td", { class: "subject" }, open),
    el("td", { text: report.original_sender || "(unknown sender)" }),
    el("td", { text: label(REPORTED_AS_LABELS, report.reported_as) }),
    el("td", { text: label(SYSTEM_VERDICT_LABELS, report.system_verdict) }),
    eligibilityCell(report, reason),
    verdictCell(report),
    el("td", { text: notificationText(report) }),
  );
  if (reason) {
    row.querySelector(".why").id = `why-${report.id}`;
  }
  return row;
}

function renderTable() {
  const body = document.querySelector("#reports tbody");
  const shown = visibleReports();
  body.replaceChildren(...shown.map(rowFor));
  if (shown.length === 0) {
    const empty = state.reports.length === 0 ? "No reports yet." : "No reports match.";
    body.append(el("tr", {}, el("td", { colspan: "10", text: empty })));
  }
  $("reports-caption").textContent =
    `Reported messages, newest first: ${shown.length} of ${state.reports.length}`;
  renderMarkBar();
}

function toggle(id, checked) {
  if (checked) {
    state.selected.add(id);
  } else {
    state.selected.delete(id);
  }
  renderMarkBar();
}

function selectedReports() {
  return state.reports.filter((r) => state.selected.has(r.id));
}

// Offer only the verdicts every selected report allows.
function commonVerdicts(reports) {
  let common = null;
  for (const report of reports) {
    const allowed = allowedVerdicts(report);
    common = common === null ? allowed : common.filter((v) => allowed.includes(v));
  }
  return common || [];
}

function disableMarking() {
  for (const control of $("mark-bar").querySelectorAll("select, input, button")) {
    control.disabled = true;
  }
  $("select-all").disabled = true;
  const note = $("mark-note");
  note.hidden = false;
  note.textContent =
    "Your role is reader: you can view reports but not mark them. " +
    "Marking needs the reviewer role.";
}

function renderMarkBar() {
  if (!canMark()) {
    disableMarking();
    return;
  }
  const chosen = selectedReports();
  const count = chosen.length;
  $("selection-count").textContent =
    count === 0 ? "No reports selected." : `${count} selected.`;
  const choice = $("verdict-choice");
  const previous = choice.value;
  const verdicts = commonVerdicts(chosen);
  choice.replaceChildren(
    ...verdicts.map((v) => el("option", { value: v, text: VERDICT_LABELS[v] })),
  );
  if (verdicts.includes(previous)) {
    choice.value = previous;
  }
  choice.disabled = count === 0;
  $("mark-button").disabled = count === 0 || verdicts.length === 0;

  const note = $("mark-note");
  const teams = chosen.some((r) => r.kind === "teams");
  note.hidden = !teams;
  note.textContent = teams
    ? "Teams messages can be marked only as No threats found or Phishing."
    : "";

  const markable = visibleReports().filter((r) => !whyNotMarkable(r));
  const all = $("select-all");
  all.disabled = markable.length === 0;
  all.checked = markable.length > 0 && markable.every((r) => state.selected.has(r.id));
}

function updateMarkLabel() {
  $("mark-button").textContent = $("notify").checked
    ? "Mark as and notify"
    : "Mark as";
}

function selectAllShown(checked) {
  for (const report of visibleReports()) {
    if (!whyNotMarkable(report)) {
      toggle(report.id, checked);
    }
  }
  renderTable();
}

// Load the first page of reports for the current filters, or with more=true the
// next page, and the delivery state of their notifications.
async function loadReports({ more = false } = {}) {
  const status = $("status");
  if (!more) {
    state.continuation = null;
  }
  try {
    const { data } = await api("GET", listQuery());
    state.reports = more ? [...state.reports, ...data.items] : data.items;
    state.continuation = data.continuation || null;
    state.deliveries = await loadDeliveries();
    const known = new Set(state.reports.map((r) => r.id));
    for (const id of [...state.selected]) {
      if (!known.has(id)) {
        state.selected.delete(id);
      }
    }
    $("load-more").hidden = !state.continuation;
    renderTable();
  } catch (error) {
    announce(status, `Could not load reports: ${error.detail || error.message}`, {
      error: true,
    });
  }
}

async function markSelected() {
  const verdict = $("verdict-choice").value;
  const notify = $("notify").checked;
  const chosen = selectedReports();
  $("mark-button").disabled = true;
  announce($("status"), `Marking ${chosen.length} reports…`);
  const summary = await markReports(chosen, verdict, notify);
  state.selected.clear();
  await loadReports();
  announce($("status"), summary.text, { error: summary.failed > 0 });
  if (state.openId) {
    await openDetails(state.openId, { focus: false });
  }
}

async function openDetails(id, { focus = true } = {}) {
  state.openId = id;
  const panel = $("details");
  panel.hidden = false;
  await renderDetails($("details-body"), id, {
    deliveries: state.deliveries,
    canRetry: canMark(),
    onChange: () => loadReports(),
  });
  if (focus) {
    $("details-heading").focus();
  }
}

function closeDetails() {
  const id = state.openId;
  state.openId = null;
  $("details").hidden = true;
  const row = document.querySelector(`tr[data-id="${CSS.escape(id || "")}"] button`);
  if (row) {
    row.focus();
  }
}

async function main() {
  state.caller = await loadCaller();
  $("search").addEventListener("input", renderTable);
  for (const select of document.querySelectorAll("#filters select[data-param]")) {
    select.addEventListener("change", () => loadReports());
  }
  $("load-more").addEventListener("click", () => loadReports({ more: true }));
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("select-all").addEventListener("change", (e) => selectAllShown(e.target.checked));
  $("notify").addEventListener("change", updateMarkLabel);
  $("mark-button").addEventListener("click", markSelected);
  $("details-close").addEventListener("click", closeDetails);
  $("details").addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      closeDetails();
    }
  });
  await loadReports();
}

// An error that escapes main would otherwise leave an empty table and no message.
main().catch((error) => {
  announce($("status"), `Could not start the page: ${error.message}`, { error: true });
});
