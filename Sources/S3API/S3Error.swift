import Digests
import Foundation
import ObjectStore
import SigV4

/// Every S3 error code Shoebox answers with: the one table of code strings and HTTP statuses.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
enum S3ErrorCode: String, CaseIterable, Sendable {
    case accessDenied = "AccessDenied"
    case accessForbidden = "AccessForbidden"
    case authorizationHeaderMalformed = "AuthorizationHeaderMalformed"
    case authorizationQueryParametersError = "AuthorizationQueryParametersError"
    case badDigest = "BadDigest"
    case badRequest = "BadRequest"
    case bucketAlreadyExists = "BucketAlreadyExists"
    case bucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
    case bucketNotEmpty = "BucketNotEmpty"
    case entityTooLarge = "EntityTooLarge"
    case entityTooSmall = "EntityTooSmall"
    case incompleteBody = "IncompleteBody"
    case insufficientStorage = "InsufficientStorage"
    case internalError = "InternalError"
    case illegalLocationConstraint = "IllegalLocationConstraintException"
    case invalidAccessKeyId = "InvalidAccessKeyId"
    case invalidArgument = "InvalidArgument"
    case invalidBucketName = "InvalidBucketName"
    case invalidDigest = "InvalidDigest"
    case invalidPart = "InvalidPart"
    case invalidPartNumber = "InvalidPartNumber"
    case invalidPolicyDocument = "InvalidPolicyDocument"
    case invalidPartOrder = "InvalidPartOrder"
    case invalidRange = "InvalidRange"
    case invalidRequest = "InvalidRequest"
    case invalidURI = "InvalidURI"
    case keyTooLong = "KeyTooLongError"
    case malformedACLError = "MalformedACLError"
    case malformedPOSTRequest = "MalformedPOSTRequest"
    case malformedXML = "MalformedXML"
    case methodNotAllowed = "MethodNotAllowed"
    case missingContentLength = "MissingContentLength"
    case noSuchBucket = "NoSuchBucket"
    case noSuchCORSConfiguration = "NoSuchCORSConfiguration"
    case noSuchKey = "NoSuchKey"
    case noSuchUpload = "NoSuchUpload"
    case noSuchVersion = "NoSuchVersion"
    case notImplemented = "NotImplemented"
    case notModified = "NotModified"
    case preconditionFailed = "PreconditionFailed"
    case requestTimeTooSkewed = "RequestTimeTooSkewed"
    case signatureDoesNotMatch = "SignatureDoesNotMatch"
    case slowDown = "SlowDown"
    case unexpectedContent = "UnexpectedContent"
    case unresolvableGrantByEmailAddress = "UnresolvableGrantByEmailAddress"
    case xAmzContentSHA256Mismatch = "XAmzContentSHA256Mismatch"

    /// The HTTP status for this code.
    var status: Int {
        switch self {
        case .notModified: 304
        case .authorizationHeaderMalformed, .authorizationQueryParametersError, .badDigest, .badRequest, .malformedACLError, .malformedPOSTRequest, .invalidPolicyDocument,
             .unresolvableGrantByEmailAddress, .unexpectedContent, .illegalLocationConstraint, .entityTooSmall, .invalidPart, .invalidPartNumber, .invalidPartOrder, .entityTooLarge, .incompleteBody, .invalidArgument,
             .invalidBucketName, .invalidDigest, .invalidRequest, .invalidURI, .keyTooLong, .malformedXML,
             .xAmzContentSHA256Mismatch:
            400
        case .accessDenied, .accessForbidden, .invalidAccessKeyId, .requestTimeTooSkewed, .signatureDoesNotMatch: 403
        case .noSuchBucket, .noSuchCORSConfiguration, .noSuchKey, .noSuchVersion, .noSuchUpload: 404
        case .methodNotAllowed: 405
        case .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty: 409
        case .missingContentLength: 411
        case .preconditionFailed: 412
        case .invalidRange: 416
        case .internalError: 500
        case .notImplemented: 501
        case .slowDown: 503
        case .insufficientStorage: 507
        }
    }

