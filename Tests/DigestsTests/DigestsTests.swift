import Digests
import XCTest

final class DigestTests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// 100 000 bytes of a fixed pattern; expected digests below come from Python's
    /// hashlib / zlib, not from this code.
    private let pattern: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    func testMD5KnownVectors() {
        XCTAssertEqual(hex(Digest.md5([])), "d41d8cd98f00b204e9800998ecf8427e")
        XCTAssertEqual(hex(Digest.md5(Array("abc".utf8))), "900150983cd24fb0d6963f7d28e17f72")
        XCTAssertEqual(hex(Digest.md5(pattern)), "7354f16d06a013232daa23cfa7a092df")
    }

    func testSHA1KnownVectors() {
        XCTAssertEqual(hex(Digest.sha1([])), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(Digest.sha1(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(Digest.sha1(pattern)), "35ab00c96f47c268b087d40d0dcd7245809f0d5c")
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(
            hex(Digest.sha256([UInt8]())), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            hex(Digest.sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(
            hex(Digest.sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            hex(Digest.sha256(Array("abc".utf8))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // FIPS 180-2 two-block message.
        XCTAssertEqual(
            hex(Digest.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            hex(Digest.sha256(pattern)), "731620161155f68e1209f22bc34a726bf5a583f40acf23ae55684b674fdbebf2")
        // Non-ASCII strings hash their UTF-8 bytes.
        XCTAssertEqual(Digest.sha256("ሴ"), Digest.sha256([0xE1, 0x88, 0xB4]))
    }

    func testIncrementalEqualsOneShotForEveryAlgorithm() {
        let cases: [(Digest.Algorithm, String)] = [
            (.md5, "7354f16d06a013232daa23cfa7a092df"),
            (.sha1, "35ab00c96f47c268b087d40d0dcd7245809f0d5c"),
            (.sha256, "731620161155f68e1209f22bc34a726bf5a583f40acf23ae55684b674fdbebf2"),
        ]
        for (algorithm, expected) in cases {
            let digest = Digest(algorithm)
            var offset = 0
            var size = 1
            while offset < pattern.count {
                let end = min(pattern.count, offset + size)
                // Alternate the array and raw-buffer entry points; include empty updates.
                if size % 2 == 0 {
                    digest.update(Array(pattern[offset..<end]))
                } else {
                    pattern[offset..<end].withUnsafeBytes { digest.update($0) }
                }
                digest.update([UInt8]())
                offset = end
                size = size * 3 % 1031 + 1  // odd, irregular sizes
            }
            XCTAssertEqual(hex(digest.finalize()), expected, "\(algorithm)")
        }
    }

    func testStringUpdatesConcatenate() {
        let digest = Digest(.sha256)
        digest.update("a")
        digest.update("")
        digest.update("bc")
        XCTAssertEqual(hex(digest.finalize()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func testMillionA() {
        let digest = Digest(.sha256)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        for _ in 0..<1000 { digest.update(chunk) }
        XCTAssertEqual(hex(digest.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }
}

final class HMACTests: XCTestCase {
    private let jefeMessage = Array("what do ya want for nothing?".utf8)

    /// Keys one byte either side of the 64-byte block (hashed above it, padded below), checked
    /// against Python's `hmac` module.
    func testKeysAroundTheBlockSize() {
        let expected: [(Int, String, String)] = [
            (63, "13eb466363138eda359a1667823701cf8047ccc4172af9ccb83b98d8cf44975b", "e778a3367798f3a7249e9167ad8a0b6a9df18c39"),
            (64, "597ec16402ab39731b7ac6ded8007ab8d3c2591ac07794d5d87cf64224c0154f", "153f6f686cbba2ffebe28a4f3f5b0f59420ec007"),
            (65, "ff6e5ea699535a9d5547c28201fe903c52d99dbde2af49689d96d94c715cd5d6", "e3f3826bac59a8d3ec22a6c82b2c55cd99f6c79d"),
        ]
        let message = Array("block-size edge".utf8)
        for (length, sha256, sha1) in expected {
            let key = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
            XCTAssertEqual(Hex.encode(HMAC.sha256(key: key, message: message)), sha256, "key of \(length) bytes")
            XCTAssertEqual(Hex.encode(HMAC.sha1(key: key, message: message)), sha1, "key of \(length) bytes")
        }
    }

    func testRFC4231() {
        // Test case 1.
        XCTAssertEqual(
            Hex.encode(HMAC.sha256(key: [UInt8](repeating: 0x0B, count: 20), message: Array("Hi There".utf8))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        // Test case 2.
        XCTAssertEqual(
            Hex.encode(HMAC.sha256(key: Array("Jefe".utf8), message: jefeMessage)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(
            Hex.encode(HMAC.sha256(key: Array("Jefe".utf8), message: "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        // Test case 6: key longer than the block size.
        XCTAssertEqual(
            Hex.encode(
                HMAC.sha256(
                    key: [UInt8](repeating: 0xAA, count: 131),
                    message: "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    func testEmptyKeyAndMessage() {
        // Python: hmac.new(b'', b'', 'sha256').hexdigest()
        XCTAssertEqual(
            Hex.encode(HMAC.sha256(key: [], message: [UInt8]())),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    func testRFC2202SHA1() {
        XCTAssertEqual(
            Hex.encode(HMAC.sha1(key: [UInt8](repeating: 0x0B, count: 20), message: Array("Hi There".utf8))),
            "b617318655057264e28bc0b6fb378c8ef146be00")
        XCTAssertEqual(
            Hex.encode(HMAC.sha1(key: Array("Jefe".utf8), message: jefeMessage)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }
}

final class CRCTests: XCTestCase {
    private let check = Array("123456789".utf8)
    private let pattern: [UInt8] = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }

    private func crc32(_ bytes: [UInt8]) -> CRC32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc
    }

    private func crc32c(_ bytes: [UInt8]) -> CRC32C {
        var crc = CRC32C()
        crc.update(bytes)
        return crc
    }

    private func crc64(_ bytes: [UInt8]) -> CRC64NVME {
        var crc = CRC64NVME()
        crc.update(bytes)
        return crc
    }

    /// Bit-at-a-time reference, independent of the table-driven code under test.
    private func bitwise<T: FixedWidthInteger & UnsignedInteger>(_ bytes: [UInt8], polynomial: T) -> T {
        var crc = ~T(0)
        for byte in bytes {
            crc ^= T(byte)
            for _ in 0..<8 { crc = (crc & 1) == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
        }
        return ~crc
    }

    /// combine(crc(A), crc(B), len(B)) is crc(A‖B), at every split of the pattern (including
    /// empty halves), for the three CRCs.
    func testCombineEqualsCRCOfConcatenation() {
        for split in [0, 1, 9, 4096, 65_537, pattern.count] {
            let a = Array(pattern[..<split]), b = Array(pattern[split...])
            let n = UInt64(b.count)
            XCTAssertEqual(CRC32.combine(crc32(a).bytes, crc32(b).bytes, lengthOfSecond: n), crc32(pattern).bytes, "split \(split)")
            XCTAssertEqual(CRC32C.combine(crc32c(a).bytes, crc32c(b).bytes, lengthOfSecond: n), crc32c(pattern).bytes, "split \(split)")
            XCTAssertEqual(CRC64NVME.combine(crc64(a).bytes, crc64(b).bytes, lengthOfSecond: n), crc64(pattern).bytes, "split \(split)")
        }
    }

    func testCheckValues() {
        XCTAssertEqual(crc32(check).value, 0xCBF4_3926)
        XCTAssertEqual(crc32c(check).value, 0xE306_9283)
        XCTAssertEqual(crc64(check).value, 0xAE8B_1486_0A79_9888)
    }

    func testEmptyInput() {
        XCTAssertEqual(CRC32().value, 0)
        XCTAssertEqual(CRC32C().value, 0)
        XCTAssertEqual(CRC64NVME().value, 0)
        XCTAssertEqual(Base64.encode(CRC64NVME().bytes), "AAAAAAAAAAA=")
        XCTAssertEqual(Base64.encode(CRC32().bytes), "AAAAAA==")
    }

    func testBigEndianBytesAsS3SendsThem() {
        XCTAssertEqual(crc32(check).bytes, [0xCB, 0xF4, 0x39, 0x26])
        XCTAssertEqual(Base64.encode(crc32(check).bytes), "y/Q5Jg==")  // Python base64 of cbf43926
        XCTAssertEqual(crc32c(check).bytes, [0xE3, 0x06, 0x92, 0x83])
        XCTAssertEqual(crc64(check).bytes, [0xAE, 0x8B, 0x14, 0x86, 0x0A, 0x79, 0x98, 0x88])
    }

    func testCRC32OtherVectors() {
        XCTAssertEqual(crc32(Array("The quick brown fox jumps over the lazy dog".utf8)).value, 0x414F_A339)
        XCTAssertEqual(crc32(pattern).value, 0x9285_8800)  // Python zlib.crc32
    }

    func testCRC32CRFC3720Vectors() {
        XCTAssertEqual(crc32c([UInt8](repeating: 0, count: 32)).value, 0x8A91_36AA)
        XCTAssertEqual(crc32c([UInt8](repeating: 0xFF, count: 32)).value, 0x62A8_AB43)
        XCTAssertEqual(crc32c((0..<32).map { UInt8($0) }).value, 0x46DD_794E)
        XCTAssertEqual(crc32c((0..<32).reversed().map { UInt8($0) }).value, 0x113F_DB5C)
    }

    func testCRC32CFromS3TrailerExample() {
        // S3 API reference, "Signature calculations for trailing headers": 66560 bytes of
        // 'a' are sent with the trailer `x-amz-checksum-crc32c:sOO8/Q==`.
        XCTAssertEqual(Base64.encode(crc32c([UInt8](repeating: UInt8(ascii: "a"), count: 66560)).bytes), "sOO8/Q==")
    }

    func testCRC64NVMEVectors() {
        // NVM Express NVM Command Set Specification 1.0d, figure 122 (also Linux testmgr.h).
        XCTAssertEqual(crc64([UInt8](repeating: 0, count: 4096)).value, 0x6482_D367_EB22_B64E)
        XCTAssertEqual(crc64([UInt8](repeating: 0xFF, count: 4096)).value, 0xC0DD_BA73_02EC_A3AC)
    }

    func testTablesAgreeWithBitwiseReferenceAtEveryAlignmentAndLength() {
        for length in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            for start in 0..<8 {
                let slice = Array(pattern[start..<(start + length)])
                XCTAssertEqual(crc32(slice).value, bitwise(slice, polynomial: UInt32(0xEDB8_8320)))
                XCTAssertEqual(crc32c(slice).value, bitwise(slice, polynomial: UInt32(0x82F6_3B78)))
                XCTAssertEqual(crc64(slice).value, bitwise(slice, polynomial: UInt64(0x9A6C_9329_AC4B_C9B5)))
            }
        }
    }

    func testIncrementalOddPiecesEqualOneShot() {
        var a = CRC32()
        var c = CRC32C()
        var n = CRC64NVME()
        var offset = 0
        var size = 1
        while offset < pattern.count {
            let end = min(pattern.count, offset + size)
            let piece = Array(pattern[offset..<end])
            if size % 2 == 0 {
                a.update(piece)
                c.update(piece)
                n.update(piece)
            } else {
                piece.withUnsafeBytes {
                    a.update($0)
                    c.update($0)
                    n.update($0)
                }
            }
            a.update([])
            offset = end
            size = size * 5 % 997 + 1
        }
        XCTAssertEqual(a.value, 0x9285_8800)
        XCTAssertEqual(c.value, crc32c(pattern).value)
        XCTAssertEqual(c.value, bitwise(pattern, polynomial: UInt32(0x82F6_3B78)))
        XCTAssertEqual(n.value, crc64(pattern).value)
        XCTAssertEqual(n.value, bitwise(pattern, polynomial: UInt64(0x9A6C_9329_AC4B_C9B5)))
    }
}

final class EncodingTests: XCTestCase {
    func testHex() {
        XCTAssertEqual(Hex.encode([]), "")
        XCTAssertEqual(Hex.encode([0x00, 0x0A, 0xFF, 0x7F]), "000aff7f")
        XCTAssertEqual(Hex.decode("000aff7f"), [0x00, 0x0A, 0xFF, 0x7F])
        XCTAssertEqual(Hex.decode("000AFF7F"), [0x00, 0x0A, 0xFF, 0x7F])
        XCTAssertEqual(Hex.decode(""), [])
        let all = (0...255).map { UInt8($0) }
        XCTAssertEqual(Hex.decode(Hex.encode(all)), all)
    }

    func testHexInvalid() {
        XCTAssertNil(Hex.decode("abc"))
        XCTAssertNil(Hex.decode("zz"))
        XCTAssertNil(Hex.decode("0x12"))
        XCTAssertNil(Hex.decode(" 12"))
        XCTAssertNil(Hex.decode("é1"))
    }

    func testBase64RFC4648Vectors() {
        let vectors = [
            ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
        XCTAssertEqual(Base64.encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(Base64.decode("+/+/"), [0xFB, 0xFF, 0xBF])
        // Content-MD5 of "" as clients send it.
        XCTAssertEqual(Base64.encode(Digest.md5([])), "1B2M2Y8AsgTpgAmY7PhCfg==")
    }

    func testBase64RoundTrip() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            XCTAssertEqual(Base64.decode(Base64.encode(bytes)), bytes)
        }
    }

    func testBase64Invalid() {
        for bad in [
            "Zg", "Zg=", "Zm9", "Z===", "====", "=Zm9", "Zg==Zg==", "Zm9v\n", " Zm9v", "Zm9-", "Zm9_",
            "Zh==",  // non-zero bits under the padding
            "Zm9=",  // ditto, one pad character
            "Zm8=Zm9v", "Zm!v", "Zm9vé===",
        ] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }
}

final class MiscTests: XCTestCase {
    func testConstantTimeEqual() {
        XCTAssertTrue(constantTimeEqual([], []))
        XCTAssertTrue(constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(constantTimeEqual([1, 2, 3], [1, 2]))
        XCTAssertFalse(constantTimeEqual([], [0]))
    }

    func testRandomBytes() {
        XCTAssertEqual(randomBytes(0), [])
        let a = randomBytes(32)
        let b = randomBytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertNotEqual(a, [UInt8](repeating: 0, count: 32))
    }
}
