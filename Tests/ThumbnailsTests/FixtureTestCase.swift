import XCTest

/// A test case with a fresh `Fixtures` directory per test, removed afterwards.
class FixtureTestCase: XCTestCase {
    /// This test's images.
    var fixtures: Fixtures!

    override func setUpWithError() throws {
        fixtures = try Fixtures()
    }

    override func tearDown() {
        fixtures.remove()
    }
}
