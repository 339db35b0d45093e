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

    enum CodingKeys: String, CodingKey { case users }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        users = try c.decodeIfPresent([S3User].self, forKey: .users) ?? []
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
