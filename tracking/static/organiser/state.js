/* What the page knows (walkers, alerts, the token) and the organiser REST API. */
import { signOut } from "./feed.js";

var state = {
  token: null,
  walkers: new Map(), // id -> {w: compact state, marker: L.CircleMarker | null, shown: bool}
  alerts: new Map(), // id -> alert
  alertKind: null, // the alert list shows only this kind (null: all)
  overview: null,
  selected: null,
  hidden: new Set(),
  ws: null,
  failures: 0,
  lastMessageAt: 0,
  stats: { messages: 0, snapshots: 0, walkerUpdates: 0, alerts: 0 },
};

// --- REST -----------------------------------------------------------------------------------
function api(path, options) {
  options = options || {};
  var headers = Object.assign({ Authorization: "Bearer " + state.token }, options.headers || {});
  return fetch(path, Object.assign({}, options, { headers: headers })).then(function (res) {
    if (res.status === 401) {
      signOut("The organiser token was not accepted. Sign in again.");
      throw new Error("unauthorised");
    }
    if (!res.ok) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        throw new Error(body.detail || res.status + " " + res.statusText);
      });
    }
    return res;
  });
}

function apiJson(path, options) { return api(path, options).then(function (r) { return r.json(); }); }

function postJson(path, body) {
  return apiJson(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export { api, apiJson, postJson, state };
