import Testing
import OpsModel
@testable import DispatchCore

@Suite("OrderPricing")
struct OrderPricingTests {
    @Test("penny names round the mid to the nearest cent at any price", arguments: [
        (2.525, Int64(253)), (2.524, 252), (5.123, 512), (5.127, 513), (2.52, 252), (0.004, 1), (12.345, 1_235),
    ])
    func penny(_ mid: Double, _ cents: Int64) {
        #expect(OrderPricing.limitPriceCents(mid: mid, underlying: "SPY", params: Fx.params) == cents)
    }

    @Test("a class outside the penny program is in dimes from $3 and nickels below", arguments: [
        (5.12, Int64(510)), (5.13, 510), (5.15, 520), (5.174, 520), (3.02, 300), (3.05, 310), (2.87, 285), (2.99, 300), (0.02, 5),
    ])
    func nonPenny(_ mid: Double, _ cents: Int64) {
        let price = OrderPricing.limitPriceCents(mid: mid, underlying: "XYZ", params: Fx.params)
        #expect(price == cents)
        #expect(price % (Double(price) >= 300 ? 10 : 5) == 0)
    }

    @Test("a penny-program class (not SPY, QQQ, IWM) is in pennies below $3 and nickels from $3", arguments: [
        (2.87, Int64(287)), (2.99, 299), (3.02, 300), (3.03, 305), (5.124, 510), (5.125, 515),
    ])
    func pennyProgram(_ mid: Double, _ cents: Int64) {
        #expect(OrderPricing.limitPriceCents(mid: mid, underlying: "AAPL", params: Fx.params) == cents)
    }

    @Test("the tick classes come from params")
    func classesFromParams() {
        var p = TradingParams()
        p.execution.pennyPilot = ["XYZ"]
        p.execution.pennyAllPrices = ["XYZ"]
        #expect(OrderPricing.limitPriceCents(mid: 5.12, underlying: "XYZ", params: p) == 512)
        #expect(OrderPricing.limitPriceCents(mid: 5.12, underlying: "SPY", params: p) == 510, "SPY now outside the program: dimes")
        #expect(p.execution.ticks.isValid(512, underlying: "XYZ") && !p.execution.ticks.isValid(512, underlying: "SPY"))
    }
}
