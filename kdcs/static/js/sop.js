/* SOP pages: copy a script with one click.
   <div data-sop-copy-box>
     <button data-sop-copy=".sop-copy-source" data-copied="已复制" data-copy-failed="…">复制话术</button>
     <span data-sop-copy-status role="status"></span>
     <textarea class="sop-copy-source" hidden readonly>the text</textarea>
   </div>
   The clipboard API first; where it is refused (no secure context, permission denied) the
   old execCommand copy; where that fails too, the text is shown selected for Ctrl+C.
   The status line says which happened (aria-live, so screen readers hear it). */
(function () {
  "use strict";

  function copy(text) {  // true when copied (the Clipboard API, else execCommand: app.js)
    return window.kdcsCopy(text, true).then(function () { return true; }, function () { return false; });
  }

  var timers = new WeakMap();

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest ? evt.target.closest("[data-sop-copy]") : null;
    if (!button) return;
    evt.preventDefault();
    var box = button.closest("[data-sop-copy-box]") || document;
    var source = box.querySelector(button.getAttribute("data-sop-copy"));
    var status = box.querySelector("[data-sop-copy-status]");
    if (!source) return;
    copy(source.value).then(function (ok) {
      if (!status) return;
      clearTimeout(timers.get(status));
      if (ok) {
        source.hidden = true;
        status.textContent = "✓ " + button.getAttribute("data-copied");
        status.className = "copy-status copy-ok";
        timers.set(status, setTimeout(function () { status.textContent = ""; status.className = "copy-status"; }, 5000));
      } else {
        source.hidden = false;
        source.focus();
        source.select();
        status.textContent = button.getAttribute("data-copy-failed");
        status.className = "copy-status copy-failed";
      }
    });
  });
})();
