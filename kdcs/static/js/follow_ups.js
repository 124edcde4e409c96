/* The ticket page's 跟进 card: the quick buttons fill the "by when" box in Beijing time (the server
   reads it so; UTC+8 all year, whatever zone the browser's machine is set to):
   data-follow-up-in="30" = in 30 minutes, rounded up to the next 5; data-follow-up-at="09:00" =
   tomorrow at that time. Delegated: the card is swapped by htmx. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  var BEIJING = 8 * 3600 * 1000;

  // A Date whose UTC fields are Beijing wall time, as the datetime-local box shows it.
  function wall(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-follow-up-in], [data-follow-up-at]");
    if (!button) return;
    var form = button.closest("[data-follow-up-form]");
    var box = form && form.querySelector("input[type=datetime-local]");
    if (!box) return;
    var when = new Date(Date.now() + BEIJING);
    if (button.hasAttribute("data-follow-up-in")) {
      when = new Date(when.getTime() + parseInt(button.getAttribute("data-follow-up-in"), 10) * 60000);
      when.setUTCSeconds(0, 0);
      when.setUTCMinutes(Math.ceil(when.getUTCMinutes() / 5) * 5);
    } else {
      var parts = button.getAttribute("data-follow-up-at").split(":");
      when.setUTCDate(when.getUTCDate() + 1);
      when.setUTCHours(parseInt(parts[0], 10), parseInt(parts[1], 10), 0, 0);
    }
    box.value = wall(when);
    box.dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
