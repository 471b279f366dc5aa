/* The map: a marker per walker (clustered), moves applied in bulk, the selected walker. */
import { CLUSTERED_SLACK_PX, DETAIL_REFRESH_MS, MOVE_EVERY_MS, MOVE_IN_BULK, ROUTES, STATUS } from "./config.js";
import { $, ago, el, later } from "./dom.js";
import { apiJson, state } from "./state.js";
import { refreshDetail, renderChart, renderResults } from "./sidebar.js";

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

function findMap() {
  var div = document.querySelector(".folium-map");
  return div && window[div.id];
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

// A walker deleted by the organisers (the right to be forgotten): off the map and the lists.
function removeWalker(id) {
  var entry = state.walkers.get(id);
  if (!entry) return;
  if (entry.shown) cluster.removeLayers([entry.marker]);
  pendingMoves.delete(id);
  state.walkers.delete(id);
  later("chart", renderChart, 1000);
  if ($("rw-search").value) later("search", renderResults, 1000);
}

// --- tiles that fail: say so, keep going -------------------------------------------------------------
map.eachLayer(function (layer) {
  if (!(layer instanceof L.TileLayer)) return;
  // the tiles asked for before this script ran: count the ones that already failed
  var imgs = [].slice.call(layer.getContainer() ? layer.getContainer().querySelectorAll("img") : []);
  var shown = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var failed = shown ? 0 : imgs.filter(function (i) { return i.complete && i.naturalWidth === 0; }).length;
  if (failed >= 4) $("rw-tiles-note").hidden = false;
  layer.on("tileerror", function () { if (++failed >= 4) $("rw-tiles-note").hidden = false; });
  layer.on("tileload", function () { failed = 0; $("rw-tiles-note").hidden = true; });
});

export { removeWalker, applyWalkers, closeDetail, cluster, clusterIcon, findMap, flushMoves, loadTrack, makeMarker, map, markerStyle, metresPerPixel, onSelectedMoved, pendingMoves, placeRing, selectWalker, selectionRing, shouldShow, trackLine, walkerTooltip };
