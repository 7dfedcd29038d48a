// taskplatform's web app: toasts, error messages for htmx requests, upload progress.
// No inline script anywhere (the Content-Security-Policy forbids it): behaviour is bound
// here, by delegation on <body>.
(function () {
  "use strict";
  var body = document.body;
  var region = document.getElementById("toasts");

  function toast(message, level) {
    if (!region || !message) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + (level || "info");
    item.textContent = message;
    item.addEventListener("click", function () { item.remove(); });
    region.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }
  window.taskplatformToast = toast;
  // messages rendered by the server fade like the others
  Array.prototype.forEach.call(region ? region.children : [], function (item) {
    item.addEventListener("click", function () { item.remove(); });
    setTimeout(function () { item.remove(); }, 6000);
  });

  // a view's HX-Trigger: {"toast": {"message": "...", "level": "success"}}
  body.addEventListener("toast", function (event) {
    toast(event.detail.message, event.detail.level);
  });

  body.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status === 429) {
      var wait = xhr.getResponseHeader("Retry-After") || "a few";
      toast("Too many requests: wait " + wait + " seconds and try again.", "error");
    } else if (xhr.status === 403) {
      toast("That was refused. Reload the page and try again.", "error");
    } else if (xhr.status === 404) {
      toast("That is gone: it may have been deleted.", "error");
    } else if (xhr.status === 409 || xhr.status === 413 || xhr.status === 415) {
      toast(messageOf(xhr) || "That can't be done now.", "error");
    } else {
      toast("Something went wrong (" + xhr.status + "). Try again shortly.", "error");
    }
  });
  body.addEventListener("htmx:sendError", function () {
    toast("The server can't be reached. Check your connection and try again.", "error");
  });

  // an error answer's message: a page's <p class="message"> or the API envelope's
  function messageOf(xhr) {
    var type = xhr.getResponseHeader("Content-Type") || "";
    try {
      if (type.indexOf("json") >= 0) return JSON.parse(xhr.responseText).error.message;
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var found = doc.querySelector("[data-message]");
      return found ? found.textContent.trim() : "";
    } catch (e) {
      return "";
    }
  }

  // live updates (live.js): a toast for what someone else did that concerns you; the
  // regions marked hx-trigger="live:<type> from:body" refresh themselves
  var me = Number(body.dataset.userId || 0);
  body.addEventListener("live:task", function (event) {
    var e = event.detail, data = e.data || {};
    var handedOver = e.type === "task.created" || (data.changed || []).indexOf("assignee") >= 0;
    if (me && handedOver && data.assignee_id === me && data.owner_id !== me) {
      toast("\u201c" + data.title + "\u201d was assigned to you.", "info");
    }
  });
  body.addEventListener("live:run", function (event) {
    var data = event.detail.data || {};
    if (data.status === "failed") {
      toast("A run of \u201c" + data.job_name + "\u201d failed.", "error");
    }
  });

  // signed out in another tab: this one leaves too (the page reloads onto the sign-in page)
  body.addEventListener("live:disconnected", function (event) {
    if (event.detail.code === 4401 && event.detail.reason === "Signed out.") {
      window.location.reload();
    }
  });

  // uploads: a <progress> inside the form shows how much has been sent
  body.addEventListener("htmx:xhr:progress", function (event) {
    var bar = event.target.querySelector && event.target.querySelector("progress");
    if (bar && event.detail.lengthComputable) {
      bar.hidden = false;
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();
