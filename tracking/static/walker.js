/* The walker page: share positions (queued on the phone until the server acknowledges them),
   check in, follow the walk, call for help. No framework; the strings come with the page. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var cfg = JSON.parse($("rw-config").textContent);
  var T = cfg.t, lang = cfg.lang, KEY = "rw." + cfg.token + ".";
  var FLUSH_MS = 30000, MIN_GAP_MS = 15000, MIN_MOVE_M = 20, MAX_ACC_M = 1000;
  var BACKLOG_MS = 90000, BACKLOG_N = 4;
  var batchSize = 200, busy = false, flushedAt = 0, waiters = [], geoTrouble = false;
  var netFail = false, watchId = null, wake = null, mapFrame = null, memory = {};
  var last = null, lastAt = 0, kept = null, battery = null, refused = 0, meAt = Date.now();
  var locale = (navigator.language || "").toLowerCase().indexOf(lang) === 0 ? navigator.language : lang;
  var nf = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var noop = function () {};

  /* storage: localStorage, with memory as fallback when the browser refuses */
  function get(k, d) {
    try { var v = localStorage.getItem(KEY + k); if (v !== null) return JSON.parse(v); } catch (e) { /* memory */ }
    return k in memory ? memory[k] : d;
  }
  function put(k, v) {
    memory[k] = v;
    try { localStorage.setItem(KEY + k, JSON.stringify(v)); } catch (e) { /* memory only */ }
  }
  function device() {
    var id;
    try { id = localStorage.getItem("rw.device"); } catch (e) { id = null; }
    if (!id) {
      id = Math.random().toString(36).slice(2, 10);
      try { localStorage.setItem("rw.device", id); } catch (e) { /* a new id next time */ }
    }
    return id;
  }
  var phone = device();

  /* text */
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (m, k) { return k in v ? v[k] : m; }); }
  function km(m) { return nf.format(m / 1000) + " km"; }
  function dist(m) { return m < 1000 ? Math.round(m / 10) * 10 + " m" : km(m); }
  function hhmm(t) { return new Date(t).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" }); }
  function say(id, text, kind) {
    var el = $(id);
    el.textContent = text;
    el.className = "msg " + (kind || "");
    el.hidden = !text;
  }
  function errorText(status) {
    if (status === 401) return T.err_link;
    if (status === 409) return T.checkin_none;
    return fmt(T.err_generic, { code: status });
  }

  /* positions */
  function metres(a, b) {
    var k = Math.PI / 180, x = (b.lon - a.lon) * k * Math.cos(((a.lat + b.lat) * k) / 2);
    var y = (b.lat - a.lat) * k;
    return 6371000 * Math.sqrt(x * x + y * y);
  }
  function round(x, n) { return x == null || isNaN(x) ? undefined : Number(x.toFixed(n)); }
  function makeFix(p) {
    var c = p.coords, seq = get("seq", 0) + 1;
    put("seq", seq);
    return {
      id: phone + "-" + seq, recorded_at: new Date(p.timestamp || Date.now()).toISOString(),
      lat: round(c.latitude, 6), lon: round(c.longitude, 6), accuracy_m: round(c.accuracy, 1),
      altitude_m: round(c.altitude, 1), speed_mps: round(c.speed, 2), heading_deg: round(c.heading, 0),
      battery_pct: battery === null ? undefined : battery
    };
  }
  function onPosition(p, force) {
    var here = { lat: p.coords.latitude, lon: p.coords.longitude, t: p.timestamp || Date.now() };
    last = p; lastAt = Date.now();
    waiters.splice(0).forEach(function (w) { w(p); });
    if (geoTrouble) { geoTrouble = false; say("geo-msg", ""); }
    showSharing();
    toMap(here);
    if (p.coords.accuracy > MAX_ACC_M && !force) return;
    if (!force && kept && here.t - kept.t < MIN_GAP_MS && metres(kept, here) < MIN_MOVE_M) return;
    kept = here;
    var q = get("q", []);
    q.push(makeFix(p));
    put("q", q);
    renderQueue();
    if (Date.now() - flushedAt >= FLUSH_MS) flush();
  }
  function onGeoError(e) {
    if (e && e.code === 1) { stopSharing(); say("geo-msg", T.geo_denied, "bad"); return; }
    geoTrouble = true;
    say("geo-msg", T.geo_unavailable, "warn");
  }
  function startSharing() {
    if (!navigator.geolocation) { say("geo-msg", T.geo_unsupported, "bad"); return; }
    if (watchId !== null) return;
    say("geo-msg", "");
    watchId = navigator.geolocation.watchPosition(onPosition, onGeoError, {
      enableHighAccuracy: true, maximumAge: 10000, timeout: 60000
    });
    put("on", true);
    showSharing();
    lockScreen();
  }
  function stopSharing() {
    if (watchId !== null) navigator.geolocation.clearWatch(watchId);
    watchId = null;
    put("on", false);
    if (wake) wake.release().catch(noop);
    showSharing();
    flush();
  }
  function freshPosition() {
    /* While sharing, the watch's next fix (or one from the last 10 s); else ask once. */
    return new Promise(function (ok, fail) {
      var fallback = function (e) { if (last && Date.now() - lastAt < 60000) ok(last); else fail(e || { code: 3 }); };
      if (watchId !== null) {
        if (last && Date.now() - lastAt < 10000) { ok(last); return; }
        waiters.push(ok);
        setTimeout(function () { waiters = waiters.filter(function (w) { return w !== ok; }); fallback(); }, 20000);
      } else if (navigator.geolocation) {
        navigator.geolocation.getCurrentPosition(ok, fallback, { enableHighAccuracy: true, maximumAge: 0, timeout: 20000 });
      } else fail({ code: 0 });
    });
  }

  /* sending: the live position first after a gap, then the backlog oldest first */
  function api(path, body) {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = ctl && setTimeout(function () { ctl.abort(); }, 30000);
    var init = {
      method: body === undefined ? "GET" : "POST", cache: "no-store", signal: ctl && ctl.signal,
      headers: { Authorization: "Bearer " + cfg.token, "Content-Type": "application/json" }
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch(path, init).finally(function () { clearTimeout(timer); });
  }
  function HttpError(status) { this.status = status; }
  async function send(batch) {
    var r = await api("/api/fixes", { fixes: batch });
    if (r.status === 413 && batch.length > 1) { batchSize = Math.max(1, batch.length >> 1); return; }
    if (!r.ok) throw new HttpError(r.status);
    var answer = await r.json(), sent = {};
    refused += (answer.rejected || []).length;
    batch.forEach(function (f) { sent[f.id] = true; });
    put("q", get("q", []).filter(function (f) { return !sent[f.id]; }));
    put("sent", Date.now());
  }
  function backlog(q) {
    /* More than a normal batch waiting (after a gap in the signal): the live position first. */
    return q.length > BACKLOG_N || (q.length > 1 &&
      Date.parse(q[q.length - 1].recorded_at) - Date.parse(q[0].recorded_at) > BACKLOG_MS);
  }
  async function flush() {
    if (busy) return;
    busy = true;
    try {
      var q = get("q", []);
      if (q.length) flushedAt = Date.now();
      var sent = q.length > 0;
      if (backlog(q)) await send([q[q.length - 1]]);
      while ((q = get("q", [])).length) await send(q.slice(0, batchSize));
      netFail = false;
      await retryPending();
      if (sent || Date.now() - meAt > 300000) await refreshMe();
    } catch (e) {
      netFail = !(e instanceof HttpError);
      if (e instanceof HttpError && e.status === 401) say("geo-msg", T.err_link, "bad");
    } finally {
      busy = false;
      renderQueue();
    }
  }
  async function retryPending() {
    var ci = get("ci", null), sos = get("sos", null);
    if (ci) await sendCheckin(ci);
    if (sos) await sendSos(sos);
  }
  async function refreshMe() {
    var r = await api("/api/me");
    if (!r.ok) return;
    cfg.me = await r.json();
    put("me", cfg.me);
    meAt = Date.now();
    renderWalk();
  }

  /* check in and SOS */
  async function checkIn() {
    var btn = $("checkin-btn");
    btn.disabled = true;
    say("checkin-msg", T.checkin_locating, "busy");
    try {
      var p = await freshPosition();
      onPosition(p, true);
      say("checkin-msg", T.checkin_sending, "busy");
      flush();
      await sendCheckin({
        lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy || 0,
        recorded_at: new Date(p.timestamp || Date.now()).toISOString()
      });
    } catch (e) {
      say("checkin-msg", e && e.code === 1 ? T.geo_denied : T.geo_unavailable, "bad");
    } finally {
      btn.disabled = false;
    }
  }
  async function sendCheckin(body) {
    var r;
    try { r = await api("/api/checkins", body); } catch (e) {
      put("ci", body);
      say("checkin-msg", T.checkin_saved, "warn");
      return;
    }
    put("ci", null);
    var answer = await r.json().catch(function () { return {}; });
    if (r.status === 201) {
      say("checkin-msg", fmt(T.checkin_ok, { name: answer.name, km: km(answer.distance_along_m) }), "ok");
      refreshMe().catch(noop);
    } else if (r.status === 422 && answer.nearest) {
      var n = answer.nearest;
      say("checkin-msg", fmt(T.checkin_far, { dist: dist(n.distance_m), name: n.name }), "bad");
    } else {
      say("checkin-msg", errorText(r.status), "bad");
    }
  }
  function askSos() {
    var d = $("sos-dialog");
    if (d.showModal) d.showModal(); else if (window.confirm(T.sos_question)) sosNow();
  }
  async function sosNow() {
    $("sos-dialog").close && $("sos-dialog").close();
    say("sos-msg", T.sos_sending, "busy");
    var p = last && Date.now() - lastAt < 120000 ? last : await Promise.race([
      freshPosition().catch(function () { return last; }),
      new Promise(function (ok) { setTimeout(function () { ok(last); }, 8000); })
    ]);
    var body = { message: "SOS from the walker page" };
    if (p) { body.lat = p.coords.latitude; body.lon = p.coords.longitude; body.accuracy_m = p.coords.accuracy; }
    await sendSos(body);
  }
  async function sendSos(body) {
    var r;
    try { r = await api("/api/sos", body); } catch (e) {
      put("sos", body);
      say("sos-msg", T.sos_saved, "alert");
      return;
    }
    put("sos", null);
    say("sos-msg", r.ok ? T.sos_sent : errorText(r.status), "alert");
  }

  /* screen, map */
  async function lockScreen() {
    if (watchId !== null && !wake && "wakeLock" in navigator && document.visibilityState === "visible") {
      try {
        wake = await navigator.wakeLock.request("screen");
        wake.addEventListener("release", function () { wake = null; renderLock(); });
      } catch (e) { wake = null; }
    }
    renderLock();
  }
  function loadMap() {
    var kept = navigator.serviceWorker && navigator.serviceWorker.controller;
    if (!cfg.map || mapFrame || !(navigator.onLine || kept)) return;
    mapFrame = document.createElement("iframe");
    mapFrame.title = T.map_title;
    mapFrame.addEventListener("load", function () { toMap(null); });
    mapFrame.src = cfg.map;
    $("map").appendChild(mapFrame);
    $("map").hidden = false;
  }
  function toMap(here) {
    var p = here || (last ? { lat: last.coords.latitude, lon: last.coords.longitude } : cfg.me && cfg.me.last_fix);
    if (mapFrame && mapFrame.contentWindow && p) {
      mapFrame.contentWindow.postMessage({ type: "rw-position", lat: p.lat, lon: p.lon }, location.origin);
    }
  }

  /* rendering */
  function showSharing() {
    var on = watchId !== null, el = $("share-state");
    el.className = "state " + (on ? (last ? "on" : "looking") : "off");
    $("share-text").textContent = on ? (last ? T.share_on : T.share_looking) : T.share_off;
    $("share-btn").textContent = on ? T.share_stop : T.share_start;
    $("share-btn").className = "btn " + (on ? "ghost" : "primary");
    renderLock();
  }
  function renderLock() {
    $("lock-state").textContent = wake ? T.lock_on : T.lock_off;
  }
  function renderQueue() {
    var n = get("q", []).length, sentAt = get("sent", null), offline = netFail || !navigator.onLine;
    /* "All positions sent" only once something was sent; before that, "nothing sent yet". */
    $("queue-n").textContent = n === 0 ? (sentAt ? T.queue_none : T.queue_nothing) :
      n === 1 ? T.queue_one : fmt(T.queue_many, { n: n });
    $("queue").className = "queue " + (n ? "waiting" : "empty");
    $("last-sent").textContent = sentAt ? fmt(T.last_sent, { time: hhmm(sentAt) }) : "";
    $("net").hidden = !offline;
    $("refused").hidden = !refused;
    $("refused").textContent = fmt(T.refused, { n: refused });
  }
  function nextPoint(m, d) {
    /* The server's next point, or the one after it when the walker already checked in there. */
    var done = {}, next = m.next_checkpoint;
    (m.checkins || []).forEach(function (c) { done[c.checkpoint_id] = true; });
    if (!next || !done[next.checkpoint_id]) return next;
    var cp = cfg.checkpoints.filter(function (c) { return c.d > d && !done[c.id]; })[0];
    return cp && { checkpoint_id: cp.id, name: cp.name, distance_m: cp.d - d };
  }
  function renderWalk() {
    var m = cfg.me;
    if (!m) return;
    var len = m.route_length_m, d = m.distance_along_m || 0, pct = len ? Math.min(100, (100 * d) / len) : 0;
    var names = {};
    cfg.checkpoints.forEach(function (c) { names[c.id] = c.name; });
    $("progress").style.width = pct + "%";
    $("progress-outer").setAttribute("aria-valuenow", Math.round(pct));
    $("done").textContent = km(d);
    $("togo").textContent = len ? km(Math.max(0, len - d)) : "–";
    var next = nextPoint(m, d), text = "";
    if (m.status === "finished") text = T.walk_finished;
    else if (!m.last_fix) text = T.walk_nofix;
    else if (next) {
      text = fmt(T.walk_next, { name: next.name, d: dist(next.distance_m) });
      if (next.eta) text += " (" + fmt(T.walk_next_at, { time: hhmm(next.eta) }) + ")";
    }
    $("next").textContent = text;
    $("eta").textContent = m.eta_finish_at && m.status !== "finished" ? fmt(T.walk_eta, { time: hhmm(m.eta_finish_at) }) : "";
    var done = (m.checkins || []).map(function (c) { return names[c.checkpoint_id] || c.checkpoint_id; });
    $("checked").textContent = done.length ? T.walk_checked + " " + done.join(" · ") : "";
    $("updated").textContent = fmt(T.walk_updated, { time: hhmm(Date.now()) });
  }

  /* wiring */
  $("share-btn").addEventListener("click", function () { if (watchId === null) startSharing(); else stopSharing(); });
  $("checkin-btn").addEventListener("click", checkIn);
  $("sos-btn").addEventListener("click", askSos);
  $("sos-top").addEventListener("click", askSos);
  $("sos-yes").addEventListener("click", sosNow);
  $("sos-no").addEventListener("click", function () { $("sos-dialog").close(); });
  window.addEventListener("online", function () { netFail = false; renderQueue(); flush(); loadMap(); });
  window.addEventListener("offline", renderQueue);
  window.addEventListener("load", loadMap);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") lockScreen();
    flush();
  });
  setInterval(flush, FLUSH_MS);
  if (navigator.getBattery) {
    navigator.getBattery().then(function (b) {
      var read = function () { battery = Math.round(b.level * 100); };
      read();
      b.addEventListener("levelchange", read);
    }).catch(noop);
  }
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(noop);
  if (get("on", false)) {
    var resume = function (state) { if (state !== "denied") startSharing(); else showSharing(); };
    if (navigator.permissions) {
      navigator.permissions.query({ name: "geolocation" }).then(function (s) { resume(s.state); }, function () { resume(); });
    } else resume();
  }
  /* without signal: the page comes from the service worker, the walk as last known here */
  function newer(a, b) {
    var t = function (m) { return m && m.last_fix ? m.last_fix.recorded_at : ""; };
    return t(a) > t(b);
  }
  if (newer(get("me", null), cfg.me)) cfg.me = get("me", null);
  if (get("ci", null)) say("checkin-msg", T.checkin_saved, "warn");
  if (get("sos", null)) say("sos-msg", T.sos_saved, "alert");
  if (navigator.serviceWorker) {
    navigator.serviceWorker.register("/w/sw.js", { scope: "/w/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [location.pathname, cfg.map].concat([].map.call(
        document.querySelectorAll("link[rel=stylesheet], script[src]"), function (e) { return e.href || e.src; }));
      reg.active.postMessage({ type: "rw-keep", urls: urls.filter(Boolean) });
    }).catch(noop);
  }
  showSharing();
  renderQueue();
  renderWalk();
  flush();
})();
