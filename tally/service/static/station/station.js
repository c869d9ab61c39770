// Polling station behaviour (served by the service; CSP script-src 'self').
// 1. live regions: poll /station/api/live every 2 s; when the log changes, refresh [data-region]s.
// 2. the counting form: scanner field (Enter = check the QR), keyboard marks, the verdict as typed.
// 3. confirmations for irreversible steps, and one submit per click.
// 4. the counting form's camera button (decoder in vendor/qr-camera.js, loaded on demand).
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
    // R8.1: every filled write-in row counts in 所选人数, marked or not.
    form.querySelectorAll("input[name^=w]").forEach(function (w) {
      if (!/^w\d+$/.test(w.name) || !w.value.trim()) return;
      writeIns += 1;
    });
    var n = approvals + writeIns;
    var over = n > seats;
    var text = (over ? form.dataset.over : form.dataset.valid).replace("{n}", n).replace("{s}", seats);
    if (unreadable && !over) text += " · " + form.dataset.unreadable;
    verdict.textContent = text;
    verdict.classList.toggle("invalid", over);
  }

  function checkQr() {
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
  }

  qr.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter") return;
    ev.preventDefault();
    checkQr();
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

  // 4. the camera button (for a teller without a scanner): the device camera reads the QR code
  // into the same field, then checkQr() as for Enter. The decoder, vendor/qr-camera.js (built
  // from web/station/), is loaded only when pressed. getUserMedia needs a secure context.
  var camOpen = document.getElementById("camera-open");
  var camNote = document.getElementById("camera-note");
  var camBox = document.getElementById("camera-box");
  var camVideo = document.getElementById("camera-video");
  var scanning = null; // { stop } while the camera is on
  var attempt = 0;     // a cancel or a newer press makes an older attempt's results moot
  var decoder = null;
  if (!camOpen) return;

  function camSay(key, extra) {
    camNote.textContent = key ? camOpen.dataset[key] + (extra || "") : "";
    camNote.hidden = !key;
  }
  function camStop() {
    attempt += 1;
    if (scanning) scanning.stop();
    scanning = null;
    camBox.hidden = true;
    camOpen.disabled = false;
  }
  function camProbe() {
    var md = navigator.mediaDevices;
    if (window.isSecureContext === false) { camOpen.disabled = true; camSay("insecure"); return; }
    if (!md || !md.getUserMedia) { camOpen.disabled = true; camSay("noApi"); return; }
    if (!md.enumerateDevices) return;
    md.enumerateDevices().then(function (list) {
      if (scanning) return;
      var any = list.some(function (d) { return d.kind === "videoinput"; });
      camOpen.disabled = !any;
      camSay(any ? "" : "noCamera");
    }).catch(function () {});
  }
  camOpen.hidden = false;
  camProbe();
  if (navigator.mediaDevices && navigator.mediaDevices.addEventListener) {
    navigator.mediaDevices.addEventListener("devicechange", camProbe);
  }

  camOpen.addEventListener("click", function () {
    camStop();
    var mine = attempt;
    camOpen.disabled = true;
    camBox.hidden = false;
    document.getElementById("camera-cancel").focus();
    camSay("starting");
    (decoder = decoder || import("/station/static/vendor/qr-camera.js"))
      .then(function (m) { return m.startScan(camVideo); })
      .then(function (s) {
        if (mine !== attempt) { s.stop(); return; }
        scanning = s;
        camSay("aim");
        return s.text.then(function (text) {
          if (mine !== attempt) return;
          camStop();
          camSay("");
          qr.value = text;
          checkQr();
        });
      })
      .catch(function (err) {
        if (mine !== attempt) return;
        camStop();
        var name = err && err.name;
        if (name === "NotAllowedError" || name === "SecurityError") camSay("denied");
        else if (name === "NotFoundError" || name === "OverconstrainedError") camSay("noCamera");
        else if (name === "NotReadableError" || name === "AbortError") camSay("busy");
        else camSay("failed", String((err && err.message) || err));
      });
  });
  document.getElementById("camera-cancel").addEventListener("click", function () {
    camStop();
    camSay("");
    qr.focus();
  });
  camBox.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { camStop(); camSay(""); qr.focus(); }
  });
  form.addEventListener("submit", camStop);
  window.addEventListener("pagehide", camStop);
})();
