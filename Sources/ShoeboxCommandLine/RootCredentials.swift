import Foundation

/// The root user's keys, shared by `shoebox` (which accepts them) and `shoebox-index` (which
/// signs with them): `SHOEBOX_ACCESS_KEY` / `SHOEBOX_SECRET_KEY`, else defaults that are fine
/// on loopback, the default address (README, Configuration).
public struct RootCredentials: Sendable {
    public static let defaultAccessKey = "shoebox"
    public static let defaultSecretKey = "shoebox-secret-key"

    public var accessKey: String
    public var secretKey: String

    /// The keys from this process's environment.
    public static func fromEnvironment() -> RootCredentials {
        let environment = ProcessInfo.processInfo.environment
        return RootCredentials(accessKey: environment["SHOEBOX_ACCESS_KEY"] ?? defaultAccessKey,
                               secretKey: environment["SHOEBOX_SECRET_KEY"] ?? defaultSecretKey)
    }
}
