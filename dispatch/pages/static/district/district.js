/* The district office's dashboard: live numbers, the map's details, rollout switches, the weekly plan and
   what-if scenarios followed as jobs, the equity setting. Static file only (CSP script-src 'self'); the
   shared helpers (API with CSRF, Idempotency-Key, the live connection) come from js/common.js. What the
   server draws (numbers, a plan's result, the scenarios side by side) is fetched from /dinas/bagian/<part>. */
"use strict";
(function () {
  const G = window.guru;
  const DATA = G.DATA;
  const T = G.T;
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x == null ? "–" : `${Math.round(x * 100)}%`);
  const fmt = (x) => (x == null ? "–" : Number(x).toLocaleString(G.locale));
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child instanceof Node ? child : String(child ?? ""));
    return node;
  };

  // --- parts the server draws, fetched again when something changed them -----------------------------
  const partBox = { panels: "panels", plan: "plan-part", equity: "equity-part", scenarios: "scenarios-part" };
  async function refresh(part) {
    try {
      const response = await fetch(DATA.parts[part], { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      $(partBox[part]).innerHTML = await response.text();
      if (part === "panels") $("updated").textContent = T.updated.replace("%(time)s", new Date().toLocaleTimeString(G.locale));
    } catch (_) { /* offline: the next event tries again */ }
  }
  let panelsTimer = null;
  const soon = (ms) => { if (!panelsTimer) panelsTimer = setTimeout(() => { panelsTimer = null; refresh("panels"); }, ms ?? 3000); };

  const watchers = {};
  const socket = G.live();
  if (socket) {
    // The page came with this week's numbers; after a dropped connection, fetch them again.
    let connectedOnce = false;
    G.onConnect = () => { if (connectedOnce) soon(100); connectedOnce = true; };
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
    if (info.kind === "kecamatan") add("", info.live ? T.live : T.not_live);
    box.replaceChildren(facts);
    const actions = el("p", { className: "actions" }, el("a", { href: info.url, className: "button" }, T.detail));
    if (info.kind === "kecamatan") {
      const button = el("button", { type: "button", className: "small" }, info.live ? T.switch_off : T.switch_on);
      button.dataset.switch = info.code;
      button.dataset.live = String(!info.live);
      actions.append(button);
    }
    box.append(actions);
  }
  const alertAfter = (node, text) => node.after(el("p", { className: "message bad", role: "alert" }, text));
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
      try {
        const answer = await G.api("PATCH", `/api/v1/kecamatan/${encodeURIComponent(target.dataset.switch)}`,
                                   { live: target.dataset.live === "true" });
        if (!answer.ok) { target.disabled = false; alertAfter(target, message(answer)); return; }
      } catch (_) { target.disabled = false; alertAfter(target, T.failed); return; }
      await refresh("panels");
    }
  });
  document.addEventListener("keydown", (event) => {
    if ((event.key === "Enter" || event.key === " ") && event.target.dataset && event.target.dataset.info) {
      event.preventDefault();
      event.target.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    }
  });

  // --- answers: a message in the page's language, field errors beside their fields -------------------
  function flatErrors(errors, path = []) {
    const out = [];
    if (Array.isArray(errors)) errors.forEach((e) => out.push([path, typeof e === "string" ? e : JSON.stringify(e)]));
    else if (errors && typeof errors === "object") for (const [k, v] of Object.entries(errors)) out.push(...flatErrors(v, [...path, k]));
    return out;
  }
  const message = (answer) => {
    const errors = answer.body && answer.body.errors;
    if (errors) return flatErrors(errors).map(([path, text]) => `${path.slice(1).join(".")}: ${G.apiMessage(text)}`).join(" ");
    return G.apiMessage(answer.body && answer.body.message);
  };
  // A form of one field: its messages alone, without the API's name for it.
  const fieldMessage = (answer) => {
    const errors = flatErrors(answer.body && answer.body.errors);
    return errors.length ? errors.map(([, text]) => G.apiMessage(text)).join(" ") : message(answer);
  };
  function showFieldErrors(form, answer) {
    form.querySelectorAll("[data-error-for]").forEach((node) => { node.textContent = ""; });
    const errors = flatErrors(answer.body && answer.body.errors);
    if (!errors.length) { form.querySelector("[data-error-for=_general]").textContent = message(answer); return; }
    for (const [path, text] of errors) {
      const field = path[path.length - 1];
      const node = form.querySelector(`[data-error-for="${field}"]`) || form.querySelector("[data-error-for=_general]");
      node.textContent = [node.textContent, G.apiMessage(text)].filter(Boolean).join(" ");
    }
  }

  // --- runs: followed by polling, and by run_updated when the worker's events reach this page ---------
  const ENDED = ["done", "failed", "cancelled"];
  function follow(id, onUpdate) {
    return new Promise((resolve) => {
      let finished = false;
      let timer = null;
      const handle = (run) => {
        if (finished) return;
        onUpdate(run);
        if (ENDED.includes(run.status)) { finished = true; delete watchers[id]; clearTimeout(timer); resolve(run); }
      };
      watchers[id] = handle;
      const poll = async () => {
        try { handle(await G.getJson(`/api/v1/matching/runs/${id}`)); } catch (_) { /* keep polling */ }
        if (!finished) timer = setTimeout(poll, 2000);
      };
      poll();
    });
  }
  const statusLabel = (s) => (T.run && T.run[s]) || s;
  // The worker's phase ("week 1/2: with added: search") in the page's words.
  function phaseText(phase) {
    if (!phase) return "";
    const parts = String(phase).split(": ");
    const out = [];
    for (const part of parts) {
      const week = part.match(/^week (\d+)\/(\d+)$/);
      if (week) out.push(T.week_of.replace("%(i)s", week[1]).replace("%(n)s", week[2]));
      else out.push((T.phases && T.phases[part]) || part);
    }
    return out.join(" · ");
  }
  const plusDays = (iso, n) => { const d = new Date(`${iso}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + n); return d.toISOString().slice(0, 10); };
  // A key per intended run: a POST retried after a lost answer (same body) reuses it, so the run is queued once.
  const keys = {};
  const keyFor = (name, body) => {
    const text = JSON.stringify(body);
    if (!keys[name] || keys[name].body !== text) keys[name] = { body: text, key: G.newKey() };
    return keys[name].key;
  };
  const badge = (node, status) => { node.textContent = statusLabel(status); node.className = `badge ${status}`; };

  // --- the weekly plan --------------------------------------------------------------------------------
  let planRun = null;
  async function followPlan(id) {
    planRun = id;
    $("plan-start").disabled = true;
    $("plan-cancel").disabled = false;
    $("plan-cancel").hidden = false;
    $("plan-progress").hidden = false;
    G.say($("plan-message"), "", true);
    const expected = DATA.plan_seconds || 60;
    const run = await follow(id, (r) => {
      badge($("plan-status"), r.status);
      $("plan-phase").textContent = phaseText(r.phase);
      $("plan-coverage").textContent = pct(r.coverage);
      $("plan-bound").textContent = pct(r.bound);
      $("plan-seconds").textContent = Math.round(r.seconds || 0);
      $("plan-bar").value = r.status === "done" ? 100 : Math.min(95, (100 * (r.seconds || 0)) / expected);
    });
    planRun = null;
    $("plan-start").disabled = false;
    $("plan-cancel").hidden = true;
    G.say($("plan-message"), `${statusLabel(run.status)}${run.error ? `: ${run.error}` : ""}`, run.status === "done");
    await Promise.all([refresh("plan"), refresh("equity")]);
    soon(200);
  }
  $("plan-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const week = $("plan-week").value;
    const body = { from: week, to: plusDays(week, 6) };
    $("plan-start").disabled = true;
    G.say($("plan-message"), "", true);
    let answer;
    try {
      answer = await G.api("POST", "/api/v1/matching/runs", body, keyFor("plan", body));
    } catch (_) {
      $("plan-start").disabled = false;
      G.say($("plan-message"), T.failed);
      return;
    }
    if (!answer.ok) { $("plan-start").disabled = false; G.say($("plan-message"), message(answer)); return; }
    delete keys.plan;
    followPlan(answer.body.id);
  });
  $("plan-cancel").addEventListener("click", async () => {
    if (!planRun) return;
    $("plan-cancel").disabled = true;
    const answer = await G.api("POST", `/api/v1/matching/runs/${planRun}/cancel`).catch(() => ({ ok: false, body: {} }));
    if (!answer.ok) { $("plan-cancel").disabled = false; G.say($("plan-message"), message(answer)); }
  });

  // --- what-if hiring: each scenario is added to the comparison the server draws ----------------------
  let whatIfRun = null;
  async function followWhatIf(id) {
    whatIfRun = id;
    $("wi-start").disabled = true;
    $("wi-cancel").disabled = false;
    $("wi-cancel").hidden = false;
    $("wi-progress").hidden = false;
    G.say($("wi-message"), "", true);
    const expected = DATA.whatif_seconds || 40;
    const run = await follow(id, (r) => {
      badge($("wi-status"), r.status);
      $("wi-phase").textContent = phaseText(r.phase);
      $("wi-seconds").textContent = Math.round(r.seconds || 0);
      $("wi-bar").value = r.status === "done" ? 100 : Math.min(95, (100 * (r.seconds || 0)) / expected);
    });
    whatIfRun = null;
    $("wi-start").disabled = false;
    $("wi-cancel").hidden = true;
    G.say($("wi-message"), `${statusLabel(run.status)}${run.error ? `: ${run.error}` : ""}`, run.status === "done");
    if (run.status === "done") await refresh("scenarios");
  }
  $("whatif-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const checked = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((n) => n.value);
    const number = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
    const week = $("wi-week").value;
    const spec = { count: number("wi-count"), subjects: checked("subjects"), levels: checked("levels"),
                   kecamatan_code: $("wi-kecamatan").value, radius_km: number("wi-radius"), max_periods: number("wi-cap") };
    const body = { from: week, to: plusDays(week, 6), add_teachers: [spec] };
    form.querySelectorAll("[data-error-for]").forEach((node) => { node.textContent = ""; });
    if (!spec.subjects.length || !spec.levels.length) {
      if (!spec.subjects.length) form.querySelector("[data-error-for=subjects]").textContent = T.pick_subject;
      if (!spec.levels.length) form.querySelector("[data-error-for=levels]").textContent = T.pick_level;
      return;
    }
    $("wi-start").disabled = true;
    G.say($("wi-message"), "", true);
    let answer;
    try {
      answer = await G.api("POST", "/api/v1/matching/what-if", body, keyFor("what_if", body));
    } catch (_) {
      $("wi-start").disabled = false;
      G.say($("wi-message"), T.failed);
      return;
    }
    if (!answer.ok) { $("wi-start").disabled = false; showFieldErrors(form, answer); return; }
    delete keys.what_if;
    followWhatIf(answer.body.id);
  });
  $("wi-cancel").addEventListener("click", async () => {
    if (!whatIfRun) return;
    $("wi-cancel").disabled = true;
    const answer = await G.api("POST", `/api/v1/matching/runs/${whatIfRun}/cancel`).catch(() => ({ ok: false, body: {} }));
    if (!answer.ok) { $("wi-cancel").disabled = false; G.say($("wi-message"), message(answer)); }
  });

  // A run still going when the page opens (started here before a reload, or from another desk) is followed.
  if (DATA.active && DATA.active.plan) followPlan(DATA.active.plan);
  if (DATA.active && DATA.active.what_if) followWhatIf(DATA.active.what_if);

  // --- equity --------------------------------------------------------------------------------------------
  $("equity-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("equity-floor").value.trim();
    try {
      const answer = await G.api("PATCH", "/api/v1/district", { equity_floor: value === "" ? null : Number(value) });
      G.say($("equity-message"), answer.ok ? T.saved : fieldMessage(answer), answer.ok);
    } catch (_) {
      G.say($("equity-message"), T.failed);
    }
  });
})();
