import Foundation
import Testing
@testable import OpsModel

/// Watermarks are written without `JSONEncoder` (they are most of a busy service's output); the bytes must not change.
@Suite struct WatermarkEncodingTests {
    static func viaJSONEncoder(_ w: Watermark) throws -> [UInt8] {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try enc.encode(w))
    }

    @Test(arguments: [
        Watermark(producer: "market-feed", covers: [.init(topic: "source:synthetic", partitions: [0], of: 1)]),
        Watermark(producer: "position-manager", covers: [
            .init(topic: Topics.bars, partitions: [0, 1, 2, 3], of: 4), .init(topic: Topics.fills, partitions: [], of: 4),
            .init(topic: "odd \"name\"/with\\slashes\n", partitions: [2147483647], of: 2147483647),
        ]),
        Watermark(producer: "p\u{1}ü", covers: []),
    ])
    func sameBytesAsJSONEncoder(_ w: Watermark) throws {
        #expect(w.jsonBytes == (try Self.viaJSONEncoder(w)))
        #expect(try JSONText.encodePayload(w) == (try Self.viaJSONEncoder(w)))
    }
}
