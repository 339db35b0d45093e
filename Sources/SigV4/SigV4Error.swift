public import Foundation

/// Why a request's SigV4 authentication failed; S3API maps each case to an S3 error.
public enum SigV4Error: Error, Equatable, Sendable {
    /// -> 400 AuthorizationHeaderMalformed. The string says what is wrong.
    case malformedAuthorization(String)
    /// Not `AWS4-HMAC-SHA256` (e.g. SigV2 `AWS ak:sig`, or SigV4a) -> 400.
    case unsupportedAlgorithm
    /// Neither `x-amz-date` nor `Date` present -> 403 AccessDenied.
    case missingDate
    /// `x-amz-date` (or `Date`) present but unparseable -> 403 AccessDenied.
    case malformedDate
    /// Request time more than `maxSkew` away from now -> 403 RequestTimeTooSkewed.
    case requestTimeTooSkewed
    /// A header listed in SignedHeaders is absent from the request, or `host` /
    /// the date header is not listed in SignedHeaders. Carries the lowercase header name.
    case missingSignedHeader(String)
    /// -> 403 SignatureDoesNotMatch (S3 echoes both strings in its error body).
    case signatureDoesNotMatch(canonicalRequest: String, stringToSign: String)
    /// A presigned URL past its expiry -> 403 AccessDenied "Request has expired". Carries
    /// when it expired and, for SigV4, its `X-Amz-Expires`, which S3 names in the error.
    case expired(expires: Date, xAmzExpires: Int?)
    /// A presigned URL's query authentication is incomplete or malformed -> 400
    /// AuthorizationQueryParametersError. The string is S3's message.
    case malformedQueryAuthorization(String)
    /// A presigned URL whose validity is unusable: a SigV2 one without a usable `Expires` (or
    /// `Signature`), a SigV4 one whose `X-Amz-Expires` is negative or over a week -> 403
    /// AccessDenied. The string says why.
    case queryAccessDenied(String)
}
