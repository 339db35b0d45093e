#ifndef SHOEBOX_CVIPS_SHIM_H
#define SHOEBOX_CVIPS_SHIM_H

// Fixed-argument wrappers around libvips calls Swift cannot make: the operations take
// NULL-terminated variadic option lists (vips_thumbnail(filename, &out, width, "size", ..., NULL)),
// and Swift imports no C variadic function. Each wrapper names its options once, here.
// All return 0 on success, -1 on failure with the reason in vips's error buffer.

#include <vips/vips.h>
#include <stddef.h>

/// vips_init, the operation cache off (memory stays bounded) and one worker thread per
/// pipeline (N parallel calls use N cores). Call once; returns 0 or -1.
int shoebox_vips_start(const char *program);

/// Opens `path` lazily: reads the header only, decodes no pixels. Truncated or corrupt data
/// found later fails the decode instead of yielding grey pixels.
int shoebox_vips_open_header(const char *path, VipsImage **out);

/// Shrink-on-load thumbnail of the file's first page/frame, long edge <= edge (never
/// enlarged), EXIF orientation applied, converted to sRGB (CMYK and embedded ICC profiles).
int shoebox_vips_thumbnail_file(const char *path, int edge, int has_profile, VipsImage **out);

/// The same for an image already in memory (a preview made by the call above).
int shoebox_vips_thumbnail_image(VipsImage *in, int edge, VipsImage **out);

/// 8-bit sRGB (3 bands, or 4 with alpha), whatever the input's depth and colour space.
int shoebox_vips_srgb8(VipsImage *in, VipsImage **out);

/// 8-bit sRGB with an alpha band (4 bands, uchar): what ThumbHash reads.
int shoebox_vips_rgba8(VipsImage *in, VipsImage **out);

/// Progressive, Huffman-optimised JPEG without metadata; alpha flattened onto white.
int shoebox_vips_jpeg(VipsImage *in, int quality, void **buffer, size_t *length);

/// WebP without metadata (alpha kept).
int shoebox_vips_webp(VipsImage *in, void **buffer, size_t *length);

/// Drops EXIF (GPS included), XMP, IPTC and ICC metadata from an image this process owns
/// alone. The savers' strip option is not enough: libvips 8.14's webpsave still wrote an EXIF
/// chunk with it (caught by ThumbnailerTests).
void shoebox_vips_remove_metadata(VipsImage *image);

/// Returns memory freed in every malloc arena to the system (glibc's malloc_trim; a no-op elsewhere).
void shoebox_release_free_memory(void);

#endif