    /// The message AWS gives for this code when there is nothing more specific to say.
    var defaultMessage: String {
        switch self {
        case .accessDenied: "Access Denied"
        case .accessForbidden: "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
        case .authorizationHeaderMalformed: "The authorization header is malformed."
        case .authorizationQueryParametersError: "Error parsing the query-string authentication parameters."
        case .badDigest: "The Content-MD5 you specified did not match what we received."
        case .badRequest: "Bad Request"
        case .bucketAlreadyExists: "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again."
        case .bucketAlreadyOwnedByYou: "Your previous request to create the named bucket succeeded and you already own it."
        case .bucketNotEmpty: "The bucket you tried to delete is not empty"
        case .entityTooLarge: "Your proposed upload exceeds the maximum allowed size"
        case .entityTooSmall: "Your proposed upload is smaller than the minimum allowed object size."
        case .invalidPart: "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."
        case .invalidPartNumber: "The requested partnumber is not satisfiable"
        case .invalidPolicyDocument: "The content of the form does not meet the conditions specified in the policy document."
        case .invalidPartOrder: "The list of parts was not in ascending order. Parts must be ordered by part number."
        case .noSuchUpload: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        case .incompleteBody: "You did not provide the number of bytes specified by the Content-Length HTTP header."
        case .insufficientStorage: "The storage is full: the configured map size or the disk has no room for this request."
        case .internalError: "We encountered an internal error. Please try again."
        case .illegalLocationConstraint: "The specified location-constraint is not valid for this server's region."
        case .invalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records."
        case .invalidArgument: "Invalid Argument"
        case .invalidBucketName: "The specified bucket is not valid."
        case .invalidDigest: "The Content-MD5 you specified is not valid."
        case .invalidRange: "The requested range is not satisfiable"
        case .invalidRequest: "Invalid Request"
        case .invalidURI: "Couldn't parse the specified URI."
        case .keyTooLong: "Your key is too long"
        case .malformedACLError: "The XML you provided was not well-formed or did not validate against our published schema."
        case .malformedPOSTRequest: "The body of your POST request is not well-formed multipart/form-data."
        case .malformedXML: "The XML you provided was not well-formed or did not validate against our published schema."
        case .methodNotAllowed: "The specified method is not allowed against this resource."
        case .missingContentLength: "You must provide the Content-Length HTTP header."
        case .noSuchBucket: "The specified bucket does not exist"
        case .noSuchCORSConfiguration: "The CORS configuration does not exist"
        case .noSuchKey: "The specified key does not exist."
        case .noSuchVersion: "The specified version does not exist."
        case .notImplemented: "A header you provided implies functionality that is not implemented"
        case .notModified: "Not Modified"
        case .preconditionFailed: "At least one of the pre-conditions you specified did not hold"
        case .requestTimeTooSkewed: "The difference between the request time and the current time is too large."
        case .signatureDoesNotMatch: "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        case .slowDown: "Please reduce your request rate."
        case .unexpectedContent: "This request does not support content"
        case .unresolvableGrantByEmailAddress: "The e-mail address you provided does not match any account on record."
        case .xAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed."
        }
    }
}

/// An S3 error response: code, message and extra elements for the XML body.
struct S3Error: Error, Sendable {
    var code: S3ErrorCode
    var message: String
    /// Extra `<Name>value</Name>` elements (e.g. `BucketName`, `Key`, `StringToSign`).
    var details: [(String, String)]
    /// Response headers that go with the error (e.g. ETag on 304, Content-Range on 416).
    var headers: [(String, String)]

    init(_ code: S3ErrorCode, _ message: String? = nil, details: [(String, String)] = [], headers: [(String, String)] = []) {
        self.code = code
        self.message = message ?? code.defaultMessage
        self.details = details
        self.headers = headers
    }

    static func notImplemented(_ what: String) -> S3Error {
        S3Error(.notImplemented, "\(what) is not implemented by Shoebox.")
    }

