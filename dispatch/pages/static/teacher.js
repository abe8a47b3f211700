// The teacher's open offers: new ones live (offer), gone ones removed (offer_closed), refetched on reconnect.
const message = document.getElementById("message");
function showOffer(offer) {
  if (document.getElementById(`offer-${offer.id}`)) return;
  const card = document.createElement("li");
  card.className = "card"; card.id = `offer-${offer.id}`;
  const until = new Date(offer.expires_at).toLocaleTimeString("id-ID", {hour: "2-digit", minute: "2-digit"});
  card.innerHTML = `<div><strong>${esc(TEXT.school)} ${esc(offer.school_id)}</strong> · ${esc(offer.session_ids.length)} ${esc(TEXT.sessions)}</div>
    <div class="muted">${esc(TEXT.valid_until)} ${esc(until)}</div>
    <div class="row"><button class="primary" data-accept>${esc(TEXT.accept)}</button>
    <select data-reason>${TEXT.reasons.map(r => `<option>${esc(r)}</option>`).join("")}</select></div>
    <button data-decline>${esc(TEXT.decline)}</button>`;
  card.querySelector("[data-accept]").onclick = () => answer(offer.id, "accept");
  card.querySelector("[data-decline]").onclick = () => answer(offer.id, "decline", card.querySelector("[data-reason]").value);
  document.getElementById("offers").prepend(card);
}
async function answer(id, what, reason) {
  const response = await fetch(`/api/v1/offers/${id}/${what}`, {method: "POST",
    headers: {"content-type": "application/json", ...CSRF_HEADERS},
    body: JSON.stringify(what === "decline" ? {reason} : {})});
  const body = await response.json().catch(() => ({}));
  message.textContent = response.ok ? (what === "accept" ? TEXT.accepted : TEXT.declined) : (body.message || TEXT.failed);
  if (response.ok || response.status === 409) document.getElementById(`offer-${id}`)?.remove();
}
socket.on("offer", showOffer);
socket.on("offer_closed", closed => {
  const card = document.getElementById(`offer-${closed.offer_id}`);
  if (card) { card.remove(); message.textContent = TEXT.closed[closed.reason] || closed.reason; }
});
// On every (re)connect fetch the open offers: an offer made while the signal was gone is not lost.
window.onReconnect = async () => {
  const response = await fetch("/api/v1/offers");
  if (!response.ok) return;
  const open = await response.json();
  const ids = new Set(open.map(o => `offer-${o.id}`));
  document.querySelectorAll("#offers > li").forEach(li => { if (!ids.has(li.id)) li.remove(); });
  open.forEach(showOffer);
};
