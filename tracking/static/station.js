/* The volunteer's check-in station: bib, name search or QR code; a queue that survives
   being offline, a reload and a restart (localStorage). Each check-in gets a client id made
   on this phone and leaves the queue only when the server has answered it: sent again, the
   server gives the same answer and stores it once. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rw-station").textContent);
  var KEY = "rw-station-" + cfg.station;
  var $ = function (id) { return document.getElementById(id); };
  var t = cfg.t;
  function fmt(msg, values) {
    return msg.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }
  var queue = load(KEY + "-queue", []);
  var log = load(KEY + "-log", []);
  var phone = localStorage.getItem("rw-station-phone");
  if (!phone) {
    phone = Math.random().toString(36).slice(2, 10);
    localStorage.setItem("rw-station-phone", phone);
  }
  var sending = false, closed = false, timer = null;

  function load(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save() {
    localStorage.setItem(KEY + "-queue", JSON.stringify(queue));
    localStorage.setItem(KEY + "-log", JSON.stringify(log.slice(-50)));
  }
  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString(cfg.lang, { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz });
  }

  function add(code) {
    code = String(code || "").trim();
    if (!code) return;
    var seq = Number(localStorage.getItem(KEY + "-seq") || 0) + 1;
    localStorage.setItem(KEY + "-seq", String(seq));
    queue.push({ cid: phone + "-" + seq, code: code, at: new Date().toISOString() });
    save();
    if (!navigator.onLine) say("queued", fmt(t.queued, { code: code }));
    render();
    flush();
  }

  function flush() {
    if (sending || closed || !queue.length) return;
    if (!navigator.onLine) { later(); return; }
    sending = true;
    var item = queue[0];
    fetch("/api/station/checkins", {
      method: "POST",
      headers: { "Authorization": "Bearer " + cfg.token, "Content-Type": "application/json" },
      body: JSON.stringify({ code: item.code, client_id: item.cid, at: item.at })
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        return { status: r.status, body: b };
      });
    }).then(function (res) {
      sending = false;
      if (res.status === 401 || res.status === 410) {
        closed = true;
        say("bad", t.closed);
        render();
        return;
      }
      if (res.status >= 500 || res.status === 429 || res.status === 0) { later(); return; }
      queue.shift();
      answered(item, res);
      save();
      render();
      flush();
    }, function () { sending = false; later(); });
  }

  function later() {
    render();
    if (!timer) timer = setTimeout(function () { timer = null; flush(); }, 5000);
  }

  function answered(item, res) {
    var b = res.body || {};
    var kind = { 201: "ok", 200: "already" }[res.status] || "bad";
    var text = sentence(res.status, b, item);
    say(kind, text);
    log.push({ kind: kind, text: text, at: item.at });
  }

  // The sentence in the page's language, from the answer's fields (the server's `detail` is
  // English, for the API).
  function sentence(status, b, item) {
    var v = { name: b.name, bib: b.bib || item.code, point: cfg.point, route: b.route_id,
      time: b.at ? clock(b.at) : "", code: status };
    if (status === 201) return fmt(t.ok, v);
    if (status === 200) return fmt(t.already, v);
    if (status === 409) return fmt(t.wrong_route, v);
    if (status === 404) return b.bib ? fmt(t.unknown, v) : t.empty;
    return fmt(t.error, v);
  }

  function say(kind, text) {
    var p = $("answer");
    p.hidden = false;
    p.className = "msg " + kind;
    p.textContent = text;
  }

  function render() {
    var n = queue.length;
    $("queue").textContent = n === 0 ? t.queue_none : n === 1 ? t.queue_one : fmt(t.queue_many, { n: n });
    $("queue").className = n ? "queue waiting" : "queue";
    $("net").hidden = navigator.onLine;
    var ol = $("log");
    ol.textContent = "";
    log.slice(-20).reverse().forEach(function (e) {
      var li = document.createElement("li");
      li.className = e.kind;
      li.textContent = clock(e.at) + " " + e.text;
      ol.appendChild(li);
    });
  }

  $("bib-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    add($("bib").value);
    $("bib").value = "";
    $("bib").focus();
  });

  // --- search by name ------------------------------------------------------------------
  var searchTimer = null;
  $("q").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 250);
  });
  function search() {
    var q = $("q").value.trim();
    var ul = $("results");
    if (q.length < 2) { ul.textContent = ""; return; }
    fetch("/api/station/walkers?q=" + encodeURIComponent(q), {
      headers: { "Authorization": "Bearer " + cfg.token }
    }).then(function (r) { return r.ok ? r.json() : []; }).then(function (walkers) {
      ul.textContent = "";
      walkers.forEach(function (w) {
        var li = document.createElement("li");
        var btn = document.createElement("button");
        btn.type = "button";
        btn.className = "btn ghost";
        btn.textContent = w.name + " · " + (w.bib || t.no_bib) + " · " + w.route_id;
        btn.disabled = !w.bib;
        btn.addEventListener("click", function () { add(w.bib); ul.textContent = ""; $("q").value = ""; });
        li.appendChild(btn);
        ul.appendChild(li);
      });
    }, function () { ul.textContent = ""; });
  }

  // --- QR codes: BarcodeDetector, else jsQR served by the app ---------------------------
  var stream = null, detector = null, lastCode = "", lastAt = 0;
  $("scan-btn").addEventListener("click", function () { stream ? stopScan() : startScan(); });
  function startScan() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("bad", t.no_camera);
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        var v = $("video");
        v.srcObject = s;
        v.hidden = false;
        v.play();
        $("scan-btn").textContent = t.scan_stop;
        return decoder();
      }).then(function () { tick(); }, function () {
        say("bad", t.no_camera);
        stopScan();
      });
  }
  function decoder() {
    if ("BarcodeDetector" in window) {
      return window.BarcodeDetector.getSupportedFormats().then(function (f) {
        if (f.indexOf("qr_code") < 0) return loadJsqr();
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        document.body.dataset.decoder = "BarcodeDetector";
      }, loadJsqr);
    }
    return loadJsqr();
  }
  function loadJsqr() {
    document.body.dataset.decoder = "jsQR";
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (ok, fail) {
      var s = document.createElement("script");
      s.src = cfg.jsqr;
      s.onload = ok;
      s.onerror = fail;
      document.head.appendChild(s);
    });
  }
  function stopScan() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    $("video").hidden = true;
    $("scan-btn").textContent = t.scan;
  }
  function found(text) {
    var now = Date.now();
    if (!text || (text === lastCode && now - lastAt < 5000)) return;
    lastCode = text;
    lastAt = now;
    if (text.toUpperCase().indexOf("RW:") !== 0) { say("bad", t.not_walker); return; }
    add(text);
  }
  function tick() {
    if (!stream) return;
    var v = $("video");
    var next = function () { setTimeout(tick, 250); };
    if (v.readyState < 2) { next(); return; }
    if (detector) {
      detector.detect(v).then(function (codes) {
        if (codes.length) found(codes[0].rawValue);
        next();
      }, next);
      return;
    }
    var c = $("canvas");
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    var ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(v, 0, 0, c.width, c.height);
    var img = ctx.getImageData(0, 0, c.width, c.height);
    var code = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
    if (code) found(code.data);
    next();
  }

  window.addEventListener("online", function () { render(); flush(); });
  window.addEventListener("offline", render);
  setInterval(flush, 10000);
  render();
  flush();
})();
