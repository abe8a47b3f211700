// The pages' live connection and shared helpers. The page's words come from #page-text (JSON);
// writes carry the CSRF token from <meta name="csrf-token"> as the X-CSRFToken header.
const TEXT = JSON.parse(document.getElementById("page-text").textContent);
const LABELS = TEXT.labels;
const CSRF_HEADERS = {"X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content};
const live = document.getElementById("live");
const socket = io({transports: ["websocket", "polling"]});
function label(status) { return LABELS[status] || status; }
function esc(text) { const d = document.createElement("div"); d.textContent = text == null ? "" : String(text); return d.innerHTML; }
socket.on("connect", () => { live.textContent = TEXT.connected; if (window.onReconnect) onReconnect(); });
socket.on("disconnect", () => { live.textContent = TEXT.disconnected; });
socket.on("connect_error", () => { live.textContent = TEXT.not_connected; });
// A password change or reset elsewhere ended this session: back to the login page.
socket.on("session_ended", () => { window.location.assign("/masuk"); });
