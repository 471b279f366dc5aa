/*
 * The organisers' dashboard: applies the live feed (WS /ws/live) to a Leaflet map and sidebar.
 *
 * Plain JavaScript, no framework, nothing from a CDN. Names, teams and every other string that
 * a person typed are hostile input: they reach the page only through textContent and text nodes,
 * never innerHTML. The organiser token lives in this tab's sessionStorage, never in the URL.
 */
(function () {
  "use strict";

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

  var map = window.RW_MAP || findMap();
  map.createPane("rwWalkers").style.zIndex = 450;
  map.createPane("rwSelection").style.zIndex = 640;
  map.getPane("rwSelection").style.pointerEvents = "none";
  var cluster = L.markerClusterGroup({
    chunkedLoading: true,
    chunkInterval: 120,
    chunkDelay: 30,
    showCoverageOnHover: false,
    disableClusteringAtZoom: 17,
    maxClusterRadius: function (zoom) { return zoom >= 15 ? 35 : 60; },
    iconCreateFunction: clusterIcon,
  }).addTo(map);
  var trackLine = null;
  var selectionRing = null;

  window.rwDashboard = { state: state, map: map, cluster: cluster, select: selectWalker };

  // --- small helpers ------------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }

  function findMap() {
    var div = document.querySelector(".folium-map");
    return div && window[div.id];
  }

  /* el("td", {className: "x"}, "text", child): text is always a text node. */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    var key;
    for (key in attrs || {}) {
      if (key === "style") Object.assign(node.style, attrs.style);
      else if (key === "dataset") Object.assign(node.dataset, attrs.dataset);
      else if (key === "on") Object.keys(attrs.on).forEach(function (ev) { node.addEventListener(ev, attrs.on[ev]); });
      else node[key] = attrs[key];
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach(function (c) { append(node, c); });
    else node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function svg(tag, attrs) {
    var node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function num(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("en-GB"); }

  function km(m) { return m === null || m === undefined ? "–" : (m / 1000).toFixed(1) + " km"; }

  var timeFormat = new Intl.DateTimeFormat("en-GB", {
    hour: "2-digit", minute: "2-digit", timeZone: CONFIG.event.timezone,
  });

  function clock(iso) { return iso ? timeFormat.format(new Date(iso)) : "–"; }

  function ago(iso) {
    if (!iso) return "–";
    var s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 60) return Math.round(s) + " s ago";
    if (s < 3600) return Math.round(s / 60) + " min ago";
    return Math.floor(s / 3600) + " h " + Math.round((s % 3600) / 60) + " min ago";
  }

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function statusChip(status) {
    var s = STATUS[status] || { label: status, colour: "#868e96" };
    return el("span", { className: "rw-chip", style: { background: s.colour } }, s.label);
  }

  function dot(colour) { return el("span", { className: "rw-dot", style: { background: colour } }); }

  var timers = {};
  function later(name, fn, ms) {
    if (timers[name]) return;
    timers[name] = setTimeout(function () { timers[name] = null; fn(); }, ms);
  }

  function toast(text, onClick) {
    var box = $("rw-toast");
    box.textContent = text;
    box.hidden = false;
    box.onclick = function () { box.hidden = true; if (onClick) onClick(); };
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 8000);
  }

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

  function removeWalker(id) {
    var entry = state.walkers.get(id);
    if (!entry) return;
    if (entry.shown) cluster.removeLayers([entry.marker]);
    pendingMoves.delete(id);
    state.walkers.delete(id);
    later("chart", renderChart, 1000);
    if ($("rw-search").value) later("search", renderResults, 1000);
  }

  // --- walkers on the map -----------------------------------------------------------------------
  function markerStyle(status) {
    var s = STATUS[status] || { colour: "#868e96" };
    return {
      pane: "rwWalkers",
      radius: s.urgent ? 8 : 6,
      color: "#ffffff",
      weight: s.urgent ? 2.5 : 1.5,
      fillColor: s.colour,
      fillOpacity: 0.95,
    };
  }

  function makeMarker(w) {
    var m = L.circleMarker([w.lat, w.lon], Object.assign(markerStyle(w.s), { className: "rw-walker" }));
    m.rwId = w.id;
    m.options.rwStatus = w.s;
    m.bindTooltip(function () {
      var entry = state.walkers.get(m.rwId);
      return entry ? walkerTooltip(entry.w) : "";
    }, { direction: "top", offset: [0, -6] });
    m.on("click", function () { selectWalker(m.rwId, { fly: false }); });
    return m;
  }

  function walkerTooltip(w) {
    var route = ROUTES[w.r];
    return el("div", null,
      el("div", { className: "rw-tip-name" }, w.n, w.b ? "  #" + w.b : ""),
      el("div", { className: "rw-tip-line" }, (STATUS[w.s] || {}).label || w.s,
        " · ", route ? route.name : w.r, w.pct !== null && w.pct !== undefined ? " · " + w.pct + " %" : ""),
      w.t ? el("div", { className: "rw-tip-line" }, "position ", ago(new Date(w.t * 1000).toISOString())) : null);
  }

  function clusterIcon(group) {
    var children = group.getAllChildMarkers();
    var urgent = 0;
    var help = false;
    for (var i = 0; i < children.length; i++) {
      var status = children[i].options.rwStatus;
      if (STATUS[status] && STATUS[status].urgent) urgent++;
      if (status === "needs_help") help = true;
    }
    var n = group.getChildCount();
    var size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 44 : 52;
    var div = el("div", null, el("span", null, n < 1000 ? String(n) : (n / 1000).toFixed(1) + "k"),
      urgent ? el("b", { title: urgent + " need attention" }, String(urgent)) : null);
    return L.divIcon({
      html: div, className: "rw-cluster" + (help ? " rw-cluster-help" : ""), iconSize: [size, size],
    });
  }

  function shouldShow(w) {
    return w.lat !== null && w.lat !== undefined && !state.hidden.has(w.s);
  }

  function applyWalkers(list, snapshot) {
    var add = [];
    var remove = [];
    var moved = [];
    var restyled = [];
    var seen = snapshot ? new Set() : null;
    list.forEach(function (w) {
      if (seen) seen.add(w.id);
      var entry = state.walkers.get(w.id);
      if (!entry) {
        entry = { w: w, marker: null, shown: false };
        state.walkers.set(w.id, entry);
      } else {
        // a batch built before our snapshot may arrive after it: never move a walker back in time
        if (!snapshot && entry.w.t && w.t && w.t < entry.w.t) return;
        entry.w = w;
      }
      state.stats.walkerUpdates++;
      var want = shouldShow(w);
      if (!want) {
        if (entry.shown) { remove.push(entry.marker); entry.shown = false; }
        return;
      }
      if (!entry.marker) {
        entry.marker = makeMarker(w);
        entry.shown = true;
        add.push(entry.marker);
        return;
      }
      var m = entry.marker;
      if (m.options.rwStatus !== w.s) {
        m.setStyle(markerStyle(w.s));
        m.options.rwStatus = w.s;
        restyled.push(m);
      }
      var ll = m.getLatLng();
      var changed = ll.lat !== w.lat || ll.lng !== w.lon;
      if (!entry.shown) {
        m.setLatLng([w.lat, w.lon]);
        entry.shown = true;
        add.push(m);
      } else if (changed) {
        moved.push(entry);
      }
    });
    if (seen) {
      state.walkers.forEach(function (entry, id) {
        if (!seen.has(id)) {
          if (entry.shown) remove.push(entry.marker);
          entry.shown = false;
          state.walkers.delete(id);
        }
      });
    }
    moved.forEach(function (e) { pendingMoves.set(e.w.id, e); });
    if (moved.length) later("moves", function () { flushMoves(false); }, MOVE_EVERY_MS);
    if (remove.length) cluster.removeLayers(remove);
    if (add.length) cluster.addLayers(add);
    if (restyled.length) cluster.refreshClusters(restyled);
    var selected = state.selected && state.walkers.get(state.selected);
    if (selected && list.indexOf(selected.w) >= 0) onSelectedMoved(selected.w);
    later("chart", renderChart, 1000);
    if ($("rw-search").value) later("search", renderResults, 1000);
  }

  /*
   * Moving a marker inside the cluster group means taking it out of the cluster tree and
   * putting it back. At 20,000 walkers that is 2,000 moves a second, nearly all of them a few
   * metres inside a cluster at the current zoom. So moves wait until the marker is shown on
   * its own, or has gone a few pixels at this zoom; zooming applies every waiting move.
   */
  var pendingMoves = new Map(); // id -> entry whose marker is not yet where the walker is

  function metresPerPixel() {
    var lat = map.getCenter().lat * Math.PI / 180;
    return 40075016.686 * Math.cos(lat) / Math.pow(2, map.getZoom() + 8);
  }

  function flushMoves(all) {
    var due = [];
    var slack = CLUSTERED_SLACK_PX * metresPerPixel();
    pendingMoves.forEach(function (e, id) {
      var m = e.marker;
      if (!m || !e.shown || e.w.lat === null || e.w.lat === undefined) { pendingMoves.delete(id); return; }
      var target = L.latLng(e.w.lat, e.w.lon);
      if (!all && id !== state.selected && cluster.getVisibleParent(m) !== m &&
          m.getLatLng().distanceTo(target) < slack) return; // hidden in its cluster: later
      due.push(e);
      pendingMoves.delete(id);
    });
    if (due.length > MOVE_IN_BULK) {
      var markers = due.map(function (e) { return e.marker; });
      cluster.removeLayers(markers);
      due.forEach(function (e) { e.marker.setLatLng([e.w.lat, e.w.lon]); });
      cluster.addLayers(markers);
    } else {
      due.forEach(function (e) { e.marker.setLatLng([e.w.lat, e.w.lon]); });
    }
  }

  map.on("zoomend", function () { flushMoves(true); });

  // --- overview: counts, routes, check-in points ---------------------------------------------------
  function applyOverview(overview) {
    if (!overview || !overview.routes) return;
    state.overview = overview;
    renderKpis();
    renderStatusTable();
    renderRoutes();
    updateCheckinTooltips();
  }

  function totalStatus(id) {
    var total = 0;
    Object.keys(state.overview.routes).forEach(function (r) { total += state.overview.routes[r].statuses[id] || 0; });
    return total;
  }

  function renderKpis() {
    var o = state.overview;
    var open = openAlertCount();
    var kpis = [
      ["Walkers", o.walkers],
      ["On the way", ["walking", "resting", "not_moving", "at_checkpoint", "off_route"].reduce(function (n, s) { return n + totalStatus(s); }, 0)],
      ["Finished", o.finished],
      ["Need help", totalStatus("needs_help")],
      ["Open alerts", open, "rw-kpi-alert" + (open ? " rw-hot" : "")],
      ["km walked", Math.round(o.total_km)],
    ];
    append(clear($("rw-kpis")), kpis.map(function (k) {
      return el("div", { className: "rw-kpi " + (k[2] || "") }, el("b", null, num(k[1])), el("span", null, k[0]));
    }));
  }

  function renderStatusTable() {
    var o = state.overview;
    var routeIds = Object.keys(o.routes);
    var table = clear($("rw-status"));
    table.appendChild(el("thead", null, el("tr", null, el("th", null, "Status"),
      routeIds.map(function (r) { return el("th", null, ROUTES[r] ? ROUTES[r].name : r); }),
      el("th", null, "Total"))));
    var body = el("tbody");
    CONFIG.statuses.forEach(function (s) {
      var total = totalStatus(s.id);
      var row = el("tr", {
        className: (state.hidden.has(s.id) ? "rw-hidden " : "") + (total ? "" : "rw-zero"),
        title: state.hidden.has(s.id) ? "Show on the map" : "Hide from the map",
        dataset: { status: s.id },
        on: { click: function () { toggleStatus(s.id); } },
      },
      el("td", null, el("span", { className: "rw-status-label" }, dot(s.colour), s.label)),
      routeIds.map(function (r) { return el("td", null, num(o.routes[r].statuses[s.id] || 0)); }),
      el("td", null, num(total)));
      body.appendChild(row);
    });
    table.appendChild(body);
    table.appendChild(el("tfoot", null, el("tr", null, el("td", null, "All walkers"),
      routeIds.map(function (r) { return el("td", null, num(o.routes[r].walkers)); }),
      el("td", null, num(o.walkers)))));
  }

  function toggleStatus(status) {
    if (state.hidden.has(status)) state.hidden.delete(status); else state.hidden.add(status);
    var list = [];
    state.walkers.forEach(function (e) { if (e.w.s === status) list.push(e.w); });
    applyWalkers(list, false);
    renderStatusTable();
  }

  function renderRoutes() {
    var o = state.overview;
    var box = clear($("rw-routes"));
    CONFIG.routes.forEach(function (route) {
      var info = o.routes[route.id];
      if (!info) return;
      var last = info.last_walker;
      var arrivals = {};
      (last ? last.arrivals : []).forEach(function (a) { arrivals[a.checkpoint_id] = a.at; });
      var rows = route.checkpoints.map(function (cp) {
        var eta = arrivals[cp.id];
        var late = eta && cp.closes_at && new Date(eta) > new Date(cp.closes_at);
        return el("tr", null,
          el("td", { className: "rw-point-name", title: cp.name }, cp.name),
          el("td", null, (cp.distance_along_m / 1000).toFixed(1)),
          el("td", null, num((info.passages || {})[cp.id] || 0)),
          el("td", null, clock(cp.closes_at)),
          el("td", { className: late ? "rw-late" : "", title: late ? "after the closing time" : "" }, eta ? clock(eta) : "–"));
      });
      var card = el("section", { className: "rw-card rw-route", dataset: { route: route.id } },
        el("div", { className: "rw-route-head" },
          el("span", { className: "rw-route-bar", style: { background: route.colour } }),
          el("span", { className: "rw-route-name" }, route.name),
          el("span", { className: "rw-route-sub" }, num(info.walkers), " walkers · ", num(info.finished), " finished")),
        el("table", { className: "rw-points" },
          el("thead", null, el("tr", null, el("th", null, "Check-in point"), el("th", null, "km"),
            el("th", null, "Passed"), el("th", null, "Closes"), el("th", null, "Last due"))),
          el("tbody", null, rows)),
        last ? el("div", {
          className: "rw-last", title: "Show on the map",
          on: { click: function () { selectWalker(last.walker_id, { fly: true }); } },
        }, "Last walker: ", el("b", null, last.name), " — ", km(last.distance_along_m), " at ",
        last.pace_kmh.toFixed(1), " km/h") : el("p", { className: "rw-hint" }, "Nobody on the way yet."));
      box.appendChild(card);
    });
  }

  function updateCheckinTooltips() {
    var layers = (window.refugeeWalk || {}).checkins || {};
    CONFIG.routes.forEach(function (route) {
      var passages = (state.overview.routes[route.id] || {}).passages || {};
      route.checkpoints.forEach(function (cp) {
        var layer = layers[route.id + "/" + cp.id];
        if (!layer || !layer.setTooltipContent) return;
        layer.setTooltipContent(el("div", null,
          el("div", { className: "rw-tip-name" }, cp.name),
          el("div", { className: "rw-tip-line" }, route.name, " · ", cp.km),
          el("div", null, num(passages[cp.id] || 0), " walkers passed")));
      });
    });
  }

  // --- the progress chart: walkers over the distance along each route --------------------------------
  function renderChart() {
    var box = clear($("rw-chart"));
    var order = CONFIG.statuses.map(function (s) { return s.id; });
    CONFIG.routes.forEach(function (route) {
      var binM = route.length_m > 25000 ? 1000 : 500;
      var bins = Math.max(1, Math.ceil(route.length_m / binM));
      var counts = [];
      for (var i = 0; i < bins; i++) counts.push({});
      state.walkers.forEach(function (e) {
        var w = e.w;
        if (w.r !== route.id || w.lat === null || w.lat === undefined) return;
        var b = Math.min(bins - 1, Math.max(0, Math.floor(w.d / binM)));
        counts[b][w.s] = (counts[b][w.s] || 0) + 1;
      });
      var max = 1;
      counts.forEach(function (c) {
        var t = 0;
        Object.keys(c).forEach(function (k) { t += c[k]; });
        max = Math.max(max, t);
      });
      var W = 380, H = 96, left = 26, right = 6, top = 16, base = 72;
      var plotW = W - left - right;
      var bw = plotW / bins;
      var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "Walkers along " + route.name });
      var title = svg("text", { x: 0, y: 10, class: "rw-chart-title" });
      title.textContent = route.name + " — walkers per " + (binM === 1000 ? "km" : "500 m") + " (max " + max + ")";
      chart.appendChild(title);
      counts.forEach(function (c, b) {
        var y = base;
        order.forEach(function (s) {
          var n = c[s];
          if (!n) return;
          var h = (n / max) * (base - top);
          y -= h;
          var rect = svg("rect", {
            x: (left + b * bw + 0.5).toFixed(1), y: y.toFixed(1), width: Math.max(0.5, bw - 1).toFixed(1),
            height: h.toFixed(1), fill: STATUS[s].colour,
          });
          var tip = svg("title");
          tip.textContent = (b * binM / 1000).toFixed(1) + "–" + ((b + 1) * binM / 1000).toFixed(1) + " km: " + n + " " + STATUS[s].label.toLowerCase();
          rect.appendChild(tip);
          chart.appendChild(rect);
        });
      });
      chart.appendChild(svg("line", { x1: left, x2: W - right, y1: base, y2: base, class: "rw-axis" }));
      var yLabel = svg("text", { x: left - 4, y: top + 4, "text-anchor": "end", class: "rw-tick" });
      yLabel.textContent = String(max);
      chart.appendChild(yLabel);
      var stepKm = route.length_m > 25000 ? 10 : 5;
      for (var k = 0; k * 1000 <= route.length_m + 1; k += stepKm) {
        var x = left + (k * 1000 / route.length_m) * plotW;
        var anchor = k === 0 ? "start" : (k + stepKm) * 1000 > route.length_m + 1 ? "end" : "middle";
        var t = svg("text", { x: x.toFixed(1), y: base + 22, "text-anchor": anchor, class: "rw-tick" });
        t.textContent = k + " km";
        chart.appendChild(t);
      }
      route.checkpoints.forEach(function (cp) {
        var x = left + (cp.distance_along_m / route.length_m) * plotW;
        var mark = svg("path", { d: "M" + x.toFixed(1) + " " + (base + 2) + " l-4 7 h8 z", fill: route.colour, class: "rw-cp" });
        var tip = svg("title");
        tip.textContent = cp.name + " — " + cp.km;
        mark.appendChild(tip);
        chart.appendChild(mark);
      });
      box.appendChild(chart);
    });
    box.appendChild(el("div", { className: "rw-chart-legend" }, CONFIG.statuses.filter(function (s) {
      return s.id !== "registered";
    }).map(function (s) { return el("span", null, dot(s.colour), s.label); })));
  }

  // --- alerts ---------------------------------------------------------------------------------------
  function loadAlerts() {
    apiJson("/api/alerts").then(function (list) {
      state.alerts.clear();
      list.forEach(function (a) { state.alerts.set(a.id, a); });
      renderAlerts();
    }).catch(function () {});
  }

  function openAlertCount() {
    var n = 0;
    state.alerts.forEach(function (a) { if (a.state === "open") n++; });
    return n;
  }

  function applyAlert(alert) {
    var known = state.alerts.get(alert.id);
    state.alerts.set(alert.id, alert);
    state.stats.alerts++;
    if (!known && alert.state === "open" && alert.kind === "sos") {
      toast("SOS: " + (alert.walker_name || "a walker") + (alert.bib ? " #" + alert.bib : "") + " — click to show",
        function () { selectWalker(alert.walker_id, { fly: true }); });
    }
    later("alerts", renderAlerts, 100);
    if (alert.walker_id === state.selected) later("detail", refreshDetail, 300);
  }

  function renderAlerts() {
    var all = [];
    state.alerts.forEach(function (a) { if (a.state !== "resolved") all.push(a); });
    renderAlertFilter(all);
    var list = state.alertKind ? all.filter(function (a) { return a.kind === state.alertKind; }) : all;
    list.sort(function (a, b) {
      var rank = function (x) { return (x.state === "open" ? 0 : 2) + (x.kind === "sos" ? 0 : 1); };
      return rank(a) - rank(b) || (a.at < b.at ? 1 : -1);
    });
    var box = clear($("rw-alerts"));
    list.slice(0, 200).forEach(function (a) { box.appendChild(alertItem(a)); });
    if (list.length > 200) box.appendChild(el("li", { className: "rw-hint" }, "… and " + num(list.length - 200) + " more"));
    var open = openAlertCount();
    var count = $("rw-alert-count");
    count.textContent = all.length > open ? open + " open · " + (all.length - open) + " in hand" : String(open);
    count.classList.toggle("rw-hot", open > 0);
    $("rw-alerts-empty").hidden = all.length > 0;
    document.title = (open ? "(" + open + ") " : "") + "Organisers — " + CONFIG.event.name;
    if (state.overview) renderKpis();
  }

  function renderAlertFilter(all) {
    var counts = {};
    all.forEach(function (a) { counts[a.kind] = (counts[a.kind] || 0) + 1; });
    var kinds = Object.keys(CONFIG.alert_kinds).filter(function (k) { return counts[k]; });
    if (state.alertKind && !counts[state.alertKind]) state.alertKind = null;
    var box = clear($("rw-alert-filter"));
    box.hidden = kinds.length < 2;
    var chip = function (kind, label, n) {
      return el("button", {
        type: "button", className: "rw-filter" + (state.alertKind === kind ? " rw-on" : ""),
        dataset: { kind: kind || "all" },
        on: { click: function () { state.alertKind = kind; renderAlerts(); } },
      }, label, " ", el("b", null, num(n)));
    };
    box.appendChild(chip(null, "All", all.length));
    kinds.forEach(function (k) { box.appendChild(chip(k, CONFIG.alert_kinds[k], counts[k])); });
  }

  function alertItem(a) {
    var acked = a.state === "acknowledged";
    var actions = el("div", { className: "rw-alert-actions" },
      acked ? el("span", { className: "rw-alert-state" }, "Acknowledged ", clock(a.acked_at)) :
        el("button", { type: "button", className: "rw-btn rw-primary", dataset: { action: "ack" },
          on: { click: function (ev) { ev.stopPropagation(); setAlert(a.id, "ack"); } } }, "Acknowledge"),
      el("button", { type: "button", className: "rw-btn", dataset: { action: "resolve" },
        on: { click: function (ev) { ev.stopPropagation(); setAlert(a.id, "resolve"); } } }, "Resolve"));
    return el("li", {
      className: "rw-alert rw-kind-" + a.kind + (acked ? " rw-acked" : ""),
      dataset: { alertId: String(a.id), kind: a.kind, state: a.state },
      title: "Show on the map",
      on: { click: function () { selectWalker(a.walker_id, { fly: true, at: a }); } },
    },
    el("div", { className: "rw-alert-top" },
      el("span", { className: "rw-alert-kind" }, CONFIG.alert_kinds[a.kind] || a.kind),
      el("span", { className: "rw-alert-who" }, a.walker_name || a.walker_id, a.bib ? " #" + a.bib : ""),
      el("span", { className: "rw-alert-when", title: a.at }, clock(a.at))),
    el("div", { className: "rw-alert-bottom" }, el("div", { className: "rw-alert-msg" }, a.message), actions));
  }

  function setAlert(id, action) {
    postJson("/api/alerts/" + id + "/" + action).then(applyAlert).catch(function (err) {
      toast("Could not update the alert: " + err.message);
    });
  }

  // --- search ---------------------------------------------------------------------------------------
  var search = $("rw-search");
  var results = $("rw-results");

  function matches(query) {
    var q = fold(query.trim());
    if (!q) return [];
    var found = [];
    state.walkers.forEach(function (e) {
      var w = e.w;
      var bib = fold(w.b);
      var name = fold(w.n);
      var rank = bib === q ? 0 : name.indexOf(q) === 0 ? 1 : name.indexOf(q) > 0 ? 2 : bib.indexOf(q) === 0 ? 3 : -1;
      if (rank >= 0) found.push([rank, name, w]);
    });
    found.sort(function (a, b) { return a[0] - b[0] || (a[1] < b[1] ? -1 : 1); });
    return found.slice(0, 30).map(function (f) { return f[2]; });
  }

  function renderResults() {
    var list = matches(search.value);
    clear(results);
    results.hidden = !search.value.trim();
    if (!list.length && search.value.trim()) {
      results.appendChild(el("li", { className: "rw-r-none" }, "No walker matches."));
      return;
    }
    list.forEach(function (w, i) {
      var route = ROUTES[w.r];
      results.appendChild(el("li", {
        className: i === 0 ? "rw-active" : "",
        dataset: { walkerId: w.id },
        on: { mousedown: function (ev) { ev.preventDefault(); pick(w.id); } },
      },
      dot((STATUS[w.s] || {}).colour || "#868e96"),
      el("span", { className: "rw-r-name" }, w.n),
      el("span", { className: "rw-r-meta" }, (w.b ? "#" + w.b + " · " : "") + (route ? route.name : w.r) +
        (w.pct !== null && w.pct !== undefined ? " · " + Math.round(w.pct) + " %" : ""))));
    });
  }

  function pick(id) {
    results.hidden = true;
    search.blur();
    selectWalker(id, { fly: true });
  }

  search.addEventListener("input", function () { renderResults(); });
  search.addEventListener("focus", function () { if (search.value) renderResults(); });
  search.addEventListener("blur", function () { setTimeout(function () { results.hidden = true; }, 150); });
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var first = results.querySelector("li[data-walker-id]");
      if (first) pick(first.dataset.walkerId);
    } else if (ev.key === "Escape") {
      search.value = "";
      results.hidden = true;
    }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "/" && document.activeElement !== search && document.activeElement.tagName !== "INPUT") {
      ev.preventDefault();
      search.focus();
    } else if (ev.key === "Escape" && document.activeElement !== search) {
      closeDetail();
    }
  });

  // --- one walker: detail, track, selection ------------------------------------------------------------
  function selectWalker(id, options) {
    options = options || {};
    var entry = state.walkers.get(id);
    state.selected = id;
    var w = entry && entry.w;
    var target = w && w.lat !== null && w.lat !== undefined ? [w.lat, w.lon] :
      options.at && options.at.lat !== null ? [options.at.lat, options.at.lon] : null;
    if (target) {
      placeRing(target);
      if (options.fly) map.flyTo(target, Math.max(map.getZoom(), 16), { duration: 0.8 });
    }
    refreshDetail();
    loadTrack(id);
  }

  function placeRing(latlng) {
    if (!selectionRing) {
      selectionRing = L.circleMarker(latlng, {
        pane: "rwSelection", radius: 14, color: "#0b5cad", weight: 3, fill: false, interactive: false,
      }).addTo(map);
    } else {
      selectionRing.setLatLng(latlng);
    }
  }

  function closeDetail() {
    state.selected = null;
    $("rw-detail").hidden = true;
    if (trackLine) { map.removeLayer(trackLine); trackLine = null; }
    if (selectionRing) { map.removeLayer(selectionRing); selectionRing = null; }
  }

  function loadTrack(id) {
    apiJson("/api/walkers/" + encodeURIComponent(id) + "/track").then(function (track) {
      if (state.selected !== id) return;
      var latlngs = track.coordinates.map(function (c) { return [c[1], c[0]]; });
      if (trackLine) map.removeLayer(trackLine);
      trackLine = L.polyline(latlngs, { color: "#14213d", weight: 3, opacity: 0.85, interactive: false }).addTo(map);
    }).catch(function () {});
  }

  function onSelectedMoved(w) {
    if (w.lat === null || w.lat === undefined) return;
    placeRing([w.lat, w.lon]);
    if (trackLine) {
      var pts = trackLine.getLatLngs();
      var last = pts[pts.length - 1];
      if (!last || last.lat !== w.lat || last.lng !== w.lon) trackLine.addLatLng([w.lat, w.lon]);
    }
    later("detail", refreshDetail, DETAIL_REFRESH_MS);
  }

  function refreshDetail() {
    var id = state.selected;
    if (!id) return;
    apiJson("/api/walkers/" + encodeURIComponent(id)).then(function (view) {
      if (state.selected === id) renderDetail(view);
    }).catch(function (err) {
      if (state.selected === id) renderDetail(null, err.message);
    });
  }

  function renderDetail(v, error) {
    var box = clear($("rw-detail"));
    box.hidden = false;
    if (!v) {
      append(box, el("p", { className: "rw-error" }, error || "Walker not found"));
      return;
    }
    var route = ROUTES[v.route_id];
    var names = {};
    if (route) route.checkpoints.forEach(function (cp) { names[cp.id] = cp.name; });
    var phone = v.phone ? el("a", { href: "tel:" + v.phone.replace(/[^+0-9]/g, "") }, v.phone) : "–";
    var facts = [
      ["Progress", km(v.distance_along_m) + (v.route_length_m ? " of " + km(v.route_length_m) : "")],
      ["Pace", v.pace_kmh !== null ? v.pace_kmh.toFixed(1) + " km/h" : "not known yet"],
      ["Next point", v.next_checkpoint ? [v.next_checkpoint.name, " in ", km(v.next_checkpoint.distance_m),
        ", due ", clock(v.next_checkpoint.eta)] : "–"],
      ["Finish", v.eta_finish_at ? "due " + clock(v.eta_finish_at) : "–"],
      ["Battery", v.battery_pct !== null ? Math.round(v.battery_pct) + " %" : "–"],
      ["Phone", phone],
      ["Last position", v.last_fix ? [ago(v.last_fix.recorded_at), v.last_fix.accuracy_m ?
        " (±" + Math.round(v.last_fix.accuracy_m) + " m)" : ""] : "none yet"],
      ["Off the route", v.offset_m !== null ? Math.round(v.offset_m) + " m" : "–"],
      ["App", deviceLine(v.device)],
    ];
    var refusal = v.device && v.device.last_refusal;
    if (refusal) facts.push(["Last refused", [refusal.reason, " (", ago(refusal.at), ")"]]);
    append(box, [
      el("div", { className: "rw-detail-head" },
        el("h3", null, v.name),
        el("button", { type: "button", className: "rw-close", title: "Close (Esc)", on: { click: closeDetail } }, "×")),
      el("div", { className: "rw-detail-sub" }, statusChip(v.status),
        el("span", null, [v.bib ? "#" + v.bib : null, route ? route.name : v.route_id, v.team || null]
          .filter(Boolean).join(" · "))),
      el("div", { className: "rw-progress", title: (v.progress_pct || 0) + " %" },
        el("div", { style: { width: Math.min(100, v.progress_pct || 0) + "%" } })),
      el("dl", { className: "rw-facts" }, facts.map(function (f) { return [el("dt", null, f[0]), el("dd", null, f[1])]; })),
      v.open_alerts.length ? el("p", { className: "rw-error" }, "Open alerts: ",
        v.open_alerts.map(function (k) { return CONFIG.alert_kinds[k] || k; }).join(", ")) : null,
      el("h4", null, "Check-ins"),
      v.checkins.length ? el("ol", { className: "rw-checkins" }, v.checkins.map(function (c) {
        return el("li", null, el("span", null, names[c.checkpoint_id] || c.checkpoint_id),
          el("span", null, clock(c.at),
            c.source === "manual" ? " (button)" : c.source === "station" ? " (station)" : ""));
      })) : el("p", { className: "rw-hint" }, "None yet."),
      el("div", { className: "rw-detail-actions" },
        statusButton(v, "dropped_out", "Dropped out"),
        statusButton(v, "picked_up", "Picked up"),
        v.status_override ? statusButton(v, "walking", "Back walking") : null),
    ]);
  }

  function deviceLine(d) {
    if (!d) return "–";
    var parts = [d.app || "no app seen yet"];
    if (d.last_seen) parts.push("heard " + ago(d.last_seen));
    if (d.charging) parts.push("charging");
    var flagged = Object.keys(d.flagged || {}).map(function (k) { return k.replace(/_/g, " ") + " ×" + d.flagged[k]; });
    if (flagged.length) parts.push("flagged: " + flagged.join(", "));
    return parts.join(" · ");
  }

  function statusButton(v, status, label) {
    if (v.status_override === status) return null;
    return el("button", {
      type: "button", className: "rw-btn" + (status === "walking" ? "" : " rw-danger"),
      on: {
        click: function () {
          if (status !== "walking" && !window.confirm("Mark " + v.name + " as " + label.toLowerCase() + "?")) return;
          postJson("/api/walkers/" + encodeURIComponent(v.id) + "/status", { status: status })
            .then(function (view) { renderDetail(view); })
            .catch(function (err) { toast("Could not change the status: " + err.message); });
        },
      },
    }, label);
  }

  // --- tiles that fail: say so, keep going -------------------------------------------------------------
  map.eachLayer(function (layer) {
    if (!(layer instanceof L.TileLayer)) return;
    var failed = 0;
    layer.on("tileerror", function () { if (++failed >= 4) $("rw-tiles-note").hidden = false; });
    layer.on("tileload", function () { failed = 0; $("rw-tiles-note").hidden = true; });
  });

  // --- export -----------------------------------------------------------------------------------------
  document.querySelectorAll("[data-export]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.dataset.export;
      $("rw-export").open = false;
      toast("Preparing " + name + "…");
      api("/api/export/" + name).then(function (res) { return res.blob(); }).then(function (blob) {
        var a = el("a", { href: URL.createObjectURL(blob), download: "refugee-walk-" + name });
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        $("rw-toast").hidden = true;
      }).catch(function (err) { toast("Export failed: " + err.message); });
    });
  });

  // --- start --------------------------------------------------------------------------------------
  renderChart();
  var fromUrl = tokenFromUrl();
  var saved = fromUrl || sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved).catch(function (err) { showSignIn(err.message); });
  else showSignIn("");
})();
