import Foundation
import XCTest

/// Test images made at test time with the `vips` command-line tool (nothing downloaded, no
/// binary fixtures in the repository), and derivatives read back with it.
final class Fixtures {
    /// A fresh directory, removed by `remove()`.
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("thumbnails-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The path of `name` in the directory.
    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Runs a vips tool (`vips`, `vipsheader`) and returns its standard output; fails the
    /// call on a non-zero exit.
    @discardableResult
    func run(_ tool: String, _ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("\(tool) \(arguments.joined(separator: " ")): \(String(decoding: message, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A `width` x `height` image of one colour, as a .v file.
    func solid(_ name: String, width: Int, height: Int, rgb: [Int]) throws -> String {
        try run("vips", "black", path("\(name).black.v"), "\(width)", "\(height)", "--bands", "3")
        try run("vips", "linear", path("\(name).black.v"), path("\(name).float.v"), "1 1 1", rgb.map(String.init).joined(separator: " "))
        try run("vips", "cast", path("\(name).float.v"), path("\(name).v"), "uchar")
        return path("\(name).v")
    }

    /// A `width` x `height` colour image with detail (a gradient under noise), as a .v file.
    func textured(_ name: String, width: Int, height: Int) throws -> String {
        try run("vips", "xyz", path("\(name).xyz.v"), "\(width)", "\(height)")
        try run("vips", "gaussnoise", path("\(name).noise.v"), "\(width)", "\(height)", "--sigma", "20", "--mean", "40")
        try run("vips", "bandjoin", "\(path("\(name).xyz.v")) \(path("\(name).noise.v"))", path("\(name).joined.v"))
        try run("vips", "cast", path("\(name).joined.v"), path("\(name).v"), "uchar")
        return path("\(name).v")
    }

    /// `base` with `top` placed at (x, y).
    func insert(_ top: String, into base: String, x: Int, y: Int, as name: String) throws -> String {
        try run("vips", "insert", base, top, path("\(name).v"), "\(x)", "\(y)")
        return path("\(name).v")
    }

    /// Copies a .v image with extra metadata fields (`orientation`, `page-height`): the vips
    /// tool has no command to set them, but a .v file keeps metadata as XML after the pixels,
    /// and savers read it (jpegsave writes `orientation` into EXIF, gifsave splits frames at
    /// `page-height`).
    func withMetadata(_ image: String, _ fields: [String: Int], as name: String) throws -> String {
        var data = try Data(contentsOf: URL(fileURLWithPath: image))
        let xmlStart = try XCTUnwrap(data.range(of: Data("<?xml".utf8))).lowerBound
        var xml = String(decoding: data[xmlStart...], as: UTF8.self)
        let meta = fields.map { "<field type=\"gint\" name=\"\($0.key)\">\($0.value)</field>" }.joined()
        let range = try XCTUnwrap(xml.range(of: "<meta>"))
        xml.replaceSubrange(range, with: "<meta>\(meta)")
        data = data[..<xmlStart] + Data(xml.utf8)
        try data.write(to: URL(fileURLWithPath: path("\(name).v")))
        return path("\(name).v")
    }

    /// Saves `image` as `name` (format from the suffix, options in brackets as vips takes them).
    func save(_ image: String, as name: String, _ options: String = "") throws -> String {
        try run("vips", "copy", image, path(name) + options)
        return path(name)
    }

    /// A header field of a file, as vipsheader prints it.
    func field(_ name: String, of file: String) throws -> String {
        try run("vipsheader", "-f", name, file)
    }

    /// Writes bytes to `name` and returns its path.
    func write(_ bytes: [UInt8], as name: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// The pixel at (x, y) of an image file, one value a band.
    func pixel(_ file: String, x: Int, y: Int) throws -> [Double] {
        try run("vips", "getpoint", file, "\(x)", "\(y)").split(separator: " ").compactMap { Double($0) }
    }
}

/// A fixture command failed.
struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
