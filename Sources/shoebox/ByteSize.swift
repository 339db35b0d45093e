import ArgumentParser

/// Sizes on the command line: a number with an optional unit (KiB, MiB, GiB, TiB).
enum ByteSize {
    static func parse(_ text: String) throws -> Int {
        let units: [(String, Int)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
        for (unit, factor) in units where text.hasSuffix(unit) {
            if let n = Int(text.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), n > 0 { return n * factor }
        }
        if let n = Int(text), n > 0 { return n }
        throw ValidationError("'\(text)' is not a size such as 64GiB or 512MiB")
    }
}
