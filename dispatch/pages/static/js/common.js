/* Shared by the pages: page data, escaping, the API with CSRF and Idempotency-Key, the live connection. */
"use strict";
(function () {
  const dataNode = document.getElementById("page-data");
  const DATA = dataNode ? JSON.parse(dataNode.textContent) : {};
  const T = DATA.t || {};
  const G = (window.guru = { DATA, T });

  G.esc = (text) => {
    const d = document.createElement("div");
    d.textContent = text == null ? "" : String(text);
    return d.innerHTML;
  };
  G.t = (key, values) => {
    let text = T[key] || key;
    for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(String(value));
    return text;
  };
  G.label = (status) => (T.labels && T.labels[status]) || status;
  G.locale = document.documentElement.lang === "en" ? "en-GB" : "id-ID";

  // Lesson times are the district's wall clock (naive ISO). The district's offset from UTC comes with
  // the page, so a countdown is right whatever time zone the phone is set to, even from the offline copy.
  const naiveMs = (iso) => Date.parse(String(iso).slice(0, 19) + "Z");
  const offsetMs = DATA.server_now ? naiveMs(DATA.server_now) - DATA.server_epoch_ms : 0;
  G.districtNowMs = () => Date.now() + offsetMs;
  G.naiveMs = naiveMs;
  G.dateOf = (iso) => new Date(naiveMs(String(iso).slice(0, 10) + "T00:00:00"));
  G.formatDate = (iso) =>
    G.dateOf(iso).toLocaleDateString(G.locale, { weekday: "long", day: "numeric", month: "short", timeZone: "UTC" });
  G.weekdayName = (day) =>
    new Date(Date.UTC(2024, 0, 1 + day)).toLocaleDateString(G.locale, { weekday: "long", timeZone: "UTC" });

  // A key for every action: a retried or queued request does its work once (Idempotency-Key).
  G.newKey = () => {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  };

  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  G.csrf = () => (csrfMeta ? csrfMeta.content : "");
  G.refreshCsrf = async () => {
    const response = await fetch("/csrf", { credentials: "same-origin", cache: "no-store" });
    if (response.ok && csrfMeta) csrfMeta.content = (await response.json()).csrf_token;
  };

  // A write through the API with the page's cookie session. Resolves {ok, status, body};
  // rejects only when the network is gone (the caller may queue it).
  G.api = async (method, url, body, key) => {
    const send = () => {
      const headers = { "X-CSRFToken": G.csrf() };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (key) headers["Idempotency-Key"] = key;
      return fetch(url, { method, headers, credentials: "same-origin",
                          body: body === undefined ? undefined : JSON.stringify(body) });
    };
    let response = await send();
    if (response.status === 400 && response.headers.get("content-type")?.includes("json")) {
      const first = await response.clone().json().catch(() => ({}));
      if (first.errors && first.errors.headers && first.errors.headers["X-CSRFToken"]) {
        await G.refreshCsrf(); // an old page or a queued action: fetch a fresh token once
        response = await send();
      }
    }
    const parsed = await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, body: parsed };
  };
  G.getJson = async (url) => {
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  };

  // API messages are English; the pages say the known ones in the page's language.
  G.apiMessage = (text) => {
    if (!text) return G.t("failed");
    for (const [pattern, key] of G.MESSAGES) {
      const match = String(text).match(pattern);
      if (!match) continue;
      const values = { ...(match.groups || {}) };
      // "2020-01-06 07:30" as the page writes a day: "Senin, 6 Jan 07:30".
      const when = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})$/.exec(values.when || "");
      if (when) values.when = `${G.formatDate(when[1])} ${when[2]}`;
      return G.t(key, values);
    }
    return text;
  };
  G.MESSAGES = [
    [/^Missing data for required field/, "m_required"],
    [/^Field may not be null/, "m_required"],
    [/^Not a valid date/, "m_date"],
    [/^time must be/, "m_time"],
    [/^must be after start/, "m_after_start"],
    [/^must not be before from/, "m_until"],
    [/^(?<when>\S+ \S+) is in the past/, "m_past"],
    [/^overlaps another session/, "m_overlap"],
    [/^give either sessions or weekly/, "m_one_way"],
    [/^the pattern gives no dates/, "m_no_dates"],
    [/^the pattern gives (?<n>\d+) sessions/, "m_too_many"],
    [/^Length must be between/, "m_length"],
    // marshmallow's Range: "Must be greater than or equal to 1 and less than or equal to 2000."
    [/^Must be greater than or equal to (?<min>-?\d+(?:\.\d+)?) and less than or equal to (?<max>-?\d+(?:\.\d+)?)/, "m_range"],
    [/^Must be greater than or equal to (?<min>-?\d+(?:\.\d+)?)/, "m_at_least"],
    [/^Must be less than or equal to (?<max>-?\d+(?:\.\d+)?)/, "m_at_most"],
    [/^Not a valid (number|integer)/, "m_number"],
    [/^Shorter than minimum length/, "m_length"],
    [/^Must be one of/, "m_one_of"],
    [/is an (?<level>\S+); its orders are/, "m_level"],
    [/not on the district's list|unknown subject/i, "m_subject"],
    [/^you are (?<m>\d+) m from the school; check-in works within (?<allowed>\d+) m/, "m_too_far"],
    [/^Check-in opens 30 minutes/, "m_too_early"],
    [/^Check in first/, "m_check_in_first"],
    [/taken/, "m_taken"],
    [/expired/, "m_expired"],
    [/cancelled/, "m_cancelled"],
    [/clash|overlap|travel/i, "m_clash"],
    [/already started/, "m_started"],
    [/once it has started/, "m_not_started"],
  ];

  // The live connection: the cookie session is the login (no token in the page).
  G.live = () => {
    const live = document.getElementById("live");
    const net = document.getElementById("net");
    // Without signal one badge says so ("offline"); the connection's own state would only repeat it.
    const showNet = () => { if (net) { net.hidden = navigator.onLine; live.hidden = !navigator.onLine; } };
    window.addEventListener("online", showNet);
    window.addEventListener("offline", showNet);
    showNet();
    if (typeof io === "undefined") return null;
    // Marks (dispatch/live/marks.py): the highest number up to which this page heard every change to its
    // room. Handed back on reconnect, it lets the server say "nothing missed", and the page fetches nothing:
    // after a server restart hundreds of phones reconnect at once, and their fetches were most of the load.
    let mark = { epoch: null, seq: 0, above: new Set(), trusted: false, generation: 0 };
    const auth = (cb) => cb({ mark: mark.trusted ? { epoch: mark.epoch, seq: mark.seq } : null });
    const socket = io({ transports: ["websocket", "polling"], auth });
    // A process still on older code (a rolling restart) sends no `resume`: then fetch as before. (Its
    // `resume`, sent before the connection is accepted, is handed to this page before the `connect` event.)
    let resumeDue = null, resumedHere = false;
    const resumed = (verdict) => {
      clearTimeout(resumeDue);
      resumedHere = true;
      const generation = mark.generation + 1;
      const missed = !verdict || !!verdict.missed || !verdict.epoch;
      mark = { epoch: (verdict && verdict.epoch) || null, seq: (verdict && verdict.seq) || 0, above: new Set(), trusted: !missed, generation };
      live.dataset.resumed = `${generation}:${missed ? "missed" : "none"}`; // what the last reconnect found
      Promise.resolve(G.onConnect ? G.onConnect(missed) : true).then((ok) => {
        if (mark.generation === generation) mark.trusted = ok === true && !!mark.epoch;
      }, () => { if (mark.generation === generation) mark.trusted = false; });
    };
    socket.on("connect", () => {
      live.textContent = G.t("connected"); live.dataset.state = "on";
      if (!resumedHere) resumeDue = setTimeout(() => resumed(null), 5000);
    });
    socket.on("mark", (data) => {
      const seq = data && data.seq;
      if (!Number.isInteger(seq) || seq <= mark.seq) return;
      mark.above.add(seq); // another process's mark may still be on its way
      while (mark.above.has(mark.seq + 1)) { mark.seq += 1; mark.above.delete(mark.seq); }
    });
    // Right after each (re)connect: whether anything changed that this page did not hear. Trusted again only
    // once a fetch asked after this answer has succeeded (onConnect's promise gives true).
    socket.on("resume", resumed);
    socket.on("disconnect", () => {
      live.textContent = G.t("reconnecting"); live.dataset.state = "off";
      clearTimeout(resumeDue);
      resumedHere = false;
    });
    socket.on("connect_error", () => { live.textContent = G.t("not_connected"); live.dataset.state = "off"; });
    // Live push came back after an outage (Redis): events made meanwhile were not pushed. Fetch again, as
    // on a reconnect, at a random moment within the spread the server asks for, so that 1,500 phones do
    // not all ask in the same second.
    // Each process that missed pushing to this phone says so: one fetch answers them all.
    let resyncDue = null;
    socket.on("resync", (data) => {
      if (resyncDue) return;
      const spread = Math.max(1, Math.min(60, Number(data && data.spread_seconds) || 5));
      resyncDue = setTimeout(() => { resyncDue = null; G.onConnect && G.onConnect(true); }, Math.random() * spread * 1000);
    });
    return socket;
  };

  // A fetch answers for the moment it was asked. Live events that arrived while it was on its way are
  // handed back with its answer, to be applied again on top of it, and the answer of an older fetch that
  // arrives after a newer one's is dropped (null): a slow answer never hides what was pushed meanwhile.
  G.liveLog = () => {
    const events = []; // [sequence, event] since the oldest fetch still on its way
    const asked = new Map(); // fetch number -> the live sequence when it was asked
    let sequence = 0, fetches = 0, applied = 0;
    return {
      push(event) { sequence += 1; if (asked.size) events.push([sequence, event]); },
      async fetch(load) {
        const number = ++fetches;
        asked.set(number, sequence);
        try {
          const answer = await load();
          if (number < applied) return null;
          applied = number;
          return { answer, since: events.filter(([s]) => s > asked.get(number)).map(([, event]) => event) };
        } finally {
          asked.delete(number);
          const oldest = Math.min(...asked.values(), sequence);
          while (events.length && events[0][0] <= oldest) events.shift();
        }
      },
    };
  };

  G.say = (node, text, good) => {
    node.textContent = text;
    node.classList.toggle("good", !!good);
    node.classList.toggle("bad", !good);
  };
})();
