/* Favourite and blocked teachers, chosen by name; saved through the API (PUT favourites, PUT blocked). */
"use strict";
(function () {
  const G = window.guru, t = G.t;
  const form = document.getElementById("teacher-lists");
  const message = document.getElementById("message");
  const error = form.querySelector("[data-error-for=teacher_ids]");
  document.getElementById("teacher-search").addEventListener("input", (event) => {
    const needle = event.target.value.trim().toLowerCase();
    form.querySelectorAll("tbody tr").forEach((row) => { row.hidden = needle && !row.dataset.name.includes(needle); });
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const ids = (name) => [...form.querySelectorAll(`input[name=${name}]:checked`)].map((c) => Number(c.value));
    const base = `/api/v1/schools/${G.DATA.school_id}`;
    try {
      // Blocked first: a teacher moved from favourite to blocked (or back) is never in both at once.
      const favourites = ids("favourite"), blocked = ids("blocked");
      const order = [["blocked", blocked.filter((id) => !favourites.includes(id))], ["favourites", favourites], ["blocked", blocked]];
      for (const [which, list] of order) {
        const result = await G.api("PUT", `${base}/${which}`, { teacher_ids: list }, G.newKey());
        if (!result.ok) {
          const errors = (result.body.errors && result.body.errors.json) || {};
          error.textContent = G.apiMessage(Object.values(errors).flat()[0] || result.body.message);
          G.say(message, error.textContent, false);
          return;
        }
      }
      G.say(message, t("saved"), true);
    } catch (e) { G.say(message, t("failed"), false); }
  });
  G.live();
})();
