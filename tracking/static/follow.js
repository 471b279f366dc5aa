/* The family's follow page: progress, check-ins, expected arrival, and the position on a
   small map only when the walker chose to share it. Polls /api/follow/<token>. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rw-follow").textContent);
  var t = cfg.t;
  var $ = function (id) { return document.getElementById(id); };
  var dec = cfg.lang === "en" ? "." : ",";

  function fmt(msg, values) {
    return msg.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
  }
  function km(m) { return (m / 1000).toFixed(1).replace(".", dec); }
  function clock(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString(cfg.lang, { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz });
  }

  function render(d) {
    var pct = Math.max(0, Math.min(100, d.progress_pct || 0));
    $("progress").style.width = pct + "%";
    $("walked").textContent = fmt(t.walked, { done: km(d.distance_along_m), total: km(d.route_length_m || 0) });
    $("finished").hidden = !d.finished;
    $("eta").textContent = d.eta && !d.finished ? fmt(t.eta, { time: clock(d.eta) }) : "";
    $("updated").textContent = fmt(t.updated, { time: clock(new Date().toISOString()) });
    var ol = $("checkins");
    ol.textContent = "";
    if (!d.checkins.length) {
      var li = document.createElement("li");
      li.className = "none";
      li.textContent = t.none;
      ol.appendChild(li);
    }
    d.checkins.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = clock(c.at) + " · " + c.name;
      ol.appendChild(li);
    });
    drawMap(d.position);
  }

  // A small SVG map of the route with the walker's dot: no tiles, nothing from outside.
  var NS = "http://www.w3.org/2000/svg";
  function drawMap(pos) {
    var svg = $("map");
    $("nopos").hidden = !!pos;
    $("pos").hidden = !pos;
    svg.toggleAttribute("hidden", !pos || !cfg.line.length);  // an SVG element has no .hidden
    if (!pos) return;
    $("pos").textContent = fmt(t.position, { time: clock(pos.recorded_at) });
    var pts = cfg.line.concat([[pos.lon, pos.lat]]);
    var k = Math.cos(pts[0][1] * Math.PI / 180);
    var xs = pts.map(function (p) { return p[0] * k; }), ys = pts.map(function (p) { return p[1]; });
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    var s = Math.min(280 / (x1 - x0 || 1), 180 / (y1 - y0 || 1));
    function xy(p) { return [10 + (p[0] * k - x0) * s, 10 + (y1 - p[1]) * s]; }
    svg.textContent = "";
    var line = document.createElementNS(NS, "polyline");
    line.setAttribute("points", cfg.line.map(function (p) { return xy(p).join(","); }).join(" "));
    line.setAttribute("class", "route");
    svg.appendChild(line);
    var dot = document.createElementNS(NS, "circle");
    var c = xy([pos.lon, pos.lat]);
    dot.setAttribute("cx", c[0]);
    dot.setAttribute("cy", c[1]);
    dot.setAttribute("r", 6);
    dot.setAttribute("class", "me");
    dot.setAttribute("id", "dot");
    svg.appendChild(dot);
  }

  function poll() {
    fetch("/api/follow/" + encodeURIComponent(cfg.token), { cache: "no-store" })
      .then(function (r) {
        if (r.status === 404 || r.status === 410) { location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (d) { $("net").hidden = true; if (d) render(d); },
        function () { $("net").hidden = false; });
  }

  render(cfg.data);
  setInterval(poll, cfg.poll_ms);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) poll(); });
})();
