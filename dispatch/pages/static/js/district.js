/* The district page's live status (its own page is the district-office engineer's). */
"use strict";
window.guru.live();
