#include "CVipsShim.h"
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

int shoebox_vips_start(const char *program) {
    if (VIPS_INIT(program) != 0) return -1;
    vips_cache_set_max(0);
    vips_cache_set_max_mem(0);
    vips_cache_set_max_files(0);
    vips_concurrency_set(1);
    return 0;
}

int shoebox_vips_open_header(const char *path, VipsImage **out) {
    *out = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL,
                                    "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    return *out ? 0 : -1;
}

int shoebox_vips_thumbnail_file(const char *path, int edge, int has_profile, VipsImage **out) {
    // An embedded ICC profile (Adobe RGB, a printer's CMYK...) is converted to sRGB here.
    // Without one, no export profile is asked for: libvips 8.14 then assumes a fallback
    // import profile that shifts plain sRGB colours (sRGB blue 20,40,220 came out 76,31,222);
    // untagged CMYK and 16-bit images are turned into sRGB by shoebox_vips_srgb8 instead.
    // `has_profile` comes from the header the caller has already read.
    if (has_profile)
        return vips_thumbnail(path, out, edge, "height", edge, "size", VIPS_SIZE_DOWN,
                              "export_profile", "srgb", "fail_on", VIPS_FAIL_ON_ERROR, NULL);
    return vips_thumbnail(path, out, edge, "height", edge, "size", VIPS_SIZE_DOWN,
                          "fail_on", VIPS_FAIL_ON_ERROR, NULL);
}

int shoebox_vips_thumbnail_image(VipsImage *in, int edge, VipsImage **out) {
    // `in` is the preview: 8-bit sRGB already, its profile removed.
    return vips_thumbnail_image(in, out, edge, "height", edge, "size", VIPS_SIZE_DOWN, NULL);
}

int shoebox_vips_srgb8(VipsImage *in, VipsImage **out) {
    VipsImage *srgb = NULL;
    // colourspace scales 16-bit (RGB16, GREY16) down and turns grey into three bands.
    if (vips_colourspace(in, &srgb, VIPS_INTERPRETATION_sRGB, NULL)) return -1;
    int result = vips_cast_uchar(srgb, out, NULL);
    g_object_unref(srgb);
    return result;
}

int shoebox_vips_rgba8(VipsImage *in, VipsImage **out) {
    VipsImage *srgb = NULL;
    if (shoebox_vips_srgb8(in, &srgb)) return -1;
    if (vips_image_hasalpha(srgb)) {
        *out = srgb;
        return 0;
    }
    int result = vips_addalpha(srgb, out, NULL);
    g_object_unref(srgb);
    return result;
}

int shoebox_vips_jpeg(VipsImage *in, int quality, void **buffer, size_t *length) {
    VipsImage *flat = NULL;
    if (vips_image_hasalpha(in)) {
        // JPEG has no alpha: transparent areas become white, as on the gallery page.
        VipsArrayDouble *white = vips_array_double_newv(1, 255.0);
        int failed = vips_flatten(in, &flat, "background", white, NULL);
        vips_area_unref(VIPS_AREA(white));
        if (failed) return -1;
    } else {
        flat = in;
        g_object_ref(flat);
    }
    int result = vips_jpegsave_buffer(flat, buffer, length, "Q", quality, "interlace", TRUE,
                                      "optimize_coding", TRUE, "strip", TRUE, NULL);
    g_object_unref(flat);
    return result;
}

int shoebox_vips_webp(VipsImage *in, void **buffer, size_t *length) {
    return vips_webpsave_buffer(in, buffer, length, "strip", TRUE, NULL);
}

void shoebox_vips_remove_metadata(VipsImage *image) {
    gchar **fields = vips_image_get_fields(image);
    for (gchar **field = fields; *field; field++) {
        if (g_str_has_prefix(*field, "exif-") || g_str_has_prefix(*field, "xmp-") ||
            g_str_has_prefix(*field, "iptc-") || g_str_has_prefix(*field, "icc-") ||
            strcmp(*field, "orientation") == 0)
            vips_image_remove(image, *field);
    }
    g_strfreev(fields);
}

void shoebox_release_free_memory(void) {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
