import ObjectStore

/// What an ``Endpoint`` needs before its handler may run, declared once per endpoint (see
/// ``Endpoint/authorization``) and checked once by ``S3Server/authorize(_:)``, so no handler
/// carries a permission check of its own.
enum Authorization: Equatable, Sendable {
    /// No check before the handler: a CORS preflight is unauthenticated, a browser form
    /// upload is authorized by its signed policy once its fields have arrived. The bucket is
    /// still resolved (nil when missing) so the handler need not look it up again.
    case none
    /// Any signed-in user; no bucket is resolved (ListBuckets, CreateBucket).
    case authenticatedUser
    /// Only the bucket's owner (configuration such as CORS, location, deletion).
    case bucketOwner
    /// A permission the bucket ACL grants.
    case bucket(Permission)
    /// A permission the object ACL grants. A missing key is AccessDenied for requesters who
    /// may not read (list) the bucket, NoSuchKey otherwise, as S3 answers.
    case object(Permission)
}
