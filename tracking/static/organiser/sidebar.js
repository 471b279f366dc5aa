/* The sidebar: counters, statuses, routes, chart, alerts (two-step actions), search,
   a walker's detail, export, and the phone layout's tabs. */
import { CONFIG, ROUTES, STATUS, t } from "./config.js";
import { $, ago, append, clear, clock, decimal, dot, el, fold, km, later, num, paceText, statusChip, svg, toast } from "./dom.js";
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
    [t("kpi_walkers"), o.walkers],
    [t("kpi_on_way"), ["walking", "resting", "not_moving", "at_checkpoint", "off_route"].reduce(function (n, s) { return n + totalStatus(s); }, 0)],
    [t("kpi_finished"), o.finished],
    [t("kpi_help"), totalStatus("needs_help")],
    [t("kpi_alerts"), open, "rw-kpi-alert" + (open ? " rw-hot" : "")],
    [t("kpi_km"), Math.round(o.total_km)],
  ];
  append(clear($("rw-kpis")), kpis.map(function (k) {
    return el("div", { className: "rw-kpi " + (k[2] || "") }, el("b", null, num(k[1])), el("span", null, k[0]));
  }));
}

function renderStatusTable() {
  var o = state.overview;
  var routeIds = Object.keys(o.routes);
  var table = clear($("rw-status"));
  table.appendChild(el("thead", null, el("tr", null, el("th", null, t("th_status")),
    routeIds.map(function (r) { return el("th", null, ROUTES[r] ? ROUTES[r].name : r); }),
    el("th", null, t("th_total")))));
  var body = el("tbody");
  CONFIG.statuses.forEach(function (s) {
    var total = totalStatus(s.id);
    var row = el("tr", {
      className: (state.hidden.has(s.id) ? "rw-hidden " : "") + (total ? "" : "rw-zero"),
      title: state.hidden.has(s.id) ? t("show_on_map") : t("hide_from_map"),
      dataset: { status: s.id },
      on: { click: function () { toggleStatus(s.id); } },
    },
    el("td", null, el("span", { className: "rw-status-label" }, dot(s.colour), s.label)),
    routeIds.map(function (r) { return el("td", null, num(o.routes[r].statuses[s.id] || 0)); }),
    el("td", null, num(total)));
    body.appendChild(row);
  });
  table.appendChild(body);
  table.appendChild(el("tfoot", null, el("tr", null, el("td", null, t("all_walkers")),
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
        el("td", null, decimal(cp.distance_along_m / 1000)),
        el("td", null, num((info.passages || {})[cp.id] || 0)),
        el("td", null, clock(cp.closes_at)),
        el("td", { className: late ? "rw-late" : "", title: late ? t("late") : "" }, eta ? clock(eta) : "–"));
    });
    var card = el("section", { className: "rw-card rw-route", dataset: { route: route.id } },
      el("div", { className: "rw-route-head" },
        el("span", { className: "rw-route-bar", style: { background: route.colour } }),
        el("span", { className: "rw-route-name" }, route.name),
        el("span", { className: "rw-route-sub" }, t("route_sub", { walkers: num(info.walkers), finished: num(info.finished) }))),
      el("table", { className: "rw-points" },
        el("thead", null, el("tr", null, el("th", null, t("th_point")), el("th", null, t("th_km")),
          el("th", null, t("th_passed")), el("th", null, t("th_closes")), el("th", null, t("th_last_due")))),
        el("tbody", null, rows)),
      last ? el("div", {
        className: "rw-last", title: t("show_on_map"),
        on: { click: function () { selectWalker(last.walker_id, { fly: true }); } },
      }, t("last_walker"), " ", el("b", null, last.name), " ",
      t("last_walker_at", { km: km(last.distance_along_m), pace: paceText(last.pace_kmh, last.pace_source) }))
      : el("p", { className: "rw-hint" }, t("nobody_yet")));
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
        el("div", null, t("passed_n", { n: num(passages[cp.id] || 0) }))));
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
      var sum = 0;
      Object.keys(c).forEach(function (k) { sum += c[k]; });
      max = Math.max(max, sum);
    });
    var W = 380, H = 96, left = 26, right = 6, top = 16, base = 72;
    var plotW = W - left - right;
    var bw = plotW / bins;
    var chart = svg("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": t("chart_aria", { route: route.name }) });
    var title = svg("text", { x: 0, y: 10, class: "rw-chart-title" });
    title.textContent = t("chart_title", { route: route.name, bin: binM === 1000 ? "km" : "500 m", max: num(max) });
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
        tip.textContent = t("chart_bar", { from: decimal(b * binM / 1000), to: decimal((b + 1) * binM / 1000), n: num(n), status: STATUS[s].label.toLowerCase() });
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
      var tick = svg("text", { x: x.toFixed(1), y: base + 22, "text-anchor": anchor, class: "rw-tick" });
      tick.textContent = k + " km";
      chart.appendChild(tick);
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
    toast(t("sos_toast", { who: (alert.walker_name || t("a_walker")) + (alert.bib ? " #" + alert.bib : "") }),
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
  if (list.length > 200) box.appendChild(el("li", { className: "rw-hint" }, t("more", { n: num(list.length - 200) })));
  var open = openAlertCount();
  var count = $("rw-alert-count");
  count.textContent = all.length > open ? t("alert_count_split", { open: num(open), hand: num(all.length - open) }) : String(open);
  count.classList.toggle("rw-hot", open > 0);
  $("rw-alerts-empty").hidden = all.length > 0;
  document.title = (open ? "(" + open + ") " : "") + t("title", { event: CONFIG.event.name });
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
  box.appendChild(chip(null, t("filter_all"), all.length));
  kinds.forEach(function (k) { box.appendChild(chip(k, CONFIG.alert_kinds[k], counts[k])); });
}

