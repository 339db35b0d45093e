import HTTPTypes

/// Where a write's options are read from, names lower-case in both: the request's headers
/// (PutObject, CopyObject, CreateMultipartUpload, ACL and bucket writes), or the fields of a
/// browser form (POST), which carry the same names, except `acl` for `x-amz-acl`.
enum WriteOptionSource {
    /// The header fields of a request (only the fields: the enum is built on every write, and
    /// holding the whole `S3Request` made each build copy and release all of its fields).
    case requestHeaders(HTTPFields)
    /// The fields of a browser form that precede its file, by lower-cased name.
    case form([String: String])

    /// The options of `request`, from its headers.
    static func headers(_ request: S3Request) -> WriteOptionSource { .requestHeaders(request.head.headerFields) }

    /// The value of `name` (the first, for a repeated header).
    func value(_ name: String) -> String? {
        switch self {
        case .requestHeaders(let fields): S3Request.header(name, in: fields)
        case .form(let fields): fields[name]
        }
    }

    /// Calls `body` with every field whose name starts with `prefix`, the prefix removed; a
    /// repeated header comes once per value, in arrival order. (No list is built: this runs
    /// on every write.)
    func forEachField(prefixed prefix: String, _ body: (_ name: String, _ value: String) -> Void) {
        switch self {
        case .requestHeaders(let fields):
            for field in fields {
                let name = field.name.canonicalName
                if name.hasPrefix(prefix) { body(String(name.dropFirst(prefix.count)), field.value) }
            }
        case .form(let fields):
            for (name, value) in fields where name.hasPrefix(prefix) { body(String(name.dropFirst(prefix.count)), value) }
        }
    }

    /// The field naming a canned ACL.
    var cannedACLName: String {
        switch self {
        case .requestHeaders: "x-amz-acl"
        case .form: "acl"
        }
    }

    /// Whether `x-amz-grant-*` fields are read: a form sets only a canned `acl`, as S3's POST does.
    var carriesGrants: Bool {
        switch self {
        case .requestHeaders: true
        case .form: false
        }
    }
}
