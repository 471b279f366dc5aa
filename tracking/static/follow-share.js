/* The walker page's share button for the follow link (loaded only when there is a link). */
(function () {
  "use strict";
  var btn = document.getElementById("follow-share");
  var url = document.getElementById("follow-url").href;
  btn.addEventListener("click", function () {
    if (navigator.share) navigator.share({ url: url }).catch(function () {});
    else if (navigator.clipboard) navigator.clipboard.writeText(url);
  });
})();
