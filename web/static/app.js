// scorebridge's small script. Every page works without it; it adds the
// narrow-screen menu, submits filter menus on change and shows times in the
// viewer's own zone. It loads in <head> without defer so the "js" class is
// on <html> before the page is drawn (no flash of the full menu).
document.documentElement.classList.add("js");

// Submit the filter form as soon as a menu or the to-do toggle changes; the
// Apply button keeps the form usable without script.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el instanceof HTMLElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});

// The menu button under 700 px opens and closes the navigation; Escape
// closes it and gives the focus back to the button.
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector(".menu-button");
  var nav = document.getElementById("main-nav");
  if (button && nav) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) {
        var first = nav.querySelector("a");
        if (first) first.focus();
      }
    });
    nav.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }
  localTimes(document);
});

// localTimes rewrites every <time data-local> to the viewer's time zone,
// with the zone named; the title keeps UTC, as the server wrote it.
// share.js calls it for the parts of pages it puts in place.
window.scorebridgeLocalTimes = localTimes;
function localTimes(root) {
  var fmt;
  try {
    fmt = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  } catch (e) {
    return;
  }
  root.querySelectorAll("time[data-local]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d)) return;
    if (!el.title) el.title = el.textContent.trim();
    el.textContent = fmt.format(d);
  });
}
// Upload an import file with a progress bar. Without script the form posts
// as it is and the server answers with the source's page.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-upload") || !window.FormData) {
    return;
  }
  var input = form.querySelector("input[type=file]");
  var bar = form.querySelector("progress");
  var status = form.querySelector("[data-upload-status]");
  if (!input || !input.files || input.files.length === 0 || !bar) {
    return;
  }
  event.preventDefault();
  var xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/imports?name=" + encodeURIComponent(input.files[0].name));
  xhr.setRequestHeader("Content-Type", "application/octet-stream");
  bar.hidden = false;
  bar.value = 0;
  xhr.upload.addEventListener("progress", function (e) {
    if (e.lengthComputable) {
      bar.value = Math.round((e.loaded / e.total) * 100);
      status.textContent = "Uploading: " + bar.value + "%";
    }
  });
  xhr.addEventListener("load", function () {
    var body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
    if (xhr.status === 201 && body.sourceId) {
      status.textContent = "Imported.";
      window.location.assign("/sources/" + encodeURIComponent(body.sourceId) + "?done=imported");
      return;
    }
    bar.hidden = true;
    status.textContent = (body.error && body.error.message) || ("The import failed (" + xhr.status + ").");
  });
  xhr.addEventListener("error", function () {
    bar.hidden = true;
    status.textContent = "The upload did not reach the center.";
  });
  status.textContent = "Uploading…";
  xhr.send(input.files[0]);
});
