/* The sidebar: counters, statuses, routes, chart, alerts (two-step actions), search,
   a walker's detail, export, and the phone layout's tabs. */
import { CONFIG, ROUTES, STATUS } from "./config.js";
import { $, ago, append, clear, clock, dot, el, fold, km, later, num, paceText, statusChip, svg, toast } from "./dom.js";
import { api, apiJson, postJson, state } from "./state.js";
import { applyWalkers, closeDetail, map, selectWalker } from "./map.js";

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
      paceText(last.pace_kmh, last.pace_source)) : el("p", { className: "rw-hint" }, "Nobody on the way yet."));
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
    var binM = route.distance_m > 25000 ? 1000 : 500;
    var bins = Math.max(1, Math.ceil(route.distance_m / binM));
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
    var stepKm = route.distance_m > 25000 ? 10 : 5;
    for (var k = 0; k * 1000 <= route.distance_m + 1; k += stepKm) {
      var x = left + (k * 1000 / route.distance_m) * plotW;
      var anchor = k === 0 ? "start" : (k + stepKm) * 1000 > route.distance_m + 1 ? "end" : "middle";
      var t = svg("text", { x: x.toFixed(1), y: base + 22, "text-anchor": anchor, class: "rw-tick" });
      t.textContent = k + " km";
      chart.appendChild(t);
    }
    route.checkpoints.forEach(function (cp) {
      var x = left + (cp.distance_along_m / route.distance_m) * plotW;
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
      function () { showWalker(alert.walker_id, alert); });
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

// An alert card: the card itself shows the walker; Acknowledge and Resolve sit apart, below, and
// each asks for a second, deliberate click ("Yes, acknowledge") before anything is sent.
var CONFIRM_MS = 5000;

function alertItem(a) {
  var acked = a.state === "acknowledged";
  var actions = el("div", { className: "rw-alert-actions" },
    acked ? el("span", { className: "rw-alert-state" }, "Acknowledged ", clock(a.acked_at)) :
      confirmButton(a, "ack", "Acknowledge", "Yes, acknowledge", "rw-primary"),
    confirmButton(a, "resolve", "Resolve", "Yes, resolve", ""));
  return el("li", {
    className: "rw-alert rw-kind-" + a.kind + (acked ? " rw-acked" : ""),
    dataset: { alertId: String(a.id), kind: a.kind, state: a.state },
  },
  el("button", {
    type: "button", className: "rw-alert-show", title: "Show on the map",
    on: { click: function () { showWalker(a.walker_id, a); } },
  },
  el("span", { className: "rw-alert-top" },
    el("span", { className: "rw-alert-kind" }, CONFIG.alert_kinds[a.kind] || a.kind),
    el("span", { className: "rw-alert-who" }, a.walker_name || a.walker_id, a.bib ? " #" + a.bib : ""),
    el("span", { className: "rw-alert-when", title: a.at }, clock(a.at))),
  el("span", { className: "rw-alert-msg" }, a.message)),
  actions);
}

function confirmButton(a, action, label, confirmLabel, extraClass) {
  var button = el("button", {
    type: "button", className: "rw-btn " + extraClass, dataset: { action: action },
    on: {
      click: function (ev) {
        ev.stopPropagation();
        if (button.dataset.armed === "yes") {
          clearTimeout(button.rwTimer);
          button.disabled = true;
          setAlert(a.id, action);
          return;
        }
        button.dataset.armed = "yes";
        button.textContent = confirmLabel;
        button.rwTimer = setTimeout(function () {
          delete button.dataset.armed;
          button.textContent = label;
        }, CONFIRM_MS);
      },
    },
  }, label);
  return button;
}

function setAlert(id, action) {
  postJson("/api/alerts/" + id + "/" + action).then(applyAlert).catch(function (err) {
    toast("Could not update the alert: " + err.message);
    renderAlerts();
  });
}

// --- phone layout: the list first, the map behind a tab ---------------------------------------
var phoneLayout = window.matchMedia("(max-width: 700px)");

function showTab(tab) {
  document.body.dataset.tab = tab;
  document.querySelectorAll("#rw-tabs [data-tab]").forEach(function (b) {
    b.setAttribute("aria-pressed", String(b.dataset.tab === tab));
  });
  if (tab === "map") map.invalidateSize();
}

document.querySelectorAll("#rw-tabs [data-tab]").forEach(function (b) {
  b.addEventListener("click", function () { showTab(b.dataset.tab); });
});

// An alert, the toast or a search result: on a phone the detail opens in the list (with a
// "Show on the map" button), elsewhere the map flies to the walker beside it.
function showWalker(id, alert) {
  selectWalker(id, { fly: true, at: alert });
  if (phoneLayout.matches) $("rw-side").scrollTop = 0;
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
    ["Pace", paceText(v.pace_kmh, v.pace_source)],
    ["Next point", v.next_checkpoint ? [v.next_checkpoint.name, " in ", km(v.next_checkpoint.distance_m),
      ", due ", clock(v.next_checkpoint.eta)] : "–"],
    ["Finish", v.eta_finish_at ? "due " + clock(v.eta_finish_at) : "–"],
    ["Battery", v.battery_pct !== null ? Math.round(v.battery_pct) + " %" : "–"],
    ["Phone", phone],
    ["Last position", v.last_fix ? [ago(v.last_fix.recorded_at), v.last_fix.accuracy_m ?
      " (±" + Math.round(v.last_fix.accuracy_m) + " m)" : ""] : "none yet"],
    ["Off the route", v.offset_m !== null ? Math.round(v.offset_m) + " m" : "–"],
  ];
  if (v.device) facts.push(["App", deviceLine(v.device)]);
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
      el("button", { type: "button", className: "rw-btn rw-primary rw-phone-only",
        on: { click: function () { showTab("map"); } } }, "Show on the map"),
      statusButton(v, "dropped_out", "Dropped out"),
      statusButton(v, "picked_up", "Picked up"),
      v.status_override ? statusButton(v, "walking", "Back walking") : null),
  ]);
}

function deviceLine(d) {
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

export { deviceLine, CONFIRM_MS, alertItem, applyAlert, applyOverview, confirmButton, loadAlerts, matches, openAlertCount, phoneLayout, pick, refreshDetail, renderAlertFilter, renderAlerts, renderChart, renderDetail, renderKpis, renderResults, renderRoutes, renderStatusTable, results, search, setAlert, showTab, showWalker, statusButton, toggleStatus, totalStatus, updateCheckinTooltips };
