/* The teacher's app: offers, open orders near me, my week (check-in, lesson record, withdraw), my ratings.
 * Works on a weak signal: the last known data are kept on the phone and drawn at once; accept, decline,
 * claim, check-in and the lesson record are queued with an Idempotency-Key when there is no signal and
 * sent, once each, when it returns. */
"use strict";
(function () {
  const G = window.guru, D = G.DATA, t = G.t, esc = G.esc;
  const $ = (selector) => document.querySelector(selector);
  const message = $("#message");

  // ---- what the phone remembers -------------------------------------------------------------
  const store = {
    key: (name) => `guru:${D.teacher_id}:${name}`,
    get(name, fallback) {
      try { const v = localStorage.getItem(this.key(name)); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
    },
    set(name, value) { try { localStorage.setItem(this.key(name), JSON.stringify(value)); } catch (e) { /* full: keep going */ } },
  };
  const state = {
    offers: store.get("offers", []),
    open: store.get("open", []),
    week: store.get("week", []),
    ratings: store.get("ratings", null),
    fetchedAt: store.get("fetched_at", null),
  };
  const queue = store.get("queue", []);

  // ---- tabs -----------------------------------------------------------------------------------
  const TABS = ["tawaran", "terbuka", "minggu", "nilai"];
  function showTab() {
    const name = TABS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "tawaran";
    document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== name; });
    document.querySelectorAll("[data-tab]").forEach((a) => {
      if (a.dataset.tab === name) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
    });
  }
  window.addEventListener("hashchange", showTab);

  // ---- small helpers --------------------------------------------------------------------------
  const hhmm = (ms) => new Date(ms).toISOString().slice(11, 16);
  const startMs = (s) => G.naiveMs(`${s.date}T${s.start}:00`);
  const endMs = (s) => G.naiveMs(`${s.date}T${s.end}:00`);
  const sessionLine = (s) =>
    `${esc(G.formatDate(s.date))} · ${esc(s.start)}–${esc(s.end)}${s.periods ? ` (${esc(t("periods", { n: s.periods }))})` : ""}`;
  const place = (o) =>
    [o.kecamatan, o.distance_km != null ? t("from_home", { km: String(o.distance_km).replace(".", G.locale === "id-ID" ? "," : ".") }) : null]
      .filter(Boolean).map(esc).join(" · ");
  const what = (o) => `${esc(o.subject)} · ${esc(o.level)} · ${esc(t("class", { name: o.class_name }))}`;
  const pendingIds = (kind) => new Set(queue.filter((a) => a.kind === kind).map((a) => a.ref));

  function countdown(untilIso) {
    const left = Math.floor((G.naiveMs(untilIso) - G.districtNowMs()) / 1000);
    if (left <= 0) return null;
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    return h ? `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}` : `${m}:${String(s).padStart(2, "0")}`;
  }
  function tick() {
    document.querySelectorAll("[data-until]").forEach((node) => {
      const left = countdown(node.dataset.until);
      node.textContent = left ? t("left", { time: left }) : t("expired_now");
      if (!left) node.closest("li")?.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    });
    renderSoon();
  }

  // Redraw a list without losing what the teacher is typing or choosing in it (a live update may land mid-word).
  function redraw(node, html) {
    const kept = {};
    node.querySelectorAll("input[id], select[id], textarea[id]").forEach((field) => { kept[field.id] = field.value; });
    const focused = node.contains(document.activeElement) ? document.activeElement.id : null;
    node.innerHTML = html;
    for (const [id, value] of Object.entries(kept)) { const field = document.getElementById(id); if (field && node.contains(field)) field.value = value; }
    if (focused) document.getElementById(focused)?.focus();
  }

  // ---- offers ---------------------------------------------------------------------------------
  function renderOffers() {
    const list = $("#offers");
    const pending = new Set([...pendingIds("accept"), ...pendingIds("decline")]);
    $("#offer-count").textContent = state.offers.length ? `(${state.offers.length})` : "";
    if (!state.offers.length) { list.innerHTML = `<li class="card muted">${esc(t("no_offers"))}</li>`; return; }
    redraw(list, state.offers.map((o) => {
      const sessions = (o.sessions || []).map((s) => `<li>${sessionLine(s)}</li>`).join("");
      const reasons = D.decline_reasons.map((r) => `<option>${esc(r)}</option>`).join("");
      const waiting = pending.has(o.id);
      return `<li class="card" id="offer-${o.id}" data-offer="${o.id}">
        <h3>${esc(o.school_name || o.school_id)}${o.urgent ? ` <span class="badge urgent">${esc(t("urgent"))}</span>` : ""}</h3>
        <div class="muted">${place(o)}</div>
        <div>${what(o)} · ${esc(t("sessions", { n: (o.session_ids || []).length }))}</div>
        <ul class="plain sessions">${sessions}</ul>
        <div class="countdown" data-until="${esc(o.expires_at)}"></div>
        ${waiting ? `<p class="note">${esc(t("queued"))}</p>` : ""}
        <div class="actions"><button class="primary" data-accept="${o.id}" ${waiting ? "disabled" : ""}>${esc(t("accept"))}</button></div>
        <label for="reason-${o.id}">${esc(t("decline_reason"))}</label>
        <select id="reason-${o.id}" data-reason>${reasons}</select>
        <div class="actions"><button class="danger" data-decline="${o.id}" ${waiting ? "disabled" : ""}>${esc(t("decline"))}</button></div>
      </li>`;
    }).join(""));
    tick();
  }
  $("#offers").addEventListener("click", (event) => {
    const accept = event.target.closest("[data-accept]");
    const decline = event.target.closest("[data-decline]");
    if (accept) {
      const id = Number(accept.dataset.accept);
      perform({ kind: "accept", ref: id, url: `/api/v1/offers/${id}/accept` });
    } else if (decline) {
      const id = Number(decline.dataset.decline);
      const reason = decline.closest("li").querySelector("[data-reason]").value;
      perform({ kind: "decline", ref: id, url: `/api/v1/offers/${id}/decline`, body: { reason } });
    }
  });

  // ---- open orders near me ----------------------------------------------------------------------
  function renderOpen() {
    const subject = $("#filter-subject").value, day = $("#filter-day").value;
    const claiming = pendingIds("claim");
    const rows = state.open
      .map((o) => {
        const ids = new Set(o.claimable_session_ids || []);
        const sessions = (o.sessions || []).filter((s) => ids.has(s.id) && (day === "" || G.dateOf(s.date).getUTCDay() === (Number(day) + 1) % 7));
        return { o, sessions };
      })
      .filter(({ o, sessions }) => sessions.length && (!subject || o.subject === subject));
    const list = $("#open-orders");
    if (!rows.length) { list.innerHTML = `<li class="card muted">${esc(t("no_open"))}</li>`; return; }
    list.innerHTML = rows.map(({ o, sessions }) => {
      const waiting = claiming.has(o.id);
      return `<li class="card" id="open-${o.id}">
        <h3>${esc(o.school_name)}${o.urgent ? ` <span class="badge urgent">${esc(t("urgent"))}</span>` : ""}</h3>
        <div class="muted">${place(o)}</div>
        <div>${what(o)} · ${esc(t("sessions", { n: sessions.length }))}</div>
        <ul class="plain sessions">${sessions.slice(0, 6).map((s) => `<li>${sessionLine(s)}</li>`).join("")}${sessions.length > 6 ? "<li>…</li>" : ""}</ul>
        ${waiting ? `<p class="note">${esc(t("queued"))}</p>` : ""}
        <div class="actions"><button class="primary" data-claim="${o.id}" data-sessions="${sessions.map((s) => s.id).join(",")}" ${waiting ? "disabled" : ""}>${esc(t("claim"))}</button></div>
      </li>`;
    }).join("");
  }
  $("#filter-subject").addEventListener("change", renderOpen);
  $("#filter-day").addEventListener("change", renderOpen);
  $("#open-orders").addEventListener("click", (event) => {
    const button = event.target.closest("[data-claim]");
    if (!button) return;
    const id = Number(button.dataset.claim);
    const sessionIds = button.dataset.sessions.split(",").map(Number);
    perform({ kind: "claim", ref: id, url: `/api/v1/orders/${id}/claim`, body: { session_ids: sessionIds } });
  });

  // ---- my week: check-in, lesson record, withdraw -----------------------------------------------
  const geoLink = (s) => `geo:${s.school_lat},${s.school_lon}?q=${s.school_lat},${s.school_lon}(${encodeURIComponent(s.school_name)})`;
  function lessonCard(s, soon) {
    const now = G.districtNowMs();
    const checkable = s.status === "booked" && !s.checked_in_at && now <= endMs(s) && s.date === new Date(now).toISOString().slice(0, 10);
    const recordable = s.status === "held" && !s.topic && !pendingIds("record").has(s.id);
    const withdrawable = s.status === "booked" && startMs(s) > now;
    const lead = soon ? `<p class="countdown">${esc(now >= startMs(s) ? t("running") : t("starts_in", { mins: Math.ceil((startMs(s) - now) / 60000) }))}</p>` : "";
    return `<div class="card${soon ? " soon" : ""}" data-session="${s.id}">
      ${lead}
      <h3>${esc(s.start)}–${esc(s.end)} · ${esc(s.school_name)}</h3>
      <div>${what(s)} · ${esc(t("periods", { n: s.periods }))} <span class="badge ${esc(s.status)}">${esc(G.label(s.status))}</span></div>
      <div class="muted">${esc([s.school_address, s.kecamatan].filter(Boolean).join(", "))}</div>
      <div class="actions">
        <a class="button" href="${esc(geoLink(s))}">${esc(t("map"))} (${esc(s.school_lat.toFixed(4))}, ${esc(s.school_lon.toFixed(4))})</a>
        ${checkable ? `<button class="primary" data-checkin="${s.id}" ${pendingIds("checkin").has(s.id) ? "disabled" : ""}>${esc(t("check_in"))}</button>` : ""}
        ${withdrawable && !soon ? `<button class="danger" data-withdraw="${s.id}">${esc(t("withdraw"))}</button>` : ""}
      </div>
      ${s.checked_in_at ? `<p class="muted">${esc(t("checked_in", { time: s.checked_in_at.slice(11, 16) }))}</p>` : ""}
      ${s.topic ? `<p class="muted">${esc(t("recorded"))}: ${esc(s.topic)}</p>` : ""}
      ${recordable && !soon ? recordForm(s) : ""}
    </div>`;
  }
  function recordForm(s) {
    return `<form class="record" data-record="${s.id}">
      <h3>${esc(t("record"))}</h3>
      <label for="topic-${s.id}">${esc(t("topic"))}</label><input id="topic-${s.id}" name="topic" maxlength="300" required>
      <label for="present-${s.id}">${esc(t("present"))}</label><input id="present-${s.id}" name="present" type="number" min="0" max="200" inputmode="numeric" required>
      <label for="notes-${s.id}">${esc(t("notes"))}</label><textarea id="notes-${s.id}" name="notes" maxlength="2000"></textarea>
      <div class="actions"><button class="primary">${esc(t("save_record"))}</button></div>
    </form>`;
  }
  function renderWeek() {
    const node = $("#week");
    if (!state.week.length) { node.innerHTML = `<p class="card muted">${esc(t("no_week"))}</p>`; return; }
    const days = new Map();
    for (const s of state.week) { if (!days.has(s.date)) days.set(s.date, []); days.get(s.date).push(s); }
    redraw(node, [...days].map(([date, sessions]) =>
      `<section class="day"><h3>${esc(G.formatDate(date))}</h3>${sessions.map((s) => lessonCard(s, false)).join("")}</section>`).join(""));
  }
  // A lesson that starts within the hour (or is running) comes first, whatever tab is open.
  let soonShown = "";
  function renderSoon() {
    const now = G.districtNowMs();
    const soon = state.week.filter((s) => ["booked", "held"].includes(s.status) && startMs(s) - now <= 3600e3 && endMs(s) > now && !(s.status === "held" && s.checked_in_at));
    const html = soon.map((s) => lessonCard(s, true)).join("");
    if (html === soonShown) return;
    soonShown = html;
    const node = $("#soon");
    node.hidden = !soon.length;
    node.innerHTML = html;
  }
  function checkIn(id) {
    const s = state.week.find((x) => x.id === id);
    if (!s) return;
    const opens = startMs(s) - 30 * 60e3;
    if (G.districtNowMs() < opens) { G.say(message, t("too_early", { time: hhmm(opens) }), false); return; }
    if (!navigator.geolocation) { G.say(message, t("no_location"), false); return; }
    G.say(message, t("checking"), true);
    navigator.geolocation.getCurrentPosition(
      (pos) => perform({ kind: "checkin", ref: id, url: `/api/v1/sessions/${id}/check-in`,
                         body: { lat: pos.coords.latitude, lon: pos.coords.longitude } }),
      () => G.say(message, t("no_location"), false),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 },
    );
  }
  async function withdraw(id) {
    const s = state.week.find((x) => x.id === id);
    if (!s) return;
    if (!navigator.onLine) { G.say(message, t("withdraw_needs_signal"), false); return; }
    const late = G.districtNowMs() >= G.naiveMs(s.late_from);
    const hours = Math.round((startMs(s) - G.naiveMs(s.late_from)) / 3600e3);
    if (!window.confirm(late ? t("withdraw_late", { hours }) : t("withdraw_sure"))) return;
    const reason = window.prompt(t("withdraw_reason"), D.decline_reasons[0]);
    if (!reason) return;
    try {
      const res = await G.api("POST", `/api/v1/sessions/${id}/withdraw`, { reason }, G.newKey());
      G.say(message, res.ok ? t("withdrawn") : G.apiMessage(res.body.message), res.ok);
      refresh();
    } catch (e) { G.say(message, t("withdraw_needs_signal"), false); }
  }
  function onLessonClick(event) {
    const button = event.target.closest("[data-checkin], [data-withdraw]");
    if (!button) return;
    if (button.dataset.checkin) checkIn(Number(button.dataset.checkin));
    else withdraw(Number(button.dataset.withdraw));
  }
  $("#week").addEventListener("click", onLessonClick);
  $("#soon").addEventListener("click", onLessonClick);
  $("#week").addEventListener("submit", (event) => {
    const form = event.target.closest("[data-record]");
    if (!form) return;
    event.preventDefault();
    const id = Number(form.dataset.record);
    const notes = form.notes.value.trim();
    perform({ kind: "record", ref: id, url: `/api/v1/sessions/${id}/record`,
              body: { topic: form.topic.value.trim(), present: Number(form.present.value), ...(notes ? { notes } : {}) } });
  });

  // ---- my ratings ---------------------------------------------------------------------------------
  function renderRatings() {
    const r = state.ratings, node = $("#ratings");
    if (!r || !r.ratings) { node.innerHTML = `<p class="card muted">${esc(t("no_ratings"))}</p>`; return; }
    const fmt = (x) => (x == null ? "–" : Number(x).toFixed(1));
    const full = Math.round(r.score || 0);
    const stars = Object.entries(r.stars || {}).reverse()
      .map(([k, n]) => `<li>${"★".repeat(Number(k))} <strong>${esc(n)}</strong></li>`).join("");
    const tags = Object.entries(r.tags || {}).slice(0, 6)
      .map(([tag, n]) => `<li><span class="badge">${esc((D.tags || {})[tag] || tag)}</span> ${esc(n)}×</li>`).join("");
    node.innerHTML = `<div class="card" id="score-card">
        <div class="stars" aria-hidden="true">${"★".repeat(full)}${"☆".repeat(5 - full)}</div>
        <p><strong>${esc(t("score"))}: <span id="score">${esc(fmt(r.score))}</span> / 5</strong>
          <span class="muted">(${esc(t("interval", { low: fmt(r.low), high: fmt(r.high) }))})</span></p>
        <p class="muted">${esc(t("ratings_count", { n: r.ratings }))}</p></div>
      <div class="card"><h3>${esc(t("tags_title"))}</h3><ul class="plain">${tags || "–"}</ul></div>
      <div class="card"><h3>${esc(t("stars_title"))}</h3><ul class="plain">${stars}</ul></div>`;
  }

  function renderAll() { renderOffers(); renderOpen(); renderWeek(); renderSoon(); renderRatings(); renderQueue(); }

  // ---- fresh data when the signal allows ------------------------------------------------------------
  const live = G.liveLog();
  function applyLive(offers, [kind, payload]) {
    if (kind === "offer") return offers.some((o) => o.id === payload.id) ? offers : [payload, ...offers];
    return offers.filter((o) => o.id !== payload.offer_id);
  }
  function recordLive(kind, payload) {
    live.push([kind, payload]);
    state.offers = applyLive(state.offers, [kind, payload]);
    store.set("offers", state.offers);
  }
  // Changes told by an event that only asks for a fetch (order_updated): counted, and shown once a fetch
  // asked after them has succeeded. Until then the lists are stale, whatever the live marks say.
  let told = 0, shown = 0, failed = false;
  const stale = () => failed || shown < told;
  async function refresh() {
    const asked = told;
    try {
      const fresh = await live.fetch(() => Promise.all([
        G.getJson("/api/v1/offers"), G.getJson("/api/v1/orders/open"), G.getJson("/api/v1/me/schedule"), G.getJson("/api/v1/me/ratings"),
      ]));
      failed = false;
      shown = Math.max(shown, asked);
      if (!fresh) return true; // a newer fetch has answered already
      const [fetched, open, week, ratings] = fresh.answer;
      const offers = fresh.since.reduce(applyLive, fetched);
      Object.assign(state, { offers, open, week, ratings, fetchedAt: new Date().toISOString() });
      for (const name of ["offers", "open", "week", "ratings"]) store.set(name, state[name]);
      store.set("fetched_at", state.fetchedAt);
      $("#offline-note").hidden = true;
      renderAll();
      return true;
    } catch (e) {
      failed = true;
      const note = $("#offline-note");
      const when = state.fetchedAt ? new Date(state.fetchedAt).toLocaleString(G.locale, { dateStyle: "short", timeStyle: "short" }) : "–";
      note.textContent = t("offline_copy", { when });
      note.hidden = false;
      return false;
    }
  }

  // ---- the queue: actions made without signal, sent once each when it returns ---------------------
  function renderQueue() {
    const note = $("#queue-note");
    note.hidden = !queue.length;
    note.textContent = queue.length ? t("queue_waiting", { n: queue.length }) : "";
  }
  function enqueue(action) {
    queue.push(action);
    store.set("queue", queue);
    G.say(message, t("queued"), true);
    renderAll();
  }
  async function perform(action) {
    action.key = action.key || G.newKey();
    if (!navigator.onLine) { enqueue(action); return; }
    let result;
    try { result = await G.api("POST", action.url, action.body, action.key); } catch (e) { enqueue(action); return; }
    answered(action, result, false);
  }
  let flushing = false;
  async function flush() {
    if (flushing || !queue.length || !navigator.onLine) return;
    flushing = true;
    try {
      try { await G.refreshCsrf(); } catch (e) { return; }
      while (queue.length) {
        let result;
        try { result = await G.api("POST", queue[0].url, queue[0].body, queue[0].key); } catch (e) { break; }
        if (result.status === 401) { G.say(message, t("log_in_again"), false); break; } // kept until logged in
        const action = queue.shift();
        store.set("queue", queue);
        answered(action, result, true);
      }
    } finally { flushing = false; renderQueue(); }
    refresh();
  }
  const DONE = { accept: "accepted", decline: "declined", claim: "claimed", checkin: "checkin_done", record: "record_saved" };
  function answered(action, result, later) {
    let text;
    if (result.ok) text = t(DONE[action.kind]);
    else {
      const fields = (result.body.errors && result.body.errors.json) || {};
      const first = Object.values(fields)[0];
      const detail = G.apiMessage(Array.isArray(first) ? first[0] : result.body.message);
      text = action.kind === "accept" ? t("offer_gone", { why: detail }) : detail;
    }
    if (later) text = t("sent_later", { what: text });
    G.say(message, text, result.ok);
    if (action.kind === "accept" || action.kind === "decline") {
      // Logged as a live close, so that a fetch asked before it cannot bring the offer back.
      if (result.ok || result.status === 409 || result.status === 404) recordLive("offer_closed", { offer_id: action.ref });
    }
    renderAll();
    if (result.ok && !later) refresh();
  }

  // ---- live ------------------------------------------------------------------------------------
  const socket = G.live();
  if (socket) {
    socket.on("offer", (offer) => {
      recordLive("offer", offer);
      renderOffers();
    });
    socket.on("offer_closed", (closed) => {
      const had = state.offers.some((o) => o.id === closed.offer_id);
      recordLive("offer_closed", closed);
      renderOffers();
      if (had && closed.reason !== "accepted") G.say(message, G.apiMessage(closed.reason), false);
    });
    let pendingRefresh = null;
    socket.on("order_updated", () => { told += 1; clearTimeout(pendingRefresh); pendingRefresh = setTimeout(refresh, 300); });
  }
  // On every (re)connect: send what waited, then fetch if the server says something was missed (or the last
  // fetch failed); an offer made while the signal was gone is not lost.
  G.onConnect = (missed) => flush().then(() => (missed !== false || stale() ? refresh() : true));
  window.addEventListener("online", () => flush());
  // Open orders nearby and new ratings are not pushed: a phone taken out of the pocket fetches its lists
  // again if they are over a minute old (each phone at its own moment, unlike a reconnect after a restart).
  document.addEventListener("visibilitychange", () => {
    const age = Date.now() - Date.parse(state.fetchedAt || 0);
    if (document.visibilityState === "visible" && !(age < 60_000)) refresh();
  });
  setInterval(flush, 15000);
  setInterval(tick, 1000);

  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js").catch(() => {});
  showTab();
  renderAll();
  refresh();
})();
