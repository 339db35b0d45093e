import Foundation
import ObjectStore

/// DeleteObjects: `POST /bucket?delete`.
extension S3Server {
    func deleteObjects(_ request: S3Request, bucket: BucketRecord) async throws -> S3Response {
        var verifier = try PayloadVerifier(request)
        let body = try await readSmallBody(request, limit: 2 << 20)
        body.withUnsafeReadableBytes { verifier.update($0) }
        _ = try verifier.verify(md5: Digest.md5(Array(body.readableBytesView)))
        guard let root = XMLElement.parse(Data(body.readableBytesView)), root.name == "Delete" else {
            throw S3Error(.malformedXML)
        }
        let quiet = root.child("Quiet")?.text.trimmingCharacters(in: .whitespaces).lowercased() == "true"
        let objects = root.children("Object")
        guard !objects.isEmpty, objects.count <= 1000 else { throw S3Error(.malformedXML) }
        var requested: [(key: String, version: String?)] = []
        for object in objects {
            guard let key = object.child("Key")?.text else { throw S3Error(.malformedXML) }
            requested.append((key, object.child("VersionId")?.text))
        }
        // Only the `null` version exists in an unversioned bucket.
        let deletable = requested.filter { $0.version == nil || $0.version == "null" }.map(\.key)
        var results = try await store.deleteObjects(bucket: bucket, keys: deletable, event: eventContext(request, .objectRemovedDelete)).makeIterator()

        var doc = XMLWriter()
        doc.element("DeleteResult", namespace: true) { x in
            for (key, version) in requested {
                let result: Result<ObjectRecord?, ObjectStoreError>
                if version == nil || version == "null" { result = results.next()! } else { result = .failure(.noSuchKey) }
                switch result {
                case .success:
                    if !quiet {
                        x.element("Deleted") { x in
                            x.leaf("Key", key)
                            x.leaf("VersionId", version)
                        }
                    }
                case .failure(let error):
                    let s3 = version != nil && version != "null" ? S3Error(.noSuchVersion) : S3Error.from(store: error)
                    x.element("Error") { x in
                        x.leaf("Key", key)
                        x.leaf("VersionId", version)
                        x.leaf("Code", s3.code.rawValue)
                        x.leaf("Message", s3.message)
                    }
                }
            }
        }
        return .xml(doc)
    }
}
import Digests
