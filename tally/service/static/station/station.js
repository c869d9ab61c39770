// Polling station behaviour (served by the service; CSP script-src 'self').
// 1. live regions: poll /station/api/live every 2 s; when the log changes, refresh [data-region]s.
// 2. the counting form: scanner field (Enter = check the QR), keyboard marks, the verdict as typed.
// 3. confirmations for irreversible steps, and one submit per click.
(function () {
  "use strict";
  var body = document.body;

  function regionsRefresh() {
    fetch(location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-region]").forEach(function (el) {
          if (!el.id || el.contains(document.activeElement) && document.activeElement !== document.body) return;
          var fresh = doc.getElementById(el.id);
          if (fresh) el.replaceWith(document.importNode(fresh, true));
        });
      })
      .catch(function () {});
  }

  if (body.dataset.live) {
    var version = body.dataset.version;
    setInterval(function () {
      fetch(body.dataset.live, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) {
          if (d && d.ok && d.version !== version) {
            version = d.version;
            regionsRefresh();
          }
        })
        .catch(function () {});
    }, 2000);
  }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      ev.preventDefault();
      return;
    }
    if (form.dataset.sent) { ev.preventDefault(); return; }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });

  var form = document.getElementById("ballot-form");
  if (!form) return;
  var qr = document.getElementById("qr");
  var status = document.getElementById("scan-status");
  var verdict = document.getElementById("verdict");
  var seats = parseInt(form.dataset.seats, 10);
  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-row]"));

  function firstMark() {
    var r = rows[0] && rows[0].querySelector("input:checked");
    if (r) r.focus();
  }

  function update() {
    var approvals = form.querySelectorAll("tr[data-row] input[value=o]:checked").length;
    var unreadable = form.querySelectorAll("tr[data-row] input[value='?']:checked").length;
    var writeIns = 0;
    form.querySelectorAll("input[name^=w]").forEach(function (w) {
      if (!/^w\d+$/.test(w.name) || !w.value.trim()) return;
      var box = form.querySelector("input[name=wm" + w.name.slice(1) + "]");
      if (box && box.checked) writeIns += 1;
    });
    var n = approvals + writeIns;
    var over = n > seats;
    var text = (over ? form.dataset.over : form.dataset.valid).replace("{n}", n).replace("{s}", seats);
    if (unreadable && !over) text += " · " + form.dataset.unreadable;
    verdict.textContent = text;
    verdict.classList.toggle("invalid", over);
  }

  qr.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    var text = qr.value.trim();
    if (!text) return;
    status.textContent = "…";
    status.className = "scan-status";
    fetch("/station/api/scan?qr=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (d) {
        status.textContent = d.message || "";
        status.className = "scan-status " + (d.ok ? "ok" : "bad");
        if (d.ok) { firstMark(); } else { qr.select(); }
      })
      .catch(function () { status.textContent = ""; });
  });

  var keys = { o: "o", O: "o", "1": "o", x: "x", X: "x", "2": "x", " ": "-", "-": "-", "0": "-", "3": "-", "?": "?" };
  rows.forEach(function (row, i) {
    row.addEventListener("keydown", function (ev) {
      var value = keys[ev.key];
      if (!value) return;
      ev.preventDefault();
      var input = row.querySelector("input[value='" + value + "']");
      input.checked = true;
      update();
      var next = rows[i + 1];
      if (next) { next.querySelector("input:checked").focus(); }
      else { var w = form.querySelector("input[name=w0]"); (w || document.getElementById("save")).focus(); }
    });
    row.addEventListener("focusin", function () { row.classList.add("focus-row"); });
    row.addEventListener("focusout", function () { row.classList.remove("focus-row"); });
  });
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
  if (qr.value) firstMark();
})();
