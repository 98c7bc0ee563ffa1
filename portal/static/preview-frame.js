// Shows the rendered notification HTML that the settings page posts to this frame.
// The frame is sandboxed without same-origin access and its own policy runs no
// script but this file, so the HTML can keep the inline styles of a real email.

window.addEventListener("message", (event) => {
  if (event.source !== window.parent || typeof event.data !== "object") {
    return;
  }
  const html = event.data && event.data.html;
  if (typeof html !== "string") {
    return;
  }
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const root = document.adoptNode(parsed.documentElement);
  document.replaceChild(root, document.documentElement);
});
window.parent.postMessage({ previewFrameReady: true }, "*");
