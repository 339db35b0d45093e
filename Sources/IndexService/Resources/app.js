(function () {
  "use strict";

  // Same rule as the server (docs/index-api.md).
  var GALLERY_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
  var PAGE_SIZE = 24;
  var PARALLEL_UPLOADS = 3;
  var INDEX_POLL_MS = 500;
  var INDEX_WAIT_MS = 10000;
  // Headers a browser refuses to set itself; never pass them to setRequestHeader.
  var FORBIDDEN_HEADERS = { "host": 1, "content-length": 1, "connection": 1, "expect": 1 };

  var els = {};
  var state = {
    gallery: null,     // gallery shown in the grid
    cursor: null,      // nextCursor of the last page, null when none
    done: false,       // no more pages
    failed: false,     // last page load failed; wait for "Try again"
    loading: false,
    generation: 0,     // bumped on every reset; stale responses are dropped
    seen: new Set(),   // keys already in the grid (no duplicates across pages)
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

  async function api(path, options) {
    var opts = Object.assign({ headers: { "Accept": "application/json" }, cache: "no-store" }, options || {});
    var res;
    try {
      res = await fetch(path, opts);
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
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function show(node, text) {
    node.textContent = text || "";
    node.hidden = !text;
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function formatBytes(n) {
    if (typeof n !== "number" || !isFinite(n)) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KB";
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  }

  function stripQuotes(s) {
    return typeof s === "string" ? s.replace(/"/g, "") : "";
  }

  function imagesURL(gallery, limit, cursor) {
    var url = "api/galleries/" + encodeURIComponent(gallery) + "/images?limit=" + limit;
    if (cursor) url += "&cursor=" + encodeURIComponent(cursor);
    return url;
  }

  // ------------------------------------------------------------------ gallery choice

  function galleryFromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    var name = params.get("gallery");
    return name && GALLERY_RE.test(name) ? name : null;
  }

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

  // The gallery the user means: the name field (filled in by the select too).
  function requestedGallery() {
    var name = els.galleryName.value.trim();
    var problem = validateGalleryName(name);
    setGalleryError(problem);
    return problem ? null : name;
  }

  function chooseGallery(name) {
    if (location.hash !== "#gallery=" + encodeURIComponent(name)) {
      location.hash = "gallery=" + encodeURIComponent(name);   // history entry; hashchange is a no-op then
    }
    if (name !== state.gallery) openGallery(name);
  }

  function openGallery(name) {
    state.gallery = name;
    els.galleryName.value = name;
    setGalleryError(null);
    syncSelect();
    els.current.textContent = "Gallery: " + name;
    els.photosHeading.textContent = "Photos in " + name;
    document.title = name + " - Shoebox gallery";
    els.refresh.disabled = false;
    els.grid.textContent = "";
    state.seen.clear();
    loadPage(true);
  }

  function syncSelect() {
    var has = state.galleries.some(function (g) { return g.name === state.gallery; });
    els.select.value = has ? state.gallery : "";
  }

  async function loadGalleries() {
    try {
      var body = await api("api/galleries");
      state.galleries = Array.isArray(body.galleries) ? body.galleries : [];
      show(els.galleriesError, "");
    } catch (e) {
      show(els.galleriesError, "Could not load the galleries: " + e.message);
    }
    renderGalleryOptions();
  }

  function renderGalleryOptions() {
    var sel = els.select;
    sel.textContent = "";
    sel.add(new Option(state.galleries.length ? "Choose a gallery\u2026" : "No galleries yet", ""));
    state.galleries.forEach(function (g) {
      var count = typeof g.imageCount === "number" ? g.imageCount : 0;
      sel.add(new Option(g.name + " (" + plural(count, "image", "images") + ")", g.name));
    });
    syncSelect();
  }

  // ------------------------------------------------------------------ grid

  function setGridStatus(text, isError) {
    els.gridStatus.textContent = text || "";
    els.gridStatus.classList.toggle("error", !!isError);
  }

  function updateGridStatus() {
    if (!state.gallery) {
      setGridStatus("Choose or create a gallery to see its photos.");
    } else if (state.failed) {
      return;
    } else if (state.loading) {
      setGridStatus("Loading photos\u2026");
    } else if (state.done && state.seen.size === 0) {
      setGridStatus("No photos in this gallery yet. Upload some above.");
    } else if (state.done) {
      setGridStatus("All " + plural(state.seen.size, "photo", "photos") + " shown.");
    } else {
      setGridStatus(plural(state.seen.size, "photo", "photos") + " shown; scroll for more.");
    }
  }

  function sentinelNearViewport() {
    var rect = els.sentinel.getBoundingClientRect();
    return rect.top < window.innerHeight + 400;
  }

  // Loads the next page, or (reset) the first page again, replacing the grid only when it arrives.
  async function loadPage(reset) {
    if (!state.gallery) return;
    if (reset) {
      state.generation += 1;
      state.cursor = null;
      state.done = false;
      state.failed = false;
      state.loading = false;
    } else if (state.loading || state.done || state.failed) {
      return;
    }
    var gen = state.generation;
    var gallery = state.gallery;
    var cursor = state.cursor;
    state.loading = true;
    els.retry.hidden = true;
    updateGridStatus();
    var body;
    try {
      body = await api(imagesURL(gallery, PAGE_SIZE, cursor));
    } catch (e) {
      if (gen !== state.generation) return;
      state.loading = false;
      state.failed = true;
      setGridStatus("Could not load photos: " + e.message, true);
      els.retry.hidden = false;
      return;
    }
    if (gen !== state.generation) return;
    if (reset) {
      els.grid.textContent = "";
      state.seen.clear();
    }
    var images = Array.isArray(body.images) ? body.images : [];
    var added = appendImages(images);
    var next = typeof body.nextCursor === "string" && body.nextCursor ? body.nextCursor : null;
    // Guard against a cursor that does not advance.
    state.done = !next || (next === cursor && added === 0);
    state.cursor = state.done ? null : next;
    state.loading = false;
    updateGridStatus();
    // The observer only fires on changes: keep filling while the sentinel is still in view.
    if (!state.done && sentinelNearViewport()) {
      requestAnimationFrame(function () { loadPage(false); });
    }
  }

  function appendImages(images) {
    var frag = document.createDocumentFragment();
    var added = 0;
    images.forEach(function (image) {
      if (!image || typeof image.key !== "string" || state.seen.has(image.key)) return;
      state.seen.add(image.key);
      frag.appendChild(renderTile(image));
      added += 1;
    });
    els.grid.appendChild(frag);
    return added;
  }

  function renderTile(image) {
    var key = image.key;
    var name = image.name || key.slice(key.indexOf("/") + 1);
    var meta = image.metadata || {};
    var photographer = typeof meta.photographer === "string" ? meta.photographer : "";
    var eventName = typeof meta.event === "string" ? meta.event : "";

    var li = el("li", "tile");
    li.dataset.key = key;
    var figure = el("figure");
    var link = el("a", "thumb");
    link.href = image.url;
    link.target = "_blank";
    link.rel = "noopener";
    var img = document.createElement("img");
    img.setAttribute("loading", "lazy");      // before src, so the browser defers the load
    img.decoding = "async";
    var alt = name;
    if (photographer) alt += ", by " + photographer;
    if (eventName) alt += ", " + eventName;
    img.alt = alt;
    img.addEventListener("error", function () { li.classList.add("broken"); });
    img.src = image.url;
    link.appendChild(img);
    figure.appendChild(link);

    var caption = el("figcaption");
    var nameNode = el("span", "name", name);
    nameNode.title = name + (image.size !== undefined ? " (" + formatBytes(image.size) + ")" : "");
    caption.appendChild(nameNode);
    if (photographer) caption.appendChild(el("span", "photographer", photographer));
    if (eventName) caption.appendChild(el("span", "event", eventName));
    if (image.uploaded) {
      var when = new Date(image.uploaded);
      if (!isNaN(when.getTime())) {
        var time = el("time", "uploaded", when.toLocaleString());
        time.dateTime = image.uploaded;
        caption.appendChild(time);
      }
    }
    figure.appendChild(caption);
    li.appendChild(figure);
    return li;
  }

  // ------------------------------------------------------------------ uploads

  function makeJob(file) {
    var li = el("li", "upload-status");
    li.dataset.state = "queued";
    var name = el("span", "upload-name", file.name);
    var progress = document.createElement("progress");
    progress.max = 1;
    progress.removeAttribute("value");      // indeterminate until the PUT starts
    progress.setAttribute("aria-label", "Upload of " + file.name);
    var text = el("span", "upload-text", "Waiting");
    li.appendChild(name);
    li.appendChild(progress);
    li.appendChild(text);
    els.uploadList.appendChild(li);
    return { file: file, li: li, progress: progress, text: text, key: null, etag: null, state: "queued" };
  }

  function setJob(job, stateName, text) {
    job.state = stateName;
    job.li.dataset.state = stateName;
    job.text.textContent = text;
  }

  function failJob(job, message) {
    setJob(job, "error", message);
    job.progress.max = 1;
    job.progress.value = 0;
  }

  async function uploadOne(job, gallery, metadata) {
    var file = job.file;
    setJob(job, "signing", "Preparing");
    var request = { gallery: gallery, filename: file.name, contentType: file.type };
    if (Object.keys(metadata).length) request.metadata = metadata;
    var ticket;
    try {
      ticket = await api("api/uploads", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify(request)
      });
    } catch (e) {
      if (e.code === "InvalidGallery") setGalleryError(e.message);
      failJob(job, e.message);
      return;
    }
    job.key = ticket.key;
    if (ticket.key) job.li.dataset.key = ticket.key;
    if (!ticket.put || !ticket.put.url) {
      failJob(job, "The gallery service sent no upload URL.");
      return;
    }
    if (typeof ticket.maxSize === "number" && file.size > ticket.maxSize) {
      failJob(job, "Too large: " + formatBytes(file.size) + " (at most " + formatBytes(ticket.maxSize) + ").");
      return;
    }
    try {
      job.etag = await putFile(job, ticket.put);
      setJob(job, "done", "Done");
    } catch (e) {
      failJob(job, e.message);
    }
  }

  function s3ErrorText(xhr) {
    var text = "Upload failed: HTTP " + xhr.status + (xhr.statusText ? " " + xhr.statusText : "");
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "application/xml");
      var code = doc.querySelector("Error > Code");
      var message = doc.querySelector("Error > Message");
      if (code) text += " " + code.textContent;
      if (message && message.textContent) text += ": " + message.textContent;
    } catch (e) { /* not XML */ }
    return text;
  }

  function putFile(job, put) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", put.url);
      try {
        Object.keys(put.headers || {}).forEach(function (name) {
          if (FORBIDDEN_HEADERS[name.toLowerCase()]) return;
          xhr.setRequestHeader(name, String(put.headers[name]));
        });
      } catch (e) {
        reject(new Error("Cannot send the upload headers: " + e.message));
        return;
      }
      xhr.upload.onprogress = function (e) {
        if (!e.lengthComputable) return;
        job.progress.max = e.total || 1;
        job.progress.value = e.loaded;
        job.text.textContent = Math.floor(100 * e.loaded / (e.total || 1)) + "%";
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          job.progress.value = job.progress.max;
          resolve(stripQuotes(xhr.getResponseHeader("ETag")));
        } else {
          reject(new Error(s3ErrorText(xhr)));
        }
      };
      xhr.onerror = function () {
        reject(new Error("Upload failed: network error (storage unreachable, or the request was blocked by CORS)."));
      };
      xhr.onabort = function () { reject(new Error("Upload aborted.")); };
      xhr.ontimeout = function () { reject(new Error("Upload timed out.")); };
      setJob(job, "uploading", "0%");
      job.progress.value = 0;
      xhr.send(job.file);
    });
  }

  async function runPool(tasks, width) {
    var next = 0;
    async function worker() {
      while (next < tasks.length) {
        var task = tasks[next];
        next += 1;
        await task();
      }
    }
    var workers = [];
    for (var i = 0; i < Math.min(width, tasks.length); i++) workers.push(worker());
    await Promise.all(workers);
  }

  // True when every (key, etag) is listed by the index: events arrive through the webhook,
  // some time after the PUT.
  async function indexHas(gallery, wanted) {
    var missing = new Map(wanted);
    var cursor = null;
    for (var page = 0; page < 5 && missing.size; page++) {
      var body = await api(imagesURL(gallery, 100, cursor));
      (body.images || []).forEach(function (image) {
        if (!missing.has(image.key)) return;
        var etag = missing.get(image.key);
        if (!etag || !image.etag || stripQuotes(image.etag) === etag) missing.delete(image.key);
      });
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return missing.size === 0;
  }

  async function waitForIndex(gallery, jobs) {
    var wanted = new Map();
    jobs.forEach(function (job) { wanted.set(job.key, job.etag); });
    var deadline = Date.now() + INDEX_WAIT_MS;
    for (;;) {
      try {
        if (await indexHas(gallery, wanted)) return true;
      } catch (e) { /* keep polling */ }
      if (Date.now() >= deadline) return false;
      await sleep(INDEX_POLL_MS);
    }
  }

  async function startUpload(event) {
    event.preventDefault();
    if (state.uploading) return;
    var gallery = requestedGallery();
    if (!gallery) {
      els.galleryName.focus();
      els.uploadMessage.textContent = "Choose a valid gallery first.";
      return;
    }
    var files = Array.prototype.slice.call(els.files.files || []);
    if (!files.length) {
      els.uploadMessage.textContent = "Choose one or more images first.";
      els.files.focus();
      return;
    }
    chooseGallery(gallery);
    var metadata = {};
    var photographer = els.photographer.value.trim();
    var eventName = els.event.value.trim();
    if (photographer) metadata.photographer = photographer;
    if (eventName) metadata.event = eventName;

    state.uploading = true;
    els.upload.disabled = true;
    els.uploadList.textContent = "";
    els.uploadMessage.textContent = "Uploading " + plural(files.length, "file", "files") + "\u2026";
    var jobs = files.map(makeJob);
    await runPool(jobs.map(function (job) {
      return function () { return uploadOne(job, gallery, metadata); };
    }), PARALLEL_UPLOADS);
    state.uploading = false;
    els.upload.disabled = false;

    var done = jobs.filter(function (j) { return j.state === "done"; });
    var failed = jobs.length - done.length;
    var summary = plural(done.length, "file", "files") + " uploaded" + (failed ? ", " + failed + " failed" : "") + ".";
    els.uploadMessage.textContent = summary;
    if (!done.length) return;
    if (!failed) els.files.value = "";
    els.uploadMessage.textContent = summary + " Adding to the gallery\u2026";
    var indexed = await waitForIndex(gallery, done);
    els.uploadMessage.textContent = summary + (indexed ? "" : " Some photos are not in the gallery yet; use Refresh in a moment.");
    loadGalleries();
    if (state.gallery === gallery) loadPage(true);
  }

  // ------------------------------------------------------------------ wiring

  function init() {
    ["gallery-select", "gallery-name", "gallery-form", "gallery-error", "galleries-error", "current-gallery",
     "photographer", "event", "files", "upload", "upload-form", "upload-message", "upload-list",
     "grid", "grid-status", "sentinel", "retry", "refresh", "photos-heading"].forEach(function (id) {
      els[id.replace(/-([a-z])/g, function (_, c) { return c.toUpperCase(); })] = document.getElementById(id);
    });
    els.select = els.gallerySelect;
    els.current = els.currentGallery;

    els.galleryForm.addEventListener("submit", function (e) {
      e.preventDefault();
      var name = requestedGallery();
      if (name) chooseGallery(name);
      else els.galleryName.focus();
    });
    els.galleryName.addEventListener("input", function () {
      if (!els.galleryError.hidden && !validateGalleryName(els.galleryName.value.trim())) setGalleryError(null);
    });
    els.select.addEventListener("change", function () {
      if (els.select.value) chooseGallery(els.select.value);
    });
    window.addEventListener("hashchange", function () {
      var name = galleryFromHash();
      if (name && name !== state.gallery) openGallery(name);
    });
    els.uploadForm.addEventListener("submit", startUpload);
    els.retry.addEventListener("click", function () {
      state.failed = false;
      loadPage(false);
    });
    els.refresh.addEventListener("click", function () {
      loadGalleries();
      loadPage(true);
    });

    if ("IntersectionObserver" in window) {
      new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) loadPage(false);
      }, { rootMargin: "0px 0px 400px 0px" }).observe(els.sentinel);
    } else {
      window.addEventListener("scroll", function () { if (sentinelNearViewport()) loadPage(false); }, { passive: true });
    }

    var initial = galleryFromHash();
    if (initial) openGallery(initial);
    loadGalleries();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();