    /// Maps any error to an S3 error; what is not known becomes InternalError, whose message
    /// carries no internals.
    static func from(_ error: any Error) -> S3Error {
        switch error {
        case let error as S3Error: return error
        case let error as ObjectStoreError: return from(store: error)
        case let error as SigV4Error: return from(signature: error)
        case let error as AWSChunkedError: return from(chunked: error)
        default: return S3Error(.internalError)
        }
    }

    static func from(store error: ObjectStoreError) -> S3Error {
        switch error {
        case .noSuchBucket: S3Error(.noSuchBucket)
        case .bucketAlreadyExists: S3Error(.bucketAlreadyExists)
        case .bucketAlreadyOwnedByYou: S3Error(.bucketAlreadyOwnedByYou)
        case .bucketNotEmpty: S3Error(.bucketNotEmpty)
        case .invalidBucketName: S3Error(.invalidBucketName)
        case .noSuchKey: S3Error(.noSuchKey)
        case .noSuchUpload: S3Error(.noSuchUpload)
        case .invalidPart: S3Error(.invalidPart)
        case .invalidPartOrder: S3Error(.invalidPartOrder)
        case .entityTooSmall: S3Error(.entityTooSmall)
        case .preconditionFailed: S3Error(.preconditionFailed)
        case .keyTooLong(let maxBytes): S3Error(.keyTooLong, "Your key is too long: Shoebox indexes keys of up to \(maxBytes) bytes.")
        case .invalidKey: S3Error(.invalidArgument, "Object key is empty or contains characters S3 does not accept.")
        case .storageFull: S3Error(.insufficientStorage)
        case .slowDown(let target):
            S3Error(.slowDown, "Please reduce your request rate: the notification queue of target '\(target)' is full, and Shoebox refuses changes rather than lose their events.")
        case .corruptRecord, .storage: S3Error(.internalError)
        }
    }

    static func from(chunked error: AWSChunkedError) -> S3Error {
        switch error {
        case .signatureMismatch: S3Error(.signatureDoesNotMatch, "The chunk signature we calculated does not match the signature you provided.")
        case .truncated: S3Error(.incompleteBody, "The aws-chunked body ended before its final chunk.")
        case .decodedLengthMismatch: S3Error(.incompleteBody, "The aws-chunked body does not hold x-amz-decoded-content-length bytes.")
        case .chunkTooLarge: S3Error(.invalidRequest, "An aws-chunked chunk is larger than allowed.")
        case .malformed(let why): S3Error(.invalidRequest, "The aws-chunked body is malformed: \(why)")
        }
    }

    static func from(signature error: SigV4Error) -> S3Error {
        switch error {
        case .malformedAuthorization(let why): S3Error(.authorizationHeaderMalformed, "The authorization header is malformed; \(why)")
        case .unsupportedAlgorithm: S3Error(.invalidArgument, "Unsupported Authorization Type")
        case .missingDate: S3Error(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header")
        case .malformedDate: S3Error(.accessDenied, "AWS authentication requires a valid Date or x-amz-date header")
        case .requestTimeTooSkewed: S3Error(.requestTimeTooSkewed)
        case .missingSignedHeader(let name): S3Error(.accessDenied, "There were headers present in the request which were not signed or a signed header is missing: \(name)")
        case .expired(let expires, let xAmzExpires):
            // As S3 words it: the validity (SigV4), the expiry and the server's clock.
            S3Error(.accessDenied, "Request has expired",
                    details: (xAmzExpires.map { [("X-Amz-Expires", String($0))] } ?? [])
                        + [("Expires", ISO8601Date.formatSeconds(expires)), ("ServerTime", ISO8601Date.formatSeconds(Date()))])
        case .malformedQueryAuthorization(let why): S3Error(.authorizationQueryParametersError, why)
        case .queryAccessDenied(let why): S3Error(.accessDenied, why)
        case .signatureDoesNotMatch(let canonicalRequest, let stringToSign):
            S3Error(.signatureDoesNotMatch, details: [("StringToSign", stringToSign), ("CanonicalRequest", canonicalRequest)])
        }
    }
}
