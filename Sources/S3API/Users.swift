import Foundation
import Digests

/// A user who can sign requests: credentials and canonical identity.
public struct S3User: Sendable, Codable, Equatable {
    public var accessKey: String
    public var secretKey: String
    /// Canonical user id (64 hex characters, as AWS).
    public var id: String
    public var displayName: String
    public var email: String?

    public init(accessKey: String, secretKey: String, id: String? = nil, displayName: String? = nil, email: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        // A stable id derived from the access key when none is configured.
        self.id = id ?? Hex.encode(Digest.sha256("shoebox-user:" + accessKey))
        self.displayName = displayName ?? accessKey
        self.email = email
    }

    enum CodingKeys: String, CodingKey { case accessKey, secretKey, id, displayName, email }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(accessKey: try c.decode(String.self, forKey: .accessKey),
                  secretKey: try c.decode(String.self, forKey: .secretKey),
                  id: try c.decodeIfPresent(String.self, forKey: .id),
                  displayName: try c.decodeIfPresent(String.self, forKey: .displayName),
                  email: try c.decodeIfPresent(String.self, forKey: .email))
    }
}

/// The users the server knows, by access key.
public struct UserDirectory: Sendable {
    private let byAccessKey: [String: S3User]
    private let byId: [String: S3User]
    private let byEmail: [String: S3User]

    public init(_ users: [S3User]) throws {
        var map: [String: S3User] = [:]
        for user in users {
            guard !user.accessKey.isEmpty, !user.secretKey.isEmpty else {
                throw ConfigurationError("user \(user.displayName): accessKey and secretKey must not be empty")
            }
            guard map[user.accessKey] == nil else { throw ConfigurationError("access key \(user.accessKey) is listed twice") }
            map[user.accessKey] = user
        }
        byAccessKey = map
        byId = Dictionary(users.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        byEmail = Dictionary(users.compactMap { u in u.email.map { ($0.lowercased(), u) } }, uniquingKeysWith: { a, _ in a })
    }

    public func user(accessKey: String) -> S3User? { byAccessKey[accessKey] }
    func user(id: String) -> S3User? { byId[id] }
    func user(email: String) -> S3User? { byEmail[email.lowercased()] }
}

/// The server's `--config` file (JSON).
public struct ServerConfigFile: Sendable, Decodable {
    public var users: [S3User] = []
    public var webhooks: [WebhookTarget] = []

    enum CodingKeys: String, CodingKey { case users, webhooks }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        users = try c.decodeIfPresent([S3User].self, forKey: .users) ?? []
        webhooks = try c.decodeIfPresent([WebhookTarget].self, forKey: .webhooks) ?? []
        var seen: Set<String> = []
        for webhook in webhooks {
            guard !webhook.id.isEmpty, webhook.id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw ConfigurationError("webhook id '\(webhook.id)' must be letters, digits, '-' or '_'")
            }
            guard seen.insert(webhook.id).inserted else { throw ConfigurationError("webhook id '\(webhook.id)' is listed twice") }
            guard URL(string: webhook.endpoint)?.scheme?.hasPrefix("http") == true else {
                throw ConfigurationError("webhook \(webhook.id): endpoint must be an http(s) URL")
            }
            guard webhook.queueLimit > 0 else { throw ConfigurationError("webhook \(webhook.id): queueLimit must be positive") }
        }
    }

    public init() {}

    /// Reads and decodes `path`.
    public static func load(_ path: String) throws -> ServerConfigFile {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode(ServerConfigFile.self, from: data)
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
    }
}

/// A configuration problem, reported at start-up.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A webhook that receives bucket notifications.
public struct WebhookTarget: Sendable, Decodable, Equatable {
    public var id: String
    public var endpoint: String
    /// Sent as `Authorization: Bearer <token>`.
    public var authToken: String?
    /// The most undelivered events kept; writes that would add more get 503 SlowDown.
    public var queueLimit: Int

    public init(id: String, endpoint: String, authToken: String? = nil, queueLimit: Int = 100_000) {
        self.id = id
        self.endpoint = endpoint
        self.authToken = authToken
        self.queueLimit = queueLimit
    }

    enum CodingKeys: String, CodingKey { case id, endpoint, authToken, queueLimit }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), endpoint: try c.decode(String.self, forKey: .endpoint),
                  authToken: try c.decodeIfPresent(String.self, forKey: .authToken),
                  queueLimit: try c.decodeIfPresent(Int.self, forKey: .queueLimit) ?? 100_000)
    }

    /// The queue ARN Shoebox shows for this target.
    public func arn(region: String) -> String { "arn:shoebox:sqs:\(region):\(id):webhook" }
}
