// The gallery page, part 1 of 5: shared helpers and state, the gallery choice, the page's
// address and start-up. The other parts (thumbhash.js, grid.js, lightbox.js, uploads.js) add
// to the same `Shoebox` namespace; all are `defer` scripts, run in order before
// DOMContentLoaded, when init() wires them together.
(function () {
  "use strict";

  var S = window.Shoebox = window.Shoebox || {};

  // Same rule as the server (docs/index-api.md).
  var GALLERY_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

  var els = S.els = {};
  var state = S.state = {
    gallery: null,      // gallery shown in the grid
    cursor: null,       // nextCursor of the last page, null when none
    done: false,        // no more pages
    failed: false,      // last page load failed; wait for "Try again"
    loading: false,
    generation: 0,      // bumped on every reset; stale responses are dropped
    images: [],         // the images in the grid, in the API's order
    entries: new Map(), // key -> { image, tile, link, img, natural } (grid.js)
    pendingImage: null, // image name from the address, opened once its page has loaded
    pollTimer: 0,       // re-poll of images still processing (grid.js)
    galleries: [],
    uploading: false
  };

  // ------------------------------------------------------------------ helpers

  function ApiError(code, message, status) {
    this.name = "ApiError";
    this.code = code;
    this.message = message;
    this.status = status;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  /// Calls the index API; `path` is relative to the page's root ("api/...").
  S.api = async function (path, options) {
    var opts = Object.assign({ headers: { "Accept": "application/json" }, cache: "no-store" }, options || {});
    var res;
    try {
      res = await fetch(ROOT + path, opts);
    } catch (e) {
      throw new ApiError("NetworkError", "Cannot reach the gallery service (" + e.message + ").", 0);
    }
    var text = await res.text();
    var body = null;
    if (text) {
      try { body = JSON.parse(text); } catch (e) { body = null; }
    }
    if (!res.ok) {
      var err = body && body.error;
      throw new ApiError((err && err.code) || ("HTTP" + res.status),
                         (err && err.message) || ("The gallery service answered " + res.status + " " + res.statusText + "."),
                         res.status);
    }
    if (body === null || typeof body !== "object") {
      throw new ApiError("BadResponse", "The gallery service sent a reply this page cannot read.", res.status);
    }
    return body;
  };

  S.sleep = function (ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  };

  S.el = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  function show(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  S.plural = function (n, one, many) {
    return n + " " + (n === 1 ? one : many);
  };

  S.formatBytes = function (n) {
    if (typeof n !== "number" || !isFinite(n)) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  };

  S.stripQuotes = function (s) {
    return typeof s === "string" ? s.replace(/"/g, "") : "";
  };

  S.imagesURL = function (gallery, limit, cursor) {
    var url = "api/galleries/" + encodeURIComponent(gallery) + "/images?limit=" + limit;
    if (cursor) url += "&cursor=" + encodeURIComponent(cursor);
    return url;
  };

  /// An image's name within its gallery (the API's `name`, else the key after the gallery).
  S.imageName = function (image) {
    return image.name || image.key.slice(image.key.indexOf("/") + 1);
  };

  // ------------------------------------------------------------------ address
  // <root>g/<gallery> shows a gallery, <root>g/<gallery>/<image name> that image in the
  // lightbox (name percent-encoded). Old forms, rewritten to these: <root>?gallery=<gallery>
  // and <root>#gallery=<gallery>. <root> is where the service is mounted: the server gives
  // g/ pages a relative <base> to it, so document.baseURI names it when the page loads (read
  // once: later history entries would move a relative base, or the document URL).

  var ROOT = new URL(document.baseURI).pathname.replace(/[^\/]*$/, "");

  function decodeSegment(segment) {
    try { return decodeURIComponent(segment); } catch (e) { return null; }
  }

  /// The address of a gallery, or of one of its images when `name` is given.
  S.addressOf = function (gallery, name) {
    var path = ROOT + "g/" + encodeURIComponent(gallery);
    return name === undefined || name === null ? path : path + "/" + encodeURIComponent(name);
  };

  /// Sets the address: mode "push" (a new history entry) or "replace"; `entry` is kept in
  /// history.state (lightbox.js marks the entries it pushes).
  S.setAddress = function (url, mode, entry) {
    if (mode === "push" && url === location.pathname + location.search + location.hash) mode = "replace";
    if (mode === "push") history.pushState(entry || null, "", url);
    else history.replaceState(entry === undefined ? history.state : entry, "", url);
  };

  /// What the address asks for: { gallery, image, given } (given: the raw gallery name, even invalid).
  function readAddress() {
    var rest = location.pathname.slice(ROOT.length);
    var m = /^g\/([^\/]+)(?:\/([^\/]+))?\/?$/.exec(rest);
    var given = null;
    var image = null;
    var canonical = !!m;
    if (m) {
      given = decodeSegment(m[1]);
      image = m[2] ? decodeSegment(m[2]) : null;
    } else {
      given = new URLSearchParams(location.search).get("gallery") ||
              new URLSearchParams(location.hash.replace(/^#/, "")).get("gallery");
    }
    var gallery = given && GALLERY_RE.test(given) ? given : null;
    return { gallery: gallery, image: gallery ? image : null, given: given, canonical: canonical };
  }

  /// Shows what the address asks for (at start, and on back/forward and old hash links).
  function route() {
    var a = readAddress();
    if (!a.gallery) {
      if (a.given) {
        els.galleryName.value = a.given;
        setGalleryError(validateGalleryName(a.given));
      }
      S.lightbox.close(true);
      return;
    }
    if (!a.canonical) S.setAddress(S.addressOf(a.gallery), "replace", null);
    if (a.gallery !== state.gallery) openGallery(a.gallery);
    if (a.image !== null) S.lightbox.openByName(a.image);
    else S.lightbox.close(true);
  }

  // ------------------------------------------------------------------ gallery choice

  function validateGalleryName(name) {
    if (!name) return "Enter a gallery name.";
    if (name.length > 63) return "A gallery name has at most 63 characters.";
    if (!GALLERY_RE.test(name)) {
      return "\"" + name + "\" is not a valid gallery name: use lowercase letters, digits and hyphens, starting with a letter or digit.";
    }
    return null;
  }

  function setGalleryError(message) {
    show(els.galleryError, message);
    if (message) els.galleryName.setAttribute("aria-invalid", "true");
    else els.galleryName.removeAttribute("aria-invalid");
  }
  S.setGalleryError = setGalleryError;

  /// The gallery the user means: the name field (filled in by the select too), or null.
  S.requestedGallery = function () {
    var name = els.galleryName.value.trim();
    var problem = validateGalleryName(name);
    setGalleryError(problem);
    return problem ? null : name;
  };

  /// The user chose a gallery: a new history entry, then the gallery.
  S.chooseGallery = function (name) {
    S.setAddress(S.addressOf(name), "push", null);
    S.lightbox.close(true);
    if (name !== state.gallery) openGallery(name);
  };

  function openGallery(name) {
    state.gallery = name;
    state.pendingImage = null;
    els.galleryName.value = name;
    setGalleryError(null);
    syncSelect();
    els.current.textContent = "Gallery: " + name;
    els.photosHeading.textContent = "Photos in " + name;
    document.title = name + " - Shoebox gallery";
    els.refresh.disabled = false;
    S.grid.clear();
    S.grid.loadPage(true);
  }

  function syncSelect() {
    var has = state.galleries.some(function (g) { return g.name === state.gallery; });
    els.select.value = has ? state.gallery : "";
  }

  S.loadGalleries = async function () {
    try {
      var body = await S.api("api/galleries");
      state.galleries = Array.isArray(body.galleries) ? body.galleries : [];
      show(els.galleriesError, "");
    } catch (e) {
      show(els.galleriesError, "Could not load the galleries: " + e.message);
    }
    renderGalleryOptions();
  };

  function renderGalleryOptions() {
    var sel = els.select;
    sel.textContent = "";
    sel.add(new Option(state.galleries.length ? "Choose a gallery\u2026" : "No galleries yet", ""));
    state.galleries.forEach(function (g) {
      var count = typeof g.imageCount === "number" ? g.imageCount : 0;
      sel.add(new Option(g.name + " (" + S.plural(count, "image", "images") + ")", g.name));
    });
    syncSelect();
  }

  // ------------------------------------------------------------------ wiring

  function init() {
    ["gallery-select", "gallery-name", "gallery-form", "gallery-error", "galleries-error", "current-gallery",
     "photographer", "event", "files", "upload", "upload-form", "upload-message", "upload-list",
     "grid", "grid-status", "sentinel", "retry", "refresh", "photos-heading",
     "lightbox", "lightbox-title", "lightbox-meta", "lightbox-count", "lightbox-original", "lightbox-close",
     "lightbox-prev", "lightbox-next", "lightbox-image", "lightbox-message"].forEach(function (id) {
      els[id.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); })] = document.getElementById(id);
    });
    els.select = els.gallerySelect;
    els.current = els.currentGallery;

    els.galleryForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var name = S.requestedGallery();
      if (name) S.chooseGallery(name);
      else els.galleryName.focus();
    });
    els.galleryName.addEventListener("input", function () {
      if (!els.galleryError.hidden && !validateGalleryName(els.galleryName.value.trim())) setGalleryError(null);
    });
    els.select.addEventListener("change", function () {
      if (els.select.value) S.chooseGallery(els.select.value);
    });
    // In-page links ("Skip to photos"): the <base> would otherwise send them to the root.
    document.addEventListener("click", function (e) {
      var link = e.target.closest && e.target.closest("a[href^='#']");
      var target = link && document.getElementById(link.getAttribute("href").slice(1));
      if (!target) return;
      e.preventDefault();
      target.focus();
      target.scrollIntoView();
    });
    window.addEventListener("popstate", route);
    window.addEventListener("hashchange", route);

    S.grid.init();
    S.lightbox.init();
    S.uploads.init();
    route();
    S.loadGalleries();
  }

  // Every part is a defer script: all have run when DOMContentLoaded fires.
  document.addEventListener("DOMContentLoaded", init);
})();
