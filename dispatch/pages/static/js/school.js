/* The school operator's page: post an order (each field's error beside it, in the API's own words
 * translated), watch its sessions fill live with the teacher's name, cancel, confirm, flag, QR. */
"use strict";
(function () {
  const G = window.guru, D = G.DATA, t = G.t, esc = G.esc;
  const $ = (selector) => document.querySelector(selector);
  const message = $("#message");
  const form = $("#order-form");

  // ---- the period pickers: whole periods of the school level's timetable ------------------------
  function fillPeriods(select, which) {
    select.innerHTML = D.timetable.map((p) =>
      `<option value="${p.period}">${esc(p.period)} (${esc(which === "first" ? p.start : p.end)})</option>`).join("");
    if (which === "last") select.value = String(Math.min(2, D.timetable.length));
  }
  const timeOf = (period, which) => D.timetable.find((p) => String(p.period) === String(period))[which === "first" ? "start" : "end"];
  document.querySelectorAll("#weekly-box [data-period]").forEach((s) => fillPeriods(s, s.dataset.period));

  let rowCount = 0;
  function addDateRow() {
    const node = $("#date-row").content.firstElementChild.cloneNode(true);
    const n = rowCount++;
    node.querySelectorAll("[data-field]").forEach((input) => {
      input.id = `row${n}-${input.dataset.field}`;
      if (input.dataset.period) fillPeriods(input, input.dataset.period);
    });
    node.querySelectorAll("label[data-for]").forEach((label) => { label.htmlFor = `row${n}-${label.dataset.for}`; });
    $("#date-rows").append(node);
    renumber();
    showTimePickers();
  }
  function renumber() {
    [...$("#date-rows").children].forEach((row, i) => {
      row.querySelectorAll("[data-error-slot]").forEach((p) => { p.dataset.errorFor = `sessions.${i}.${p.dataset.errorSlot}`; });
      row.querySelector("[data-remove]").hidden = $("#date-rows").children.length === 1;
    });
  }
  $("#add-date").addEventListener("click", addDateRow);
  // The API's own rule decides; an empty field is left out, so its error says it is required.
  const value = (node) => (node.value === "" ? undefined : node.value);
  $("#date-rows").addEventListener("click", (event) => {
    if (event.target.closest("[data-remove]")) { event.target.closest("li").remove(); renumber(); }
  });
  const ownTimes = () => $("#own-times").checked;
  function showTimePickers() {
    form.querySelectorAll(".period-pick").forEach((n) => { n.hidden = ownTimes(); });
    form.querySelectorAll(".own-times").forEach((n) => { n.hidden = !ownTimes(); });
  }
  $("#own-times").addEventListener("change", showTimePickers);
  form.querySelectorAll("input[name=mode]").forEach((radio) => radio.addEventListener("change", () => {
    const weekly = form.mode.value === "weekly";
    $("#weekly-box").hidden = !weekly;
    $("#dates-box").hidden = weekly;
  }));

  // ---- posting, and each field's error beside it ----------------------------------------------------
  function flatten(tree, prefix, out) {
    if (Array.isArray(tree) && tree.every((x) => typeof x === "string")) { out.push([prefix, tree[0]]); return out; }
    for (const [key, value] of Object.entries(tree || {})) flatten(value, prefix ? `${prefix}.${key}` : key, out);
    return out;
  }
  function clearErrors() {
    form.querySelectorAll("[data-error-for]").forEach((p) => { p.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  }
  function showError(path, text) {
    // The error node whose field is the longest prefix of the path: "sessions.0.end" → that row's end.
    let best = null;
    form.querySelectorAll("[data-error-for]").forEach((p) => {
      const key = p.dataset.errorFor;
      if ((path === key || path.startsWith(key + ".")) && (!best || key.length > best.dataset.errorFor.length)) best = p;
    });
    best = best || form.querySelector('[data-error-for="_general"]');
    best.textContent = best.textContent ? `${best.textContent}; ${text}` : text;
    // The field it is about: the one just before the message, or in a date row the start or end picker.
    let input = best.previousElementSibling;
    while (input && input.tagName === "DATALIST") input = input.previousElementSibling;
    if (!input || !["INPUT", "SELECT"].includes(input.tagName)) {
      const row = best.closest("li, #weekly-box");
      const slot = path.split(".").pop();
      const names = ownTimes() ? { start: "start", end: "end" } : { start: "first", end: "last" };
      input = row && names[slot] ? row.querySelector(`[data-field=${names[slot]}], #weekly-${names[slot]}`) : null;
    }
    if (input) {
      input.setAttribute("aria-invalid", "true");
      best.id = best.id || `err-${path.replace(/\W/g, "-")}`;
      input.setAttribute("aria-describedby", best.id);
    }
  }
  function orderBody() {
    const body = { class_name: value(form.class_name), subject: value(form.subject), level: value(form.level),
                   reason: form.reason.value, urgent: form.urgent.checked };
    const times = (first, last, start, end) => (ownTimes()
      ? { start: value(start), end: value(end) }
      : { start: timeOf(first.value, "first"), end: timeOf(last.value, "last") });
    if (form.mode.value === "weekly") {
      body.weekly = { weekdays: [...form.querySelectorAll("input[name=weekday]:checked")].map((c) => Number(c.value)),
                      ...times($("#weekly-first"), $("#weekly-last"), $("#weekly-start"), $("#weekly-end")),
                      from: value($("#weekly-from")), until: value($("#weekly-until")) };
    } else {
      body.sessions = [...$("#date-rows").children].map((row) => {
        const field = (name) => row.querySelector(`[data-field=${name}]`);
        return { date: value(field("date")), ...times(field("first"), field("last"), field("start"), field("end")) };
      });
    }
    return body;
  }
  let postKey = null; // the same key for a retry of the same order: it is made once
  let lastBody = "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const body = orderBody();
    const text = JSON.stringify(body);
    if (text !== lastBody) { postKey = G.newKey(); lastBody = text; }
    const button = $("#post-order");
    button.disabled = true;
    try {
      const result = await G.api("POST", "/api/v1/orders", body, postKey);
      if (result.ok) {
        G.say(message, t("posted"), true);
        showOrder(result.body, true);
        form.reset();
        $("#date-rows").innerHTML = ""; addDateRow();
        $("#weekly-box").hidden = true; $("#dates-box").hidden = false;
        showTimePickers();
        lastBody = "";
        $("#order-form-box").open = false; // the new order, live, is what to watch now
        document.getElementById(`order-${result.body.id}`)?.scrollIntoView({ block: "start" });
      } else {
        const errors = flatten((result.body.errors || {}).json || {}, "", []);
        if (!errors.length) errors.push(["_general", result.body.message]);
        for (const [path, msg] of errors) showError(path, G.apiMessage(msg));
        G.say(message, t("fix_fields"), false);
        form.querySelector("[aria-invalid]")?.focus(); // the first field to fix, in the form's order
      }
    } catch (e) {
      G.say(message, t("failed"), false);
    } finally { button.disabled = false; }
  });

  // ---- the orders, live ------------------------------------------------------------------------------
  const started = (s) => G.naiveMs(`${s.date}T${s.start}:00`) <= G.districtNowMs();
  function sessionItem(s) {
    const actions = [];
    if (["booked", "held"].includes(s.status) && started(s)) {
      if (!s.confirmed_at) actions.push(`<button data-act="confirm" data-id="${s.id}">${esc(t("confirm"))}</button>`);
      if (!s.flag) {
        actions.push(`<button data-act="late" data-id="${s.id}">${esc(t("flag_late"))}</button>`);
        actions.push(`<button class="danger" data-act="no_show" data-id="${s.id}">${esc(t("flag_no_show"))}</button>`);
      }
    }
    if (s.status === "held") actions.push(`<a class="button primary" href="/sekolah/kode/${s.id}">${esc(t("qr"))}</a>`);
    const notes = [];
    if (s.checked_in_at) notes.push(t("checked_in"));
    if (s.confirmed_at) notes.push(t("confirmed"));
    if (s.flag) notes.push(t("flagged", { flag: (T_FLAGS[s.flag] || s.flag) }));
    return `<li id="session-${s.id}" data-status="${esc(s.status)}">
      <div>${esc(G.formatDate(s.date))} · ${esc(s.start)}–${esc(s.end)} <span class="badge ${esc(s.status)}">${esc(G.label(s.status))}</span></div>
      <div class="teacher">${s.teacher_name ? `<strong>${esc(s.teacher_name)}</strong>` : `<span class="muted">${esc(t("no_teacher"))}</span>`}
        ${notes.length ? `<span class="muted"> · ${esc(notes.join(" · "))}</span>` : ""}</div>
      ${actions.length ? `<div class="actions">${actions.join("")}</div>` : ""}
    </li>`;
  }
  const T_FLAGS = G.T.flag_names || {};
  function renderOrder(order) {
    const cancellable = ["open", "partly_booked", "booked"].includes(order.status);
    const sessions = order.sessions.slice(0, 40).map(sessionItem).join("");
    const more = order.sessions.length > 40 ? `<li class="muted">+${order.sessions.length - 40}</li>` : "";
    return `<h3>${esc(order.class_name)} · ${esc(order.subject)} · ${esc(order.level)}
        <span class="badge ${esc(order.status)}">${esc(G.label(order.status))}</span>${order.urgent ? ` <span class="badge urgent">${esc(t("urgent"))}</span>` : ""}</h3>
      <ul class="plain sessions">${sessions}${more}</ul>
      ${cancellable ? `<div class="actions"><button class="danger" data-act="cancel" data-id="${order.id}">${esc(t("cancel"))}</button></div>` : ""}`;
  }
  function showOrder(order, first) {
    let card = document.getElementById(`order-${order.id}`);
    if (!card) {
      card = document.createElement("li");
      card.className = "card";
      card.id = `order-${order.id}`;
      $("#orders").prepend(card);
      $("#orders-empty")?.remove();
    }
    card.dataset.status = order.status;
    card.innerHTML = renderOrder(order);
  }
  function showAll(orders) {
    if (!orders.length) { $("#orders").innerHTML = `<li class="card muted" id="orders-empty">${esc(t("no_orders"))}</li>`; return; }
    orders.slice().reverse().forEach((o) => showOrder(o));
  }
  const ACTIONS = {
    confirm: (id) => [`/api/v1/sessions/${id}/confirm`, undefined],
    late: (id) => [`/api/v1/sessions/${id}/flag`, { flag: "late" }],
    no_show: (id) => [`/api/v1/sessions/${id}/flag`, { flag: "no_show" }],
    cancel: (id) => [`/api/v1/orders/${id}/cancel`, undefined],
  };
  $("#orders").addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-act]");
    if (!button) return;
    const act = button.dataset.act, id = button.dataset.id;
    if (act === "cancel" && !window.confirm(t("cancel_sure"))) return;
    const [url, body] = ACTIONS[act](id);
    button.disabled = true;
    try {
      const result = await G.api("POST", url, body, G.newKey());
      if (!result.ok) { G.say(message, G.apiMessage(result.body.message), false); return; }
      G.say(message, act === "cancel" ? t("cancelled_ok") : t("saved"), true);
      if (act === "cancel") showOrder(result.body);
      else refetch();
    } catch (e) { G.say(message, t("failed"), false); } finally { button.disabled = false; }
  });
  const live = G.liveLog();
  let stale = false; // the last fetch failed: the list may lack what was pushed meanwhile
  async function refetch() {
    try {
      const fresh = await live.fetch(() => G.getJson("/api/v1/orders?page_size=50"));
      stale = false;
      if (!fresh) return true;
      showAll(fresh.answer);
      fresh.since.forEach((order) => showOrder(order)); // pushed while the list was on its way
      return true;
    } catch (e) { stale = true; return false; /* the next event or reconnect tries again */ }
  }

  addDateRow();
  showAll(D.orders || []);
  const socket = G.live();
  if (socket) {
    socket.on("order_updated", (order) => { live.push(order); showOrder(order); });
    let connectedOnce = false;
    // After a dropped connection, fetch the list again if the server says something changed meanwhile (or
    // the last fetch failed). The first connection fetches nothing: the page came with its list. Its mark
    // is not trusted, though (false): the list is older than the connection.
    G.onConnect = (missed) => {
      if (!connectedOnce) { connectedOnce = true; return false; }
      if (missed === false && !stale) return true;
      return refetch();
    };
  }
})();
