/* The monthly report's one button: the browser's print dialog (print or save as PDF). A printed document
   has no live connection, so the header's connection badge is left off. */
"use strict";
document.getElementById("print")?.addEventListener("click", () => window.print());
const liveBadge = document.getElementById("live");
if (liveBadge) liveBadge.hidden = true;
