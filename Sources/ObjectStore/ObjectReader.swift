/// A consistent snapshot of one object, for streaming its body.
///
/// The record and every byte read stay those of the object as it was when opened, even if it
/// is overwritten or deleted meanwhile, until ``close()``. Slices point into memory the reader
/// owns (LMDB's map, say): valid until ``close()``, never copied by the reader. Used by one
/// task at a time.
public protocol ObjectReader: AnyObject, Sendable {
    var bucket: BucketRecord { get }
    var key: String { get }
    var record: ObjectRecord { get }
    /// Whether reading the body may wait for the disk (so it should not be read on an event loop
    /// unless ``isCached(at:end:)`` says otherwise).
    var mayReadFromDisk: Bool { get }
    /// The longest run of stored bytes that starts at body `offset` and ends before `end`.
    func slice(at offset: UInt64, end: UInt64) throws -> UnsafeRawBufferPointer
    /// Says the caller is done with `slice` (its bytes were copied): the reader may let go of
    /// the memory behind it.
    func release(_ slice: UnsafeRawBufferPointer)
    /// Whether reading this slice will not wait for the disk.
    func isCached(at offset: UInt64, end: UInt64) -> Bool
    /// Ends the snapshot. Slices are invalid afterwards.
    func close()
}

extension ObjectReader {
    /// Visits the bytes in `range` (offsets into the body) slice by slice, in order.
    public func forEachSlice(in range: Range<UInt64>, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let bytes = try slice(at: offset, end: range.upperBound)
            try body(bytes)
            offset += UInt64(bytes.count)
        }
    }

    /// The body range of part `number` (1-based) of a multipart object; the whole body is
    /// part 1 of an object written in one piece.
    public func partRange(_ number: Int) -> Range<UInt64>? {
        let parts = record.parts
        if parts.isEmpty { return number == 1 ? 0..<record.size : nil }
        guard number >= 1 && number <= parts.count else { return nil }
        let start = parts[..<(number - 1)].reduce(UInt64(0)) { $0 + $1.size }
        return start..<(start + parts[number - 1].size)
    }
}
