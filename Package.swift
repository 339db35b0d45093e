// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "shoebox",
    // Built and tested on Linux (which needs no entry here). macOS 15 is the oldest macOS the
    // code's APIs allow: Synchronization's Mutex and Atomic (SigV4, S3API, shoebox-bench) need
    // it, above Hummingbird 2's macOS 14. The Linux-only calls (madvise, mincore) are behind
    // canImport(Glibc).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "shoebox", targets: ["shoebox"]),
        .executable(name: "shoebox-index", targets: ["shoebox-index"]),
        .executable(name: "shoebox-bench", targets: ["shoebox-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // System libraries: only the thin Swift targets right above import these.
        .systemLibrary(
            name: "CLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        // Fixed-argument C wrappers around libvips's variadic calls (vips_thumbnail(..., NULL)
        // and the savers), which Swift cannot call.
        .target(name: "CVipsShim", dependencies: ["CVips"]),
        .target(name: "LMDB", dependencies: ["CLMDB"], swiftSettings: swiftSettings),
        .target(name: "Digests", dependencies: ["COpenSSL"], swiftSettings: swiftSettings),
        .target(name: "S3Events", dependencies: ["Digests"], swiftSettings: swiftSettings),
        .target(name: "Thumbnails", dependencies: ["CVips", "CVipsShim"], swiftSettings: swiftSettings),
        .target(
            name: "ObjectStore",
            dependencies: ["LMDB", "Digests", "S3Events", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        .target(name: "SigV4", dependencies: ["Digests"], swiftSettings: swiftSettings),
        .target(
            name: "S3API",
            dependencies: [
                "ObjectStore", "SigV4", "Digests", "S3Events",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "IndexService",
            dependencies: [
                "LMDB", "Digests", "S3Events", "SigV4", "Thumbnails",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            // The gallery page, compiled into the binary (PackageResources.index_html, ...):
            // no bundle to find at run time.
            resources: [
                .embedInCode("Resources/index.html"),
                .embedInCode("Resources/app.js"),
                .embedInCode("Resources/thumbhash.js"),
                .embedInCode("Resources/grid.js"),
                .embedInCode("Resources/lightbox.js"),
                .embedInCode("Resources/uploads.js"),
                .embedInCode("Resources/style.css"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composes the S3 server with the index for `shoebox up` (kept out of the executable
        // so it can be tested, and out of S3API, which knows nothing of galleries).
        .target(
            name: "ShoeboxHost",
            dependencies: ["ObjectStore", "S3API"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ShoeboxCommandLine",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shoebox-index",
            dependencies: [
                "IndexService", "ShoeboxCommandLine", "Thumbnails",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shoebox-bench",
            dependencies: [
                "SigV4", "Digests",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "shoebox",
            dependencies: [
                "S3API", "ObjectStore", "IndexService", "Digests", "ShoeboxHost", "ShoeboxCommandLine",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "DigestsTests", dependencies: ["Digests"]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore", "Digests", "LMDB"]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4", "Digests"]),
        .testTarget(name: "S3APITests", dependencies: [
            "S3API", "ObjectStore", "SigV4",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "S3EventsTests", dependencies: ["S3Events"]),
        .testTarget(name: "ThumbnailsTests", dependencies: ["Thumbnails"]),
        .testTarget(name: "ShoeboxCommandLineTests", dependencies: ["ShoeboxCommandLine"]),
        .testTarget(name: "ShoeboxHostTests", dependencies: ["ShoeboxHost", "ObjectStore", "S3API"]),
        .testTarget(name: "IndexServiceTests", dependencies: [
            "IndexService", "S3Events",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
