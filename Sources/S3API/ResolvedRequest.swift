import ObjectStore

/// What ``S3Server/authorize(_:)`` resolved for a request, according to its endpoint's
/// ``Authorization``: handed to the handler so it never looks up or checks the same thing again.
struct ResolvedRequest {
    /// The signed-in user, for `.authenticatedUser`.
    let user: S3User?
    /// The addressed bucket: for every declaration naming one, and for `.none` when it exists.
    let existingBucket: BucketRecord?
    /// The opened object, for `.object`. The handler owns it: it closes it, or hands it to
    /// the response body, which does.
    let object: (any ObjectReader)?

    /// What was resolved; the rest stays nil.
    init(user: S3User? = nil, bucket: BucketRecord? = nil, object: (any ObjectReader)? = nil) {
        self.user = user
        self.existingBucket = bucket
        self.object = object
    }

    /// The bucket of an endpoint authorized against one (`.bucketOwner`, `.bucket`, `.object`).
    var bucket: BucketRecord {
        guard let existingBucket else { preconditionFailure("the endpoint's authorization resolves no bucket") }
        return existingBucket
    }

    /// The user of an `.authenticatedUser` endpoint.
    var signedInUser: S3User {
        guard let user else { preconditionFailure("the endpoint's authorization resolves no user") }
        return user
    }

    /// The object of an `.object` endpoint.
    var reader: any ObjectReader {
        guard let object else { preconditionFailure("the endpoint's authorization opens no object") }
        return object
    }
}
