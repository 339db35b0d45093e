import SigV4

extension IndexConfiguration {
    /// Signs the index service's requests to S3 (resync listings, presigned browser uploads)
    /// with its configured credentials.
    var signer: SigV4Signer {
        SigV4Signer(accessKey: accessKey, secretKey: secretKey, region: region, service: "s3")
    }
}
