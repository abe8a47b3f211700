// The school's orders, updated live (order_updated); refetched after a dropped connection.
function renderOrder(order) {
  const sessions = order.sessions.map(s => `<li>${esc(s.date)} ${esc(s.start)}–${esc(s.end)}
    <span class="badge ${esc(s.status)}">${esc(label(s.status))}</span>${s.teacher_id ? ` <span class="muted">${esc(TEXT.teacher)} #${esc(s.teacher_id)}</span>` : ""}</li>`).join("");
  return `<div><strong>${esc(order.class_name)} · ${esc(order.subject)}</strong>
    <span class="badge ${esc(order.status)}">${esc(label(order.status))}</span>${order.urgent ? ` <span class="badge">${esc(TEXT.urgent)}</span>` : ""}</div>
    <ul class="sessions">${sessions}</ul>`;
}
function showOrder(order) {
  let card = document.getElementById(`order-${order.id}`);
  if (!card) {
    card = document.createElement("li");
    card.className = "card"; card.id = `order-${order.id}`;
    document.getElementById("orders").prepend(card);
    const empty = document.getElementById("empty"); if (empty) empty.remove();
  }
  card.dataset.status = order.status;
  card.innerHTML = renderOrder(order);
}
socket.on("order_updated", showOrder);
// After a dropped connection, fetch the list again: nothing that changed meanwhile is missed.
let connectedOnce = false;
window.onReconnect = async () => {
  if (!connectedOnce) { connectedOnce = true; return; }
  const response = await fetch("/api/v1/orders?page_size=50");
  if (response.ok) (await response.json()).reverse().forEach(showOrder);
};
