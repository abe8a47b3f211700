/* The monthly report's one button: the browser's print dialog (print or save as PDF). */
"use strict";
document.getElementById("print")?.addEventListener("click", () => window.print());
