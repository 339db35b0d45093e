import Digests
import Foundation
import SigV4
import XCTest

/// The examples in the Amazon S3 API reference, "Signature Calculations for the
/// Authorization Header: Transferring Payload in a Single Chunk", "... in Multiple Chunks"
/// and "Signature calculations for trailing headers". Expected values are the documented ones.
final class S3ExamplesTests: XCTestCase {
    static let accessKey = "AKIAIOSFODNN7EXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    static let amzDate = "20130524T000000Z"
    static let scope = "20130524/us-east-1/s3/aws4_request"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let host = "examplebucket.s3.amazonaws.com"
    let now = referenceDate(S3ExamplesTests.amzDate)

    static func authz(_ signedHeaders: String, _ signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=\(signedHeaders),Signature=\(signature)"
    }

    static func sts(_ hash: String) -> String { "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(hash)" }

    // MARK: GET object with Range

    static let getObject = SigV4Request(
        method: "GET", rawPath: "/test.txt", rawQuery: "",
        headers: [
            ("Host", host), ("Range", "bytes=0-9"), ("x-amz-content-sha256", empty), ("x-amz-date", amzDate),
        ])
    static let getObjectAuthorization = authz(
        "host;range;x-amz-content-sha256;x-amz-date", "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    static let getObjectCanonical = """
        GET
        /test.txt

        host:examplebucket.s3.amazonaws.com
        range:bytes=0-9
        x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        x-amz-date:20130524T000000Z

        host;range;x-amz-content-sha256;x-amz-date
        e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
        """
    static let getObjectStringToSign = sts("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")

    func testGetObject() throws {
        let authorization = try SigV4.parseAuthorization(Self.getObjectAuthorization)
        XCTAssertEqual(
            SigV4.canonicalRequest(
                Self.getObject, signedHeaders: authorization.signedHeaders, payloadHash: Self.empty),
            Self.getObjectCanonical)
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: Self.getObjectCanonical),
            Self.getObjectStringToSign)
        let context = try SigV4.verify(
            Self.getObject, authorization: authorization, secretKey: Self.secretKey, now: now)
        XCTAssertEqual(context.seedSignature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
        XCTAssertEqual(context.amzDate, Self.amzDate)
        XCTAssertEqual(context.scope, Self.scope)
        XCTAssertEqual(context.payloadHash, Self.empty)
        XCTAssertEqual(
            context.signingKey,
            SigV4.signingKey(secretKey: Self.secretKey, date: "20130524", region: "us-east-1", service: "s3"))
    }

    // MARK: PUT object

    static let putPayloadHash = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    static func putObject(rawPath: String) -> SigV4Request {
        SigV4Request(
            method: "PUT", rawPath: rawPath, rawQuery: "",
            headers: [
                ("Host", host), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", amzDate),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", putPayloadHash),
            ])
    }
    static let putObjectAuthorization = authz(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    static let putObjectCanonical = """
        PUT
        /test%24file.text

        date:Fri, 24 May 2013 00:00:00 GMT
        host:examplebucket.s3.amazonaws.com
        x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
        x-amz-date:20130524T000000Z
        x-amz-storage-class:REDUCED_REDUNDANCY

        date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
        44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
        """

    func testPutObject() throws {
        XCTAssertEqual(Hex.encode(Digest.sha256("Welcome to Amazon S3.")), Self.putPayloadHash)
        let authorization = try SigV4.parseAuthorization(Self.putObjectAuthorization)
        // '$' may arrive literally or percent-encoded; both canonicalise to %24.
        for rawPath in ["/test$file.text", "/test%24file.text"] {
            let request = Self.putObject(rawPath: rawPath)
            XCTAssertEqual(
                SigV4.canonicalRequest(
                    request, signedHeaders: authorization.signedHeaders, payloadHash: Self.putPayloadHash),
                Self.putObjectCanonical)
            let context = try SigV4.verify(
                request, authorization: authorization, secretKey: Self.secretKey, now: now)
            XCTAssertEqual(context.seedSignature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
            XCTAssertEqual(context.payloadHash, Self.putPayloadHash)
        }
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: Self.putObjectCanonical),
            Self.sts("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"))
    }

    // MARK: GET bucket lifecycle

    func testGetBucketLifecycle() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/", rawQuery: "lifecycle",
            headers: [("Host", Self.host), ("x-amz-date", Self.amzDate), ("x-amz-content-sha256", Self.empty)])
        let authorization = try SigV4.parseAuthorization(
            Self.authz(
                "host;x-amz-content-sha256;x-amz-date",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: authorization.signedHeaders, payloadHash: Self.empty)
        XCTAssertEqual(
            canonical,
            """
            GET
            /
            lifecycle=
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: canonical),
            Self.sts("9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca"))
        let context = try SigV4.verify(request, authorization: authorization, secretKey: Self.secretKey, now: now)
        XCTAssertEqual(context.seedSignature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    // MARK: GET bucket (list objects)

    func testListObjects() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/", rawQuery: "max-keys=2&prefix=J",
            headers: [("Host", Self.host), ("x-amz-date", Self.amzDate), ("x-amz-content-sha256", Self.empty)])
        let authorization = try SigV4.parseAuthorization(
            Self.authz(
                "host;x-amz-content-sha256;x-amz-date",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: authorization.signedHeaders, payloadHash: Self.empty)
        XCTAssertEqual(
            canonical,
            """
            GET
            /
            max-keys=2&prefix=J
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: canonical),
            Self.sts("df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7"))
        let context = try SigV4.verify(request, authorization: authorization, secretKey: Self.secretKey, now: now)
        XCTAssertEqual(context.seedSignature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
        // Query parameters in the other order canonicalise identically.
        XCTAssertNoThrow(
            try SigV4.verify(
                SigV4Request(
                    method: "GET", rawPath: "/", rawQuery: "prefix=J&max-keys=2", headers: request.headers),
                authorization: authorization, secretKey: Self.secretKey, now: now))
    }

    // MARK: aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)

    func testChunkedUploadSeedAndChunkSignatures() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
            headers: [
                ("Host", "s3.amazonaws.com"), ("x-amz-date", Self.amzDate),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("Authorization", "ignored"),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
                ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"),
                ("Content-Length", "66824"),
            ])
        let authorization = try SigV4.parseAuthorization(
            Self.authz(
                "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
                "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"))
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: authorization.signedHeaders, payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: canonical),
            Self.sts("cee3fed04b70f867d036f722359b0b1f2f0e5dc0efadbc082b76c4c60e316455"))
        let context = try SigV4.verify(request, authorization: authorization, secretKey: Self.secretKey, now: now)
        XCTAssertEqual(context.seedSignature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
        XCTAssertEqual(context.payloadHash, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")

        let first = context.chunkSignature(
            previousSignature: context.seedSignature,
            chunkSHA256: Hex.encode(Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 65536))))
        XCTAssertEqual(first, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648")
        let second = context.chunkSignature(
            previousSignature: first,
            chunkSHA256: Hex.encode(Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1024))))
        XCTAssertEqual(second, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497")
        let final = context.chunkSignature(previousSignature: second, chunkSHA256: SigV4.emptyPayloadSHA256)
        XCTAssertEqual(final, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9")
    }

    func testChunkedUploadWithTrailer() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt", rawQuery: "",
            headers: [
                ("Host", "s3.amazonaws.com"), ("x-amz-date", Self.amzDate),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"), ("Content-Length", "66824"),
            ])
        let authorization = try SigV4.parseAuthorization(
            Self.authz(
                "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer",
                "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"))
        let canonical = SigV4.canonicalRequest(
            request, signedHeaders: authorization.signedHeaders,
            payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER")
        XCTAssertEqual(
            SigV4.stringToSign(amzDate: Self.amzDate, scope: Self.scope, canonicalRequest: canonical),
            Self.sts("44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559"))
        let context = try SigV4.verify(request, authorization: authorization, secretKey: Self.secretKey, now: now)

        let first = context.chunkSignature(
            previousSignature: context.seedSignature,
            chunkSHA256: Hex.encode(Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 65536))))
        XCTAssertEqual(first, "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2")
        let second = context.chunkSignature(
            previousSignature: first,
            chunkSHA256: Hex.encode(Digest.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1024))))
        XCTAssertEqual(second, "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7")
        let final = context.chunkSignature(previousSignature: second, chunkSHA256: SigV4.emptyPayloadSHA256)
        XCTAssertEqual(final, "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992")

        // The documented trailer carries the CRC32C of the 66560 bytes.
        var crc = CRC32C()
        crc.update([UInt8](repeating: UInt8(ascii: "a"), count: 66560))
        XCTAssertEqual(Base64.encode(crc.bytes), "sOO8/Q==")
        let trailer = SigV4.canonicalTrailer([
            ("x-amz-checksum-crc32c", "sOO8/Q=="),
            ("x-amz-trailer-signature", "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"),
        ])
        XCTAssertEqual(trailer, "x-amz-checksum-crc32c:sOO8/Q==\n")
        let trailerHash = Hex.encode(Digest.sha256(trailer))
        XCTAssertEqual(trailerHash, "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774")
        XCTAssertEqual(
            context.trailerSignature(previousSignature: final, trailerSHA256: trailerHash),
            "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435")
    }
}
