/* The page's configuration from the server (routes, check-in points, statuses) and timings. */

var CONFIG = JSON.parse(document.getElementById("rw-config").textContent);
var TOKEN_KEY = "refugee-walk.organiser-token";
var STATUS = {};
CONFIG.statuses.forEach(function (s) { STATUS[s.id] = s; });
var ROUTES = {};
CONFIG.routes.forEach(function (r) { ROUTES[r.id] = r; });
var MOVE_IN_BULK = 40; // above this many moved markers, re-add them to the cluster in one go
var MOVE_EVERY_MS = 250; // moves are applied together (the feed sends a batch every 250 ms)
var CLUSTERED_SLACK_PX = 6; // a marker hidden in a cluster moves once it went this far
var STALE_FEED_MS = 45000; // the server pings every 20 s when quiet
var DETAIL_REFRESH_MS = 3000;

export { CLUSTERED_SLACK_PX, CONFIG, DETAIL_REFRESH_MS, MOVE_EVERY_MS, MOVE_IN_BULK, ROUTES, STALE_FEED_MS, STATUS, TOKEN_KEY };