// An alert card: the card itself shows the walker; Acknowledge and Resolve sit apart, below, and
// each asks for a second, deliberate click ("Yes, acknowledge") before anything is sent.
var CONFIRM_MS = 5000;

function alertItem(a) {
  var acked = a.state === "acknowledged";
  var actions = el("div", { className: "rw-alert-actions" },
    acked ? el("span", { className: "rw-alert-state" }, t("acknowledged", { time: clock(a.acked_at) })) :
      confirmButton(a, "ack", t("acknowledge"), t("ack_confirm"), "rw-primary"),
    confirmButton(a, "resolve", t("resolve"), t("resolve_confirm"), ""));
  return el("li", {
    className: "rw-alert rw-kind-" + a.kind + (acked ? " rw-acked" : ""),
    dataset: { alertId: String(a.id), kind: a.kind, state: a.state },
  },
  el("button", {
    type: "button", className: "rw-alert-show", title: t("show_on_map"),
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
    toast(t("alert_update_failed", { error: err.message }));
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
    results.appendChild(el("li", { className: "rw-r-none" }, t("no_match")));
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
    append(box, el("p", { className: "rw-error" }, error || t("not_found")));
    return;
  }
  var route = ROUTES[v.route_id];
  var names = {};
  if (route) route.checkpoints.forEach(function (cp) { names[cp.id] = cp.name; });
  var phone = v.phone ? el("a", { href: "tel:" + v.phone.replace(/[^+0-9]/g, "") }, v.phone) : "–";
  var facts = [
    [t("f_progress"), v.route_length_m ? t("progress_of", { done: km(v.distance_along_m), total: km(v.route_length_m) })
      : km(v.distance_along_m)],
    [t("f_pace"), paceText(v.pace_kmh, v.pace_source)],
    [t("f_next"), v.next_checkpoint ? t("next_in", { name: v.next_checkpoint.name,
      dist: km(v.next_checkpoint.distance_m), time: clock(v.next_checkpoint.eta) }) : "–"],
    [t("f_finish"), v.eta_finish_at ? t("due", { time: clock(v.eta_finish_at) }) : "–"],
    [t("f_battery"), v.battery_pct !== null ? Math.round(v.battery_pct) + " %" : "–"],
    [t("f_phone"), phone],
    [t("f_last"), v.last_fix ? [ago(v.last_fix.recorded_at), v.last_fix.accuracy_m ?
      " (±" + num(Math.round(v.last_fix.accuracy_m)) + " m)" : ""] : t("none_yet_pos")],
    [t("f_offset"), v.offset_m !== null ? num(Math.round(v.offset_m)) + " m" : "–"],
  ];
  if (v.device) facts.push([t("f_app"), deviceLine(v.device)]);
  var refusal = v.device && v.device.last_refusal;
  if (refusal) facts.push([t("f_refused"), [refusal.reason, " (", ago(refusal.at), ")"]]);
  append(box, [
    el("div", { className: "rw-detail-head" },
      el("h3", null, v.name),
      el("button", { type: "button", className: "rw-close", title: t("close"), on: { click: closeDetail } }, "×")),
    el("div", { className: "rw-detail-sub" }, statusChip(v.status),
      el("span", null, [v.bib ? "#" + v.bib : null, route ? route.name : v.route_id, v.team || null]
        .filter(Boolean).join(" · "))),
    el("div", { className: "rw-progress", title: (v.progress_pct || 0) + " %" },
      el("div", { style: { width: Math.min(100, v.progress_pct || 0) + "%" } })),
    el("dl", { className: "rw-facts" }, facts.map(function (f) { return [el("dt", null, f[0]), el("dd", null, f[1])]; })),
    v.open_alerts.length ? el("p", { className: "rw-error" }, t("open_alerts", {
      list: v.open_alerts.map(function (k) { return CONFIG.alert_kinds[k] || k; }).join(", ") })) : null,
    el("h4", null, t("checkins")),
    v.checkins.length ? el("ol", { className: "rw-checkins" }, v.checkins.map(function (c) {
      return el("li", null, el("span", null, names[c.checkpoint_id] || c.checkpoint_id),
        el("span", null, clock(c.at),
          c.source === "manual" ? " " + t("checkin_button") : c.source === "station" ? " " + t("checkin_station") : ""));
    })) : el("p", { className: "rw-hint" }, t("none_yet")),
    el("div", { className: "rw-detail-actions" },
      el("button", { type: "button", className: "rw-btn rw-primary rw-phone-only",
        on: { click: function () { showTab("map"); } } }, t("show_on_map")),
      statusButton(v, "dropped_out", t("dropped_out")),
      statusButton(v, "picked_up", t("picked_up")),
      v.status_override ? statusButton(v, "walking", t("back_walking")) : null),
  ]);
}

function deviceLine(d) {
  var parts = [d.app || t("no_app")];
  if (d.last_seen) parts.push(t("heard", { ago: ago(d.last_seen) }));
  if (d.charging) parts.push(t("charging"));
  var flagged = Object.keys(d.flagged || {}).map(function (k) { return k.replace(/_/g, " ") + " ×" + d.flagged[k]; });
  if (flagged.length) parts.push(t("flagged", { list: flagged.join(", ") }));
  return parts.join(" · ");
}

function statusButton(v, status, label) {
  if (v.status_override === status) return null;
  return el("button", {
    type: "button", className: "rw-btn" + (status === "walking" ? "" : " rw-danger"),
    on: {
      click: function () {
        if (status !== "walking" && !window.confirm(t("confirm_" + status, { name: v.name }))) return;
        postJson("/api/walkers/" + encodeURIComponent(v.id) + "/status", { status: status })
          .then(function (view) { renderDetail(view); })
          .catch(function (err) { toast(t("status_failed", { error: err.message })); });
      },
    },
  }, label);
}

// --- export -----------------------------------------------------------------------------------------
document.querySelectorAll("[data-export]").forEach(function (button) {
  button.addEventListener("click", function () {
    var name = button.dataset.export;
    $("rw-export").open = false;
    toast(t("preparing", { name: name }));
    api("/api/export/" + name).then(function (res) { return res.blob(); }).then(function (blob) {
      var a = el("a", { href: URL.createObjectURL(blob), download: "refugee-walk-" + name });
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      $("rw-toast").hidden = true;
    }).catch(function (err) { toast(t("export_failed", { error: err.message })); });
  });
});

export { deviceLine, CONFIRM_MS, alertItem, applyAlert, applyOverview, confirmButton, loadAlerts, matches, openAlertCount, phoneLayout, pick, refreshDetail, renderAlertFilter, renderAlerts, renderChart, renderDetail, renderKpis, renderResults, renderRoutes, renderStatusTable, results, search, setAlert, showTab, showWalker, statusButton, toggleStatus, totalStatus, updateCheckinTooltips };
