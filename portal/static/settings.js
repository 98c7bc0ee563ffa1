// The Settings page: notification texts per verdict, footer, sender, logo and
// languages, with a live preview of the exact email and a test send.

import { announce, api, el, hasRole, loadCaller, unavailable } from "./common.js";

const SETTINGS_PATH = "/api/settings/notifications";
const TEXT_FIELDS = ["phishing", "junk", "no_threats_found", "footer"];
const TEXT_LABELS = {
  phishing: "Phishing",
  junk: "Spam (junk)",
  no_threats_found: "No threats found",
  footer: "Footer",
};
const PREVIEW_DELAY_MS = 400;

const $ = (id) => document.getElementById(id);
const state = {
  etag: null,
  settings: null,
  previewTimer: null,
  previewMissing: false,
};
let pendingPreviewHtml = null;

// Tabs follow the WAI-ARIA tabs pattern: arrow keys move between tabs, and only the
// selected tab is in the tab order.
function setupTabs() {
  const tabs = [...document.querySelectorAll("[role='tab']")];
  const select = (tab) => {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute("aria-selected", String(selected));
      other.tabIndex = selected ? 0 : -1;
      $(other.getAttribute("aria-controls")).hidden = !selected;
    }
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const moves = { ArrowRight: 1, ArrowLeft: -1 };
      let next = null;
      if (event.key in moves) {
        next = tabs[(index + moves[event.key] + tabs.length) % tabs.length];
      } else if (event.key === "Home") {
        next = tabs[0];
      } else if (event.key === "End") {
        next = tabs[tabs.length - 1];
      }
      if (next) {
        event.preventDefault();
        select(next);
        next.focus();
      }
    });
  });
}

function languageVariant(tag, texts) {
  const id = (name) => `lang-${tag}-${name}`;
  const fields = TEXT_FIELDS.map((name) =>
    el(
      "div",
      { class: "field" },
      el("label", { for: id(name), text: `${TEXT_LABELS[name]} (${tag})` }),
      el(
        "textarea",
        {
          id: id(name),
          "data-language": tag,
          "data-text": name,
          "aria-describedby": "placeholders",
          oninput: schedulePreview,
        },
        texts[name] || "",
      ),
    ),
  );
  const fieldset = el(
    "fieldset",
    { "data-language": tag },
    el("legend", { text: `Texts in ${tag}` }),
    fields,
    el("button", {
      type: "button",
      class: "secondary",
      text: `Remove ${tag}`,
      onclick: () => {
        fieldset.remove();
        refreshLanguageChoices();
        schedulePreview();
      },
    }),
  );
  return fieldset;
}

function fillForm(settings) {
  for (const name of TEXT_FIELDS) {
    $(`text-${name}`).value = (settings.texts && settings.texts[name]) || "";
  }
  $("organization-name").value = settings.organization_name || "";
  $("sender").value = settings.sender || "";
  $("use-logo").checked = Boolean(settings.use_organization_logo);
  $("default-language").value = settings.default_language || "en";
  const logo = settings.logo;
  $("logo-state").textContent = logo
    ? `A logo is uploaded (${logo.content_type || "image"}, ${logo.size} bytes).`
    : "No logo is uploaded; notifications use the default logo.";
  $("language-variants").replaceChildren(
    ...Object.entries(settings.languages || {}).map(([tag, texts]) =>
      languageVariant(tag, texts),
    ),
  );
  refreshLanguageChoices();
}

function readForm() {
  const texts = {};
  for (const name of TEXT_FIELDS) {
    texts[name] = $(`text-${name}`).value;
  }
  const languages = {};
  for (const fieldset of document.querySelectorAll("#language-variants fieldset")) {
    const tag = fieldset.dataset.language;
    languages[tag] = {};
    for (const area of fieldset.querySelectorAll("textarea")) {
      languages[tag][area.dataset.text] = area.value;
    }
  }
  return {
    default_language: $("default-language").value.trim(),
    organization_name: $("organization-name").value,
    sender: $("sender").value.trim(),
    use_organization_logo: $("use-logo").checked,
    texts,
    languages,
  };
}

function refreshLanguageChoices() {
  const choice = $("preview-language");
  const previous = choice.value;
  const tags = [$("default-language").value.trim() || "en"];
  for (const fieldset of document.querySelectorAll("#language-variants fieldset")) {
    tags.push(fieldset.dataset.language);
  }
  choice.replaceChildren(...tags.map((tag) => el("option", { value: tag, text: tag })));
  if (tags.includes(previous)) {
    choice.value = previous;
  }
}

// Return the form control a problem's field names, such as "texts.phishing",
// "settings.languages.de.footer" or "sender".
function controlFor(field) {
  const parts = (field || "").replace(/^settings\./, "").split(".");
  if (parts[0] === "texts" && parts.length === 2) {
    return $(`text-${parts[1]}`);
  }
  if (parts[0] === "languages" && parts.length === 3) {
    return $(`lang-${parts[1]}-${parts[2]}`);
  }
  const ids = {
    sender: "sender",
    organization_name: "organization-name",
    default_language: "default-language",
  };
  return ids[parts[0]] ? $(ids[parts[0]]) : null;
}

function clearProblems() {
  $("form-errors").replaceChildren();
  for (const control of document.querySelectorAll("[aria-invalid='true']")) {
    control.removeAttribute("aria-invalid");
  }
}

