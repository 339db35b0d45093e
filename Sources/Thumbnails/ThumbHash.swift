import Foundation

/// ThumbHash encoder: a ~25-byte DCT summary of an image that the gallery page decodes into a
/// blurred placeholder (https://evanw.github.io/thumbhash/, by Evan Wallace). A port of the
/// reference `rgbaToThumbHash`: no maintained Swift package of it is available to this build
/// (the upstream repository's Swift file is not a package), and the encoder is small.
enum ThumbHash {
    /// One channel's DCT: the constant term, the normalised varying terms (0...1), their scale.
    struct Channel {
        var dc = 0.0
        var ac: [Double] = []
        var scale = 0.0
    }

    /// The hash of `width` x `height` (each <= 100) pixels of straight (not premultiplied)
    /// 8-bit RGBA, row by row.
    static func encode(width w: Int, height h: Int, rgba: [UInt8]) -> [UInt8] {
        precondition(w > 0 && h > 0 && w <= 100 && h <= 100 && rgba.count == w * h * 4)
        let count = w * h

        // The average colour, weighted by alpha.
        var (avgR, avgG, avgB, avgA) = (0.0, 0.0, 0.0, 0.0)
        for i in 0..<count {
            let alpha = Double(rgba[4 * i + 3]) / 255
            avgR += alpha / 255 * Double(rgba[4 * i])
            avgG += alpha / 255 * Double(rgba[4 * i + 1])
            avgB += alpha / 255 * Double(rgba[4 * i + 2])
            avgA += alpha
        }
        if avgA > 0 {
            avgR /= avgA
            avgG /= avgA
            avgB /= avgA
        }

        let hasAlpha = avgA < Double(count)
        let lLimit = hasAlpha ? 5.0 : 7.0  // fewer luminance terms when alpha needs room
        let longEdge = Double(max(w, h))
        let lx = max(1, Int(jsRound(lLimit * Double(w) / longEdge)))
        let ly = max(1, Int(jsRound(lLimit * Double(h) / longEdge)))

        // RGBA to LPQA (luminance, yellow-blue, red-green, alpha), composited atop the average.
        var l = [Double](repeating: 0, count: count), p = l, q = l, a = l
        for i in 0..<count {
            let alpha = Double(rgba[4 * i + 3]) / 255
            let r = avgR * (1 - alpha) + alpha / 255 * Double(rgba[4 * i])
            let g = avgG * (1 - alpha) + alpha / 255 * Double(rgba[4 * i + 1])
            let b = avgB * (1 - alpha) + alpha / 255 * Double(rgba[4 * i + 2])
            l[i] = (r + g + b) / 3
            p[i] = (r + g) / 2 - b
            q[i] = r - g
            a[i] = alpha
        }

        let lChannel = dct(l, width: w, height: h, nx: max(3, lx), ny: max(3, ly))
        let pChannel = dct(p, width: w, height: h, nx: 3, ny: 3)
        let qChannel = dct(q, width: w, height: h, nx: 3, ny: 3)
        let aChannel = hasAlpha ? dct(a, width: w, height: h, nx: 5, ny: 5) : nil

        // The constants.
        let isLandscape = w > h
        let header24 = UInt32(jsRound(63 * lChannel.dc))
            | UInt32(jsRound(31.5 + 31.5 * pChannel.dc)) << 6
            | UInt32(jsRound(31.5 + 31.5 * qChannel.dc)) << 12
            | UInt32(jsRound(31 * lChannel.scale)) << 18
            | (hasAlpha ? 1 << 23 : 0)
        let header16 = UInt32(isLandscape ? ly : lx)
            | UInt32(jsRound(63 * pChannel.scale)) << 3
            | UInt32(jsRound(63 * qChannel.scale)) << 9
            | (isLandscape ? 1 << 15 : 0)
        var hash: [UInt8] = [UInt8(header24 & 255), UInt8((header24 >> 8) & 255), UInt8(header24 >> 16),
                             UInt8(header16 & 255), UInt8(header16 >> 8)]
        if let aChannel {
            hash.append(UInt8(jsRound(15 * aChannel.dc)) | UInt8(jsRound(15 * aChannel.scale)) << 4)
        }

        // The varying terms, two 4-bit values a byte, low nibble first.
        let terms = [lChannel, pChannel, qChannel, aChannel].compactMap { $0 }.flatMap(\.ac)
        for (index, term) in terms.enumerated() {
            let nibble = UInt8(jsRound(15 * term))
            if index % 2 == 0 { hash.append(nibble) } else { hash[hash.count - 1] |= nibble << 4 }
        }
        return hash
    }

    /// The DCT terms (cx, cy) of one channel with cx * ny < nx * (ny - cy): a triangle of low
    /// frequencies, row by row.
    static func dct(_ channel: [Double], width w: Int, height h: Int, nx: Int, ny: Int) -> Channel {
        var result = Channel()
        var fx = [Double](repeating: 0, count: w)
        for cy in 0..<ny {
            var cx = 0
            while cx * ny < nx * (ny - cy) {
                for x in 0..<w { fx[x] = cos(Double.pi / Double(w) * Double(cx) * (Double(x) + 0.5)) }
                var f = 0.0
                for y in 0..<h {
                    let fy = cos(Double.pi / Double(h) * Double(cy) * (Double(y) + 0.5))
                    for x in 0..<w { f += channel[x + y * w] * fx[x] * fy }
                }
                f /= Double(w * h)
                if cx > 0 || cy > 0 {
                    result.ac.append(f)
                    result.scale = max(result.scale, abs(f))
                } else {
                    result.dc = f
                }
                cx += 1
            }
        }
        if result.scale > 0 {
            result.ac = result.ac.map { 0.5 + 0.5 / result.scale * $0 }
        }
        return result
    }

    /// JavaScript's Math.round (halves up), which the reference encoder uses.
    static func jsRound(_ value: Double) -> Double {
        (value + 0.5).rounded(.down)
    }
}
