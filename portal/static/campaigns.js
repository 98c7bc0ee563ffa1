// The Campaigns page: reports grouped by their original, one decision per group.
// Groups are built from the loaded report list by campaign key. A decision goes to
// the campaign route, which marks every markable report of the campaign.

import {
  VERDICT_LABELS,
  allowedVerdicts,
  announce,
  api,
  el,
  formatDate,
  hasRole,
  loadCaller,
  whyNotMarkable,
} from "./common.js";
import { markReports, summarize } from "./marking.js";

const $ = (id) => document.getElementById(id);
let caller = null;

function groupReports(reports) {
  const groups = new Map();
  for (const report of reports) {
    const key = report.campaign_key || `single-${report.id}`;
    if (!groups.has(key)) {
      groups.set(key, []);
    }
    groups.get(key).push(report);
  }
  return [...groups.entries()]
    .map(([key, items]) => ({ key, items }))
    .sort((a, b) => b.items.length - a.items.length);
}

function verdictSummary(items) {
  const counts = new Map();
  for (const report of items) {
    const name = report.verdict ? VERDICT_LABELS[report.verdict] : "Not reviewed";
    counts.set(name, (counts.get(name) || 0) + 1);
  }
  return [...counts.entries()].map(([name, count]) => `${name}: ${count}`).join(", ");
}

function commonVerdicts(items) {
  let common = null;
  for (const report of items) {
    const allowed = allowedVerdicts(report);
    common = common === null ? allowed : common.filter((v) => allowed.includes(v));
  }
  return common || [];
}

function decisionControls(group, index, markable) {
  if (!hasRole(caller, "reviewer")) {
    return el("p", {
      class: "note",
      text: "Your role is reader: you can view campaigns but not mark them.",
    });
  }
  if (markable.length === 0) {
    return el("p", {
      class: "note",
      text: "No report of this group can be marked: each agrees with the mail system.",
    });
  }
  const selectId = `campaign-verdict-${index}`;
  const choice = el(
    "select",
    { id: selectId },
    commonVerdicts(markable).map((v) =>
      el("option", { value: v, text: VERDICT_LABELS[v] }),
    ),
  );
  const button = el("button", {
    type: "button",
    text: `Mark ${markable.length} and notify`,
    onclick: async () => {
      button.disabled = true;
      announce($("status"), "Marking…");
      const summary = await decide(group, markable, choice.value);
      await load();
      announce($("status"), summary.text, { error: summary.failed > 0 });
    },
  });
  return el(
    "div",
    { class: "decision" },
    el("label", { for: selectId, text: "Decision for the group" }),
    choice,
    button,
  );
}

async function decide(group, markable, verdict) {
  if (group.key.startsWith("single-")) {
    return markReports(markable, verdict, true);
  }
  const subjects = new Map(
    group.items.map((r) => [r.id, r.original_subject || "(no subject)"]),
  );
  try {
    const { data } = await api(
      "POST",
      `/api/campaigns/${encodeURIComponent(group.key)}/verdict`,
      { verdict, notify: true },
    );
    return summarize(data.results, verdict, true, subjects);
  } catch (error) {
    return { text: `The campaign was not marked: ${error.detail}`, failed: 1 };
  }
}

function campaignCard(group, index) {
  const first = group.items[0];
  const subject = first.original_subject || "(no subject)";
  const markable = group.items.filter((r) => !whyNotMarkable(r));
  const headingId = `campaign-${index}`;
  return el(
    "section",
    { class: "campaign", "aria-labelledby": headingId },
    el("h2", { id: headingId, text: subject }),
    el(
      "dl",
      { class: "pairs" },
      el("dt", { text: "Sender" }),
      el("dd", { text: first.original_sender || "(unknown sender)" }),
      el("dt", { text: "Reports" }),
      el("dd", { text: String(group.items.length) }),
      el("dt", { text: "Reporters" }),
      el("dd", { text: group.items.map((r) => r.reporter_address).join(", ") }),
      el("dt", { text: "Latest report" }),
      el("dd", { text: formatDate(group.items[0].received_at) }),
      el("dt", { text: "Verdicts" }),
      el("dd", { text: verdictSummary(group.items) }),
    ),
    decisionControls(group, index, markable),
  );
}

// NOTE: groups come from the newest MAX_PAGES pages of reports, so a campaign's
// older reports are not counted on this page, although its decision marks them.
const PAGE_SIZE = 200;
const MAX_PAGES = 10;

async function loadRecentReports() {
  const reports = [];
  let continuation = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (continuation) {
      params.set("continuation", continuation);
    }
    const { data } = await api("GET", `/api/reports?${params}`);
    reports.push(...data.items);
    continuation = data.continuation;
    if (!continuation) {
      break;
    }
  }
  return reports;
}

async function load() {
  const list = $("campaigns");
  try {
    const groups = groupReports(await loadRecentReports());
    list.replaceChildren(...groups.map(campaignCard));
    if (groups.length === 0) {
      list.append(el("p", { text: "No reports yet." }));
    }
  } catch (error) {
    announce($("status"), `Could not load reports: ${error.detail || error.message}`, {
      error: true,
    });
  }
}

async function main() {
  caller = await loadCaller();
  await load();
}

main();
