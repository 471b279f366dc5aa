/* The public live page: totals, the crowd along each route (a histogram, never positions),
   recent check-ins per point. Polls /api/live. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rw-live").textContent);
  var t = cfg.t;
  var $ = function (id) { return document.getElementById(id); };
  var NS = "http://www.w3.org/2000/svg";
  var dec = cfg.lang === "en" ? "." : ",";

  function fmt(msg, values) { return msg.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; }); }
  function num(n) { return Number(n).toLocaleString(cfg.lang); }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString(cfg.lang, { hour: "2-digit", minute: "2-digit", timeZone: cfg.tz });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  function histogram(r) {
    var h = r.histogram, W = 600, H = 140, base = 110;
    var max = Math.max.apply(null, h.counts.concat([1]));
    var s = svg("svg", { viewBox: "0 0 " + W + " " + H, "class": "hist", role: "img" });
    var bw = W / h.counts.length;
    h.counts.forEach(function (n, i) {
      var bh = (n / max) * (base - 14);
      var bar = svg("rect", { x: i * bw + 1, y: base - bh, width: Math.max(1, bw - 2), height: bh, "class": "bar" });
      var tip = svg("title", {});
      tip.textContent = (i * h.bin_m / 1000) + "–" + ((i + 1) * h.bin_m / 1000) + " km: " + n;
      bar.appendChild(tip);
      s.appendChild(bar);
      if (n) {
        var label = svg("text", { x: i * bw + bw / 2, y: base - bh - 3, "class": "n" });
        label.textContent = n;
        s.appendChild(label);
      }
    });
    s.appendChild(svg("line", { x1: 0, y1: base, x2: W, y2: base, "class": "axis" }));
    r.checkpoints.forEach(function (cp, i) {
      var x = Math.min(W - 2, (cp.distance_along_m / r.length_m) * W);
      s.appendChild(svg("line", { x1: x, y1: base, x2: x, y2: base + 6, "class": "cp" }));
      var anchor = x < 60 ? "start" : x > W - 60 ? "end" : "middle";
      var name = svg("text", { x: x, y: base + 18 + (i % 2) * 12, "class": "cpname", "text-anchor": anchor });
      name.textContent = cp.name.replace(/ \(.*\)$/, "");
      s.appendChild(name);
    });
    return s;
  }

  function render(d) {
    $("on-the-way").textContent = num(d.on_the_way);
    $("finished").textContent = num(d.finished);
    $("km").textContent = Number(d.total_km).toFixed(1).replace(".", dec);
    $("registered").textContent = fmt(t.registered, { n: num(d.walkers) });
    var box = $("routes");
    box.textContent = "";
    Object.keys(d.routes).forEach(function (rid) {
      var r = d.routes[rid];
      var card = el("div", "card route");
      card.dataset.route = rid;
      card.appendChild(el("h2", null, r.name));
      var p = el("p", "counts");
      p.appendChild(el("b", "on", num(r.on_the_way)));
      p.appendChild(document.createTextNode(" " + t.on_the_way + " · "));
      p.appendChild(el("b", "fin", num(r.finished)));
      p.appendChild(document.createTextNode(" " + t.finished));
      card.appendChild(p);
      if (r.histogram) {
        card.appendChild(el("p", "small", t.crowd_note));
        card.appendChild(histogram(r));
      }
      box.appendChild(card);
    });
    $("recent-title").textContent = fmt(t.recent, { n: d.recent_minutes });
    var ul = $("recent");
    ul.textContent = "";
    if (!d.recent_checkins.length) ul.appendChild(el("li", "none", fmt(t.recent_none, { n: d.recent_minutes })));
    d.recent_checkins.forEach(function (c) {
      var li = el("li");
      li.appendChild(el("b", null, num(c.count)));
      li.appendChild(document.createTextNode(" " + c.name));
      ul.appendChild(li);
    });
    $("updated").textContent = fmt(t.updated, { time: clock(d.at) });
  }

  function poll() {
    fetch("/api/live", { cache: "no-store" }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) { $("net").hidden = true; if (d) render(d); }, function () { $("net").hidden = false; });
  }
  render(cfg.data);
  setInterval(poll, cfg.poll_ms);
})();
