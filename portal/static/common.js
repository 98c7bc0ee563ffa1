// Shared by every portal page: API calls, the caller's role and DOM building.
// Values from reports are always set as text (textContent or text nodes), never as
// markup, so a hostile subject or address shows as the characters it contains.

export const VERDICT_LABELS = {
  no_threats_found: "No threats found",
  phishing: "Phishing",
  spam: "Spam",
};
export const REPORTED_AS_LABELS = {
  phishing: "Phishing",
  junk: "Junk",
  not_junk: "Not junk",
};
export const SYSTEM_VERDICT_LABELS = {
  delivered: "Delivered",
  junk: "Junk",
  phishing: "Phishing",
  unknown: "Unknown",
};
export const ELIGIBILITY_LABELS = {
  false_negative: "False negative",
  false_positive: "False positive",
  agrees: "Agrees with the system",
  unknown: "Unknown",
};

export const DELIVERY_LABELS = {
  queued: "Queued",
  sending: "Sending",
  sent: "Sent",
  failed: "Failed",
  superseded: "Superseded",
};
const DELIVERY_LIMIT = 1000;

// Copies of the review rules, so the portal offers only what the API accepts. The API
// still enforces them: 422 for a verdict the kind does not allow, 409 otherwise.
const ALLOWED_VERDICTS = {
  email: ["no_threats_found", "phishing", "spam"],
  teams: ["no_threats_found", "phishing"],
};
const MARKABLE = new Set(["false_negative", "false_positive", "unknown"]);

const ROLE_RANK = { reader: 1, reviewer: 2, settings_admin: 3 };

export class ApiError extends Error {
  constructor(status, title, detail, field, errors = []) {
    super(detail);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.field = field;
    this.errors = errors;
  }

  // True when the server has no such API route yet, as opposed to an error of a route.
  get routeMissing() {
    return (
      this.status === 405 ||
      (this.status === 404 && this.detail.startsWith("no API route matches")) ||
      (this.status === 404 && this.title === "")
    );
  }
}

// Call the API and return {data, etag, status}; raise ApiError for an error status.
// State-changing calls send X-Requested-With, which the API requires so that pages
// of other sites cannot act for the signed-in user.
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (method !== "GET") {
    headers["X-Requested-With"] = "XMLHttpRequest";
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : null;
  if (!response.ok) {
    throw new ApiError(
      response.status,
      (data && data.title) || "",
      (data && data.detail) || `the server returned HTTP ${response.status}`,
      data && data.field,
      (data && Array.isArray(data.errors) && data.errors) || [],
    );
  }
  return { data, etag: response.headers.get("ETag"), status: response.status };
}

// Build an element. Keys of props set attributes, except "text" (textContent) and
// keys starting with "on" (event listeners). Children are nodes or strings (text).
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key === "text") {
      node.textContent = value;
    } else if (key.startsWith("on")) {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) {
      continue;
    }
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function label(labels, value) {
  return labels[value] || value || "";
}

const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

export function formatDate(iso) {
  if (!iso) {
    return "";
  }
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : DATE_FORMAT.format(date);
}

export function hasRole(caller, role) {
  return Boolean(caller) && (ROLE_RANK[caller.role] || 0) >= ROLE_RANK[role];
}

export function allowedVerdicts(report) {
  return ALLOWED_VERDICTS[report.kind] || [];
}

// Return why a report cannot be marked, or "" when it can.
export function whyNotMarkable(report) {
  if (MARKABLE.has(report.eligibility)) {
    return "";
  }
  const system = label(SYSTEM_VERDICT_LABELS, report.system_verdict).toLowerCase();
  return (
    `Cannot be marked: the mail system's verdict (${system}) already matches ` +
    "what the reporter said."
  );
}

// Fetch the caller and show them in the page header; hide links they cannot use.
export async function loadCaller() {
  const slot = document.getElementById("caller");
  try {
    const { data } = await api("GET", "/api/me");
    slot.textContent = `Signed in as ${data.name} (${data.role.replace("_", " ")})`;
    if (!hasRole(data, "settings_admin")) {
      const link = document.querySelector("[data-needs-role='settings_admin']");
      if (link) {
        link.closest("li").hidden = true;
      }
    }
    return data;
  } catch (error) {
    slot.textContent = `Not signed in: ${error.detail || error.message}`;
    return null;
  }
}

// Replace the children of a live region so that screen readers announce the text.
export function announce(region, text, { error = false } = {}) {
  region.classList.toggle("error", error);
  region.textContent = text;
}

export function unavailable(what, route) {
  return el("p", {
    class: "unavailable",
    text: `${what} is not available: this server has no ${route} route yet.`,
  });
}

// Return a Map from "report id:verdict version" to that notification's delivery.
// NOTE: the API lists at most DELIVERY_LIMIT deliveries per status, so with more
// the oldest ones show no state.
export async function loadDeliveries() {
  const deliveries = new Map();
  for (const status of Object.keys(DELIVERY_LABELS)) {
    const { data } = await api(
      "GET",
      `/api/deliveries?status=${status}&limit=${DELIVERY_LIMIT}`,
    );
    for (const delivery of data.items) {
      deliveries.set(`${delivery.report_id}:${delivery.verdict_version}`, delivery);
    }
  }
  return deliveries;
}

export function deliveryOf(deliveries, report) {
  return deliveries.get(`${report.id}:${report.verdict_version}`) || null;
}
