import Digests
public import Foundation

/// Query-string authentication (presigned URLs) and POST-policy signatures.
///
/// SigV4: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html
/// SigV2: https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html#RESTAuthenticationQueryStringAuth
/// (boto3 and `aws s3 presign` still produce SigV2 URLs in us-east-1 by default.)
public enum Presigned {
    /// Longest validity of a SigV4 presigned URL: seven days.
    public static let maxExpires = 604_800

    /// The access key a presigned request claims, and which scheme it uses; nil when the
    /// query carries no presigned authentication.
    public static func accessKey(inQuery query: [(name: String, value: String)]) -> (accessKey: String, isV4: Bool)? {
        if let credential = query.first(where: { $0.name == "X-Amz-Credential" })?.value {
            return (String(credential.prefix { $0 != "/" }), true)
        }
        if let key = query.first(where: { $0.name == "AWSAccessKeyId" })?.value { return (key, false) }
        return nil
    }

    /// Verifies a SigV4 presigned request. `query` holds the decoded parameters.
    /// - Returns: the parsed authorization (its region and service are for the caller to check).
    public static func verifyV4(_ request: SigV4Request, query: [(name: String, value: String)], secretKey: String,
                                now: Date) throws(SigV4Error) -> SigV4Authorization {
        func value(_ name: String) throws(SigV4Error) -> String {
            guard let v = query.first(where: { $0.name == name })?.value else {
                throw .malformedQueryAuthorization("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
            }
            return v
        }
        guard try value("X-Amz-Algorithm") == SigV4.algorithm else { throw .unsupportedAlgorithm }
        let credential = try value("X-Amz-Credential").split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard credential.count == 5, credential[4] == "aws4_request" else {
            throw .malformedQueryAuthorization("Error parsing the X-Amz-Credential parameter")
        }
        let amzDate = try value("X-Amz-Date")
        guard let time = AMZDate.parse(amzDate) else { throw .malformedDate }
        let expires = try checkedExpires(value("X-Amz-Expires"))
        let signedHeaders = try value("X-Amz-SignedHeaders").split(separator: ";").map { String($0).lowercased() }
        let signature = try value("X-Amz-Signature")
        guard signedHeaders.contains("host") else { throw .missingSignedHeader("host") }
        guard amzDate.hasPrefix(credential[1]) else {
            throw .malformedQueryAuthorization("credential date \(credential[1]) does not match X-Amz-Date \(amzDate)")
        }
        // A URL signed in the future (beyond clock skew) is not yet valid.
        guard time.timeIntervalSince(now) <= 900 else { throw .requestTimeTooSkewed }
        guard now.timeIntervalSince(time) <= TimeInterval(expires) else {
            throw .expired(expires: time.addingTimeInterval(TimeInterval(expires)), xAmzExpires: expires)
        }
        for name in signedHeaders where request.firstHeader(name) == nil { throw .missingSignedHeader(name) }

        let authorization = SigV4Authorization(accessKey: credential[0], date: credential[1], region: credential[2],
                                               service: credential[3], signedHeaders: signedHeaders, signature: signature)
        let payloadHash = query.first(where: { $0.name == "X-Amz-Content-Sha256" })?.value ?? "UNSIGNED-PAYLOAD"
        let canonical = SigV4.canonicalRequestBytes(request, signedHeaders: SigV4.sortedLowercase(signedHeaders),
                                                    payloadHash: payloadHash, queryExcluding: "X-Amz-Signature")
        let toSign = SigV4.stringToSignBytes(amzDate: amzDate, scope: authorization.scope, canonicalRequest: canonical)
        let key = SigV4.signingKey(secretKey: secretKey, date: credential[1], region: credential[2], service: credential[3])
        guard let provided = Hex.decode(signature), constantTimeEqual(HMAC.sha256(key: key, message: toSign), provided) else {
            throw .signatureDoesNotMatch(canonicalRequest: String(decoding: canonical, as: UTF8.self),
                                         stringToSign: String(decoding: toSign, as: UTF8.self))
        }
        return authorization
    }

    /// `X-Amz-Expires` checked with S3's messages: not a number is a malformed query; negative or
    /// over a week is refused as access denied, as an expired URL is (issue 17). 0 is in range
    /// and has expired by the time it is checked ("Request has expired").
    static func checkedExpires(_ text: String) throws(SigV4Error) -> Int {
        guard let expires = Int(text) else { throw .malformedQueryAuthorization("X-Amz-Expires should be a number") }
        guard expires >= 0 else { throw .queryAccessDenied("X-Amz-Expires must be non-negative") }
        guard expires <= maxExpires else {
            throw .queryAccessDenied(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than \(maxExpires) seconds")
        }
        return expires
    }

    /// Sub-resources that belong to the SigV2 canonical resource (and response overrides).
    static let v2Subresources: Set<String> = [
        "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber", "policy",
        "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires", "tagging", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website", "restore", "select", "select-type",
    ]

    /// The SigV2 string to sign:
    /// `VERB\nContent-MD5\nContent-Type\nExpires\nCanonicalizedAmzHeaders CanonicalizedResource`.
    /// - Parameters:
    ///   - rawPath: the path as sent (still percent-encoded), which is what clients sign.
    ///   - query: decoded query parameters; only sub-resources are included.
    public static func v2StringToSign(method: String, contentMD5: String, contentType: String, expires: String,
                                      amzHeaders: [(name: String, value: String)], rawPath: String,
                                      query: [(name: String, value: String)]) -> String {
        var grouped: [String: [String]] = [:]
        for (name, value) in amzHeaders {
            let lower = name.lowercased()
            guard lower.hasPrefix("x-amz-") else { continue }
            grouped[lower, default: []].append(value.trimmingCharacters(in: .whitespaces))
        }
        var out = "\(method)\n\(contentMD5)\n\(contentType)\n\(expires)\n"
        for name in grouped.keys.sorted() { out += "\(name):\(grouped[name]!.joined(separator: ","))\n" }
        out += rawPath
        let subresources = query.filter { v2Subresources.contains($0.name) }.sorted { $0.name < $1.name }
        if !subresources.isEmpty {
            out += "?" + subresources.map { $0.value.isEmpty && !$0.name.hasPrefix("response-") ? $0.name : "\($0.name)=\($0.value)" }
                .joined(separator: "&")
        }
        return out
    }

    /// `base64(HMAC-SHA1(secret, stringToSign))`, the SigV2 signature.
    public static func v2Signature(secretKey: String, stringToSign: String) -> String {
        Base64.encode(HMAC.sha1(key: Array(secretKey.utf8), message: Array(stringToSign.utf8)))
    }

    /// Verifies a SigV2 presigned request (`AWSAccessKeyId`, `Expires`, `Signature`).
    public static func verifyV2(method: String, rawPath: String, query: [(name: String, value: String)],
                                headers: [(name: String, value: String)], secretKey: String, now: Date) throws(SigV4Error) {
        // S3 answers both with 403 AccessDenied, not as a malformed query.
        guard let expires = query.first(where: { $0.name == "Expires" })?.value,
              let signature = query.first(where: { $0.name == "Signature" })?.value else {
            throw .queryAccessDenied("Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
        }
        guard let expiry = Int(expires) else { throw .queryAccessDenied("Invalid date (should be seconds since epoch): \(expires)") }
        guard now.timeIntervalSince1970 <= TimeInterval(expiry) else {
            throw .expired(expires: Date(timeIntervalSince1970: TimeInterval(expiry)), xAmzExpires: nil)
        }
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        // Clients that sign a content type put it in the query too (botocore); the header wins.
        let contentType = header("content-type") ?? query.first(where: { $0.name == "content-type" })?.value ?? ""
        let contentMD5 = header("content-md5") ?? query.first(where: { $0.name == "content-md5" })?.value ?? ""
        let amz = headers.filter { $0.name.lowercased().hasPrefix("x-amz-") }
            + query.filter { $0.name.lowercased().hasPrefix("x-amz-") }
        // A bucket-only resource is signed with a trailing '/' (botocore: "must be terminated with
        // a '/' character to generate a signature that the server will accept").
        let resource = rawPath.count > 1 && !rawPath.dropFirst().contains("/") ? rawPath + "/" : rawPath
        let toSign = v2StringToSign(method: method, contentMD5: contentMD5, contentType: contentType, expires: expires,
                                    amzHeaders: amz, rawPath: resource, query: query)
        let expected = v2Signature(secretKey: secretKey, stringToSign: toSign)
        guard constantTimeEqual(Array(expected.utf8), Array(signature.utf8)) else {
            throw .signatureDoesNotMatch(canonicalRequest: "", stringToSign: toSign)
        }
    }

    /// SigV4 POST-policy signature: hex(HMAC-SHA256(signingKey, base64 policy)).
    public static func postPolicyV4Signature(policy: String, secretKey: String, date: String, region: String) -> String {
        Hex.encode(HMAC.sha256(key: SigV4.signingKey(secretKey: secretKey, date: date, region: region, service: "s3"), message: policy))
    }
}
