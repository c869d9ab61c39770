// The casework pages (served by the service; CSP script-src 'self'). Without this script every
// form still works as a plain post; with it the reporter's form:
// 1. checks each photo when it is chosen (JPEG or PNG by its first bytes, count, size, pixels);
// 2. shrinks a photo over the size or pixel limit on the phone (re-encoded as JPEG) and says so;
//    a photo it cannot use is listed as refused with the reason, never dropped silently;
// 3. sends the form with fetch (Accept: application/json), so a refusal keeps the text and the
//    photos on the page; the same one-time token goes with a retry (the service answers
//    case.replayed with the reference if the first send had arrived).
(function () {
  "use strict";
  var zh = document.body.dataset.lang !== "en";
  function L(a, b) { return zh ? a : b; }
  function mib(n) { return (n / 1048576).toFixed(1) + " MiB"; }

  // The other-branch note (RP-9.5).
  var branch = document.getElementById("branch");
  var note = document.getElementById("other-branch");
  var form = document.getElementById("report-form");
  if (branch && note && form) {
    branch.addEventListener("change", function () { note.hidden = branch.value === form.dataset.own; });
  }

  // One submit per click on every other form.
  document.querySelectorAll("form").forEach(function (f) {
    if (f === form) return;
    f.addEventListener("submit", function () {
      var b = f.querySelector("button[type=submit]");
      if (b) setTimeout(function () { b.disabled = true; }, 0);
    });
  });
  if (!form) return;

  var maxCount = +form.dataset.maxCount, maxBytes = +form.dataset.maxBytes, maxPixels = +form.dataset.maxPixels;
  var input = document.getElementById("photos");
  var list = document.getElementById("photo-list");
  var errorBox = document.getElementById("form-error");
  var chosen = [];  // {blob, name, label, cls, thumb}

  function kindOf(bytes) {
    if (bytes[0] === 0xFF && bytes[1] === 0xD8 && bytes[2] === 0xFF) return "jpeg";
    var png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    for (var i = 0; i < 8; i++) if (bytes[i] !== png[i]) return null;
    return "png";
  }

  function draw() {
    list.textContent = "";
    chosen.forEach(function (p, i) {
      var li = document.createElement("li");
      li.className = p.cls;
      if (p.thumb) {
        var img = document.createElement("img");
        img.alt = "";
        img.src = p.thumb;  // a data: URL (the service's CSP allows data:, not blob:, images)
        li.appendChild(img);
      }
      var span = document.createElement("span");
      span.textContent = p.label;
      li.appendChild(span);
      var rm = document.createElement("button");
      rm.type = "button";
      rm.className = "link";
      rm.textContent = p.blob ? L("移除", "remove") : L("知道了", "dismiss");
      rm.addEventListener("click", function () { chosen.splice(i, 1); draw(); });
      li.appendChild(rm);
      list.appendChild(li);
    });
  }

  function toJpeg(bitmap, scale, quality) {
    var canvas = document.createElement("canvas");
    canvas.width = Math.max(1, Math.floor(bitmap.width * scale));
    canvas.height = Math.max(1, Math.floor(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  async function shrink(file) {
    var bitmap = await createImageBitmap(file);
    var scale = Math.min(1, Math.sqrt(maxPixels / (bitmap.width * bitmap.height)) * 0.99);
    var quality = 0.85;
    for (var i = 0; i < 8; i++) {
      var blob = await toJpeg(bitmap, scale, quality);
      if (blob && blob.size <= maxBytes) return blob;
      if (quality > 0.6) quality -= 0.1; else scale *= 0.75;
    }
    return null;
  }

  async function thumb(blob) {
    try {
      var bitmap = await createImageBitmap(blob);
      var scale = 96 / Math.max(bitmap.width, bitmap.height);
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * Math.min(1, scale)));
      canvas.height = Math.max(1, Math.round(bitmap.height * Math.min(1, scale)));
      canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL("image/jpeg", 0.7);
    } catch (e) {
      return "";
    }
  }

  async function add(file) {
    var n = chosen.filter(function (p) { return p.blob; }).length + 1;
    var name = file.name || L("照片", "photo");
    if (n > maxCount) {
      chosen.push({ blob: null, name: name, cls: "refused",
        label: name + "：" + L("照片数量超过上限（至多 " + maxCount + " 张），未加入",
                                "too many photos (at most " + maxCount + "): not added") });
      return;
    }
    var head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
    if (!kindOf(head)) {
      chosen.push({ blob: null, name: name, cls: "refused",
        label: name + "：" + L("照片须为 JPEG 或 PNG 格式，未加入", "a photo must be JPEG or PNG: not added") });
      return;
    }
    var pixels = 0;
    try {
      var bm = await createImageBitmap(file);
      pixels = bm.width * bm.height;
    } catch (e) {
      pixels = 0;
    }
    if (file.size <= maxBytes && pixels <= maxPixels) {
      chosen.push({ blob: file, name: name, cls: "ok", label: name + " · " + mib(file.size),
                    thumb: await thumb(file) });
      return;
    }
    var small = null;
    try { small = await shrink(file); } catch (e) { small = null; }
    if (!small) {
      chosen.push({ blob: null, name: name, cls: "refused",
        label: name + "：" + L("照片过大（" + mib(file.size) + "/" + mib(maxBytes) + "），无法在手机上缩小，未加入",
                                "too large (" + mib(file.size) + " / " + mib(maxBytes) + ") and cannot be shrunk here: not added") });
      return;
    }
    var jpgName = name.replace(/\.[^.]*$/, "") + ".jpg";
    chosen.push({ blob: small, name: jpgName, cls: "shrunk", thumb: await thumb(small),
      label: jpgName + "：" + L("已在手机上缩小 " + mib(file.size) + " → " + mib(small.size) + "（JPEG）",
                                 "shrunk on the phone " + mib(file.size) + " → " + mib(small.size) + " (JPEG)") });
  }

  input.addEventListener("change", async function () {
    var files = Array.prototype.slice.call(input.files);
    input.value = "";
    input.disabled = true;
    for (var i = 0; i < files.length; i++) await add(files[i]);
    input.disabled = false;
    draw();
    form.dataset.ready = String(chosen.length);
  });

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    errorBox.hidden = true;
    var data = new FormData(form);
    data.delete("photos");
    chosen.forEach(function (p) { if (p.blob) data.append("photos", p.blob, p.name); });
    try {
      var r = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin",
                                         headers: { "Accept": "application/json" } });
      var body = await r.json();
      if (body.ok) { location.href = body.next; return; }
      errorBox.textContent = body.message;
      errorBox.dataset.code = body.code;
      if (body.code === "case.replayed") errorBox.className = "flash info";
    } catch (e) {
      errorBox.textContent = L("网络中断，报告可能没有送达：请稍后再点“提交报告”（不会重复登记）。",
                               "The network failed and the report may not have arrived: press Send again later (it is never recorded twice).");
      errorBox.dataset.code = "network";
    }
    errorBox.hidden = false;
    button.disabled = false;
  });
})();
