public import Foundation

extension S3EventRecord {
    /// The one place an object event record is built (the server's outbox writes what this
    /// returns). `size`, `eTag`, `contentType` and `userMetadata` are nil for removals.
    public static func object(
        _ name: S3EventName, time: Date, region: String, principalId: String, sourceIP: String, requestId: String,
        hostId: String, configurationId: String, bucket: String, bucketOwner: String, key: String, size: UInt64?,
        eTag: String?, sequencer: String, contentType: String?, userMetadata: [String: String]?
    ) -> S3EventRecord {
        let object = Object(key: encodeKey(key), size: size, eTag: eTag, sequencer: sequencer,
                            contentType: contentType, userMetadata: userMetadata)
        return S3EventRecord(
            awsRegion: region, eventTime: time, eventName: name.rawValue, principalId: principalId,
            sourceIPAddress: sourceIP, requestId: requestId, hostId: hostId,
            s3: Entity(configurationId: configurationId,
                       bucket: Bucket(name: bucket, ownerIdentity: Identity(principalId: bucketOwner), arn: "arn:aws:s3:::\(bucket)"),
                       object: object))
    }
}
