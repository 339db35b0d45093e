// The gallery page, part 4 of 5: the lightbox. A modal <dialog> (focus kept inside, Escape
// closes it) showing one image's preview full-window; Left/Right and the on-screen buttons go
// to the previous/next image (loading the next page at the end). Its address is
// g/<gallery>/<image name>: opening from the grid pushes a history entry (Back closes it),
// moving between images replaces it, closing returns to g/<gallery>.
(function (S) {
  "use strict";

  var els = S.els;
  var state = S.state;
  var current = -1;       // index in state.images, -1 when closed
  var quietClose = false; // the next "close" event must not touch the address

  function isOpen() {
    return els.lightbox.open;
  }

  function show(index) {
    var image = state.images[index];
    if (!image) return;
    current = index;
    var name = S.imageName(image);
    var meta = image.metadata || {};
    var status = S.statusOf(image);
    els.lightbox.dataset.key = image.key;
    els.lightbox.dataset.status = status;
    els.lightboxTitle.textContent = name;
    els.lightboxMeta.textContent = [meta.photographer, meta.event].filter(function (s) {
      return typeof s === "string" && s;
    }).join(" \u00b7 ");
    els.lightboxCount.textContent = (index + 1) + " of " + state.images.length + (state.done ? "" : "+");
    els.lightboxOriginal.href = image.url;
    els.lightboxPrev.disabled = index === 0;
    els.lightboxNext.disabled = index === state.images.length - 1 && state.done;

    var img = els.lightboxImage;
    var placeholder = S.placeholderURL(image.placeholder);
    img.parentNode.style.backgroundImage = placeholder ? "url(\"" + placeholder + "\")" : "";
    var message = "";
    if (status === "ready") {
      img.alt = name;
      img.src = image.previewUrl || image.url;
      img.hidden = false;
    } else {
      img.removeAttribute("src");
      img.hidden = true;
      message = status === "processing" ? "This image is still being processed."
        : "This image cannot be shown" + (image.reason ? ": " + image.reason : ".");
    }
    els.lightboxMessage.textContent = message;
    els.lightboxMessage.hidden = !message;
    if (!isOpen()) {
      els.lightbox.showModal();
      els.lightboxClose.focus();
    }
  }

  /// Opens the image at `index`; mode "push" (from the grid: a new history entry), "replace"
  /// (moving between images) or none (the address already names it).
  function openAt(index, mode) {
    var image = state.images[index];
    if (!image) return;
    state.pendingImage = null;
    show(index);
    if (mode) {
      var entry = mode === "push" ? { lightbox: true } : undefined;
      S.setAddress(S.addressOf(state.gallery, S.imageName(image)), mode, entry);
    }
  }

  /// Opens the image with this name if it is in the grid (true); otherwise it is opened
  /// once the page holding it has loaded (grid.js reads state.pendingImage).
  function openByName(name) {
    var index = state.images.findIndex(function (i) { return S.imageName(i) === name; });
    if (index >= 0) {
      if (index !== current || !isOpen()) openAt(index, null);
      return true;
    }
    state.pendingImage = name;
    if (!state.loading && state.images.length && !state.done) S.grid.loadPage(false);
    return false;
  }

  async function step(delta) {
    if (!isOpen()) return;
    var next = current + delta;
    if (next < 0) return;
    if (next >= state.images.length && !state.done) await S.grid.loadPage(false);
    if (next < state.images.length && isOpen()) openAt(next, "replace");
  }

  /// Closes the lightbox; `quiet`: the address already says where we are (back/forward).
  function close(quiet) {
    state.pendingImage = null;
    if (!isOpen()) return;
    quietClose = !!quiet;
    els.lightbox.close();
  }

  // After any close (button, Escape, back): focus back to the image's tile, address to the gallery.
  function closed() {
    var image = state.images[current];
    current = -1;
    els.lightboxImage.removeAttribute("src");
    delete els.lightbox.dataset.key;
    var entry = image && state.entries.get(image.key);
    if (entry) entry.link.focus();
    if (quietClose) {
      quietClose = false;
      return;
    }
    if (history.state && history.state.lightbox) history.back();
    else if (state.gallery) S.setAddress(S.addressOf(state.gallery), "replace", null);
  }

  S.lightbox = {
    openAt: openAt,
    openByName: openByName,
    close: close,
    /// The image with this key changed (polling): show the new state if it is open.
    refresh: function (key) {
      var image = state.images[current];
      if (isOpen() && image && image.key === key) show(current);
    },
    init: function () {
      els.lightboxClose.addEventListener("click", function () { close(false); });
      els.lightboxPrev.addEventListener("click", function () { step(-1); });
      els.lightboxNext.addEventListener("click", function () { step(1); });
      els.lightbox.addEventListener("close", closed);
      els.lightbox.addEventListener("keydown", function (e) {
        if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
        if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
          e.preventDefault();
          step(e.key === "ArrowLeft" ? -1 : 1);
        }
      });
      els.lightboxImage.addEventListener("load", function () {
        els.lightboxImage.parentNode.style.backgroundImage = "";
      });
    }
  };
})(window.Shoebox);
