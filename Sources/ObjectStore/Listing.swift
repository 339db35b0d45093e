/// What to list: S3 list semantics shared by ListObjects v1/v2 and ListObjectVersions.
public struct ListQuery: Sendable {
    public var prefix: String
    public var delimiter: String?
    /// Exclusive start: list keys after this one (StartAfter, Marker, or a continuation token).
    /// A common prefix at or before it is not returned again.
    public var after: String?
    public var maxKeys: Int

    public init(prefix: String = "", delimiter: String? = nil, after: String? = nil, maxKeys: Int = 1000) {
        self.prefix = prefix
        self.delimiter = delimiter?.isEmpty == true ? nil : delimiter
        self.after = after
        self.maxKeys = maxKeys
    }
}

/// One entry of a listing.
public enum ListItem: Sendable {
    case object(key: String, record: ObjectRecord)
    case commonPrefix(String)

    /// The key or prefix, as a marker for the next page.
    public var marker: String {
        switch self {
        case .object(let key, _): key
        case .commonPrefix(let prefix): prefix
        }
    }
}

/// One page of a listing.
public struct ListPage: Sendable {
    public var items: [ListItem]
    public var isTruncated: Bool
    /// Where the next page starts (exclusive), when truncated.
    public var nextAfter: String? { isTruncated ? items.last?.marker : nil }
}
