// Camera QR reader of the counting page (tally/service/templates/station/count.html), bundled by
// build.mjs into tally/service/static/station/vendor/qr-camera.js and loaded by station.js with
// import() only when a teller presses the camera button. Pure JS (@zxing/browser on
// @zxing/library): no WebAssembly, no eval, so the service's CSP (script-src 'self') holds.
// getUserMedia needs a secure context: https://, or http://127.0.0.1 / http://localhost.
// See docs/adr/0008-station-camera-decoder.md.

import { BrowserQRCodeReader } from '@zxing/browser';
import { BarcodeFormat, DecodeHintType } from '@zxing/library';

// Ballot QR codes are version 7, error correction M, alphanumeric "BQ1:…", ~40 mm wide: at a hand's
// distance they fill a good part of a 1280×720 frame. The rear camera where there is one.
export const CONSTRAINTS = {
  audio: false,
  video: {
    facingMode: { ideal: 'environment' },
    width: { ideal: 1280 },
    height: { ideal: 720 },
  },
};

/** Why the camera cannot be offered on this page, or '' when it can be tried. */
export function unsupportedReason() {
  if (!globalThis.isSecureContext) return 'insecure';
  const md = globalThis.navigator && navigator.mediaDevices;
  if (!md || typeof md.getUserMedia !== 'function') return 'no-api';
  return '';
}

/**
 * Open the camera, show it in `video` and decode frames until one QR code is read.
 * Resolves to `{ text, stop }`: `text` is a promise of the first decoded text (the camera is
 * stopped before it resolves); `stop()` stops the camera and leaves `text` pending for good.
 * Rejects with the getUserMedia error (`err.name`: NotAllowedError, NotFoundError,
 * NotReadableError, OverconstrainedError, …) when the camera cannot be opened.
 */
export async function startScan(video, { constraints = CONSTRAINTS, interval = 120 } = {}) {
  const reason = unsupportedReason();
  if (reason) {
    const err = new Error(`camera unavailable: ${reason}`);
    err.name = reason === 'insecure' ? 'SecurityError' : 'NotSupportedError';
    throw err;
  }
  const hints = new Map();
  hints.set(DecodeHintType.POSSIBLE_FORMATS, [BarcodeFormat.QR_CODE]);
  hints.set(DecodeHintType.TRY_HARDER, true);
  const reader = new BrowserQRCodeReader(hints, {
    delayBetweenScanAttempts: interval,
    delayBetweenScanSuccess: interval,
  });
  let done = false;
  let resolveText;
  const text = new Promise((resolve) => {
    resolveText = resolve;
  });
  const controls = await reader.decodeFromConstraints(constraints, video, (result, _error, ctl) => {
    if (done || !result) return; // NotFound / checksum errors on frames without a code: keep going
    done = true;
    ctl.stop();
    resolveText(result.getText());
  });
  return {
    text,
    stop() {
      done = true;
      controls.stop();
    },
  };
}
