/* The organisers' dashboard (WS /ws/live onto a Leaflet map and a sidebar): plain ES modules,
   no build step, nothing from a CDN. The token lives in this tab's sessionStorage only. */
import { TOKEN_KEY } from "./config.js";
import { state } from "./state.js";
import { showSignIn, signIn, tokenFromUrl } from "./feed.js";
import { cluster, map, selectWalker } from "./map.js";
import { renderChart } from "./sidebar.js";

window.rwDashboard = { state: state, map: map, cluster: cluster, select: selectWalker };

// --- start --------------------------------------------------------------------------------------
renderChart();
var fromUrl = tokenFromUrl();
var saved = fromUrl || sessionStorage.getItem(TOKEN_KEY);
if (saved) signIn(saved).catch(function (err) { showSignIn(err.message); });
else showSignIn("");
