/* KDCS client glue: toasts from HX-Trigger, error toasts, countdown badges, data-* behaviours. */
(function () {
  "use strict";

  function showToast(message, level) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast toast-" + (level || "info");
    el.setAttribute("role", level === "danger" ? "alert" : "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.classList.add("hide"); }, 4000);
    setTimeout(function () { el.remove(); }, 4600);
  }
  window.kdcsToast = showToast;

  /* The old execCommand copy, through a hidden textarea; true when the browser copied. */
  function legacyCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "0";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    area.remove();
    return ok;
  }

  /* The one clipboard copy every page uses (the brand system is another window): the Clipboard
     API in a secure context, else execCommand. Resolves when copied; rejects when the browser
     refuses, and the caller then shows the text selected for Ctrl+C. legacyOnRefusal: try
     execCommand too when the Clipboard API refuses. */
  window.kdcsCopy = function (text, legacyOnRefusal) {
    if (navigator.clipboard && window.isSecureContext) {
      var copied = navigator.clipboard.writeText(text);
      if (!legacyOnRefusal) return copied;
      return copied.catch(function () { if (!legacyCopy(text)) throw new Error("copy refused"); });
    }
    return legacyCopy(text) ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  };

  document.addEventListener("toast", function (evt) {
    var detail = evt.detail && evt.detail.value !== undefined ? evt.detail.value : evt.detail;
    var items = Array.isArray(detail) ? detail : [detail];
    items.forEach(function (t) {
      if (typeof t === "string") showToast(t, "info");
      else if (t) showToast(t.message, t.level);
    });
  });

  var MESSAGES = {
    0: "网络连接失败，请检查网络后重试。",
    400: "请求无效，请刷新页面后重试。",
    403: "您没有权限执行此操作。",
    404: "记录不存在或已被删除。",
    413: "文件太大。",
    500: "服务器出错，请稍后重试。"
  };
  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr ? evt.detail.xhr.status : 0;
    showToast(MESSAGES[status] || MESSAGES[500], "danger");
  });
  document.addEventListener("htmx:sendError", function () { showToast(MESSAGES[0], "danger"); });

  /* A timeline line already on the page (<li id="ev-…">: a note sent again with its key is
     answered with the stored note) is not added a second time. */
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var fragment = evt.detail.fragment;
    if (!fragment || !fragment.querySelectorAll) return;
    fragment.querySelectorAll("li[id^='ev-']").forEach(function (li) {
      if (document.getElementById(li.id)) li.parentNode.removeChild(li);
    });
  });

  /* Countdown badges: <span class="countdown" data-due="ISO8601"> stay correct without reloads. */
  function formatRemaining(ms) {
    var overdue = ms < 0;
    var s = Math.floor(Math.abs(ms) / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = d > 0 ? d + "天" + h + "小时" : h > 0 ? h + "小时" + m + "分" : m + "分" + (s % 60) + "秒";
    return overdue ? "已超时 " + text : "剩余 " + text;
  }
  function tickCountdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) return;
      var ms = due - now;
      el.textContent = formatRemaining(ms);
      el.classList.toggle("is-overdue", ms < 0);
      el.classList.toggle("is-soon", ms >= 0 && ms <= 3600 * 1000);
      var row = el.closest("tr");
      if (row) row.classList.toggle("row-overdue", ms < 0);
    });
  }
  window.kdcsTickCountdowns = tickCountdowns;
  document.addEventListener("DOMContentLoaded", tickCountdowns);
  document.addEventListener("htmx:afterSettle", tickCountdowns);
  setInterval(tickCountdowns, 1000);

  /* No inline handlers (the CSP allows none): behaviour comes from data-* attributes.
     <button data-dismiss=".selector"> removes its closest .selector;
     <form data-confirm="question?"> asks before a plain (non-htmx) submit — htmx
     forms use hx-confirm, which htmx asks itself. */
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-dismiss]") : null;
    if (!button) return;
    var box = button.closest(button.getAttribute("data-dismiss"));
    if (box) box.remove();
  });
  document.addEventListener("submit", function (evt) {
    var form = evt.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      evt.preventDefault();
      evt.stopImmediatePropagation();
    }
  }, true);

  /* Keyboard shortcuts for the pages an agent works all day. An element declares one with
     data-shortcut="key" (and data-shortcut-label, what the help lists): a link or button is clicked,
     a field focused, any other element has its first field focused. Keys typed into a field, with
     Ctrl/Alt/Meta or while an input method composes are the field's; Esc leaves the field.
     "?" (or the topbar's button, shown when the page has shortcuts) lists the page's shortcuts. */
  var FIELDS = "textarea, select, input:not([type=hidden]):not([disabled])";
  function visible(el) { return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length); }
  function shortcutFor(key) {
    var found = null;
    document.querySelectorAll("[data-shortcut]").forEach(function (el) {
      if (!found && el.getAttribute("data-shortcut") === key && visible(el)) found = el;
    });
    return found;
  }
  function runShortcut(el) {
    if (el.matches("a, button")) { el.click(); return; }
    if (el.matches("details")) el.open = true;  // a folded form (新建跟进) opens first
    var field = el.matches(FIELDS) ? el : el.querySelector(FIELDS);
    if (!field) return;
    field.scrollIntoView({block: "center"});
    field.focus();
  }
  /* J / K in a list that declares data-shortcut-rows="selector of each row's link": the next or the
     previous row's link gets the focus (Enter then opens it); true when there was a list. */
  function moveRow(step) {
    var table = document.querySelector("[data-shortcut-rows]");
    if (!table || !visible(table)) return false;
    var links = Array.prototype.slice.call(table.querySelectorAll(table.getAttribute("data-shortcut-rows")));
    if (!links.length) return false;
    var at = links.indexOf(document.activeElement);
    var next = links[at < 0 ? (step > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, at + step))];
    next.focus();
    next.scrollIntoView({block: "nearest"});
    var row = next.closest("tr");
    links.forEach(function (link) { var tr = link.closest("tr"); if (tr) tr.classList.toggle("row-current", tr === row); });
    return true;
  }
  function shortcutHelp() {
    var opener = document.querySelector("[data-shortcut-help]");
    var dialog = document.getElementById("shortcut-help");
    if (dialog) { dialog.remove(); return; }
    dialog = document.createElement("dialog");
    dialog.id = "shortcut-help";
    dialog.className = "shortcut-help";
    var title = document.createElement("h2");
    title.textContent = opener ? opener.getAttribute("data-title") : "";
    dialog.appendChild(title);
    var list = document.createElement("dl");
    var seen = {};
    var rows = [];
    document.querySelectorAll("[data-shortcut][data-shortcut-label]").forEach(function (el) {
      var key = el.getAttribute("data-shortcut");
      if (seen[key] || !visible(el)) return;
      seen[key] = true;
      rows.push([key, el.getAttribute("data-shortcut-label")]);
    });
    var table = document.querySelector("[data-shortcut-rows]");
    if (table && visible(table)) rows.push(["J / K", table.getAttribute("data-shortcut-rows-label")]);
    var saves = document.querySelector("form[data-ctrl-enter]");
    if (saves && visible(saves)) rows.push(["Ctrl+Enter", saves.getAttribute("data-ctrl-enter")]);
    rows.push(["?", opener ? opener.getAttribute("data-self") : ""], ["Esc", opener ? opener.getAttribute("data-escape") : ""]);
    rows.forEach(function (row) {
      var dt = document.createElement("dt"), kbd = document.createElement("kbd"), dd = document.createElement("dd");
      kbd.textContent = row[0].length === 1 ? row[0].toUpperCase() : row[0];
      dt.appendChild(kbd);
      dd.textContent = row[1];
      list.appendChild(dt);
      list.appendChild(dd);
    });
    dialog.appendChild(list);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn btn-sm";
    close.textContent = opener ? opener.getAttribute("data-close") : "×";
    close.addEventListener("click", function () { dialog.remove(); });
    dialog.appendChild(close);
    dialog.addEventListener("close", function () { dialog.remove(); });
    document.body.appendChild(dialog);
    dialog.showModal();
  }
  function showHelpButton() {
    var opener = document.querySelector("[data-shortcut-help]");
    if (opener) opener.hidden = !document.querySelector("[data-shortcut][data-shortcut-label]");
  }
  document.addEventListener("DOMContentLoaded", showHelpButton);
  document.addEventListener("htmx:afterSettle", showHelpButton);
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-shortcut-help]")) shortcutHelp();
  });
  document.addEventListener("keydown", function (evt) {
    var target = evt.target;
    /* Ctrl+Enter in a form that asks for it (data-ctrl-enter: the reply and note boxes) saves it. */
    if ((evt.ctrlKey || evt.metaKey) && evt.key === "Enter" && !evt.isComposing && target && target.form
        && target.form.hasAttribute("data-ctrl-enter")) {
      evt.preventDefault();
      target.form.requestSubmit();
      return;
    }
    if (evt.defaultPrevented || evt.ctrlKey || evt.metaKey || evt.altKey || evt.isComposing) return;
    if (target && (target.isContentEditable || (target.matches && target.matches("input, textarea, select")))) {
      if (evt.key === "Escape" && !document.getElementById("shortcut-help")) target.blur();
      return;
    }
    if (document.getElementById("shortcut-help")) return;  // the dialog is open: Esc closes it
    if (evt.key === "?") { evt.preventDefault(); shortcutHelp(); return; }
    if ((evt.key === "j" || evt.key === "k") && moveRow(evt.key === "j" ? 1 : -1)) { evt.preventDefault(); return; }
    var el = shortcutFor(evt.key.length === 1 ? evt.key.toLowerCase() : evt.key);
    if (!el) return;
    evt.preventDefault();
    runShortcut(el);
  });

  /* "Select all" checkbox for bulk actions. */
  document.addEventListener("change", function (evt) {
    var t = evt.target;
    if (t.matches && t.matches("input[data-check-all]")) {
      var scope = document.querySelector(t.getAttribute("data-check-all"));
      if (scope) scope.querySelectorAll("input[type=checkbox][name=ids]").forEach(function (c) { c.checked = t.checked; });
    }
  });
})();
