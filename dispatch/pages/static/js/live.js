/* Pages that only show the connection state (the district placeholder, the rating card). */
"use strict";
window.guru.live();
