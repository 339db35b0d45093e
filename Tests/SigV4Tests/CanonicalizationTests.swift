import SigV4
import XCTest

final class CanonicalizationTests: XCTestCase {
    func testCanonicalURI() {
        let cases: [(String, String)] = [
            ("", "/"),
            ("/", "/"),
            ("/test$file.text", "/test%24file.text"),
            ("/test%24file.text", "/test%24file.text"),
            ("/bucket/my%20photo.jpg", "/bucket/my%20photo.jpg"),
            ("/bucket/a b", "/bucket/a%20b"),
            // '+' in a path is a plus sign, not a space.
            ("/bucket/a+b", "/bucket/a%2Bb"),
            ("/bucket/a%2Bb", "/bucket/a%2Bb"),
            // An encoded slash stays encoded; it is part of a segment.
            ("/bucket/a%2Fb", "/bucket/a%2Fb"),
            // Decoded once, then re-encoded: lowercase escapes become uppercase,
            // encoded unreserved characters become literal.
            ("/%e1%88%b4", "/%E1%88%B4"),
            ("/a%2Db%7Ec", "/a-b~c"),
            // Double encoding survives as one level.
            ("/a%2520b", "/a%2520b"),
            // A '%' without two hex digits is a literal percent sign.
            ("/100%", "/100%25"),
            ("/a%2", "/a%252"),
            ("/a%zz", "/a%25zz"),
            ("/-._~AZaz09", "/-._~AZaz09"),
            ("/!'()*,;=:@&", "/%21%27%28%29%2A%2C%3B%3D%3A%40%26"),
            // No normalisation for S3.
            ("//a//b/", "//a//b/"),
            ("/a/./b/../c", "/a/./b/../c"),
        ]
        for (raw, canonical) in cases {
            XCTAssertEqual(SigV4.canonicalURI(raw), canonical, raw)
        }
    }

    func testCanonicalQuery() {
        let cases: [(String, String)] = [
            ("", ""),
            ("acl", "acl="),
            ("uploads", "uploads="),
            ("acl=", "acl="),
            ("b=2&a=1&a=0", "a=0&a=1&b=2"),
            ("list-type=2&encoding-type=url&prefix=", "encoding-type=url&list-type=2&prefix="),
            // '+' in a query means space; a real plus arrives as %2B.
            ("prefix=a+b", "prefix=a%20b"),
            ("prefix=a%2Bb", "prefix=a%2Bb"),
            ("prefix=a%20b", "prefix=a%20b"),
            ("prefix=a/b", "prefix=a%2Fb"),
            ("delimiter=%2F", "delimiter=%2F"),
            ("k=%7e", "k=~"),
            ("k=%7E&j=~", "j=~&k=~"),
            ("x=a=b", "x=a%3Db"),
            ("a=1&&b=2&", "a=1&b=2"),
            // Sorted by encoded name (byte order: uppercase before lowercase), then value.
            ("b=1&B=2&a=3", "B=2&a=3&b=1"),
            ("a%20b=1&a=2", "a=2&a%20b=1"),
            ("partNumber=2&uploadId=xyz%3D%3D", "partNumber=2&uploadId=xyz%3D%3D"),
            ("versionId=&delete", "delete=&versionId="),
            ("prefix=%E1%88%B4&x=%e1%88%b4", "prefix=%E1%88%B4&x=%E1%88%B4"),
            ("v=100%", "v=100%25"),
        ]
        for (raw, canonical) in cases {
            XCTAssertEqual(SigV4.canonicalQuery(raw), canonical, raw)
        }
    }

    func testCanonicalQueryExcludingSignature() {
        XCTAssertEqual(
            SigV4.canonicalQuery(
                "X-Amz-Signature=abc&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400", excluding: "X-Amz-Signature"),
            "X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400")
    }

    func testCanonicalHeaders() {
        let request = SigV4Request(
            method: "PUT", rawPath: "/", rawQuery: "",
            headers: [
                ("HOST", "localhost:9000"),
                ("X-Amz-Meta-Empty", ""),
                ("x-amz-meta-list", " a "),
                ("X-AMZ-META-LIST", "b\t\tc"),
                ("x-amz-meta-spaces", "\t  one   two \t three  "),
                ("x-amz-meta-list", ""),
                ("Content-Type", "text/plain"),
            ])
        XCTAssertEqual(
            SigV4.canonicalHeaders(
                request, signedHeaders: ["content-type", "host", "x-amz-meta-empty", "x-amz-meta-list", "x-amz-meta-spaces"]),
            """
            content-type:text/plain
            host:localhost:9000
            x-amz-meta-empty:
            x-amz-meta-list:a,b c,
            x-amz-meta-spaces:one two three

            """)
    }

    func testHeaderValuesAlreadyCanonicalAndNot() {
        // Values taken as they are (no blank at either end, single inner spaces) next to
        // values that need trimming or collapsing, including a lone tab.
        let values = ["a b c", "a  b", "a\tb", "a ", " a", "\t", "", "x"]
        let request = SigV4Request(method: "GET", rawPath: "/", rawQuery: "",
                                   headers: values.enumerated().map { ("X-Amz-Meta-V\($0.offset)", $0.element) })
        let names = values.indices.map { "x-amz-meta-v\($0)" }
        XCTAssertEqual(SigV4.canonicalHeaders(request, signedHeaders: names),
                       "x-amz-meta-v0:a b c\nx-amz-meta-v1:a b\nx-amz-meta-v2:a b\nx-amz-meta-v3:a\nx-amz-meta-v4:a\n"
                           + "x-amz-meta-v5:\nx-amz-meta-v6:\nx-amz-meta-v7:x\n")
        XCTAssertEqual(request.firstHeader("X-AMZ-META-V7"), "x")
        XCTAssertNil(request.firstHeader("x-amz-meta-v"))
        XCTAssertNil(request.firstHeader("x-amz-meta-w7"))
    }

    func testCanonicalRequestSortsAndLowercasesSignedHeaderNames() {
        let request = SigV4Request(
            method: "GET", rawPath: "/b/k", rawQuery: "",
            headers: [("Host", "h"), ("X-Amz-Date", "20130524T000000Z")])
        XCTAssertEqual(
            SigV4.canonicalRequest(request, signedHeaders: ["X-Amz-Date", "Host"], payloadHash: "UNSIGNED-PAYLOAD"),
            "GET\n/b/k\n\nhost:h\nx-amz-date:20130524T000000Z\n\nhost;x-amz-date\nUNSIGNED-PAYLOAD")
    }
}
