// The gallery page, part 2 of 5: ThumbHash placeholders. The API sends each ready image's
// `placeholder` (a ThumbHash, standard base64); shown at once, before the thumbnail loads.
//
// thumbHashToRGBA and thumbHashAspect are a port of the decoder in Evan Wallace's ThumbHash
// (https://github.com/evanw/thumbhash), MIT licence, Copyright (c) 2023 Evan Wallace.
(function (S) {
  "use strict";

  // The hash's rough aspect ratio, from its header (how many luminance terms per axis).
  function thumbHashAspect(hash) {
    var header = hash[3];
    var hasAlpha = hash[2] & 0x80;
    var isLandscape = hash[4] & 0x80;
    var lx = isLandscape ? (hasAlpha ? 5 : 7) : header & 7;
    var ly = isLandscape ? header & 7 : (hasAlpha ? 5 : 7);
    return lx / ly;
  }

  // The hash decoded to at most 32x32 RGBA pixels: { w, h, rgba }.
  function thumbHashToRGBA(hash) {
    var PI = Math.PI, min = Math.min, max = Math.max, cos = Math.cos, round = Math.round;
    var header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16);
    var header16 = hash[3] | (hash[4] << 8);
    var lDC = (header24 & 63) / 63;
    var pDC = ((header24 >> 6) & 63) / 31.5 - 1;
    var qDC = ((header24 >> 12) & 63) / 31.5 - 1;
    var lScale = ((header24 >> 18) & 31) / 31;
    var hasAlpha = header24 >> 23;
    var pScale = ((header16 >> 3) & 63) / 63;
    var qScale = ((header16 >> 9) & 63) / 63;
    var isLandscape = header16 >> 15;
    var lx = max(3, isLandscape ? (hasAlpha ? 5 : 7) : header16 & 7);
    var ly = max(3, isLandscape ? header16 & 7 : (hasAlpha ? 5 : 7));
    var aDC = hasAlpha ? (hash[5] & 15) / 15 : 1;
    var aScale = (hash[5] >> 4) / 15;

    // The AC terms, 4 bits each (saturation boosted 1.25x against quantisation).
    var acStart = hasAlpha ? 6 : 5;
    var acIndex = 0;
    function decodeChannel(nx, ny, scale) {
      var ac = [];
      for (var cy = 0; cy < ny; cy++) {
        for (var cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++) {
          ac.push((((hash[acStart + (acIndex >> 1)] >> ((acIndex & 1) << 2)) & 15) / 7.5 - 1) * scale);
          acIndex++;
        }
      }
      return ac;
    }
    var lAC = decodeChannel(lx, ly, lScale);
    var pAC = decodeChannel(3, 3, pScale * 1.25);
    var qAC = decodeChannel(3, 3, qScale * 1.25);
    var aAC = hasAlpha && decodeChannel(5, 5, aScale);

    // Inverse DCT into LPQA, then RGB.
    var ratio = thumbHashAspect(hash);
    var w = round(ratio > 1 ? 32 : 32 * ratio);
    var h = round(ratio > 1 ? 32 / ratio : 32);
    var rgba = new Uint8ClampedArray(w * h * 4);
    var fx = [], fy = [];
    for (var y = 0, i = 0; y < h; y++) {
      for (var x = 0; x < w; x++, i += 4) {
        var l = lDC, p = pDC, q = qDC, a = aDC;
        var cx, cy, j, n, fy2;
        for (cx = 0, n = max(lx, hasAlpha ? 5 : 3); cx < n; cx++) fx[cx] = cos(PI / w * (x + 0.5) * cx);
        for (cy = 0, n = max(ly, hasAlpha ? 5 : 3); cy < n; cy++) fy[cy] = cos(PI / h * (y + 0.5) * cy);
        for (cy = 0, j = 0; cy < ly; cy++) {
          for (cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx * ly < lx * (ly - cy); cx++, j++) l += lAC[j] * fx[cx] * fy2;
        }
        for (cy = 0, j = 0; cy < 3; cy++) {
          for (cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 3 - cy; cx++, j++) {
            var f = fx[cx] * fy2;
            p += pAC[j] * f;
            q += qAC[j] * f;
          }
        }
        if (hasAlpha) {
          for (cy = 0, j = 0; cy < 5; cy++) {
            for (cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 5 - cy; cx++, j++) a += aAC[j] * fx[cx] * fy2;
          }
        }
        var b = l - 2 / 3 * p;
        var r = (3 * l - b + q) / 2;
        var g = r - q;
        rgba[i] = max(0, 255 * min(1, r));
        rgba[i + 1] = max(0, 255 * min(1, g));
        rgba[i + 2] = max(0, 255 * min(1, b));
        rgba[i + 3] = max(0, 255 * min(1, a));
      }
    }
    return { w: w, h: h, rgba: rgba };
  }

  var cache = new Map();

  /// A PNG data URL of the placeholder, or null when there is none or it cannot be decoded.
  S.placeholderURL = function (base64) {
    if (typeof base64 !== "string" || !base64) return null;
    if (cache.has(base64)) return cache.get(base64);
    var url = null;
    try {
      var bytes = Uint8Array.from(atob(base64), function (c) { return c.charCodeAt(0); });
      if (bytes.length >= 5) {
        var image = thumbHashToRGBA(bytes);
        var canvas = document.createElement("canvas");
        canvas.width = image.w;
        canvas.height = image.h;
        var ctx = canvas.getContext("2d");
        ctx.putImageData(new ImageData(image.rgba, image.w, image.h), 0, 0);
        url = canvas.toDataURL("image/png");
      }
    } catch (e) {
      url = null;   // not base64, or a hash this decoder cannot read: no placeholder
    }
    cache.set(base64, url);
    return url;
  };
})(window.Shoebox);
