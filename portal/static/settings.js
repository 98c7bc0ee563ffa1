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
  frameReady: false,
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

function showProblem(error, region = $("form-errors")) {
  const lines = [error.detail || error.message];
  region.replaceChildren(...lines.map((line) => el("p", { text: line })));
}

function schedulePreview() {
  if (state.previewMissing) {
    return;
  }
  clearTimeout(state.previewTimer);
  state.previewTimer = setTimeout(renderPreview, PREVIEW_DELAY_MS);
}

function showPreviewHtml(html) {
  pendingPreviewHtml = html;
  if (state.frameReady) {
    $("preview-html").contentWindow.postMessage({ html }, "*");
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
    $("form-errors").replaceChildren();
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
    $("form-errors").replaceChildren();
    announce($("status"), "Settings saved.");
  } catch (error) {
    showProblem(error);
    announce($("status"), "The settings were not saved.", { error: true });
  } finally {
    $("save").disabled = false;
  }
}

async function fetchSave() {
  const response = await fetch(SETTINGS_PATH, {
    method: "PUT",
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/json",
      "X-Requested-With": "XMLHttpRequest",
      "If-Match": state.etag || "*",
    },
    body: JSON.stringify(readForm()),
  });
  const data = await response.json();
  if (!response.ok) {
    const error = new Error(data.detail);
    error.detail = data.detail;
    if (response.status === 412 || response.status === 409) {
      error.detail += " Someone else saved the settings meanwhile: discard your changes to load theirs.";
    }
    throw error;
  }
  return { data, etag: response.headers.get("ETag") };
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
  window.addEventListener("message", (event) => {
    if (event.source === $("preview-html").contentWindow && event.data.previewFrameReady) {
      state.frameReady = true;
      if (pendingPreviewHtml !== null) {
        showPreviewHtml(pendingPreviewHtml);
      }
    }
  });
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

main();
