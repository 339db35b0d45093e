/// Where a write's options are read from, names lower-case in both: the request's headers
/// (PutObject, CopyObject, CreateMultipartUpload, ACL and bucket writes), or the fields of a
/// browser form (POST), which carry the same names, except `acl` for `x-amz-acl`.
enum WriteOptionSource {
    case headers(S3Request)
    case form([String: String])

    /// The value of `name` (the first, for a repeated header).
    func value(_ name: String) -> String? {
        switch self {
        case .headers(let request): request.header(name)
        case .form(let fields): fields[name]
        }
    }

    /// Every field whose name starts with `prefix`, the prefix removed; a repeated header
    /// comes once per value, in arrival order.
    func fields(prefixed prefix: String) -> [(name: String, value: String)] {
        switch self {
        case .headers(let request):
            request.head.headerFields.compactMap { field in
                let name = field.name.canonicalName
                return name.hasPrefix(prefix) ? (String(name.dropFirst(prefix.count)), field.value) : nil
            }
        case .form(let fields):
            fields.compactMap { name, value in name.hasPrefix(prefix) ? (String(name.dropFirst(prefix.count)), value) : nil }
        }
    }

    /// The field naming a canned ACL.
    var cannedACLName: String {
        switch self {
        case .headers: "x-amz-acl"
        case .form: "acl"
        }
    }

    /// Whether `x-amz-grant-*` fields are read: a form sets only a canned `acl`, as S3's POST does.
    var carriesGrants: Bool {
        switch self {
        case .headers: true
        case .form: false
        }
    }
}
