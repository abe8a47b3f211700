/* A school's week on the district's pages: drawn again when one of its orders changes (order_updated in the
   district's room), so the district office watches bookings arrive. Static file only (CSP). */
"use strict";
(function () {
  const G = window.guru;
  const socket = G.live();
  if (!socket) return;
  let timer = null;
  const redraw = async () => {
    timer = null;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html").getElementById("school-detail");
      if (fresh) document.getElementById("school-detail").replaceWith(fresh);
    } catch (_) { /* offline: the next event tries again */ }
  };
  socket.on("order_updated", (order) => {
    if (order && order.school_id === G.DATA.school_id && !timer) timer = setTimeout(redraw, 1000);
  });
})();
