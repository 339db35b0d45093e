import Foundation
import HTTPTypes
import ObjectStore

/// Per-bucket CORS: Put/Get/DeleteBucketCors, preflight `OPTIONS`, and CORS headers on
/// every response to a request with an `Origin`.
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
extension S3Server {
    static let corsMethods: Set<String> = ["GET", "PUT", "POST", "DELETE", "HEAD"]

    func putBucketCORS(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        let body = try await readSmallBody(request, limit: 64 << 10)
        var verifier = try PayloadVerifier(request)
        body.withUnsafeReadableBytes { verifier.update($0) }
        _ = try verifier.verify(md5: Digest.md5(Array(body.readableBytesView)))
        let rules = try Self.parseCORS(Data(body.readableBytesView))
        try await store.updateBucket(name: bucket.name) { $0.cors = rules }
        return S3Response()
    }

    /// Parses and validates a CORSConfiguration document.
    static func parseCORS(_ data: Data) throws -> [CORSRule] {
        guard let root = XMLElement.parse(data), root.name == "CORSConfiguration" else { throw S3Error(.malformedXML) }
        let elements = root.children("CORSRule")
        guard !elements.isEmpty, elements.count <= 100 else { throw S3Error(.malformedXML) }
        return try elements.map { element in
            func values(_ name: String) -> [String] {
                element.children(name).map { $0.text.trimmingCharacters(in: .whitespacesAndNewlines) }
            }
            let rule = CORSRule(
                id: element.child("ID")?.text, allowedOrigins: values("AllowedOrigin"), allowedMethods: values("AllowedMethod"),
                allowedHeaders: values("AllowedHeader"), exposeHeaders: values("ExposeHeader"),
                maxAgeSeconds: try element.child("MaxAgeSeconds").map { text in
                    guard let n = Int(text.text.trimmingCharacters(in: .whitespacesAndNewlines)), n >= 0 else { throw S3Error(.malformedXML) }
                    return n
                })
            guard !rule.allowedOrigins.isEmpty, !rule.allowedMethods.isEmpty else { throw S3Error(.malformedXML) }
            for method in rule.allowedMethods where !corsMethods.contains(method) {
                throw S3Error(.invalidRequest, "Found unsupported HTTP method in CORS config. Unsupported method is \(method)")
            }
            for origin in rule.allowedOrigins where origin.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.invalidRequest, "AllowedOrigin \"\(origin)\" can not have more than one wildcard.")
            }
            for header in rule.allowedHeaders where header.filter({ $0 == "*" }).count > 1 {
                throw S3Error(.invalidRequest, "AllowedHeader \"\(header)\" can not have more than one wildcard.")
            }
            return rule
        }
    }

    func getBucketCORS(_ request: S3Request, bucket: BucketRecord) throws -> S3Response {
        guard let rules = bucket.cors else { throw S3Error(.noSuchCORSConfiguration, details: [("BucketName", bucket.name)]) }
        var doc = XMLWriter()
        doc.element("CORSConfiguration", namespace: true) { x in
            for rule in rules {
                x.element("CORSRule") { x in
                    x.leaf("ID", rule.id)
                    for v in rule.allowedHeaders { x.leaf("AllowedHeader", v) }
                    for v in rule.allowedMethods { x.leaf("AllowedMethod", v) }
                    for v in rule.allowedOrigins { x.leaf("AllowedOrigin", v) }
                    for v in rule.exposeHeaders { x.leaf("ExposeHeader", v) }
                    if let age = rule.maxAgeSeconds { x.leaf("MaxAgeSeconds", String(age)) }
                }
            }
        }
        return .xml(doc)
    }

    func deleteBucketCORS(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        try await store.updateBucket(name: bucket.name) { $0.cors = nil }
        return S3Response(status: .noContent)
    }

    /// `*` matches any run of characters (S3 allows one wildcard); comparison ignores case
    /// for headers, not for origins.
    static func wildcardMatch(_ pattern: String, _ value: String, caseInsensitive: Bool) -> Bool {
        let p = caseInsensitive ? pattern.lowercased() : pattern
        let v = caseInsensitive ? value.lowercased() : value
        guard let star = p.firstIndex(of: "*") else { return p == v }
        let prefix = p[..<star]
        let suffix = p[p.index(after: star)...]
        return v.count >= prefix.count + suffix.count && v.hasPrefix(prefix) && v.hasSuffix(suffix)
    }

    /// The first rule allowing `origin` and `method` (and every header in `headers`).
    static func matchingRule(_ rules: [CORSRule], origin: String, method: String, headers: [String]) -> CORSRule? {
        rules.first { rule in
            rule.allowedOrigins.contains { wildcardMatch($0, origin, caseInsensitive: false) }
                && rule.allowedMethods.contains(method)
                && headers.allSatisfy { header in rule.allowedHeaders.contains { wildcardMatch($0, header, caseInsensitive: true) } }
        }
    }

    /// Answers a preflight request from the bucket's rules, without authentication (a
    /// presigned query string on it is ignored, as browsers copy the URL).
    /// - Parameter bucket: the addressed bucket, nil when it does not exist.
    func preflight(_ request: S3Request, bucket: BucketRecord?) throws -> S3Response {
        guard let origin = request.header("origin") else {
            throw S3Error(.badRequest, "Insufficient information. Origin request header needed.")
        }
        guard let method = request.header("access-control-request-method") else {
            throw S3Error(.badRequest, "Invalid Access-Control-Request-Method: null")
        }
        guard let bucket else {
            throw S3Error(.accessForbidden, "CORSResponse: Bucket not found")
        }
        let requested = (request.header("access-control-request-headers") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let rules = bucket.cors, let rule = Self.matchingRule(rules, origin: origin, method: method, headers: requested) else {
            throw S3Error(.accessForbidden)
        }
        var headers = HTTPFields()
        let wildcard = rule.allowedOrigins.contains("*")
        headers[.accessControlAllowOrigin] = wildcard ? "*" : origin
        headers[.accessControlAllowMethods] = rule.allowedMethods.joined(separator: ", ")
        if !requested.isEmpty { headers[.accessControlAllowHeaders] = requested.joined(separator: ", ") }
        if !rule.exposeHeaders.isEmpty { headers[.accessControlExposeHeaders] = rule.exposeHeaders.joined(separator: ", ") }
        if let age = rule.maxAgeSeconds { headers[.accessControlMaxAge] = String(age) }
        if !wildcard { headers[.accessControlAllowCredentials] = "true" }
        headers[.vary] = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
        return S3Response(headers: headers)
    }

    /// Adds CORS headers to the response of an actual (non-preflight) request whose Origin a
    /// rule of the bucket allows, errors included, so the page can read the outcome.
    func addCORSHeaders(_ response: inout S3Response, request: S3Request) {
        guard let origin = request.header("origin"), let name = request.endpoint.bucket,
              let bucket = try? store.bucket(named: name), let rules = bucket.cors,
              let rule = Self.matchingRule(rules, origin: origin, method: request.method, headers: []) else { return }
        let wildcard = rule.allowedOrigins.contains("*")
        response.headers[.accessControlAllowOrigin] = wildcard ? "*" : origin
        response.headers[.accessControlAllowMethods] = rule.allowedMethods.joined(separator: ", ")
        if !rule.exposeHeaders.isEmpty { response.headers[.accessControlExposeHeaders] = rule.exposeHeaders.joined(separator: ", ") }
        if let age = rule.maxAgeSeconds { response.headers[.accessControlMaxAge] = String(age) }
        if !wildcard { response.headers[.accessControlAllowCredentials] = "true" }
        response.headers[.vary] = "Origin"
    }
}
import Digests
