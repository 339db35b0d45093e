import Digests
public import Foundation

/// Why a browser POST upload's policy refuses a form.
public enum PostPolicyError: Error, Equatable, Sendable {
    /// The policy is not valid base64 JSON of the documented shape -> 400.
    case malformed(String)
    /// Past its `expiration` -> 403.
    case expired
    /// A condition does not hold -> 403 ("Invalid according to Policy: Policy Condition failed").
    case conditionFailed(String)
    /// A form field that no condition covers -> 403 ("Extra input fields").
    case extraField(String)
}

/// A POST policy: what a browser form may upload.
/// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
public struct PostPolicy: Sendable, Equatable {
    public enum Condition: Sendable, Equatable {
        /// The field (lowercased, without `$`) must equal the value exactly.
        case equals(field: String, value: String)
        /// The field must start with the prefix (`""` allows anything).
        case startsWith(field: String, prefix: String)
        /// The file size must be within the range (inclusive).
        case contentLengthRange(min: UInt64, max: UInt64)
    }

    public var expiration: Date
    public var conditions: [Condition]

    /// Fields that never need a condition.
    static func isExempt(_ field: String) -> Bool {
        ["policy", "x-amz-signature", "signature", "file", "awsaccesskeyid"].contains(field) || field.hasPrefix("x-ignore-")
    }

    /// Parses the base64 policy document from the `policy` form field.
    public static func parse(base64 policy: String) throws(PostPolicyError) -> PostPolicy {
        guard let bytes = Base64.decode(policy),
              let json = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw .malformed("Invalid Policy: Invalid JSON.")
        }
        guard let expirationText = json["expiration"] as? String, let expiration = ISO8601Date.parse(expirationText) else {
            throw .malformed("Invalid Policy: Invalid 'expiration' value.")
        }
        guard let list = json["conditions"] as? [Any] else { throw .malformed("Invalid Policy: Missing 'conditions'.") }
        var conditions: [Condition] = []
        for item in list {
            if let object = item as? [String: Any] {
                guard object.count == 1, let (name, value) = object.first, let string = value as? String else {
                    throw .malformed("Invalid Policy: Invalid Simple-Condition.")
                }
                conditions.append(.equals(field: name.lowercased(), value: string))
            } else if let array = item as? [Any], let op = (array.first as? String)?.lowercased() {
                switch op {
                case "eq", "starts-with":
                    guard array.count == 3, var field = array[1] as? String, let value = array[2] as? String, field.hasPrefix("$") else {
                        throw .malformed("Invalid Policy: Invalid \(op) condition.")
                    }
                    field = String(field.dropFirst()).lowercased()
                    conditions.append(op == "eq" ? .equals(field: field, value: value) : .startsWith(field: field, prefix: value))
                case "content-length-range":
                    guard array.count == 3, let min = integer(array[1]), let max = integer(array[2]), min <= max else {
                        throw .malformed("Invalid Policy: Invalid content-length-range condition.")
                    }
                    conditions.append(.contentLengthRange(min: min, max: max))
                default:
                    throw .malformed("Invalid Policy: Invalid condition operator \(op).")
                }
            } else {
                throw .malformed("Invalid Policy: Invalid condition.")
            }
        }
        return PostPolicy(expiration: expiration, conditions: conditions)
    }

    private static func integer(_ value: Any) -> UInt64? {
        if let n = value as? Int, n >= 0 { return UInt64(n) }
        if let s = value as? String, let n = UInt64(s) { return n }
        return nil
    }

    /// Checks the form against the policy.
    /// - Parameter fields: every form field but the file, names lowercased, plus `bucket`.
    /// - Returns: the allowed file size range, if the policy limits it.
    public func check(fields: [String: String], now: Date) throws(PostPolicyError) -> ClosedRange<UInt64>? {
        guard now <= expiration else { throw .expired }
        var covered: Set<String> = []
        var range: ClosedRange<UInt64>?
        for condition in conditions {
            switch condition {
            case .equals(let field, let value):
                covered.insert(field)
                guard (fields[field] ?? "") == value else {
                    throw .conditionFailed("[\"eq\", \"$\(field)\", \"\(value)\"]")
                }
            case .startsWith(let field, let prefix):
                covered.insert(field)
                let actual = fields[field] ?? ""
                // Content-Type may list several types; each must match.
                let values = field == "content-type" ? actual.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : [actual]
                guard values.allSatisfy({ $0.hasPrefix(prefix) }) else {
                    throw .conditionFailed("[\"starts-with\", \"$\(field)\", \"\(prefix)\"]")
                }
            case .contentLengthRange(let min, let max):
                range = min...max
            }
        }
        for name in fields.keys.sorted() where !covered.contains(name) && !Self.isExempt(name) && name != "bucket" {
            throw .extraField(name)
        }
        return range
    }

    /// SigV2 POST signature: base64(HMAC-SHA1(secret, policy)).
    public static func v2Signature(policy: String, secretKey: String) -> String {
        Presigned.v2Signature(secretKey: secretKey, stringToSign: policy)
    }
}
