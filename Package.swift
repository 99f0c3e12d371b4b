// swift-tools-version: 6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "ops-pipeline",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "opsctl", targets: ["opsctl"]),
        .executable(name: "market-feed", targets: ["market-feed"]),
        .executable(name: "feature-computer", targets: ["feature-computer"]),
        .executable(name: "signal-engine", targets: ["signal-engine"]),
        .executable(name: "dispatcher", targets: ["dispatcher"]),
        .executable(name: "broker-gateway", targets: ["broker-gateway"]),
        .executable(name: "position-manager", targets: ["position-manager"]),
        .executable(name: "watchlist-engine", targets: ["watchlist-engine"]),
        .executable(name: "alpaca-fake", targets: ["alpaca-fake"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Alpaca: the HTTP client and websocket client of the adapters, the server of the fake Alpaca.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.0"),
        // SHA-256 of the deterministic ids (already built for the HTTP stack's TLS).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // C shim over librdkafka (Debian librdkafka-dev, pkg-config rdkafka).
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // glibc's mallopt, for the services' allocator settings (MallocTuning).
        .systemLibrary(name: "CMalloc"),
        // Swift wrapper: producer, consumer, group lag, embedded mock cluster.
        .target(name: "Kafka", dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")], swiftSettings: strict),
        // Value types shared by every service: envelope, payloads, topics, ids, time. No I/O.
        .target(name: "OpsModel", dependencies: [.product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        // Black-Scholes prices, greeks, implied volatility. No I/O.
        .target(name: "OptionsMath", swiftSettings: strict),
        // Market data sources as pure parsers/generators: CSV bars and chains, synthetic market.
        .target(name: "MarketData", dependencies: ["OpsModel", "OptionsMath"], swiftSettings: strict),
        // Pure core of the feature-computer.
        .target(name: "FeatureCore", dependencies: ["OpsModel"], swiftSettings: strict),
        // Pure cores of the trading services.
        .target(name: "SignalCore", dependencies: ["OpsModel"], swiftSettings: strict),
        .target(name: "DispatchCore", dependencies: ["OpsModel", "OptionsMath"], swiftSettings: strict),
        .target(name: "BrokerCore", dependencies: ["OpsModel"], swiftSettings: strict),
        .target(name: "PositionCore", dependencies: ["OpsModel", "OptionsMath"], swiftSettings: strict),
        .target(name: "WatchlistCore", dependencies: ["OpsModel"], swiftSettings: strict),
        // Alpaca's wire contract as pure code: requests, responses, trade updates → our events, exactly-once
        // submission, reconciliation, rate limiting, the live-readiness report. No I/O.
        .target(name: "AlpacaCore", dependencies: ["OpsModel"], swiftSettings: strict),
        // The fake Alpaca's exchange: orders, fills against quotes, positions, account, faults. No I/O.
        .target(name: "AlpacaFakeCore", dependencies: ["OpsModel", "MarketData"], swiftSettings: strict),
        // Runtime: config, logging, metrics, the consume→handle→produce→commit loop, DLQ, watermarks.
        .target(name: "OpsRuntime", dependencies: [
            "OpsModel", "Kafka", "CMalloc",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),
        // The service graph declared once (each service's keys, core and replica policy), the market sources, and the
        // in-process pipeline of `opsctl backtest`. No Kafka I/O.
        .target(name: "Pipeline", dependencies: [
            "OpsRuntime", "MarketData", "FeatureCore", "WatchlistCore", "SignalCore", "DispatchCore", "BrokerCore", "PositionCore",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        // Questions about a finished run, from its recorded topics: why a trade happened (explain), how it did (report
        // metrics, HTML with SVG charts), how parameter sets compare (sweep tables). No I/O.
        .target(name: "RunAnalysis", dependencies: ["OpsModel", "SignalCore", "PositionCore"], swiftSettings: strict),
        .executableTarget(name: "market-feed", dependencies: [
            "OpsRuntime", "MarketData", "Pipeline", "AlpacaCore", "AlpacaClient",
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ], swiftSettings: strict),
        .executableTarget(name: "feature-computer", dependencies: ["OpsRuntime", "Pipeline"], swiftSettings: strict),
        .executableTarget(name: "signal-engine", dependencies: ["OpsRuntime", "Pipeline"], swiftSettings: strict),
        .executableTarget(name: "dispatcher", dependencies: ["OpsRuntime", "Pipeline"], swiftSettings: strict),
        // Alpaca's REST API over HTTP, paced and retried; the keys. Shared by the broker-gateway and the market-feed.
        .target(name: "AlpacaClient", dependencies: [
            "AlpacaCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], swiftSettings: strict),
        .executableTarget(name: "broker-gateway", dependencies: [
            "OpsRuntime", "BrokerCore", "Pipeline", "AlpacaCore", "AlpacaClient",
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ], swiftSettings: strict),
        // A fake Alpaca (REST, trade_updates and market-data websockets, fault injection) for tests and demos.
        .executableTarget(name: "alpaca-fake", dependencies: [
            "AlpacaFakeCore", "OpsModel", "MarketData",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),
        .executableTarget(name: "position-manager", dependencies: ["OpsRuntime", "Pipeline"], swiftSettings: strict),
        .executableTarget(name: "watchlist-engine", dependencies: ["OpsRuntime", "Pipeline"], swiftSettings: strict),
        .executableTarget(name: "opsctl", dependencies: [
            "OpsRuntime", "Pipeline", "RunAnalysis", "MarketData", "AlpacaCore", "FeatureCore", "WatchlistCore", "SignalCore", "DispatchCore",
            "BrokerCore", "PositionCore", "OptionsMath",
            // The dashboard's web server.
            .product(name: "Hummingbird", package: "hummingbird"),
        ], swiftSettings: strict),

        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "OpsModelTests", dependencies: ["OpsModel"], swiftSettings: strict),
        .testTarget(name: "OptionsMathTests", dependencies: ["OptionsMath", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "MarketDataTests", dependencies: ["MarketData", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "FeatureCoreTests", dependencies: ["FeatureCore", "MarketData", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SignalCoreTests", dependencies: ["SignalCore", "FeatureCore", "MarketData"], swiftSettings: strict),
        .testTarget(name: "DispatchCoreTests", dependencies: ["DispatchCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "BrokerCoreTests", dependencies: ["BrokerCore"], swiftSettings: strict),
        .testTarget(name: "PositionCoreTests", dependencies: ["PositionCore"], swiftSettings: strict),
        .testTarget(name: "WatchlistCoreTests", dependencies: ["WatchlistCore"], swiftSettings: strict),
        .testTarget(name: "AlpacaCoreTests", dependencies: ["AlpacaCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "AlpacaFakeCoreTests", dependencies: ["AlpacaFakeCore", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "BacktestTests", dependencies: ["Pipeline", "OpsModel", "OpsRuntime", "PositionCore", "MarketData", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RunAnalysisTests", dependencies: ["RunAnalysis", "Pipeline", "OpsModel", "MarketData"], swiftSettings: strict),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"], swiftSettings: strict),
        .testTarget(name: "RuntimeTests", dependencies: ["OpsRuntime", "Kafka", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PipelineTests", dependencies: [
            "OpsModel", "OpsRuntime", "Kafka", "Pipeline", "TestSupport",
            // The dashboard test drives a headless Chromium over the DevTools protocol (a websocket).
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ], swiftSettings: strict),
    ]
)
