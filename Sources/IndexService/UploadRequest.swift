/// The body of `POST /api/uploads`: `{"gallery", "filename", "contentType", "metadata"?}`.
///
/// Decoding only fails when the body is not a JSON object (`MalformedJSON`); a field that is
/// missing or of the wrong type decodes as nil / ``Metadata/invalid`` so that the handler can
/// answer with that field's own error code, checked in the API's order.
struct UploadRequest: Decodable {
    /// nil when missing or not a string.
    var gallery: String?
    /// nil when missing or not a string.
    var filename: String?
    /// nil when missing or not a string.
    var contentType: String?
    /// The `x-amz-meta-*` values asked for.
    var metadata: Metadata

    /// `metadata` is optional, but when present it must be an object of strings.
    enum Metadata {
        case absent
        case invalid
        case fields([String: String])
    }

    private enum CodingKeys: String, CodingKey {
        case gallery, filename, contentType, metadata
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        gallery = try? container.decode(String.self, forKey: .gallery)
        filename = try? container.decode(String.self, forKey: .filename)
        contentType = try? container.decode(String.self, forKey: .contentType)
        if !container.contains(.metadata) {
            metadata = .absent
        } else if let fields = try? container.decode([String: String].self, forKey: .metadata) {
            metadata = .fields(fields)
        } else {
            metadata = .invalid  // null, a list, a string, or a non-string value
        }
    }
}
