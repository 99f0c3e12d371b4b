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

    @Test("a non-penny name is in nickels from $3 and pennies below", arguments: [
        (5.12, Int64(510)), (5.13, 515), (5.125, 515), (5.174, 515), (3.02, 300), (3.03, 305), (2.87, 287), (2.99, 299),
    ])
    func nickel(_ mid: Double, _ cents: Int64) {
        let price = OrderPricing.limitPriceCents(mid: mid, underlying: "XYZ", params: Fx.params)
        #expect(price == cents)
        if mid >= 3 { #expect(price % 5 == 0) }
    }

    @Test("the penny-pilot list comes from params")
    func pilotFromParams() {
        var p = TradingParams()
        p.execution.pennyPilot = ["XYZ"]
        #expect(OrderPricing.limitPriceCents(mid: 5.12, underlying: "XYZ", params: p) == 512)
        #expect(OrderPricing.limitPriceCents(mid: 5.12, underlying: "SPY", params: p) == 510)
    }
}
