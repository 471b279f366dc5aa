/* The walker's follow-link page: make a link (their choice of name and precision), share it,
   or end it at once. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rw-follow-me").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var auth = { "Authorization": "Bearer " + cfg.token };

  function say(text) { var p = $("msg"); p.hidden = false; p.textContent = text; }
  function failed(r) {
    return r.json().then(function (b) { say(b.detail || String(r.status)); }, function () { say(String(r.status)); });
  }

  $("make").addEventListener("submit", function (ev) {
    ev.preventDefault();
    fetch("/api/me/follow", {
      method: "POST",
      headers: Object.assign({ "Content-Type": "application/json" }, auth),
      body: JSON.stringify({ display_name: $("name").value, precise: $("precise").checked })
    }).then(function (r) { return r.ok ? location.reload() : failed(r); }, function () { say("…"); });
  });
  if ($("stop")) {
    $("stop").addEventListener("click", function () {
      fetch("/api/me/follow", { method: "DELETE", headers: auth }).then(function (r) {
        if (r.ok) { say(cfg.t.stopped); $("live").remove(); } else failed(r);
      });
    });
  }
  if ($("share")) {
    $("share").addEventListener("click", function () {
      var url = $("link").href;
      if (navigator.share) {
        navigator.share({ title: cfg.t.title, url: url }).catch(function () {});
      } else if (navigator.clipboard) {
        navigator.clipboard.writeText(url).then(function () { say(cfg.t.copied); });
      }
    });
  }
})();