// List every problem, mark the controls invalid and, after a save, open the tab of
// the first one and focus it.
function showProblem(error, { focus = false } = {}) {
  clearProblems();
  const problems = error.errors && error.errors.length
    ? error.errors
    : [{ field: error.field, detail: error.detail || error.message }];
  const lines = problems.map((problem) => {
    const control = controlFor(problem.field);
    if (control) {
      control.setAttribute("aria-invalid", "true");
    }
    return el("li", { text: problem.detail });
  });
  $("form-errors").replaceChildren(el("ul", {}, lines));
  const first = controlFor(problems[0].field);
  if (focus && first) {
    const panel = first.closest("[role='tabpanel']");
    document.querySelector(`[aria-controls='${panel.id}']`).click();
    first.focus();
  }
}

function schedulePreview() {
  if (state.previewMissing) {
    return;
  }
  clearTimeout(state.previewTimer);
  state.previewTimer = setTimeout(renderPreview, PREVIEW_DELAY_MS);
}

// The frame has an opaque origin, so messages to it use "*"; they carry only the
// preview. A frame that starts after a post asks again with previewFrameReady.
function showPreviewHtml(html) {
  pendingPreviewHtml = html;
  $("preview-html").contentWindow.postMessage({ html }, "*");
}

function onFrameMessage(event) {
  const frame = $("preview-html");
  if (frame && event.source === frame.contentWindow && event.data.previewFrameReady) {
    if (pendingPreviewHtml !== null) {
      showPreviewHtml(pendingPreviewHtml);
    }
  }
}

function previewBody() {
  return {
    verdict: $("preview-verdict").value,
    language: $("preview-language").value || undefined,
    settings: readForm(),
  };
}

async function renderPreview() {
  try {
    const { data } = await api("POST", `${SETTINGS_PATH}/preview`, previewBody());
    $("preview-subject").textContent = data.subject;
    $("preview-sender").textContent = data.sender || "";
    $("preview-text").textContent = data.text;
    showPreviewHtml(data.html);
    clearProblems();
  } catch (error) {
    if (error.routeMissing) {
      state.previewMissing = true;
      $("preview-text").textContent = unavailable(
        "The preview",
        `${SETTINGS_PATH}/preview`,
      ).textContent;
      return;
    }
    showProblem(error);
  }
}

async function loadSettings() {
  try {
    const { data, etag } = await api("GET", SETTINGS_PATH);
    state.settings = data;
    state.etag = etag;
    fillForm(data);
    $("settings-form").hidden = false;
    await renderPreview();
    return true;
  } catch (error) {
    if (error.routeMissing) {
      $("settings-unavailable").replaceChildren(
        unavailable("Notification settings", SETTINGS_PATH),
      );
    } else {
      announce($("status"), `Could not load the settings: ${error.detail}`, {
        error: true,
      });
    }
    return false;
  }
}

async function save(event) {
  event.preventDefault();
  $("save").disabled = true;
  try {
    const response = await fetchSave();
    state.etag = response.etag;
    state.settings = response.data;
    fillForm(response.data);
    clearProblems();
    announce($("status"), "Settings saved.");
  } catch (error) {
    showProblem(error, { focus: true });
    announce($("status"), "The settings were not saved.", { error: true });
  } finally {
    $("save").disabled = false;
  }
}

async function fetchSave() {
  try {
    const headers = { "If-Match": state.etag || "" };
    return await api("PUT", SETTINGS_PATH, readForm(), headers);
  } catch (error) {
    if (error.status === 412) {
      error.errors = [];
      error.detail +=
        " Someone else saved the settings meanwhile: " +
        "discard your changes to load theirs.";
    }
    throw error;
  }
}

async function uploadLogo() {
  const file = $("logo-file").files[0];
  if (!file) {
    announce($("status"), "Choose an image file first.", { error: true });
    return;
  }
  const response = await fetch("/api/settings/logo", {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": file.type, "X-Requested-With": "XMLHttpRequest" },
    body: file,
  });
  const data = await response.json();
  if (!response.ok) {
    announce($("status"), `The logo was not uploaded: ${data.detail}`, { error: true });
    return;
  }
  announce($("status"), "Logo uploaded.");
  await loadSettings();
}

async function sendTest() {
  const body = previewBody();
  body.to = $("test-to").value.trim();
  try {
    await api("POST", `${SETTINGS_PATH}/test`, body);
    announce($("test-status"), `Test message sent to ${body.to}.`);
  } catch (error) {
    announce($("test-status"), `The test message was not sent: ${error.detail}`, {
      error: true,
    });
  }
}

function addLanguage() {
  const tag = $("new-language").value.trim();
  if (!tag) {
    return;
  }
  const empty = Object.fromEntries(TEXT_FIELDS.map((name) => [name, ""]));
  $("language-variants").append(languageVariant(tag, empty));
  $("new-language").value = "";
  refreshLanguageChoices();
}

function wireForm() {
  setupTabs();
  const form = $("settings-form");
  form.addEventListener("input", (event) => {
    if (event.target.id === "default-language") {
      refreshLanguageChoices();
    }
    if (!["test-to", "new-language", "logo-file"].includes(event.target.id)) {
      schedulePreview();
    }
  });
  form.addEventListener("submit", save);
  $("reload").addEventListener("click", loadSettings);
  $("logo-upload").addEventListener("click", uploadLogo);
  $("test-send").addEventListener("click", sendTest);
  $("add-language").addEventListener("click", addLanguage);
}

async function main() {
  const caller = await loadCaller();
  if (!hasRole(caller, "settings_admin")) {
    const role = caller ? caller.role.replace("_", " ") : "none";
    $("settings-unavailable").replaceChildren(
      el("p", {
        class: "unavailable",
        text: `Settings need the settings admin role; your role is ${role}.`,
      }),
    );
    return;
  }
  wireForm();
  await loadSettings();
}

// Registered before anything awaits, so the frame's first message is not missed.
window.addEventListener("message", onFrameMessage);
main();
