// Client side of browser POST uploads: the policy and signature fields the index service
// hands to browsers.

public import Foundation
import Digests

extension SigV4Signer {
    /// Makes the fields of a SigV4 browser POST upload: `policy` and its signature fields,
    /// plus `fields` (which the policy pins with `eq`), limited to keys starting with
    /// `keyPrefix`, a content type starting with `contentTypePrefix`, and `maxSize` bytes;
    /// the policy expires `expires` seconds after `now`.
    public func postFields(bucket: String, key: String, keyPrefix: String, contentTypePrefix: String, maxSize: UInt64,
                           fields: [(name: String, value: String)], expires: Int, now: Date = Date()) -> [(name: String, value: String)] {
        let amzDate = AMZDate.format(now)
        let date = String(amzDate.prefix(8))
        let credential = "\(accessKey)/\(date)/\(region)/\(service)/aws4_request"
        let signatureFields = [("x-amz-algorithm", SigV4.algorithm), ("x-amz-credential", credential), ("x-amz-date", amzDate)]
        var conditions: [Any] = [["bucket": bucket], ["starts-with", "$key", keyPrefix], ["starts-with", "$Content-Type", contentTypePrefix],
                                 ["content-length-range", 1, maxSize]]
        for (name, value) in fields where name.lowercased() != "content-type" { conditions.append(["eq", "$\(name)", value]) }
        for (name, value) in signatureFields { conditions.append([name: value]) }
        let document: [String: Any] = ["expiration": ISO8601Date.format(now.addingTimeInterval(TimeInterval(expires))), "conditions": conditions]
        let json = (try? JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])) ?? Data()
        let policy = Base64.encode(Array(json))
        // SigV4 POST-policy signature: hex(HMAC-SHA256(signingKey, base64 policy)).
        let signature = Hex.encode(HMAC.sha256(key: signingKey(date: date), message: policy))
        return [(name: "key", value: key)] + fields + signatureFields.map { (name: $0.0, value: $0.1) }
            + [(name: "policy", value: policy), (name: "x-amz-signature", value: signature)]
    }
}
