// The procedure pages (CSP script-src 'self'): one submit per click, confirmations, and the
// scanner field of the entry form (Enter = check the QR against the open round, nothing stored).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { ev.preventDefault(); return; }
    if (form.dataset.sent) { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  var form = document.getElementById("pballot-form");
  if (!form) return;
  var qr = document.getElementById("pqr");
  var status = document.getElementById("pscan-status");
  function checkQr() {
    var text = qr.value.trim();
    if (!text) return;
    status.textContent = "…";
    status.className = "scan-status";
    var url = "/station/procedure/api/scan?qr=" + encodeURIComponent(text) +
      "&form=" + encodeURIComponent(form.dataset.form) + "&post=" + encodeURIComponent(form.dataset.post);
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        status.textContent = d.message || "";
        status.className = "scan-status " + (d.ok ? "ok" : "bad");
        if (d.ok) {
          var first = form.querySelector("input[type=radio]:checked, input[name=w0]");
          if (first) first.focus();
        } else { qr.select(); }
      })
      .catch(function () { status.textContent = ""; });
  }
  qr.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    checkQr();
  });
})();
