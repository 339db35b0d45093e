// The gallery page, part 5 of 5: uploads. Each file gets a presigned PUT from the index
// service (POST api/uploads), is sent with progress (XHR), then the page waits until the
// index lists it (events arrive through the webhook) and reloads the grid.
(function (S) {
  "use strict";

  var PARALLEL_UPLOADS = 3;
  var INDEX_POLL_MS = 500;
  var INDEX_WAIT_MS = 10000;
  // Headers a browser refuses to set itself; never pass them to setRequestHeader.
  var FORBIDDEN_HEADERS = { "host": 1, "content-length": 1, "connection": 1, "expect": 1 };

  var els = S.els;
  var state = S.state;
  var el = S.el;
  var api = S.api;
  var plural = S.plural;
  var formatBytes = S.formatBytes;
  var stripQuotes = S.stripQuotes;
  var imagesURL = S.imagesURL;
  var sleep = S.sleep;

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
      if (e.code === "InvalidGallery") S.setGalleryError(e.message);
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
    var gallery = S.requestedGallery();
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
    S.chooseGallery(gallery);
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
    S.loadGalleries();
    if (state.gallery === gallery) S.grid.loadPage(true);
  }

  S.uploads = {
    init: function () {
      els.uploadForm.addEventListener("submit", startUpload);
    }
  };
})(window.Shoebox);
