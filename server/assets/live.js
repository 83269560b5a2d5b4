// Live update of dashboard pages marked data-live: when the relay reports that a case this user
// may see has changed (server-sent events from /events), fetch the page again and swap its main
// content. Without JavaScript the page refreshes itself every minute instead (<noscript>).
(function () {
  "use strict";
  if (!window.EventSource) return;
  var main = document.getElementById("main");
  if (!main) return;
  var pending = false;
  function refresh() {
    if (pending) return;
    pending = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        pending = false;
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = doc.getElementById("main");
        if (next) {
          main.innerHTML = next.innerHTML;
          document.body.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () { pending = false; });
  }
  var events = new EventSource("/events");
  events.addEventListener("changed", refresh);
})();
