/* The personal-route planner: draw or upload a route, see its length grow, ask the server
   whether it counts (the server's verdict is the one that matters), download it as GPX. */
"use strict";

/* The words: the page's catalogue section (plan, findings) in the three languages. */
const TEXTS = JSON.parse(document.getElementById("rw-texts").textContent);

/* The first of the browser's languages we speak; Dutch for other Belgian browsers. */
function pickLang(languages) {
  for (const tag of languages) {
    const [primary, region] = tag.toLowerCase().split("-");
    if (primary in TEXTS) return primary;
    if (region === "be") return "nl";
  }
  return "en";
}

/* WGS84 geodesic distance (Vincenty's inverse formula); haversine if it does not converge. */
function distanceM(a, b) {
  const A = 6378137, F = 1 / 298.257223563, B = A * (1 - F), rad = Math.PI / 180;
  const L = (b.lng - a.lng) * rad;
  const U1 = Math.atan((1 - F) * Math.tan(a.lat * rad)), U2 = Math.atan((1 - F) * Math.tan(b.lat * rad));
  const sU1 = Math.sin(U1), cU1 = Math.cos(U1), sU2 = Math.sin(U2), cU2 = Math.cos(U2);
  let lambda = L, sS, cS, sigma, cSqA, c2SM;
  for (let i = 0; i < 200; i++) {
    const sL = Math.sin(lambda), cL = Math.cos(lambda);
    sS = Math.hypot(cU2 * sL, cU1 * sU2 - sU1 * cU2 * cL);
    if (sS === 0) return 0;
    cS = sU1 * sU2 + cU1 * cU2 * cL;
    sigma = Math.atan2(sS, cS);
    const sA = (cU1 * cU2 * sL) / sS;
    cSqA = 1 - sA * sA;
    c2SM = cSqA ? cS - (2 * sU1 * sU2) / cSqA : 0;
    const C = (F / 16) * cSqA * (4 + F * (4 - 3 * cSqA));
    const prev = lambda;
    lambda = L + (1 - C) * F * sA * (sigma + C * sS * (c2SM + C * cS * (-1 + 2 * c2SM * c2SM)));
    if (Math.abs(lambda - prev) < 1e-12) {
      const u2 = (cSqA * (A * A - B * B)) / (B * B);
      const k1 = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)));
      const k2 = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
      const dS = k2 * sS * (c2SM + (k2 / 4) * (cS * (-1 + 2 * c2SM * c2SM) -
        (k2 / 6) * c2SM * (-3 + 4 * sS * sS) * (-3 + 4 * c2SM * c2SM)));
      return B * k1 * (sigma - dS);
    }
  }
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(L / 2) ** 2;
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h));
}

