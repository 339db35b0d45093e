// The gallery page, part 3 of 5: the grid. Pages of images (newest first, more as you
// scroll) laid out as justified rows: every row the same height, filling the width (the last
// row keeps the target height), each tile keeping its image's aspect ratio. A tile shows the
// ThumbHash placeholder at once, then the lazy-loaded thumbnail (srcset: thumbnail, preview).
// Images still processing are re-polled until ready; unprocessable ones say why.
(function (S) {
  "use strict";

  var PAGE_SIZE = 24;
  var ROW_HEIGHT = 220;           // target row height, px (140 on narrow screens)
  var SMALL_ROW_HEIGHT = 140;
  var GAP = 8;                    // between tiles and rows, px
  var POLL_MS = 3000;             // re-poll while any image is processing
  var POLL_PAGES = 10;            // at most this many API pages per poll
  // The derivatives' long edges (ThumbnailLimits defaults): width descriptors for srcset.
  var THUMBNAIL_EDGE = 360;
  var PREVIEW_EDGE = 1440;

  var els = S.els;
  var state = S.state;
  var el = S.el;
  var layoutFrame = 0;
  var laidOutWidth = -1;

  // ------------------------------------------------------------------ status line

  function setGridStatus(text, isError) {
    els.gridStatus.textContent = text || "";
    els.gridStatus.classList.toggle("error", !!isError);
  }

  function updateGridStatus() {
    var n = state.images.length;
    if (!state.gallery) {
      setGridStatus("Choose or create a gallery to see its photos.");
    } else if (state.failed) {
      return;
    } else if (state.loading) {
      setGridStatus("Loading photos\u2026");
    } else if (state.done && n === 0) {
      setGridStatus("No photos in this gallery yet. Upload some above.");
    } else if (state.done) {
      setGridStatus("All " + S.plural(n, "photo", "photos") + " shown.");
    } else {
      setGridStatus(S.plural(n, "photo", "photos") + " shown; scroll for more.");
    }
  }

  function sentinelNearViewport() {
    var rect = els.sentinel.getBoundingClientRect();
    return rect.top < window.innerHeight + 400;
  }

  // ------------------------------------------------------------------ pages

  function clear() {
    els.grid.textContent = "";
    els.grid.style.height = "";
    state.images = [];
    state.entries.clear();
    clearTimeout(state.pollTimer);
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
      body = await S.api(S.imagesURL(gallery, PAGE_SIZE, cursor));
    } catch (e) {
      if (gen !== state.generation) return;
      state.loading = false;
      state.failed = true;
      setGridStatus("Could not load photos: " + e.message, true);
      els.retry.hidden = false;
      return;
    }
    if (gen !== state.generation) return;
    if (reset) clear();
    var images = Array.isArray(body.images) ? body.images : [];
    var added = appendImages(images);
    var next = typeof body.nextCursor === "string" && body.nextCursor ? body.nextCursor : null;
    // Guard against a cursor that does not advance.
    state.done = !next || (next === cursor && added === 0);
    state.cursor = state.done ? null : next;
    state.loading = false;
    updateGridStatus();
    schedulePoll();
    if (state.pendingImage !== null) {
      var name = state.pendingImage;
      if (S.lightbox.openByName(name)) return;
      if (state.done) {
        state.pendingImage = null;
        setGridStatus("There is no image \"" + name + "\" in this gallery.", true);
        S.setAddress(S.addressOf(gallery), "replace", null);
        return;
      }
      requestAnimationFrame(function () { loadPage(false); });
      return;
    }
    // The observer only fires on changes: keep filling while the sentinel is still in view.
    if (!state.done && sentinelNearViewport()) {
      requestAnimationFrame(function () { loadPage(false); });
    }
  }

  function appendImages(images) {
    var frag = document.createDocumentFragment();
    var added = 0;
    images.forEach(function (image) {
      if (!image || typeof image.key !== "string" || state.entries.has(image.key)) return;
      var entry = renderTile(image);
      state.entries.set(image.key, entry);
      state.images.push(image);
      frag.appendChild(entry.tile);
      added += 1;
    });
    els.grid.appendChild(frag);
    layout();   // now: the sentinel's position decides whether to load the next page
    return added;
  }

  // ------------------------------------------------------------------ tiles

  /// "ready" | "processing" | "unprocessable"; an index without thumbnails sends no status:
  /// the original is shown then.
  S.statusOf = function (image) {
    return image.status === "processing" || image.status === "unprocessable" ? image.status : "ready";
  };

  /// The width of a derivative with the given long edge (never upscaled), or 0 when unknown.
  function derivedWidth(image, edge) {
    if (!(image.width > 0 && image.height > 0)) return 0;
    return Math.round(image.width * Math.min(1, edge / Math.max(image.width, image.height)));
  }

  function setPhase(entry, phase) {
    entry.tile.dataset.phase = phase;
  }

  // One tile: li.tile[data-key][data-status][data-phase] > figure > a.thumb (> img) + figcaption.
  // data-phase: processing | unprocessable | waiting (placeholder, image loading) | loaded | broken.
  function renderTile(image) {
    var key = image.key;
    var name = S.imageName(image);
    var meta = image.metadata || {};
    var photographer = typeof meta.photographer === "string" ? meta.photographer : "";
    var eventName = typeof meta.event === "string" ? meta.event : "";
    var status = S.statusOf(image);

    var li = el("li", "tile");
    li.dataset.key = key;
    li.dataset.status = status;
    var entry = { image: image, tile: li, link: null, img: null, natural: null };
    var figure = el("figure");
    var link = el("a", "thumb");
    link.href = S.addressOf(state.gallery, name);
    entry.link = link;
    var placeholder = S.placeholderURL(image.placeholder);
    if (placeholder) {
      link.style.backgroundImage = "url(\"" + placeholder + "\")";
      li.dataset.placeholder = "true";
    }
    var alt = name;
    if (photographer) alt += ", by " + photographer;
    if (eventName) alt += ", " + eventName;

    if (status === "ready") {
      var img = document.createElement("img");
      img.setAttribute("loading", "lazy");      // before src, so the browser defers the load
      img.decoding = "async";
      img.alt = alt;
      img.addEventListener("load", function () {
        entry.natural = { w: img.naturalWidth, h: img.naturalHeight };
        setPhase(entry, "loaded");
        if (!(image.width > 0)) scheduleLayout();   // no size from the API: use the file's
      });
      img.addEventListener("error", function () {
        li.classList.add("broken");
        setPhase(entry, "broken");
      });
      var thumbnailWidth = derivedWidth(image, THUMBNAIL_EDGE);
      var previewWidth = derivedWidth(image, PREVIEW_EDGE);
      if (image.thumbnailUrl && image.previewUrl && thumbnailWidth && previewWidth > thumbnailWidth) {
        img.sizes = Math.round(ROW_HEIGHT * aspectOf(entry)) + "px";   // exact once laid out
        img.srcset = image.thumbnailUrl + " " + thumbnailWidth + "w, " + image.previewUrl + " " + previewWidth + "w";
      }
      img.src = image.thumbnailUrl || image.url;
      entry.img = img;
      link.appendChild(img);
      setPhase(entry, "waiting");
    } else {
      link.setAttribute("aria-label", alt + (status === "processing" ? " (processing)" : " (cannot be shown)"));
      var note = status === "processing" ? "Processing\u2026"
        : "Cannot show this image" + (image.reason ? ": " + image.reason : "");
      link.appendChild(el("span", "tile-state", note));
      if (status === "unprocessable") link.title = image.reason || "This image cannot be shown.";
      setPhase(entry, status);
    }
    figure.appendChild(link);

    var caption = el("figcaption");
    var nameNode = el("span", "name", name);
    nameNode.title = name + (image.size !== undefined ? " (" + S.formatBytes(image.size) + ")" : "");
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
    return entry;
  }

  var COMPARED = ["status", "reason", "thumbnailUrl", "previewUrl", "width", "height", "placeholder", "url", "etag"];

  // A newer answer for an image in the grid: its tile is rebuilt when anything shown changed.
  function updateImage(image) {
    var old = state.entries.get(image.key);
    if (!old || COMPARED.every(function (f) { return old.image[f] === image[f]; })) return;
    var entry = renderTile(image);
    var hadFocus = old.tile.contains(document.activeElement);
    entry.tile.style.cssText = old.tile.style.cssText;
    old.tile.replaceWith(entry.tile);
    state.entries.set(image.key, entry);
    var i = state.images.indexOf(old.image);
    if (i >= 0) state.images[i] = image;
    if (hadFocus) entry.link.focus({ preventScroll: true });
    scheduleLayout();
    S.lightbox.refresh(image.key);
  }

  // ------------------------------------------------------------------ polling

  function processingKeys() {
    return state.images.filter(function (i) { return S.statusOf(i) === "processing"; })
      .map(function (i) { return i.key; });
  }

  function schedulePoll() {
    clearTimeout(state.pollTimer);
    if (processingKeys().length) state.pollTimer = setTimeout(poll, POLL_MS);
  }

  // Reads the gallery from its first page until every processing image has been seen again.
  async function poll() {
    var gen = state.generation;
    var gallery = state.gallery;
    var waiting = new Set(processingKeys());
    var cursor = null;
    try {
      for (var page = 0; page < POLL_PAGES && waiting.size; page++) {
        var body = await S.api(S.imagesURL(gallery, 100, cursor));
        if (gen !== state.generation) return;
        (body.images || []).forEach(function (image) {
          if (!image || !state.entries.has(image.key)) return;
          waiting.delete(image.key);
          updateImage(image);
        });
        cursor = body.nextCursor;
        if (!cursor) break;
      }
    } catch (e) { /* try again at the next poll */ }
    if (gen === state.generation) schedulePoll();
  }

  // ------------------------------------------------------------------ justified layout

  function aspectOf(entry) {
    var image = entry.image;
    var a = 1;   // processing, or no size known yet: square
    if (image.width > 0 && image.height > 0) a = image.width / image.height;
    else if (entry.natural && entry.natural.w > 0 && entry.natural.h > 0) a = entry.natural.w / entry.natural.h;
    return Math.min(5, Math.max(0.2, a));   // panoramas and slivers are cropped, not unreadable
  }

  /// Justified rows: boxes {x, y, w, h} for the aspect ratios, in order, and the total height.
  /// A row takes images until it is at least `width` wide at `rowHeight`, then is scaled to
  /// fill `width` exactly (ending the row before the last image instead when that is closer
  /// to `rowHeight`). The last row keeps `rowHeight`.
  function justify(aspects, width, rowHeight, gap) {
    var boxes = [];
    var row = [];
    var sum = 0;
    var y = 0;
    function fill(items, total, last) {
      var avail = width - gap * (items.length - 1);
      var h = last ? Math.min(rowHeight, avail / total) : avail / total;
      var x = 0;
      items.forEach(function (i, j) {
        var w = (!last && j === items.length - 1) ? width - x : aspects[i] * h;
        boxes[i] = { x: x, y: y, w: w, h: h };
        x += w + gap;
      });
      y += h + gap;
    }
    aspects.forEach(function (a, i) {
      row.push(i);
      sum += a;
      if (sum * rowHeight + gap * (row.length - 1) < width) return;
      var hWith = (width - gap * (row.length - 1)) / sum;
      var hWithout = row.length > 1 ? (width - gap * (row.length - 2)) / (sum - a) : Infinity;
      if (hWithout / rowHeight < rowHeight / hWith) {
        fill(row.slice(0, -1), sum - a, false);
        row = [i];
        sum = a;
        if (sum * rowHeight < width) return;
      }
      fill(row, sum, false);
      row = [];
      sum = 0;
    });
    if (row.length) fill(row, sum, true);
    return { boxes: boxes, height: Math.max(0, y - gap) };
  }

  function scheduleLayout() {
    if (!layoutFrame) layoutFrame = requestAnimationFrame(layout);
  }

  function layout() {
    cancelAnimationFrame(layoutFrame);
    layoutFrame = 0;
    var width = els.grid.clientWidth;
    laidOutWidth = width;
    var entries = state.images.map(function (i) { return state.entries.get(i.key); });
    var rowHeight = window.matchMedia("(max-width: 520px)").matches ? SMALL_ROW_HEIGHT : ROW_HEIGHT;
    var result = justify(entries.map(aspectOf), width, rowHeight, GAP);
    entries.forEach(function (entry, i) {
      var b = result.boxes[i];
      var s = entry.tile.style;
      s.left = b.x + "px";
      s.top = b.y + "px";
      s.width = b.w + "px";
      s.height = b.h + "px";
      if (entry.img && entry.img.srcset) entry.img.sizes = Math.ceil(b.w) + "px";
    });
    els.grid.style.height = result.height + "px";
  }

  // ------------------------------------------------------------------ wiring

  S.grid = {
    clear: clear,
    loadPage: loadPage,
    setStatus: setGridStatus,
    init: function () {
      els.retry.addEventListener("click", function () {
        state.failed = false;
        loadPage(false);
      });
      els.refresh.addEventListener("click", function () {
        S.loadGalleries();
        loadPage(true);
      });
      els.grid.addEventListener("click", function (e) {
        var link = e.target.closest && e.target.closest("a.thumb");
        if (!link || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        var key = link.closest(".tile").dataset.key;
        var index = state.images.findIndex(function (i) { return i.key === key; });
        if (index < 0) return;
        e.preventDefault();
        S.lightbox.openAt(index, "push");
      });
      if ("ResizeObserver" in window) {
        new ResizeObserver(function () {
          if (els.grid.clientWidth !== laidOutWidth) scheduleLayout();
        }).observe(els.grid);
      } else {
        window.addEventListener("resize", scheduleLayout);
      }
      if ("IntersectionObserver" in window) {
        new IntersectionObserver(function (entries) {
          if (entries.some(function (e) { return e.isIntersecting; })) loadPage(false);
        }, { rootMargin: "0px 0px 400px 0px" }).observe(els.sentinel);
      } else {
        window.addEventListener("scroll", function () { if (sentinelNearViewport()) loadPage(false); }, { passive: true });
      }
    }
  };
})(window.Shoebox);
