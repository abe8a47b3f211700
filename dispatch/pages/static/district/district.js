/* The district office's dashboard: live numbers, the map's details, rollout switches, the weekly plan,
   what-if scenarios side by side, the equity setting. Static file only (CSP script-src 'self'). */
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("district-data").textContent);
  const T = DATA.t;
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x == null ? "–" : `${Math.round(x * 100)}%`);
  const fmt = (x) => (x == null ? "–" : Number(x).toLocaleString(document.documentElement.lang === "en" ? "en-GB" : "id-ID"));
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
    return node;
  };

  // --- the API with the page's cookie session (and the CSRF token, where the page carries one) -------
  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
  // A solver run is posted without an Idempotency-Key (the button is disabled until it ends): before the
  // job queue, the run's thread and the key's record raced for SQLite's write lock and the run failed.
  async function api(method, url, body, idempotent = true) {
    const headers = { "X-CSRFToken": csrf() };
    if (idempotent) headers["Idempotency-Key"] = crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2);
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
    const parsed = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: parsed };
  }
  const getJson = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  };
  const problem = (answer) => {
    const errors = answer.body && answer.body.errors;
    if (errors) return Object.values(errors).map((e) => JSON.stringify(e)).join(" ");
    return (answer.body && answer.body.message) || T.failed;
  };

  // --- live: refresh the numbers a few seconds after bookings change them ----------------------------
  let refreshTimer = null;
  async function refreshPanels() {
    refreshTimer = null;
    try {
      const response = await fetch(DATA.refresh, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      $("panels").innerHTML = await response.text();
      $("updated").textContent = T.updated.replace("%(time)s", new Date().toLocaleTimeString());
    } catch (_) { /* offline: the next event tries again */ }
  }
  const soon = (ms) => { if (!refreshTimer) refreshTimer = setTimeout(refreshPanels, ms ?? 3000); };
  async function refreshRuns() {
    const response = await fetch(DATA.runs_part, { credentials: "same-origin", cache: "no-store" });
    if (response.ok) $("runs").innerHTML = await response.text();
  }

  const live = $("live");
  if (typeof io !== "undefined") {
    const socket = io({ transports: ["websocket", "polling"] });
    socket.on("connect", () => { if (live) { live.textContent = T.connected; live.dataset.state = "on"; } soon(100); });
    socket.on("disconnect", () => { if (live) { live.textContent = T.reconnecting; live.dataset.state = "off"; } });
    socket.on("connect_error", () => { if (live) { live.textContent = T.not_connected; live.dataset.state = "off"; } });
    socket.on("order_updated", () => soon());
    socket.on("run_updated", (run) => { if (watchers[run.id]) watchers[run.id](run); });
  }

  // --- the map's details, the long tables, the rollout switches --------------------------------------
  function showInfo(info) {
    const box = $("info");
    $("info-title").textContent = `${info.kind === "school" ? T.school : T.kecamatan}: ${info.name}`;
    const facts = el("dl");
    const add = (term, value) => facts.append(el("dt", {}, term), el("dd", {}, value));
    add(T.requested, fmt(info.periods));
    add(T.booked, fmt(info.booked));
    add(T.held, fmt(info.held));
    add(T.unfilled, fmt(info.unfilled));
    add(T.te, fmt(info.te));
    add(T.coverage, info.coverage == null ? T.no_lessons : pct(info.coverage));
    box.replaceChildren(facts);
    const actions = el("p", { className: "actions" }, el("a", { href: info.url, className: "button" }, T.detail));
    if (info.kind === "kecamatan") {
      add("", info.live ? T.live : T.not_live);
      const button = el("button", { type: "button", className: "small" }, info.live ? T.switch_off : T.switch_on);
      button.dataset.switch = info.code;
      button.dataset.live = String(!info.live);
      actions.append(button);
    }
    box.append(actions);
  }
  document.addEventListener("click", async (event) => {
    const target = event.target.closest("[data-info], [data-show-all], [data-switch]");
    if (!target) return;
    if (target.dataset.info) {
      document.querySelectorAll(".map .selected").forEach((n) => n.classList.remove("selected"));
      target.classList.add("selected");
      showInfo(JSON.parse($("map-data").textContent)[target.dataset.info]);
    } else if (target.dataset.showAll) {
      $(target.dataset.showAll).classList.add("all");
      target.remove();
    } else if (target.dataset.switch) {
      target.disabled = true;
      const answer = await api("PATCH", `/api/v1/kecamatan/${encodeURIComponent(target.dataset.switch)}`, { live: target.dataset.live === "true" });
      if (!answer.ok) { target.disabled = false; alertIn(target, problem(answer)); return; }
      await refreshPanels();
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.dataset && event.target.dataset.info) {
      event.preventDefault();
      event.target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  });
  const alertIn = (node, text) => { const p = el("p", { className: "message bad", role: "alert" }, text); node.after(p); };
  const say = (node, text, good) => { node.textContent = text; node.classList.toggle("good", !!good); node.classList.toggle("bad", !good); };

  // --- runs: follow one by polling (and by run_updated when the worker's events reach this page) -----
  const watchers = {};
  function follow(id, onUpdate) {
    return new Promise((resolve) => {
      let finished = false;
      const handle = (run) => {
        if (finished) return;
        onUpdate(run);
        if (["done", "failed", "cancelled"].includes(run.status)) { finished = true; delete watchers[id]; clearInterval(timer); resolve(run); }
      };
      watchers[id] = handle;
      const poll = async () => { try { handle(await getJson(`/api/v1/matching/runs/${id}`)); } catch (_) { /* keep polling */ } };
      const timer = setInterval(poll, 1500);
      poll();
    });
  }
  const statusLabel = (s) => ({ queued: T.queued, running: T.running, done: T.done, failed: T.failed_run, cancelled: T.cancelled }[s] || s);
  const plusDays = (iso, n) => { const d = new Date(`${iso}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };

  // --- the weekly plan --------------------------------------------------------------------------------
  let planRun = null;
  $("plan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const week = $("plan-week").value;
    $("plan-start").disabled = true;
    say($("plan-message"), "", true);
    const answer = await api("POST", "/api/v1/matching/runs", { from: week, to: plusDays(week, 6) }, false);
    if (!answer.ok) { $("plan-start").disabled = false; say($("plan-message"), problem(answer)); return; }
    planRun = answer.body.id;
    $("plan-progress").hidden = false;
    $("plan-result").hidden = true;
    const expected = DATA.plan_seconds || 60;
    const run = await follow(planRun, (r) => {
      $("plan-status").textContent = statusLabel(r.status);
      $("plan-phase").textContent = r.phase ? `${T.phase}: ${r.phase}` : "";
      $("plan-coverage").textContent = pct(r.coverage);
      $("plan-bound").textContent = pct(r.bound);
      $("plan-seconds").textContent = Math.round(r.seconds || 0);
      $("plan-bar").value = r.status === "done" ? 100 : Math.min(95, (100 * (r.seconds || 0)) / expected);
    });
    $("plan-start").disabled = false;
    showPlan(run);
    refreshRuns();
    soon(200);
  });
  $("plan-cancel").addEventListener("click", async () => {
    if (planRun) { const answer = await api("POST", `/api/v1/matching/runs/${planRun}/cancel`); if (!answer.ok) say($("plan-message"), problem(answer)); }
  });
  function showPlan(run) {
    const box = $("plan-result");
    box.replaceChildren();
    if (run.status !== "done") { say($("plan-message"), `${statusLabel(run.status)}${run.error ? `: ${run.error}` : ""}`); return; }
    say($("plan-message"), statusLabel(run.status), true);
    const facts = el("dl", { className: "facts" });
    const add = (term, value) => facts.append(el("dt", {}, term), el("dd", {}, value));
    add(T.coverage, pct(run.coverage));
    add(T.ratio, run.bound ? pct(run.coverage / run.bound) : "–");
    add(T.offers, fmt(run.offers));
    add(T.seconds, Math.round(run.seconds || 0));
    box.append(facts);
    const areas = (run.detail && run.detail.equity && run.detail.equity.by_kecamatan) || [];
    if (areas.length) {
      const table = el("table", { className: "dtable", id: "plan-areas" });
      table.append(el("thead", {}, el("tr", {}, el("th", {}, T.kecamatan), el("th", { className: "n" }, T.requested), el("th", { className: "n" }, T.booked), el("th", { className: "n" }, T.coverage))));
      const body = el("tbody");
      for (const a of areas) body.append(el("tr", {}, el("th", {}, a.name), el("td", { className: "n" }, fmt(a.periods)), el("td", { className: "n" }, fmt(a.covered_periods)), el("td", { className: "n" }, pct(a.coverage))));
      table.append(body);
      box.append(el("div", { className: "table-wrap" }, table));
    }
    box.hidden = false;
  }

  // --- what-if hiring: each scenario a card beside the others -----------------------------------------
  const names = DATA.kecamatan || {};
  function scenarioCard(run) {
    const spec = (run.params && run.params.add_teachers && run.params.add_teachers[0]) || {};
    const r = run.result;
    const card = el("article", { className: "scenario", id: `scenario-${run.id}` });
    card.append(el("h4", {}, `${T.scenario} #${run.id}: +${spec.count} ${(spec.subjects || []).join(", ")} (${(spec.levels || []).join(", ")}), ${names[spec.kecamatan_code] || spec.kecamatan_code}, ${spec.radius_km} km, ${spec.max_periods} ${T.periods}`));
    const head = el("p");
    head.append(`${T.before} ${pct(r.before.coverage)} → ${T.after} ${pct(r.after.coverage)} `, el("span", { className: "gain" }, `+${pct(r.gain.coverage)}`),
      ` · +${fmt(r.gain.covered_periods)} ${T.periods} · +${fmt(r.gain.teacher_equivalents)} ${T.te.split(" ")[0]}`);
    card.append(head);
    const table = (title, beforeRows, afterRows, label) => {
      const after = Object.fromEntries(afterRows.map((x) => [x.key, x]));
      const t = el("table", { className: "dtable" });
      t.append(el("thead", {}, el("tr", {}, el("th", {}, title), el("th", { className: "n" }, T.before), el("th", { className: "n" }, T.after), el("th", { className: "n" }, `+${T.periods}`), el("th", { className: "n" }, `+${T.te.split(" ")[0]}`))));
      const body = el("tbody");
      const rows = beforeRows.map((b) => ({ b, a: after[b.key] || b })).sort((x, y) => (y.a.covered_periods - y.b.covered_periods) - (x.a.covered_periods - x.b.covered_periods));
      for (const { b, a } of rows) {
        const tr = el("tr", { className: a.covered_periods > b.covered_periods ? "up" : "" }, el("th", {}, label(b.key)), el("td", { className: "n" }, pct(b.coverage)), el("td", { className: "n" }, pct(a.coverage)),
          el("td", { className: "n" }, fmt(a.covered_periods - b.covered_periods)), el("td", { className: "n" }, fmt(Math.round((a.teacher_equivalents - b.teacher_equivalents) * 10) / 10)));
        body.append(tr);
      }
      t.append(body);
      return el("div", { className: "table-wrap" }, t);
    };
    card.append(table(T.kecamatan, r.before.by_kecamatan, r.after.by_kecamatan, (k) => names[k] || k));
    const details = el("details", {}, el("summary", {}, T.subject));
    details.append(table(T.subject, r.before.by_subject, r.after.by_subject, (k) => k));
    card.append(details);
    return card;
  }
  function addScenario(run) {
    if (!run.result || $(`scenario-${run.id}`)) return;
    $("no-scenarios")?.remove();
    $("scenarios").prepend(scenarioCard(run));
  }
  (async () => {
    try {
      const runs = await getJson("/api/v1/matching/runs");
      runs.filter((r) => r.kind === "what_if" && r.status === "done" && r.result).slice(0, 6).reverse().forEach(addScenario);
    } catch (_) { /* no list: scenarios of this visit only */ }
  })();
  $("whatif-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((n) => n.value);
    const week = $("wi-week").value;
    const body = { from: week, to: plusDays(week, 6), add_teachers: [{
      count: Number($("wi-count").value), subjects: checked("subjects"), levels: checked("levels"), kecamatan_code: $("wi-kecamatan").value,
      radius_km: Number($("wi-radius").value), max_periods: Number($("wi-cap").value) }] };
    $("wi-start").disabled = true;
    say($("wi-message"), "", true);
    const answer = await api("POST", "/api/v1/matching/what-if", body, false);
    if (!answer.ok) { $("wi-start").disabled = false; say($("wi-message"), problem(answer)); return; }
    $("wi-progress").hidden = false;
    const expected = DATA.whatif_seconds || 40;
    const run = await follow(answer.body.id, (r) => {
      $("wi-phase").textContent = `${statusLabel(r.status)}${r.phase ? ` · ${r.phase}` : ""}`;
      $("wi-seconds").textContent = Math.round(r.seconds || 0);
      $("wi-bar").value = r.status === "done" ? 100 : Math.min(95, (100 * (r.seconds || 0)) / expected);
    });
    $("wi-start").disabled = false;
    if (run.status === "done") { say($("wi-message"), statusLabel(run.status), true); addScenario(run); }
    else say($("wi-message"), `${statusLabel(run.status)}${run.error ? `: ${run.error}` : ""}`);
  });

  // --- equity --------------------------------------------------------------------------------------------
  $("equity-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("equity-floor").value.trim();
    const answer = await api("PATCH", "/api/v1/district", { equity_floor: value === "" ? null : Number(value) });
    say($("equity-message"), answer.ok ? T.saved : problem(answer), answer.ok);
  });
})();
