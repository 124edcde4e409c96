/* Evidence on the ticket page (templates/tickets/_attachments.html):
   - Ctrl+V anywhere on the page with an image on the clipboard (a screenshot of the brand
     system) uploads it through the evidence form, named 截图-<date>-<time>.<ext>;
   - the upload shows its progress (htmx:xhr:progress) in the form's <progress>.
   The form is found by id on each event, so it keeps working after htmx swaps the box. */
(function () {
  "use strict";
  if (window.kdcsEvidence) return;
  window.kdcsEvidence = true;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function screenshotName(file, index) {
    var d = new Date();
    var ext = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    return "截图-" + d.getFullYear() + pad(d.getMonth() + 1) + pad(d.getDate()) + "-" +
      pad(d.getHours()) + pad(d.getMinutes()) + pad(d.getSeconds()) + (index ? "-" + (index + 1) : "") + "." + ext;
  }

  function pastedImages(event) {
    var data = event.clipboardData;
    if (!data) return [];
    var files = [];
    var i;
    if (data.files && data.files.length) {
      for (i = 0; i < data.files.length; i++) files.push(data.files[i]);
    } else if (data.items) {
      for (i = 0; i < data.items.length; i++) {
        if (data.items[i].kind === "file") { var f = data.items[i].getAsFile(); if (f) files.push(f); }
      }
    }
    return files.filter(function (f) { return /^image\//.test(f.type); });
  }

  document.addEventListener("paste", function (event) {
    var form = document.getElementById("evidence-upload");
    if (!form) return;
    var images = pastedImages(event);
    if (!images.length) return;
    event.preventDefault();
    var input = form.querySelector("input[type=file]");
    var transfer = new DataTransfer();
    images.forEach(function (file, index) {
      transfer.items.add(new File([file], screenshotName(file, index), { type: file.type }));
    });
    input.files = transfer.files;
    if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
  });

  function progressOf(event) {
    var form = event.target && event.target.closest && event.target.closest("#evidence-upload");
    return form ? form.querySelector(".evidence-progress") : null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var bar = progressOf(event);
    if (bar) { bar.hidden = false; bar.value = 0; }
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var bar = progressOf(event);
    if (bar && event.detail && event.detail.lengthComputable) {
      bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
    }
  });
})();
