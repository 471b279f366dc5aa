/* Sign-in and the live feed (WS /ws/live): snapshot, walker batches, check-ins, alerts. */
import { STALE_FEED_MS, TOKEN_KEY } from "./config.js";
import { $, later } from "./dom.js";
import { state } from "./state.js";
import { applyWalkers, removeWalker } from "./map.js";
import { applyAlert, applyOverview, loadAlerts, refreshDetail } from "./sidebar.js";

// --- sign-in ----------------------------------------------------------------------------------
function base64url(text) {
  var bytes = new TextEncoder().encode(text), binary = "";
  for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function tokenFromUrl() {
  var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  var query = new URLSearchParams(location.search);
  var token = hash.get("token") || query.get("token");
  if (token) history.replaceState(null, "", location.pathname); // never keep it in the URL
  return token;
}

function showSignIn(message) {
  $("rw-signin").hidden = false;
  var error = $("rw-signin-error");
  error.hidden = !message;
  error.textContent = message || "";
  $("rw-token").focus();
}

function checkToken(token) {
  return fetch("/api/overview", { headers: { Authorization: "Bearer " + token } }).then(function (res) {
    if (res.status === 401) throw new Error("That is not the organiser token.");
    if (!res.ok) throw new Error("The server answered " + res.status + "; try again.");
    return res.json();
  });
}

function signIn(token) {
  return checkToken(token).then(function (overview) {
    state.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("rw-signin").hidden = true;
    $("rw-token").value = "";
    applyOverview(overview);
    start();
  });
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  if (state.ws) { state.ws.onclose = null; state.ws.close(); state.ws = null; }
  setConnection("idle", "Signed out");
  showSignIn(message);
}

$("rw-signin-form").addEventListener("submit", function (ev) {
  ev.preventDefault();
  var token = $("rw-token").value.trim();
  signIn(token).catch(function (err) { showSignIn(err.message); });
});
$("rw-signout").addEventListener("click", function () { signOut(""); });

// --- the live feed ----------------------------------------------------------------------------
function start() {
  connect();
  loadAlerts();
}

function setConnection(kind, text) {
  var c = $("rw-conn");
  c.dataset.state = kind;
  c.textContent = text;
  document.body.dataset.connection = kind;
}

function connect() {
  if (!state.token) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  // The token goes in Sec-WebSocket-Protocol (base64url), never in the URL (URLs get logged).
  var ws = new WebSocket(scheme + location.host + "/ws/live", ["refugee-walk", "bearer." + base64url(state.token)]);
  state.ws = ws;
  setConnection("connecting", state.failures ? "Reconnecting…" : "Connecting…");
  ws.onmessage = function (ev) {
    state.lastMessageAt = Date.now();
    state.stats.messages++;
    onMessage(JSON.parse(ev.data));
  };
  ws.onopen = function () { state.lastMessageAt = Date.now(); };
  ws.onclose = function () {
    if (state.ws !== ws) return;
    state.ws = null;
    state.failures++;
    setConnection("offline", "Connection lost — retrying");
    var delay = Math.min(10000, 500 * Math.pow(2, Math.min(state.failures, 5))) + Math.random() * 500;
    setTimeout(function () {
      if (state.failures >= 3) {
        checkToken(state.token).then(connect, function (err) {
          if (/organiser token/.test(err.message)) signOut("The organiser token is no longer valid.");
          else connect();
        });
      } else connect();
    }, delay);
  };
}

setInterval(function () {
  if (state.ws && state.ws.readyState === 1 && Date.now() - state.lastMessageAt > STALE_FEED_MS) {
    state.ws.close(); // a silent connection is a dead one: onclose reconnects
  }
}, 5000);

function onMessage(msg) {
  switch (msg.type) {
    case "snapshot":
      state.failures = 0;
      state.stats.snapshots++;
      setConnection("live", "Live");
      applyWalkers(msg.walkers, true);
      applyOverview(msg.overview);
      if (state.stats.snapshots > 1) loadAlerts(); // events may have been skipped meanwhile
      break;
    case "walkers":
      applyWalkers(msg.walkers, false);
      break;
    case "overview":
      applyOverview(msg);
      break;
    case "alert":
      applyAlert(msg);
      break;
    case "checkin":
      if (msg.walker_id === state.selected) later("detail", refreshDetail, 300);
      break;
    case "removed":
      removeWalker(msg.walker_id);
      break;
    default:
      break; // "ping"
  }
}

export { checkToken, connect, onMessage, setConnection, showSignIn, signIn, signOut, start, tokenFromUrl };
