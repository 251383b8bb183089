// Sharing to ServiceNow without leaving the page. Every part works without
// this script: the share menus are disclosures of links to the share form,
// the form posts and redirects. With it, the menus answer the keyboard as
// menus do, the form opens in a dialog (focus kept inside, given back on
// close), its errors come back in place, and the tickets are followed live
// through the ticket API until each is sent or has failed, with a retry.
(function () {
  "use strict";

  var POLL_MS = 1000;
  var SELECTION_KEY = "scorebridge.share-selection";

  // ---- Menus -------------------------------------------------------------

  function menuItems(menu) {
    return Array.prototype.slice.call(menu.querySelectorAll('[role="menuitem"]'));
  }

  function closeMenu(menu, focusSummary) {
    if (!menu.open) return;
    menu.open = false;
    if (focusSummary) menu.querySelector("summary").focus();
  }

  // placeMenu pins an open menu's panel to its summary with fixed
  // coordinates, so a table that scrolls sideways does not clip it.
  function placeMenu(menu) {
    var panel = menu.querySelector(".menu-panel");
    var r = menu.querySelector("summary").getBoundingClientRect();
    var width = panel.offsetWidth;
    var left = Math.min(r.right - width, document.documentElement.clientWidth - width - 8);
    panel.style.left = Math.max(8, left) + "px";
    panel.style.top = r.bottom + 4 + "px";
  }

  function openMenu(menu, last) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (other) {
      if (other !== menu) other.open = false;
    });
    menu.open = true;
    placeMenu(menu);
    var items = menuItems(menu);
    if (items.length) items[last ? items.length - 1 : 0].focus();
  }

  function setUpMenu(menu) {
    var summary = menu.querySelector("summary");
    summary.setAttribute("aria-haspopup", "menu");
    menu.addEventListener("toggle", function () {
      summary.setAttribute("aria-expanded", menu.open ? "true" : "false");
      // Opened by a click: focus the first item unless the keyboard
      // already put the focus in the menu.
      if (menu.open && !menu.contains(document.activeElement.closest && document.activeElement.closest(".menu-panel"))) openMenu(menu, false);
    });
    summary.setAttribute("aria-expanded", "false");
    // The keyboard opens the menu at once with its first (or, going up,
    // last) item focused, as a menu button does.
    summary.addEventListener("keydown", function (event) {
      var k = event.key;
      if (k !== "Enter" && k !== " " && k !== "ArrowDown" && k !== "ArrowUp") return;
      event.preventDefault();
      if (menu.open && (k === "Enter" || k === " ")) {
        menu.open = false;
        return;
      }
      openMenu(menu, k === "ArrowUp");
    });
    menu.addEventListener("keydown", function (event) {
      var items = menuItems(menu);
      var i = items.indexOf(document.activeElement);
      switch (event.key) {
        case "Escape":
          event.preventDefault();
          closeMenu(menu, true);
          return;
        case "Tab":
          closeMenu(menu, false);
          return;
        case "ArrowDown":
          if (i < 0) return;
          event.preventDefault();
          items[(i + 1) % items.length].focus();
          return;
        case "ArrowUp":
          if (i < 0) return;
          event.preventDefault();
          items[(i - 1 + items.length) % items.length].focus();
          return;
        case "Home":
          event.preventDefault();
          items[0].focus();
          return;
        case "End":
          event.preventDefault();
          items[items.length - 1].focus();
          return;
      }
    });
  }

  document.addEventListener("click", function (event) {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.open = false;
    });
  });
  window.addEventListener("resize", function () {
    document.querySelectorAll("details[data-menu][open]").forEach(function (menu) { menu.open = false; });
  });
  document.addEventListener("scroll", function () {
    document.querySelectorAll("details[data-menu][open]").forEach(placeMenu);
  }, true);

  // ---- The dialog --------------------------------------------------------

  var dialog, dialogBody, dialogTitle, opener, changed;

  function makeDialog() {
    dialog = document.createElement("dialog");
    dialog.className = "share-dialog";
    dialog.setAttribute("aria-labelledby", "share-dialog-title");
    dialog.innerHTML = '<div class="dialog-head"><h2 id="share-dialog-title">Share to ServiceNow</h2>' +
      '<button type="button" class="secondary dialog-close" data-dialog-close aria-label="Close">×</button></div>' +
      '<div class="dialog-body"></div>';
    dialogBody = dialog.querySelector(".dialog-body");
    dialogTitle = dialog.querySelector("#share-dialog-title");
    dialogTitle.setAttribute("tabindex", "-1");
    document.body.appendChild(dialog);
    dialog.addEventListener("click", function (event) {
      var t = event.target;
      if (t.closest("[data-dialog-close]") || t.closest("[data-share-cancel]")) {
        event.preventDefault();
        dialog.close();
      }
    });
    dialog.addEventListener("keydown", trapFocus);
    dialog.addEventListener("close", function () {
      stopPolling();
      dialogBody.textContent = "";
      if (changed) refreshInPlace();
      changed = false;
      if (opener && document.contains(opener)) opener.focus();
      opener = null;
    });
    dialog.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.matches("form[data-share-form]")) {
        event.preventDefault();
        send(form);
      }
    });
  }

  function focusables() {
    return Array.prototype.slice.call(dialog.querySelectorAll(
      'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'
    )).filter(function (el) { return el.offsetParent !== null || el === document.activeElement; });
  }

  // trapFocus keeps Tab and Shift+Tab inside the dialog.
  function trapFocus(event) {
    if (event.key !== "Tab") return;
    var els = focusables();
    if (!els.length) return;
    var first = els[0], last = els[els.length - 1];
    if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      event.preventDefault();
      first.focus();
    }
  }

  function message(text, linkHref, linkText) {
    dialogBody.textContent = "";
    var p = document.createElement("p");
    p.className = "field-error";
    p.setAttribute("role", "alert");
    p.textContent = text + " ";
    if (linkHref) {
      var a = document.createElement("a");
      a.href = linkHref;
      a.textContent = linkText;
      p.appendChild(a);
    }
    dialogBody.appendChild(p);
  }

  // errorText reads what an error page of the center says.
  function errorText(doc, status) {
    var el = doc.querySelector(".error-page p, main .field-error, main p");
    return el ? el.textContent.trim() : "The center answered " + status + ".";
  }

  // showForm puts the share form of a page into the dialog, focusing the
  // first field with an error, or the first field.
  function showForm(doc) {
    var form = doc.querySelector("form[data-share-form]");
    if (!form) return false;
    dialogBody.textContent = "";
    dialogBody.appendChild(document.importNode(form, true));
    var f = dialogBody.querySelector("form");
    localTimes(f);
    var first = f.querySelector('[aria-invalid="true"]') || f.querySelector("[data-error-summary]") ||
      f.querySelector('input:not([type="hidden"]):not([disabled]), select, textarea');
    if (first) {
      if (!first.matches("input, select, textarea")) first.setAttribute("tabindex", "-1");
      first.focus();
    }
    return true;
  }

  function localTimes(root) {
    if (typeof window.scorebridgeLocalTimes === "function") window.scorebridgeLocalTimes(root);
  }

  function openShare(url, from) {
    if (!dialog) makeDialog();
    opener = from;
    changed = false;
    dialogTitle.textContent = "Share to ServiceNow";
    dialogBody.innerHTML = '<p class="muted" role="status">Loading the share form…</p>';
    if (!dialog.open) dialog.showModal();
    // The heading, not the close button: the Enter that opened the dialog
    // from a menu item must not land on a button and close it again.
    dialogTitle.focus();
    fetch(url, {credentials: "same-origin", headers: {Accept: "text/html"}}).then(function (resp) {
      return resp.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!resp.ok || !showForm(doc)) {
          message(errorText(doc, resp.status), url, "Open the share page");
        }
      });
    }).catch(function () {
      message("The share form could not be loaded.", url, "Open the share page");
    });
  }

  // send posts the form and shows the answer in place: the form again with
  // its errors, or the queued tickets, followed until they are done.
  function send(form) {
    var button = form.querySelector('button[type="submit"]');
    if (button) {
      button.disabled = true;
      button.textContent = "Sharing…";
    }
    var body = new URLSearchParams(new FormData(form));
    fetch(form.getAttribute("action"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: {Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (resp.status === 202 && type.indexOf("application/json") >= 0) {
        return resp.json().then(function (data) {
          changed = true;
          clearSelection();
          follow(data.tickets || []);
        });
      }
      return resp.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        if (!showForm(doc)) message(errorText(doc, resp.status));
      });
    }).catch(function () {
      if (button) {
        button.disabled = false;
        button.textContent = "Share";
      }
      var p = form.querySelector("[data-send-error]") || document.createElement("p");
      p.className = "field-error";
      p.setAttribute("role", "alert");
      p.setAttribute("data-send-error", "");
      p.textContent = "The center could not be reached; nothing was shared. Try again.";
      form.insertBefore(p, form.firstChild);
    });
  }

  // ---- Progress ----------------------------------------------------------

  var timer = null;
  // current is the share being followed: its rows by ticket id, and how
  // many tickets it made.
  var current = {rows: {}, total: 0};

  function stopPolling() {
    if (timer) clearTimeout(timer);
    timer = null;
  }

  function follow(tickets) {
    var total = tickets.length;
    dialogTitle.textContent = total === 1 ? "Sharing 1 ticket" : "Sharing " + total + " tickets";
    dialogBody.innerHTML = '<div class="share-progress">' +
      '<p class="progress-text" data-progress-text aria-live="polite"></p>' +
      '<progress max="' + total + '" value="0" aria-label="Tickets done"></progress>' +
      '<ul class="ticket-progress" data-ticket-list></ul>' +
      '<div class="form-actions"><button type="button" data-dialog-close>Close</button> ' +
      '<a class="button secondary" href="/tickets">View all tickets</a></div></div>';
    var list = dialogBody.querySelector("[data-ticket-list]");
    var rows = {};
    tickets.forEach(function (t) {
      var li = document.createElement("li");
      li.setAttribute("data-ticket", t.id);
      var name = document.createElement("a");
      name.href = "/tickets/" + encodeURIComponent(t.id);
      name.textContent = t.name;
      var status = document.createElement("span");
      status.className = "ticket-progress-status";
      li.appendChild(name);
      li.appendChild(document.createTextNode(" "));
      li.appendChild(status);
      list.appendChild(li);
      rows[t.id] = {li: li, status: status, ticket: t};
      render(rows[t.id]);
    });
    current = {rows: rows, total: total};
    dialogBody.querySelector("[data-dialog-close]").focus();
    update(rows, total);
    poll(rows, total);
  }

  function render(row) {
    var t = row.ticket;
    var s = row.status;
    s.textContent = "";
    row.li.className = "ticket-" + t.status;
    var badge = document.createElement("span");
    badge.className = "badge ticket-" + t.status;
    badge.textContent = t.status === "sent" ? "Sent: " + t.number : (t.statusLabel || t.status);
    s.appendChild(badge);
    if (t.status === "sent" && t.url) {
      s.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = t.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.textContent = "View in ServiceNow";
      s.appendChild(a);
    }
    if (t.status === "failed") {
      var why = document.createElement("span");
      why.className = "field-error";
      why.textContent = " " + (t.error || "ServiceNow refused the ticket.") + " ";
      s.appendChild(why);
      var retry = document.createElement("button");
      retry.type = "button";
      retry.className = "secondary";
      retry.textContent = "Retry";
      retry.setAttribute("aria-label", "Retry " + t.name);
      retry.addEventListener("click", function () { retryTicket(row, retry); });
      s.appendChild(retry);
    } else if (t.status === "queued" && t.error) {
      var wait = document.createElement("span");
      wait.className = "muted";
      wait.textContent = " " + t.error;
      s.appendChild(wait);
    }
  }

  function update(rows, total) {
    var done = 0, failed = 0;
    Object.keys(rows).forEach(function (id) {
      var st = rows[id].ticket.status;
      if (st !== "queued") done++;
      if (st === "failed") failed++;
    });
    var text = done + " of " + total + " done";
    if (done === total) {
      text = failed === 0 ? (total === 1 ? "Done: the ticket is in ServiceNow." : "Done: all " + total + " tickets are in ServiceNow.")
        : done + " of " + total + " done, " + failed + " failed: retry " + (failed === 1 ? "it" : "them") + " below.";
    } else if (failed > 0) {
      text += ", " + failed + " failed";
    }
    dialogBody.querySelector("[data-progress-text]").textContent = text;
    dialogBody.querySelector("progress").value = done;
    return done < total;
  }

  function poll(rows, total) {
    stopPolling();
    var waiting = Object.keys(rows).filter(function (id) { return rows[id].ticket.status === "queued"; });
    if (!waiting.length) return;
    timer = setTimeout(function () {
      Promise.all(waiting.map(function (id) {
        return fetch("/api/v1/tickets/" + encodeURIComponent(id), {credentials: "same-origin", headers: {Accept: "application/json"}})
          .then(function (resp) { return resp.ok ? resp.json() : null; })
          .then(function (t) {
            if (t && rows[id]) {
              var before = rows[id].ticket.status + "|" + rows[id].ticket.error;
              rows[id].ticket = t;
              if (before !== t.status + "|" + t.error) render(rows[id]);
            }
          })
          .catch(function () { return null; });
      })).then(function () {
        if (!dialog.open || !dialogBody.querySelector("[data-ticket-list]")) return;
        update(rows, total);
        poll(rows, total);
      });
    }, POLL_MS);
  }

  function retryTicket(row, button) {
    button.disabled = true;
    button.textContent = "Retrying…";
    fetch("/api/v1/tickets/" + encodeURIComponent(row.ticket.id) + "/retry", {
      method: "POST", credentials: "same-origin", headers: {Accept: "application/json"}
    }).then(function (resp) {
      return resp.json().then(function (t) {
        if (!resp.ok) throw new Error((t.error && t.error.message) || "The retry was refused.");
        row.ticket = t;
        render(row);
        update(current.rows, current.total);
        poll(current.rows, current.total);
      });
    }).catch(function (err) {
      button.disabled = false;
      button.textContent = "Retry";
      row.status.appendChild(document.createTextNode(" " + err.message));
    });
  }

  // refreshInPlace redraws the parts of the page a share changes (an
  // action's tickets), without reloading the page.
  function refreshInPlace() {
    var section = document.querySelector("[data-action-tickets]");
    if (!section) return;
    fetch(location.pathname + location.search, {credentials: "same-origin", headers: {Accept: "text/html"}}).then(function (resp) {
      return resp.ok ? resp.text() : null;
    }).then(function (html) {
      if (!html) return;
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("[data-action-tickets]");
      if (fresh) {
        var node = document.importNode(fresh, true);
        section.replaceWith(node);
        localTimes(node);
        node.querySelectorAll("details[data-menu]").forEach(setUpMenu);
      }
    });
  }

  // ---- Selections kept while paging (the actions list) ---------------------

  function loadSelection() {
    try {
      return JSON.parse(sessionStorage.getItem(SELECTION_KEY) || "[]");
    } catch (e) {
      return [];
    }
  }

  function saveSelection(ids) {
    try {
      sessionStorage.setItem(SELECTION_KEY, JSON.stringify(ids));
    } catch (e) { /* private mode: the selection lasts the page */ }
  }

  function clearSelection() {
    saveSelection([]);
    document.querySelectorAll('input[type="checkbox"][form="share-selected"]').forEach(function (box) { box.checked = false; });
    var form = document.getElementById("share-selected");
    if (form) form.dispatchEvent(new Event("selection"));
  }

  function setUpSelection(form) {
    var button = form.querySelector("[data-needs-selection]");
    var count = form.querySelector("[data-selection-count]");
    var clear = form.querySelector("[data-clear-selection]");
    var boxes = function () { return document.querySelectorAll('input[type="checkbox"][form="share-selected"]'); };
    var selected = loadSelection();
    boxes().forEach(function (box) { box.checked = selected.indexOf(box.value) >= 0; });
    function sync() {
      var ids = loadSelection();
      boxes().forEach(function (box) {
        var i = ids.indexOf(box.value);
        if (box.checked && i < 0) ids.push(box.value);
        if (!box.checked && i >= 0) ids.splice(i, 1);
      });
      saveSelection(ids);
      var n = ids.length;
      button.disabled = n === 0;
      var here = 0;
      boxes().forEach(function (box) { if (box.checked) here++; });
      count.textContent = n === 0 ? "Tick the actions to share." :
        (n === 1 ? "1 action selected" : n + " actions selected") + (n > here ? " (" + (n - here) + " on other pages)" : "");
      if (clear) clear.hidden = n === 0;
      return ids;
    }
    document.addEventListener("change", function (event) {
      var el = event.target;
      if (el instanceof HTMLInputElement && el.getAttribute("form") === "share-selected") sync();
    });
    form.addEventListener("selection", sync);
    if (clear) clear.addEventListener("click", function () { clearSelection(); button.focus(); });
    form.addEventListener("submit", function (event) {
      if (typeof HTMLDialogElement !== "function") return; // the form page, with these ids
      event.preventDefault();
      var ids = sync();
      if (!ids.length) return;
      var q = ids.map(function (id) { return "id=" + encodeURIComponent(id); }).join("&");
      openShare("/tickets/new?" + q, button);
    });
    sync();
  }

  // ---- A ticket page's "Ticket queued" notice ------------------------------

  function watchNotice(notice) {
    var id = notice.getAttribute("data-watch-ticket");
    function check() {
      fetch("/api/v1/tickets/" + encodeURIComponent(id), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (resp) { return resp.ok ? resp.json() : null; })
        .then(function (t) {
          if (!t || t.status === "queued") {
            setTimeout(check, POLL_MS);
            return;
          }
          notice.textContent = t.status === "sent" ? "Ticket sent to ServiceNow as " + t.number + "." :
            "The ticket could not be sent to ServiceNow: " + (t.error || "see why below.");
          notice.classList.toggle("notice-failed", t.status === "failed");
          // The page's own status shows the same now.
          fetch(location.pathname, {credentials: "same-origin", headers: {Accept: "text/html"}})
            .then(function (resp) { return resp.ok ? resp.text() : null; })
            .then(function (html) {
              if (!html) return;
              var main = new DOMParser().parseFromString(html, "text/html").querySelector("main");
              var here = document.querySelector("main");
              if (!main || !here) return;
              Array.prototype.slice.call(here.children).forEach(function (el) {
                if (el !== notice && !el.matches(".crumbs")) el.remove();
              });
              Array.prototype.slice.call(main.children).forEach(function (el) {
                if (!el.matches(".crumbs, .notice")) here.appendChild(document.importNode(el, true));
              });
              localTimes(here);
            });
        })
        .catch(function () { setTimeout(check, POLL_MS * 3); });
    }
    setTimeout(check, POLL_MS);
  }

  // ---- Wiring --------------------------------------------------------------

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-share]");
    if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    if (typeof HTMLDialogElement !== "function") return; // the page itself
    event.preventDefault();
    var menu = link.closest("details[data-menu]");
    var summary = menu ? menu.querySelector("summary") : link;
    if (menu) menu.open = false;
    openShare(link.getAttribute("href"), summary);
  });

  function start() {
    document.querySelectorAll("details[data-menu]").forEach(setUpMenu);
    var form = document.getElementById("share-selected");
    if (form) setUpSelection(form);
    document.querySelectorAll("[data-watch-ticket]").forEach(watchNotice);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
