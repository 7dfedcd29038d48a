/* Live updates for the web app's pages (docs/live.md). No dependencies, no inline script.

   <script src="{% static 'live/live.js' %}" data-ws-url="{{ live_ws_url }}" defer></script>

   Connects to /ws/ with the page's session cookie, remembers the id of the last event
   (sessionStorage, per tab) and resumes from it after a reconnect (backoff 1 s doubling up
   to 30 s, with jitter). Each event is dispatched on <body> as "live:event" and as
   "live:<object_type>" (live:task, live:run, live:notification, live:meeting), with the
   event as `detail`, so htmx elements refresh themselves with
   hx-trigger="live:task from:body". A "live:resync" event means events were missed (the
   tab was away too long): refresh what the page shows. */
(function () {
  "use strict";
  var script = document.currentScript;
  var KEY = "live:last_id";
  var url = (script && script.dataset.wsUrl) || "";
  if (!url) {
    url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/";
  }
  if (!("WebSocket" in window)) return;

  var delay = 1000;
  var socket = null;
  var stopped = false;

  function lastId() {
    try {
      return sessionStorage.getItem(KEY);
    } catch (e) {
      return null;
    }
  }

  function remember(id) {
    var known = Number(lastId() || 0);
    if (id > known) {
      try {
        sessionStorage.setItem(KEY, String(id));
      } catch (e) {
        /* private mode: resume from the page's load only */
      }
    }
  }

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, { detail: detail, bubbles: true }));
  }

  function connect() {
    var last = lastId();
    var address = url + (last ? (url.indexOf("?") < 0 ? "?" : "&") + "last_id=" + last : "");
    socket = new WebSocket(address);
    socket.onopen = function () {
      delay = 1000;
    };
    socket.onmessage = function (message) {
      var data;
      try {
        data = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (typeof data.id === "number") {
        remember(data.id);
        fire("live:event", data);
        fire("live:" + data.object_type, data);
      } else if (data.type === "live.hello") {
        remember(data.last_id);
        fire("live:connected", data);
      } else if (data.type === "live.resync") {
        try {
          sessionStorage.setItem(KEY, String(data.last_id));
        } catch (e) {
          /* ignore */
        }
        fire("live:resync", data);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (stopped) return;
      fire("live:disconnected", { code: event.code, reason: event.reason });
      if (event.code === 4401 || event.code === 4403) {
        return; /* signed out: a new page load (after signing in) connects again */
      }
      var wait = delay * (0.8 + Math.random() * 0.4);
      delay = Math.min(delay * 2, 30000);
      setTimeout(connect, wait);
    };
  }

  window.addEventListener("pagehide", function () {
    stopped = true;
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !socket) {
      stopped = false;
      connect();
    }
  });
  connect();
})();
