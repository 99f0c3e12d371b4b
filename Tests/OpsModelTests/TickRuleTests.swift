import Testing
@testable import OpsModel

/// The options tick rule: penny-program classes $0.01 below $3 and $0.05 from $3; SPY, QQQ, IWM $0.01 at any price;
/// other classes $0.05 below $3 and $0.10 from $3.
@Suite("TickRule")
struct TickRuleTests {
    let rule = TickRule(pennyProgram: ["SPY", "QQQ", "IWM", "AAPL"], pennyAllPrices: ["SPY", "QQQ", "IWM"])

    @Test(arguments: [
        ("SPY", 0.5, 1), ("SPY", 2.99, 1), ("SPY", 3.0, 1), ("SPY", 45.0, 1), ("IWM", 10.0, 1),
        ("AAPL", 2.99, 1), ("AAPL", 3.0, 5), ("AAPL", 7.25, 5),
        ("XYZ", 0.5, 5), ("XYZ", 2.99, 5), ("XYZ", 3.0, 10), ("XYZ", 12.0, 10),
    ] as [(String, Double, Cents)])
    func ticks(underlying: String, price: Double, tick: Cents) {
        #expect(rule.tickCents(price: price, underlying: underlying) == tick)
    }

    @Test func validity() {
        #expect(rule.isValid(301, underlying: "SPY") && !rule.isValid(301, underlying: "AAPL") && rule.isValid(305, underlying: "AAPL"))
        #expect(!rule.isValid(305, underlying: "XYZ") && rule.isValid(310, underlying: "XYZ") && rule.isValid(295, underlying: "XYZ"))
        #expect(!rule.isValid(0, underlying: "SPY"))
    }
}
