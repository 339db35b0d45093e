import ShoeboxCommandLine
import XCTest

final class HostPortTests: XCTestCase {
    func testParsesHostAndPort() throws {
        XCTAssertEqual(try HostPort("127.0.0.1:9000", option: "--address"), try HostPort("127.0.0.1:9000", option: "-a"))
        let v4 = try HostPort("127.0.0.1:9000", option: "--address")
        XCTAssertEqual(v4.host, "127.0.0.1")
        XCTAssertEqual(v4.port, 9000)
        let v6 = try HostPort("[::1]:0", option: "--address")
        XCTAssertEqual(v6.host, "::1")
        XCTAssertEqual(v6.port, 0)
        XCTAssertEqual(try HostPort("localhost:65535", option: "--address").pair.0, "localhost")
    }

    func testRejectsWhatIsNotHostPort() {
        for bad in ["127.0.0.1", "127.0.0.1:", "host:port", ":x", "host:65536", "host:-1"] {
            XCTAssertThrowsError(try HostPort(bad, option: "--index-address"), bad) { error in
                XCTAssertTrue("\(error)".contains("--index-address must be host:port"), "\(error)")
            }
        }
    }
}
