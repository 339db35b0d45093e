/// Drops EXIF and XMP chunks from a WebP file. libvips 8.14's webpsave writes a small EXIF
/// chunk (orientation, resolution) even with strip; derivatives must carry no EXIF at all.
enum WebPMetadata {
    /// VP8X flag bits announcing EXIF (0x08) and XMP (0x04) chunks.
    static let metadataFlags: UInt8 = 0x08 | 0x04

    /// `webp` without its EXIF and XMP chunks (unchanged if it is not a RIFF/WEBP file).
    static func removing(from webp: [UInt8]) -> [UInt8] {
        guard webp.count >= 12, webp[0..<4].elementsEqual("RIFF".utf8), webp[8..<12].elementsEqual("WEBP".utf8) else {
            return webp
        }
        var output = Array(webp[0..<12])
        var offset = 12
        while offset + 8 <= webp.count {
            let size = Int(webp[offset + 4]) | Int(webp[offset + 5]) << 8 | Int(webp[offset + 6]) << 16 | Int(webp[offset + 7]) << 24
            let end = min(webp.count, offset + 8 + size + (size & 1))  // chunks are padded to even sizes
            let tag = String(decoding: webp[offset..<offset + 4], as: UTF8.self)
            if tag != "EXIF" && tag != "XMP " {
                let start = output.count
                output += webp[offset..<end]
                if tag == "VP8X", output.count > start + 8 { output[start + 8] &= ~metadataFlags }
            }
            offset = end
        }
        let riffSize = UInt32(output.count - 8)
        for byte in 0..<4 { output[4 + byte] = UInt8(truncatingIfNeeded: riffSize >> (8 * UInt32(byte))) }
        return output
    }
}
