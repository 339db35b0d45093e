import Digests

/// The opaque `continuation-token` of ListObjectsV2 and ListBuckets: the last name a page
/// returned, base64-encoded (clients must not read it; AWS's are opaque too).
enum ContinuationToken {
    /// The token that resumes a listing after `name`.
    static func make(after name: String) -> String {
        Base64.encode(Array(name.utf8))
    }

    /// The name a token resumes after.
    /// - Throws: InvalidArgument, naming `continuation-token` as AWS does, for a token Shoebox
    ///   did not issue, the empty one included (AWS refuses `continuation-token=` too).
    static func name(_ token: String) throws -> String {
        guard let bytes = Base64.decode(token), let decoded = String(validating: bytes, as: UTF8.self), !decoded.isEmpty else {
            throw S3Error(.invalidArgument, "The continuation token provided is incorrect", details: [("ArgumentName", "continuation-token")])
        }
        return decoded
    }
}