const state = { lang: "en", config: null, points: [], closed: false, history: [], upload: null, pending: null };
const $ = (id) => document.getElementById(id);
const num = (value, digits) =>
  new Intl.NumberFormat(state.lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
/* Fill a catalogue sentence: {name} as it is, {name:N} a number with N decimals. */
const fill = (text, params) => text.replace(/\{(\w+)(?::(\d))?\}/g, (_, k, digits) => {
  const v = params[k];
  if (typeof v !== "number") return v ?? "";
  return digits ? num(v, +digits) : new Intl.NumberFormat(state.lang, { maximumFractionDigits: 3 }).format(v);
});
const t = (key, params = {}) => fill(TEXTS[state.lang].plan[key] ?? TEXTS.en.plan[key] ?? key, params);
const findingSentence = (code, params = {}) => {
  const text = TEXTS[state.lang].findings[code];
  return text === undefined ? null : fill(text, params);
};
const km = (m) => num(m / 1000, 2);

/* --- language ------------------------------------------------------------------------- */

function setLang(lang) {
  state.lang = lang;
  document.documentElement.lang = lang;
  try { localStorage.setItem("plan-lang", lang); } catch (e) { /* private mode */ }
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
  document.title = `Refugee Walk – ${t("title")}`;
  showLive();
  if (state.report) showReport(state.report);
  else if (state.refusal) refused(...state.refusal);
}

function initialLang() {
  const asked = new URLSearchParams(location.search).get("lang");
  let stored = null;
  try { stored = localStorage.getItem("plan-lang"); } catch (e) { /* private mode */ }
  for (const lang of [asked, stored, document.documentElement.lang]) if (lang in TEXTS) return lang;
  return pickLang(navigator.languages || [navigator.language || "en"]);
}

/* --- map and drawing ------------------------------------------------------------------ */

const map = L.map("map", { doubleClickZoom: false }).setView([50.85, 4.35], 8);
const routeLine = L.polyline([], { color: "#1f5f99", weight: 4 }).addTo(map);
const uploadLayer = L.layerGroup().addTo(map);
const issueLayer = L.layerGroup().addTo(map);
const markerLayer = L.layerGroup().addTo(map);

function routePoints() {
  return state.closed && state.points.length > 2 ? [...state.points, state.points[0]] : state.points;
}

function lengthM(points) {
  let total = 0;
  for (let i = 1; i < points.length; i++) total += distanceM(points[i - 1], points[i]);
  return total;
}

function remember() {
  state.history.push({ points: state.points.slice(), closed: state.closed });
}

function pointIcon(first) {
  return L.divIcon({ className: first ? "pt first" : "pt", iconSize: [14, 14] });
}

function drawMarkers() {
  markerLayer.clearLayers();
  state.points.forEach((p, i) => {
    const marker = L.marker(p, { draggable: true, icon: pointIcon(i === 0), keyboard: false });
    marker.on("dragstart", remember);
    marker.on("drag", (e) => { state.points[i] = e.target.getLatLng(); routeLine.setLatLngs(routePoints()); showLive(); });
    marker.on("dragend", changed);
    if (i === 0) marker.on("click", closeLoop);
    markerLayer.addLayer(marker);
  });
}

function changed() {
  routeLine.setLatLngs(routePoints());
  drawMarkers();
  showLive();
  $("undo").disabled = state.history.length === 0;
  $("close").disabled = state.closed || state.points.length < 3;
  $("download").disabled = state.points.length < 2;
  $("verdict").dataset.valid = "";  // stale until the server has seen this route
  $("verdict").classList.add("stale");
  clearTimeout(state.timer);
  state.timer = setTimeout(checkDrawn, 500);
}

function addPoint(e) {
  if (state.upload) clearUpload();
  remember();
  state.closed = false;
  state.points.push(e.latlng);
  changed();
}

function closeLoop() {
  if (state.closed || state.points.length < 3) return;
  remember();
  state.closed = true;
  changed();
}

function undo() {
  const last = state.history.pop();
  if (!last) return;
  state.points = last.points;
  state.closed = last.closed;
  changed();
}

function clearAll() {
  if (state.points.length) remember();
  state.points = [];
  state.closed = false;
  clearUpload();
  changed();
}

/* The drawn distance, while drawing; once the server has answered, its distance is the one
   shown (in the verdict), and an upload only ever shows the verdict's. */
function showLive() {
  const m = lengthM(routePoints());
  $("live-km").dataset.m = m.toFixed(1);
  $("live-km").textContent = km(m);
  const fresh = state.report && $("verdict").dataset.valid;
  $("live").hidden = Boolean(state.upload) || routePoints().length < 2 || Boolean(fresh);
}

/* --- GPX in and out ------------------------------------------------------------------- */

function gpxText(points, name) {
  const esc = (s) => s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
  const pts = points.map((p) => `<trkpt lat="${p.lat.toFixed(7)}" lon="${p.lng.toFixed(7)}"/>`).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>\n<gpx version="1.1" creator="refugee-walk planner" ` +
    `xmlns="http://www.topografix.com/GPX/1/1">\n<metadata><name>${esc(name)}</name></metadata>\n` +
    `<trk><name>${esc(name)}</name><trkseg>\n${pts}\n</trkseg></trk>\n</gpx>\n`;
}

/* The parts of an uploaded GPX to draw it (track segments, else routes), as the server reads it. */
function gpxParts(text) {
  const xml = new DOMParser().parseFromString(text, "application/xml");
  const read = (parent, tag) => Array.from(parent.getElementsByTagNameNS("*", tag))
    .map((p) => [Number.parseFloat(p.getAttribute("lat")), Number.parseFloat(p.getAttribute("lon"))])
    .filter(([lat, lon]) => Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180)
    .map(([lat, lon]) => L.latLng(lat, lon));
  const segs = Array.from(xml.getElementsByTagNameNS("*", "trkseg")).map((s) => read(s, "trkpt"));
  const parts = segs.filter((s) => s.length);
  if (parts.length) return parts;
  return Array.from(xml.getElementsByTagNameNS("*", "rte")).map((r) => read(r, "rtept")).filter((r) => r.length);
}

function download() {
  const target = selectedTarget();
  const blob = new Blob([gpxText(routePoints(), `Refugee Walk ${target} km`)], { type: "application/gpx+xml" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = `refugee-walk-${target}km.gpx`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

/* A new file replaces whatever was there: the old route, its verdict and its marks go at once.
   Nothing of the file is drawn until the server has read it and given its verdict. */
async function uploadFile(file) {
  state.points = [];
  state.closed = false;
  state.history = [];
  clearUpload(false);
  showVerdict(null);
  state.upload = { file, parts: [] };
  changed();
  clearTimeout(state.timer);
  try {
    state.upload.parts = gpxParts(await file.text());
  } catch (err) {
    state.upload.parts = [];
  }
  check(file);
}

function drawUpload() {
  uploadLayer.clearLayers();
  const parts = (state.upload && state.upload.parts) || [];
  parts.forEach((part) => uploadLayer.addLayer(L.polyline(part, { color: "#1f5f99", weight: 4 })));
  const all = parts.flat();
  if (all.length) map.fitBounds(L.latLngBounds(all), { padding: [20, 20] });
}

function clearUpload(resetInput = true) {
  state.upload = null;
  uploadLayer.clearLayers();
  issueLayer.clearLayers();
  if (resetInput) $("file").value = "";
}

/* --- the server's verdict ------------------------------------------------------------- */

function selectedTarget() {
  return Number(document.querySelector("input[name=target]:checked").value);
}

function checkDrawn() {
  if (state.upload) return;
  if (routePoints().length < 2) return showVerdict(null);
  const blob = new Blob([gpxText(routePoints(), "planned route")], { type: "application/gpx+xml" });
  check(new File([blob], "drawn-route.gpx", { type: "application/gpx+xml" }));
}

async function check(file) {
  if (state.pending) state.pending.abort();
  const pending = (state.pending = new AbortController());
  const form = new FormData();
  form.append("file", file);
  form.append("distance_km", String(selectedTarget()));
  showVerdict("checking");
  try {
    const resp = await fetch("/api/personal-routes/validate", { method: "POST", body: form, signal: pending.signal });
    const body = await resp.json().catch(() => ({}));
    if (pending !== state.pending) return;
    if (resp.status === 429 || resp.status === 503) {
      // busy or too many checks in a minute: try again when the server says, same file
      const wait = Math.max(1, Number(resp.headers.get("Retry-After")) || 2);
      setTimeout(() => { if (pending === state.pending) check(file); }, wait * 1000);
      return;
    }
    if (resp.ok) {
      if (state.upload && state.upload.file === file) drawUpload();
      showReport(body);
    } else {
      refused(file, resp.status, body);
    }
  } catch (err) {
    if (err.name !== "AbortError") showVerdict("error", t("offline"));
  }
}

/* An unreadable file: its name, and why in the page's language (by the server's code). */
function refused(file, status, body) {
  uploadLayer.clearLayers();
  const limit = state.config ? state.config.max_upload_bytes / 1e6 : 0;
  const reason = status === 413 ? t("too_large_file", { mb: limit })
    : findingSentence(body.code) || body.detail || String(status);
  const box = showVerdict("error", "");
  box.dataset.code = body.code || (status === 413 ? "too_large" : "");
  box.append(el("h2", t("unreadable_file", { file: file.name })), el("p", reason));
  state.refusal = [file, status, body];
}

function showVerdict(kind, message) {
  const box = $("verdict");
  state.report = null;
  state.refusal = null;
  issueLayer.clearLayers();
  box.hidden = kind === null;
  box.className = kind === "error" ? "error" : "";
  box.dataset.valid = "";
  box.dataset.code = "";
  box.textContent = kind === "checking" ? t("checking") : message || "";
  showLive();
  return box;
}

function findingText(f) {
  return findingSentence(f.code, f.params || {}) || f.message;
}

function countryName(p) {
  try { return new Intl.DisplayNames([state.lang], { type: "region" }).of(p.country_code) || p.country; } catch (e) { return p.country; }
}

function regionText(p) {
  return [p.province || p.admin1, countryName(p)].filter(Boolean).join(", ");
}

function placeText(p) {
  return [p.place, regionText(p)].filter(Boolean).join(", ");
}

function duration(s) {
  const min = Math.round(s / 60);
  return `${Math.floor(min / 60)}:${String(min % 60).padStart(2, "0")}`;
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  Object.entries(attrs).forEach(([k, v]) => node.setAttribute(k, v));
  return node;
}

function showReport(report) {
  showVerdict(report.valid ? "valid" : "invalid");
  state.report = report;
  const box = $("verdict");
  box.className = report.valid ? "valid" : "invalid";
  box.dataset.valid = String(report.valid);
  box.dataset.distanceM = report.distance_m;
  box.textContent = "";
  box.append(el("h2", t(report.valid ? "valid" : "invalid", { target: report.target_km })));
  const dl = el("dl");
  const row = (k, v) => dl.append(el("dt", k), el("dd", v));
  const smoothed = report.kind === "recorded" ? ` (${t("smoothed", { raw: km(report.raw_distance_m) })})` : "";
  row(t("length"), `${km(report.distance_m)} km${smoothed}`);
  row(t("start"), placeText(report.start));
  row(t("finish"), report.is_loop ? `${placeText(report.finish)} (${t("loop")})` : placeText(report.finish));
  row(t("region"), report.regions.map(regionText).join("; "));
  if (report.recorded) {
    const rec = report.recorded;
    row(t("moving"), duration(rec.moving_time_s));
    row(t("pauses"), `${rec.pauses.length} (${duration(rec.paused_s)})`);
    if (rec.pace_s_per_km) row(t("pace"), `${duration(rec.pace_s_per_km * 60)} /km`);
  }
  box.append(dl);
  listFindings(box, "problems", report.problems, report);
  listFindings(box, "warnings", report.warnings, report);
  drawIssues(report);
  showLive();
  if (state.upload) box.scrollIntoView({ block: "nearest", behavior: "smooth" });
}

function listFindings(box, key, findings, report) {
  if (!findings.length) return;
  const ul = el("ul", undefined, { class: key });
  findings.forEach((f) => ul.append(el("li", findingText(f, report), { "data-code": f.code })));
  box.append(el("h3", t(key)), ul);
}

/* The places behind the verdict: gaps and jumps as dashed lines, fast stretches in orange. */
function drawIssues(report) {
  issueLayer.clearLayers();
  const ll = ([lon, lat]) => [lat, lon];
  const add = (f, color) => {
    if (f.from && f.to) {
      issueLayer.addLayer(L.polyline([ll(f.from), ll(f.to)], { color, weight: 6, dashArray: "8 8", className: `issue issue-${f.code}` })
        .bindTooltip(findingText(f, report)));
    }
    (f.stretches || []).forEach((s) => issueLayer.addLayer(
      L.polyline(s.line.map(ll), { color: "#e67e22", weight: 8, opacity: 0.85, className: `issue issue-${f.code}` })
        .bindTooltip(findingText(f, report))));
  };
  report.problems.forEach((f) => add(f, "#c0392b"));
  report.warnings.forEach((f) => add(f, "#b9770e"));
  ((report.recorded && report.recorded.pauses) || []).forEach((p) =>
    issueLayer.addLayer(L.circleMarker([p.lat, p.lon], { radius: 6, color: "#555", className: "pause" })
      .bindTooltip(`${t("pauses")}: ${duration(p.duration_s)}`)));
}

/* --- start ---------------------------------------------------------------------------- */

function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
}

function addTiles(config) {
  const tiles = L.tileLayer(config.tile_url, { attribution: config.tile_attribution, maxZoom: 19 });
  let failed = 0;
  tiles.on("tileerror", () => { if (++failed === 3) notice(t("tiles")); });
  tiles.addTo(map);
}

async function start() {
  setLang(initialLang());
  document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => setLang(b.dataset.lang)));
  map.on("click", addPoint);
  $("undo").addEventListener("click", undo);
  $("close").addEventListener("click", closeLoop);
  $("clear").addEventListener("click", clearAll);
  $("download").addEventListener("click", download);
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) uploadFile(e.target.files[0]); });
  document.querySelectorAll("input[name=target]").forEach((r) => r.addEventListener("change", () =>
    (state.upload ? check(state.upload.file) : checkDrawn())));
  changed();
  try {
    state.config = await (await fetch("/api/personal-routes/config")).json();
    addTiles(state.config);
  } catch (err) {
    notice(t("tiles"));
  }
  document.body.dataset.ready = "true";
}

window.planner = { map, state, pickLang, distanceM };
start();
